"""Pose verb: extract-pose (raw video -> skeleton interchange file, with MediaPipe)."""

from __future__ import annotations

import argparse

from mgproto.commands.argtypes import non_negative_float, positive_float, positive_int, unit_float
from mgproto.commands.outputs import add_force, output_of
from mgproto.data.annotations import save_annotations
from mgproto.infer.landmarks import SUPPORTED_LAYOUTS


def _cmd_extract_pose(args: argparse.Namespace) -> int:
    from mgproto.infer.pose import extract_pose

    out = output_of(args)
    if out.suffix not in (".pkl", ".npz"):
        raise ValueError(f"{out}: output must end in .pkl or .npz")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    if args.start < 0 or (args.end is not None and args.end <= args.start):
        raise ValueError(f"need 0 <= --start < --end, got {args.start} and {args.end}")
    ann = extract_pose(
        args.video,
        layout=args.layout,
        max_frames=args.max_frames,
        start=args.start,
        end=args.end,
        min_score=args.min_score,
        progress=True,
    )
    save_annotations(ann, out)
    meta, frames = ann.meta, ann.annotations[0]["total_frames"]
    share = meta["frames_with_person"] / frames
    speed = frames / max(meta["seconds"], 1e-9)
    rejected = f", {meta['frames_rejected']} rejected as another person" * bool(
        meta["frames_rejected"]
    )
    print(
        f"{args.video}: {frames} frames, person detected in {share:.0%}{rejected}; "
        f"{speed:.1f} frames/s; layout {args.layout}; saved {out}"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract-pose",
        help="estimate the pose of the main person in a video with MediaPipe",
        description="Run MediaPipe 0.10.21 (bundled models, no download) over VIDEO and write "
        "one unlabelled skeleton record. Needs: pip install 'mgproto[pose]'.",
    )
    p.add_argument("video", help="video file (anything FFmpeg decodes)")
    p.add_argument("-o", "--output", required=True, help=".pkl or .npz file to write")
    add_force(p)
    p.add_argument(
        "--layout", choices=SUPPORTED_LAYOUTS, default="imigue22", help="default: imigue22"
    )
    p.add_argument("--max-frames", type=positive_int, default=None, help="stop after N frames")
    p.add_argument(
        "--start", type=non_negative_float, default=0.0, help="first second to read (default 0)"
    )
    p.add_argument("--end", type=positive_float, default=None, help="stop at this second")
    p.add_argument(
        "--min-score",
        type=unit_float,
        default=0.05,
        help="joints scoring below this are stored as missing (default 0.05)",
    )
    p.set_defaults(func=_cmd_extract_pose)
