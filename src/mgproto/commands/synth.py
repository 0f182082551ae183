"""``mgproto synth``: generate the synthetic benchmark, print its summary, draw its preview."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from mgproto.commands.argtypes import non_negative_int, positive_int
from mgproto.data.synthetic.generate import SIZES

HELP = "generate the synthetic micro-gesture benchmark (mp4 clips, skeletons, clip lists)"


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
        type=positive_int,
        default=min(4, os.cpu_count() or 1),
        help="processes (default: up to 4; output does not depend on it)",
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="also write OUT/preview.png, a few frames per class with skeletons",
    )


def run(args: argparse.Namespace) -> int:
    """``mgproto synth``: generate, print clips per split and class, optionally a preview."""
    from mgproto.data.synthetic.generate import generate_dataset, summary

    out = Path(args.out or f"work/synthetic/{args.size}")
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
