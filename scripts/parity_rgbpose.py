"""Print a parity table of mgproto's models against MMAction2's (docs/oracle.md).

For each model (two-stream RGBPoseConv3D + RGBPoseHead, PoseConv3D and SlowOnly-R50 with
I3DHead), the oracle builds MMAction2's module with seeded init, saves its weights and runs it
in eval mode; ours imports the weights and runs on the same random inputs. The table gives the
backbone parameter counts, whether the checkpoint import was clean (no missing, unexpected or
mis-shaped keys) and the max |ours - MMAction2| of backbone features and logits.

    .venv/bin/python scripts/parity_rgbpose.py --oracle .oracle/bin/python [--preset paper]

Exits 1 if any count, key or output (tolerance 1e-4) disagrees.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import oracle_client as oc

TOL = 1e-4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", default=oc.oracle_python(),
                        help="the oracle's python (default: $MGPROTO_ORACLE_PYTHON)")  # fmt: skip
    parser.add_argument("--preset", default="tiny", choices=["tiny", "small", "paper"],
                        help="model size (paper: 36.0 M at RGB 224 / heatmaps 56)")  # fmt: skip
    parser.add_argument("--kinds", default="rgbpose,pose,rgb",
                        help="comma-separated subset of rgbpose, pose, rgb")  # fmt: skip
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.oracle:
        parser.error("pass --oracle or set MGPROTO_ORACLE_PYTHON (`make oracle` builds one)")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in oc.KINDS]
    if bad:
        parser.error(f"unknown kind {bad[0]!r}; valid: {', '.join(oc.KINDS)}")
    shapes = oc.input_shapes(args.preset)
    print(f"preset {args.preset}, batch {args.batch}, {args.dtype}, eval mode; inputs per clip: "
          f"RGB {shapes['rgb']}, heatmaps {shapes['pose']} (C, T, H, W)")  # fmt: skip
    rows, failed = [], False
    for kind in kinds:
        start = time.perf_counter()
        row = oc.check_parity(kind, args.preset, oracle=args.oracle, dtype=args.dtype,
                              batch=args.batch)  # fmt: skip
        print(f"  {kind}: {row.report.summary()} ({time.perf_counter() - start:.0f} s)")
        rows.append(row)
        rep = row.report
        failed |= bool(rep.missing or rep.unexpected or rep.shape_mismatch)
        failed |= row.params_ours != row.params_ref or row.params_ours_total != row.params_ref_total
        failed |= any(d >= TOL for d in row.diffs.values())
    print()
    print(oc.format_table(rows))
    print(f"\n{'MISMATCH' if failed else 'all match'} (tolerance {TOL:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
