"""``mgproto synth``: generate the synthetic benchmark, print its summary, draw its preview."""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

from mgproto.commands.argtypes import non_negative_int, workers
from mgproto.data.synthetic.generate import SIZES, SPLITS
from mgproto.fileio import clean_stale_temps_in

HELP = "generate the synthetic micro-gesture benchmark (mp4 clips, skeletons, clip lists)"

# The files synth writes, by folder of OUT (the clips named s<subject>_<clip>.mp4).
_CLIP = re.compile(r"^s\d{2,}_\d{4,}\.mp4$")
_OWN = {
    "videos": _CLIP.match,
    "lists": {f"{s}.txt" for s in SPLITS}.__contains__,
    ".": {"annotations.pkl", "preview.png"}.__contains__,
}
# How the video writer named a clip's temporary file before its names held the writer's pid
# (``.s00_0002.k3j9x0ab.mp4``): such a file can only be an interrupted run's.
_OLD_CLIP_TEMP = re.compile(r"^\.s\d{2,}_\d{4,}\.[a-z0-9_]{8}\.mp4$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mgproto synth``."""
    parser.add_argument(
        "--size",
        default="small",
        choices=list(SIZES),
        help="preset: tiny (tests), demo (make demo), small (default: make demo-full and the "
        "benchmarks), full (GPU studies)",
    )
    parser.add_argument(
        "-o", "--out", default=None, help="output folder (default: work/synthetic/<size>)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="dataset seed (default 0)")
    parser.add_argument(
        "--workers",
        type=workers,
        default=min(4, os.cpu_count() or 1),
        help="processes, <= 256 (default: up to 4; output does not depend on it)",
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="also write OUT/preview.png, a few frames per class with skeletons",
    )


def clean_interrupted(out: Path) -> list[Path]:
    """Remove the temporary files a killed ``synth`` left in ``out``: only those named as this
    verb's writers name them, for a file it writes, whose writing process no longer runs."""
    removed = [p for sub, own in _OWN.items() for p in clean_stale_temps_in(out / sub, targets=own)]
    videos = out / "videos"
    for old in sorted(videos.iterdir()) if videos.is_dir() else ():
        if _OLD_CLIP_TEMP.match(old.name) and old.is_file():
            old.unlink()
            removed.append(old)
    return removed


def run(args: argparse.Namespace) -> int:
    """``mgproto synth``: generate, print clips per split and class, optionally a preview."""
    from mgproto.data.synthetic.generate import generate_dataset, summary

    out = Path(args.out or f"work/synthetic/{args.size}")
    removed = clean_interrupted(out)
    if removed:
        print(f"removed {len(removed)} temporary files of an interrupted run from {out}")
    start = time.perf_counter()
    ann = generate_dataset(out, size=args.size, seed=args.seed, workers=args.workers,
                           progress=True)  # fmt: skip
    took = time.perf_counter() - start
    print(summary(ann))
    print(f"wrote {len(ann.annotations)} clips to {out} in {took:.1f} s "
          f"(size {args.size}, seed {args.seed})")  # fmt: skip
    if args.preview:
        from mgproto.report.synthetic_preview import render_synthetic_preview

        print(f"wrote {render_synthetic_preview(out, out / 'preview.png')}")
    return 0
