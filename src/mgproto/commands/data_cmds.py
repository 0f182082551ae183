"""Data verbs: synth, convert, inspect, preview-pose, add-noise, config."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from mgproto.commands import inspect_file
from mgproto.commands.argtypes import (
    MAX_JITTER,
    MAX_PREVIEW_CLIPS,
    MAX_PREVIEW_FRAMES,
    add_set_option,
    jitter,
    non_negative_int,
    preview_clips,
    preview_frames,
    unit_float,
)
from mgproto.commands.outputs import add_force, output_of, outputs_of
from mgproto.config import dump_config, load_config
from mgproto.data.annotations import load_annotations, save_annotations
from mgproto.data.records import keypoint_dims
from mgproto.fileio import atomic_write_text


def skipped_list_path(output: Path) -> Path:
    """The sidecar listing every skipped entry of a conversion: ``x.pkl`` -> ``x.skipped.txt``."""
    return output.with_suffix(".skipped.txt")


def skeleton_output(path: Path) -> Path:
    """``path`` if it names a skeleton file that every verb reads back: ``.pkl`` (the PYSKL /
    MMAction2 pickle) or ``.npz`` (mgproto's); else ValueError, before any work is done."""
    if path.suffix not in (".pkl", ".npz"):
        raise ValueError(
            f"{path}: a skeleton file is .pkl (PYSKL / MMAction2) or .npz (mgproto); name it so"
        )
    return path


def _cmd_convert(args: argparse.Namespace) -> int:
    # the files found under the dataset folders are inputs too (a label CSV, a skeleton file)
    out, sidecar = outputs_of(
        args,
        [args.output, skipped_list_path(Path(args.output))],
        skip=["output"],
        scans_folders=True,
    )
    skeleton_output(out)
    ann, report = args.converter(args)
    save_annotations(ann, out)
    if report.skipped:
        atomic_write_text(sidecar, report.skip_list())
    elif sidecar.is_file():  # an earlier conversion's list would describe another output
        sidecar.unlink()
    classes = ann.meta.get("classes")
    listed = str(sidecar) if report.skipped else None
    print(report.summary(list(classes) if classes else None, full_list=listed))
    splits = ", ".join(f"{k}: {len(v)}" for k, v in ann.split.items())
    print(f"saved {len(ann.annotations)} clips to {out} (splits: {splits or 'none'})")
    return 0


def _cmd_preview_pose(args: argparse.Namespace) -> int:
    from mgproto.report.pose_preview import render_pose_preview

    if not args.output.endswith(".png"):
        raise ValueError(f"{args.output}: the preview is a PNG; name it *.png")
    ann = load_annotations(args.file)
    if keypoint_dims(ann.annotations) == 3:
        raise ValueError(
            f"{args.file}: 3-D keypoints (x, y, z); preview-pose draws 2-D pixel skeletons"
        )
    records = ann.select(args.split) if args.split else ann.annotations
    if args.clips:
        by_id = {r["frame_dir"]: r for r in records}
        unknown = [c for c in args.clips if c not in by_id]
        if unknown:
            raise KeyError(f"{args.file}: no clip {unknown[0]!r}")
        records = [by_id[c] for c in args.clips]
    else:  # the first clip of each class
        seen: dict[int, dict] = {}
        for r in records:
            seen.setdefault(r["label"], r)
        records = [seen[k] for k in sorted(seen)][: args.max_clips]
    layout = args.layout or ann.meta.get("layout") or records[0].get("layout")
    if not layout:
        raise ValueError(f"{args.file}: no layout recorded; pass --layout")
    sources = sorted({str(r.get("filename") or r.get("video_id") or "") for r in records} - {""})
    if args.video and len(sources) > 1:
        raise ValueError(
            f"{args.file}: the {len(records)} clips to draw come from {len(sources)} videos "
            f"({', '.join(sources[:3])}{', ...' * (len(sources) > 3)}); --video draws every "
            f"clip over {args.video}, so pick the clips of that video with --clips"
        )
    out = render_pose_preview(
        records,
        output_of(args),
        layout=layout,
        num_frames=args.frames,
        class_names=ann.meta.get("classes"),
        video=args.video,
    )
    print(f"wrote {out} ({len(records)} clips)")
    return 0


def _cmd_add_noise(args: argparse.Namespace) -> int:
    from mgproto.data.corruption import LEVELS, EstimatorNoise, corrupt_annotations

    out = skeleton_output(output_of(args))
    base = LEVELS[args.level] if args.level else EstimatorNoise()
    given = {k: getattr(args, k) for k in ("jitter", "drop_joint", "drop_frame")}
    noise = EstimatorNoise(**{k: getattr(base, k) if v is None else v for k, v in given.items()})
    ann = load_annotations(args.file)
    if keypoint_dims(ann.annotations) == 3:
        raise ValueError(f"{args.file}: 3-D keypoints; add-noise models a 2-D pose estimator")
    chosen = None
    if args.split:
        chosen = [r["frame_dir"] for r in ann.select(args.split)]
    noisy = corrupt_annotations(ann, noise, seed=args.seed, frame_dirs=chosen)
    save_annotations(noisy, out)
    what = f"split {args.split!r} ({len(chosen)} clips)" if chosen is not None else "all clips"
    print(
        f"wrote {out}: {what} with jitter {noise.jitter:g} of the body, "
        f"{noise.drop_joint:g} of joints and {noise.drop_frame:g} of frames lost (seed {args.seed})"
    )
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    if args.reference:
        from mgproto.config.reference import render_reference

        print(render_reference(), end="")
        return 0
    cfg = load_config(args.config, args.set)
    print(dump_config(cfg), end="")
    return 0


def _add_convert(sub: argparse._SubParsersAction) -> None:
    from mgproto.commands.convert import COMMON, FORMATS

    p = sub.add_parser(
        "convert",
        help="convert a released dataset to a skeleton file (.pkl or .npz)",
        description="Convert a released skeleton dataset into one skeleton file that every "
        "verb reads (the PYSKL / MMAction2 pickle, or mgproto's pickle-free .npz). "
        "`mgproto convert FORMAT --help` says what each format reads.",
    )
    fmts = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    for name, fmt in FORMATS.items():
        fp = fmts.add_parser(
            name,
            help=fmt.help,
            description=f"{fmt.description}\n\n{textwrap.fill(COMMON, 95)}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        fmt.add_arguments(fp)
        add_force(fp)
        fp.set_defaults(func=_cmd_convert, converter=fmt.run)


def _add_preview_pose(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preview-pose", help="PNG of clips' heatmaps or video frames with the skeleton drawn"
    )
    p.add_argument("file", help=".pkl or .npz skeleton file")
    p.add_argument("-o", "--output", required=True, help="PNG to write")
    p.add_argument("--clips", nargs="*", default=None, help="frame_dir of clips to show")
    p.add_argument("--split", default=None, help="take clips from this split")
    p.add_argument(
        "--max-clips", type=preview_clips, default=12,
        help=f"without --clips: the first clip of each class, at most this many (<= "
        f"{MAX_PREVIEW_CLIPS}; default 12)",
    )  # fmt: skip
    p.add_argument(
        "--frames", type=preview_frames, default=6,
        help=f"frames per clip, <= {MAX_PREVIEW_FRAMES} (fewer for a shorter clip; default 6)",
    )  # fmt: skip
    p.add_argument("--layout", default=None, help="layout, if the file does not record one")
    p.add_argument(
        "--video",
        default=None,
        help="draw over this video's frames instead of the heatmaps (the video the pose was "
        "taken from: clip frame t is video frame start_frame + t)",
    )
    p.set_defaults(func=_cmd_preview_pose)


def _add_noise(sub: argparse._SubParsersAction) -> None:
    from mgproto.data.corruption import LEVELS

    p = sub.add_parser(
        "add-noise",
        help="copy a 2-D skeleton file with pose-estimator-like noise (a robustness check)",
        description="Per-frame joint jitter, lost joints and lost frames, with confidences "
        "that fall with the error, as a pose estimator's output has them. A level sets all "
        "three; --jitter / --drop-joint / --drop-frame override one.",
    )
    p.add_argument("file", help=".pkl or .npz skeleton file (2-D pixels)")
    p.add_argument("-o", "--output", required=True, help="file to write (.pkl or .npz)")
    p.add_argument("--level", choices=LEVELS, default=None, help="named strength")
    p.add_argument(
        "--jitter",
        type=jitter,
        default=None,
        help=f"error std, share of body size (<= {MAX_JITTER:g})",
    )
    p.add_argument("--drop-joint", type=unit_float, default=None, help="share of joints lost (< 1)")
    p.add_argument("--drop-frame", type=unit_float, default=None, help="share of frames lost (< 1)")
    p.add_argument("--split", default=None, help="only this split's clips (default: all)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the noise draw")
    add_force(p)
    p.set_defaults(func=_cmd_add_noise)


def _add_config(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="print the resolved configuration (its base: chain merged, defaults filled in)",
    )
    p.add_argument("config", nargs="?", default=None, help="YAML override file")
    p.add_argument(
        "--reference",
        action="store_true",
        help="print the reference of every option (Markdown: docs/config.md) instead",
    )
    add_set_option(p, "override fields, e.g. data.pose.sigma=0.7")
    p.set_defaults(func=_cmd_config)


def _add_synth(sub: argparse._SubParsersAction) -> None:
    from mgproto.commands import synth

    p = sub.add_parser("synth", help=synth.HELP)
    synth.add_arguments(p)
    p.set_defaults(func=synth.run)


def register(sub: argparse._SubParsersAction) -> None:
    for add in (_add_synth, _add_convert, inspect_file.register, _add_preview_pose, _add_noise,
                _add_config):  # fmt: skip
        add(sub)
