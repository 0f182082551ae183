"""Pose verb: extract-pose (raw video -> skeleton interchange file, with MediaPipe)."""

from __future__ import annotations

import argparse
import sys

from mgproto.commands.argtypes import non_negative_float, positive_float, positive_int, unit_float
from mgproto.commands.outputs import add_force, output_of
from mgproto.data.annotations import save_annotations
from mgproto.data.video import probe_video
from mgproto.infer.landmarks import SUPPORTED_LAYOUTS
from mgproto.infer.person import Person, parse_person

# Switch frames listed in the warning; the rest are in the file's meta.
_SHOWN_SWITCHES = 10


def _person_arg(text: str) -> Person:
    try:
        return parse_person(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _warn_switches(args: argparse.Namespace, out: object, frames: list[int]) -> None:
    """One warning line for all the frames where the tracked person changed."""
    shown = ", ".join(str(f) for f in frames[:_SHOWN_SWITCHES])
    more = f" and {len(frames) - _SHOWN_SWITCHES} more" * (len(frames) > _SHOWN_SWITCHES)
    print(
        f"warning: {args.video}: the tracked person changed {len(frames)} time(s), at video "
        f"frame(s) {shown}{more}; check with `mgproto preview-pose {out} -o check.png --video "
        f"{args.video}`, or choose the subject with --person",
        file=sys.stderr,
    )


def _cmd_extract_pose(args: argparse.Namespace) -> int:
    from mgproto.infer.pose import extract_pose

    out = output_of(args)
    if out.suffix not in (".pkl", ".npz"):
        raise ValueError(f"{out}: output must end in .pkl or .npz")
    if args.end is not None and args.end <= args.start:  # each is range-checked by argparse
        raise ValueError(f"need 0 <= --start < --end, got {args.start} and {args.end}")
    info = probe_video(args.video)  # before MediaPipe starts: a start past the end is refused
    if info.num_frames and args.start >= info.num_frames / info.fps:
        raise ValueError(f"{args.video}: --start {args.start:g} s is not before the end of the "
                         f"video ({info.num_frames / info.fps:g} s)")  # fmt: skip
    ann = extract_pose(
        args.video,
        layout=args.layout,
        max_frames=args.max_frames,
        start=args.start,
        end=args.end,
        min_score=args.min_score,
        person=args.person,
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
    if "person_frame" in meta:
        box = ",".join(str(v) for v in meta["person_box"])
        print(f"subject ({meta['person']}): chosen at frame {meta['person_frame']}, box {box}")
    elif args.person is not None:
        print(f"subject ({meta['person']}): nobody found in the frames read")
    if meta["switch_frames"]:
        _warn_switches(args, out, meta["switch_frames"])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract-pose",
        help="estimate the pose of the main person in a video with MediaPipe",
        description="Run MediaPipe 0.10.21 (bundled models, no download) over VIDEO and write "
        "one unlabelled skeleton record. Needs MediaPipe: `pip install -e '.[pose]'` from the "
        "clone (make install does it).",
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
    p.add_argument(
        "--person",
        type=_person_arg,
        default=None,
        metavar="largest|center|x,y,w,h",
        help="who the subject is, chosen in the first frame with people: the largest person, "
        "the one nearest the frame centre, or the one overlapping box x,y,w,h (pixels); then "
        "followed by box overlap. Default: MediaPipe's own choice (the person its detector "
        "finds), followed by its tracker, with a warning where the person changes",
    )
    p.set_defaults(func=_cmd_extract_pose)
