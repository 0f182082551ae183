"""ST-GCN++ training-step speed on CPU: ours vs MMAction2's, same weights, same input.

Forward + backward of the cross-entropy (train mode, no optimiser) on random coordinates
(B, M, T, V, C) = (16, 1, 100, 17, 3), PYSKL's stgcn++ joint model on the COCO graph. MMAction2
runs in the oracle's interpreter (docs/oracle.md), ours in this one, one after the other, both
with torch's default thread count. Also checks that the imported weights give MMAction2's
outputs (max |diff|, float64).

    MGPROTO_ORACLE_PYTHON=.oracle/bin/python python benchmarks/gcn_speed.py [--seconds 10]

Writes benchmarks/results/gcn_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import oracle_client as oc  # noqa: E402
from tools.step_timer import time_steps  # noqa: E402

from mgproto.build import model_from_config  # noqa: E402
from mgproto.config import load_config  # noqa: E402

SHAPE = (1, 100, 17, 3)  # (M, T, V, C) per sample
BATCH = 16


def ours(seconds: float) -> dict:
    cfg = load_config(None, ["data.modalities=[pose]", "data.pose.representation=coords",
                             "model.arch=stgcn", "data.pose.layout=coco17",
                             f"data.num_classes={oc.NUM_CLASSES}"])  # fmt: skip
    model = model_from_config(cfg).train()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, *SHAPE, generator=gen)
    y = torch.randint(0, oc.NUM_CLASSES, (BATCH,), generator=gen)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(coords=x).logits["pose"], y).backward()

    spec = {"warmup": 1, "min_steps": 3, "max_steps": 50, "seconds": seconds}
    return time_steps(step, device=torch.device("cpu"), spec=spec, clips=BATCH)


def theirs(seconds: float, oracle: str) -> dict:
    spec = {"kind": "stgcn", "num_classes": oc.NUM_CLASSES, "seed": 0, "device": "cpu",
            "batch": BATCH, "shapes": {"pose": SHAPE}, "warmup": 1, "min_steps": 3,
            "max_steps": 50, "seconds": seconds, "pose_channels": 3}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mgproto_gcn_") as tmp:
        return oc.run_oracle("bench", spec, oracle=oracle, workdir=Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "gcn_speed.json"
    )
    args = parser.parse_args()
    oracle = os.environ.get("MGPROTO_ORACLE_PYTHON")
    rows = {"mgproto": ours(args.seconds)}
    if oracle:
        rows["mmaction2"] = theirs(args.seconds, oracle)
        rows["parity_max_abs_diff"] = max(oc.check_stgcn_parity(oracle=oracle).diffs.values())
    threads = torch.get_num_threads()
    print(f"ST-GCN++ forward + backward, batch {BATCH} x {SHAPE}, CPU, {threads} threads")
    for name in ("mgproto", "mmaction2"):
        if name in rows:
            r = rows[name]
            print(
                f"  {name:<10} {r['clips_per_s']:7.1f} clips/s  peak +{r.get('peak_mb', 0):.0f} MB"
            )
    if "parity_max_abs_diff" in rows:
        print(f"  same weights, max |ours - MMAction2| = {rows['parity_max_abs_diff']:.1e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": torch.get_num_threads(), **rows}, indent=1))


if __name__ == "__main__":
    main()
