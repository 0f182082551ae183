"""Inference verbs: predict (video -> micro-gesture timeline) and stitch (a test video)."""

from __future__ import annotations

import argparse

from mgproto.commands.argtypes import (
    MAX_BATCH,
    MAX_CLIPS,
    MAX_PIXELS,
    MAX_SMOOTH_SECONDS,
    MAX_WINDOW_SECONDS,
    batch_size,
    non_negative_float,
    non_negative_int,
    num_clips,
    pixels,
    positive_int,
    smooth_seconds,
    unit_float,
    window_seconds,
)
from mgproto.infer.options import PredictOptions


def _cmd_predict(args: argparse.Namespace) -> int:
    from mgproto.commands.predict import run_predict

    return run_predict(args)


def _cmd_stitch(args: argparse.Namespace) -> int:
    from mgproto.infer.stitch import stitch_dataset

    try:
        classes = [int(c) for c in args.classes.split(",")] if args.classes else None
    except ValueError:
        raise ValueError(
            f"--classes {args.classes!r}: expected comma-separated class ids"
        ) from None
    out, segments = stitch_dataset(
        args.annotations,
        args.out,
        split=args.split,
        num_clips=args.num_clips,
        subject=args.subject,
        classes=classes,
        seed=args.seed,
    )
    for s in segments:
        print(f"  {s.start:7.2f} - {s.end:7.2f} s  {s.label}")
    print(f"wrote {out / 'video.mp4'}, {out / 'pose.pkl'} and {out / 'truth.csv'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="turn a video into a micro-gesture timeline (JSON, CSV, annotated mp4, HTML)",
        description="Slide windows over VIDEO, classify each with the checkpoint's test "
        "pipeline, smooth over time and merge into segments (docs/inference.md).",
    )
    p.add_argument("video", help="video file")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="an mgproto checkpoint (.pt), or a run folder (its best.pt, else last.pt)",
    )
    p.add_argument(
        "--pose",
        default=None,
        help="pre-extracted pose (.pkl/.npz, one record): skips MediaPipe (default: extract it "
        "and save OUT/pose.pkl)",
    )
    p.add_argument(
        "-o", "--out", default=None, help="output folder (default: VIDEO_timeline/ beside VIDEO)"
    )
    d = PredictOptions()
    value_options = (  # flag, type, default, help; each help ends with its default
        ("--window", window_seconds, d.window_s, f"window length, s (<= {MAX_WINDOW_SECONDS:g})"),
        ("--stride", window_seconds, d.stride_s, f"window step, s (<= {MAX_WINDOW_SECONDS:g})"),
        ("--clips", num_clips, d.num_clips, f"test clips per window (<= {MAX_CLIPS})"),
        ("--batch-size", batch_size, d.batch_size, f"windows per forward pass (<= {MAX_BATCH})"),
        ("--smooth", smooth_seconds, d.smooth_s, f"smoothing width, s (<= {MAX_SMOOTH_SECONDS:g})"),
        ("--min-confidence", unit_float, d.min_confidence,
         "frames whose top-class probability is lower stay unlabelled"),
        ("--min-duration", non_negative_float, d.min_duration_s, "shortest segment, s"),
        ("--min-person", unit_float, d.min_person_share,
         "classify a window only if this share of its frames shows a person (0 = all)"),
    )  # fmt: skip
    for flag, kind, default, text in value_options:
        p.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    p.add_argument(
        "--hide",
        action="append",
        default=[],
        metavar="CLASS",
        help="class name not to report; repeatable (default: none hidden)",
    )
    p.add_argument(
        "--truth",
        default=None,
        help="true segments (CSV/JSON): report temporal IoU (default: none)",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default: %(default)s)")
    p.add_argument(
        "--render-size",
        type=pixels,
        default=640,
        help=f"annotated video's longer side, pixels, <= {MAX_PIXELS} (default: %(default)s)",
    )
    p.add_argument(
        "--no-video", action="store_true", help="skip the annotated mp4 (default: written)"
    )
    p.add_argument("--no-html", action="store_true", help="skip the HTML page (default: written)")
    p.add_argument(
        "--force",
        action="store_true",
        help="extract again over an existing OUT/pose.pkl (default: refuse, reuse it with --pose)",
    )
    p.set_defaults(func=_cmd_predict)

    s = sub.add_parser(
        "stitch",
        help="stitch clips of one subject into a long video with known segments",
        description="Writes OUT/video.mp4, OUT/pose.pkl and OUT/truth.csv (a test bed for "
        "`mgproto predict`).",
    )
    s.add_argument("annotations", help="annotation file whose records name their videos")
    s.add_argument("-o", "--out", required=True, help="output folder")
    s.add_argument("--split", default="test", help="split to draw clips from (default test)")
    s.add_argument("--num-clips", type=positive_int, default=6, help="clips to stitch (default 6)")
    s.add_argument("--subject", default=None, help="subject id (default: most classes)")
    s.add_argument("--classes", default=None, help="comma-separated class ids to draw from")
    s.add_argument("--seed", type=non_negative_int, default=0, help="choice and order of clips")
    s.set_defaults(func=_cmd_stitch)
