"""Pose-input generation speed: mgproto vs MMAction2's GeneratePoseTarget, one CPU core.

32 frames, COCO-17 joints or limbs, 56x56 heatmaps, one and two persons. The input is a seated
upper-body skeleton after PoseCompact (it fills the grid, as in training) with per-frame motion;
a row with uniformly random joints (long limbs: the worst case for windowed drawing) is added.
Prints a table, checks the outputs agree (max abs difference) and writes JSON.

    MGPROTO_ORACLE_PYTHON=.oracle/bin/python python benchmarks/heatmaps.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

from mgproto.data.heatmaps import pose_heatmaps
from mgproto.data.layouts import get_layout

HERE = Path(__file__).resolve().parent
# a seated person on a 56x56 grid after PoseCompact, COCO-17 order (x, y)
TEMPLATE = np.array(
    [[28, 12], [30, 10], [26, 10], [33, 11], [23, 11], [38, 22], [18, 22], [42, 34], [14, 34],
     [36, 42], [20, 42], [34, 50], [22, 50], [36, 55], [20, 55], [36, 60], [20, 60]],
    np.float32,
)  # fmt: skip


def make_cases() -> list[dict]:
    rng = np.random.default_rng(0)
    limbs = [list(x) for x in get_layout("coco17").limbs]
    cases = []
    for input_kind in ("skeleton", "uniform"):
        for persons in (1, 2):
            if input_kind == "skeleton":
                kp = TEMPLATE[None, None] + rng.normal(0, 1.5, (persons, 32, 17, 2))
                if persons == 2:
                    kp[1] += (8, 2)
            else:
                kp = rng.uniform(0, 56, (persons, 32, 17, 2))
            score = rng.uniform(0.5, 1, (persons, 32, 17))
            for mode in ("joints", "limbs"):
                cases.append({
                    "name": f"{input_kind} M={persons} {mode}", "input": input_kind,
                    "persons": persons, "mode": mode,
                    "keypoint": kp.astype(np.float32), "keypoint_score": score.astype(np.float32),
                    "img_shape": (56, 56), "sigma": 0.6, "scaling": 1.0,
                    "with_kp": mode == "joints", "with_limb": mode == "limbs", "skeletons": limbs,
                })  # fmt: skip
    return cases


def ours(case: dict) -> np.ndarray:
    return pose_heatmaps(
        case["keypoint"], case["keypoint_score"], img_shape=case["img_shape"],
        sigma=case["sigma"], with_joints=case["with_kp"],
        limbs=case["skeletons"] if case["with_limb"] else None,
    )  # fmt: skip


def rate(fn, seconds: float) -> float:
    fn()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def run_oracle(cases: list[dict], seconds: float) -> list[dict] | None:
    oracle = os.environ.get("MGPROTO_ORACLE_PYTHON")
    if not oracle:
        print("MGPROTO_ORACLE_PYTHON not set: measuring mgproto only (see docs/oracle.md)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "cases.pkl", Path(tmp) / "out.pkl"
        src.write_bytes(pickle.dumps(cases))
        cmd = [oracle, str(HERE.parent / "tools" / "oracle_heatmaps.py"), str(src), str(dst),
               "--repeat-seconds", str(seconds)]  # fmt: skip
        subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        return pickle.loads(dst.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing window per case")
    parser.add_argument("--out", default=str(HERE / "results" / "heatmaps.json"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    cases = make_cases()
    refs = run_oracle(cases, args.seconds)
    rows = []
    print(
        f"{'case':<24}{'mgproto clips/s':>16}{'MMAction2 clips/s':>19}{'ratio':>8}{'max|diff|':>11}"
    )
    for i, case in enumerate(cases):
        mine = rate(lambda c=case: ours(c), args.seconds)
        row = {"case": case["name"], "input": case["input"], "persons": case["persons"],
               "mode": case["mode"], "mgproto_clips_per_s": round(mine, 1)}  # fmt: skip
        if refs is not None:
            ref = refs[i]
            row["mmaction2_clips_per_s"] = round(ref["clips_per_s"], 1)
            row["ratio"] = round(mine / ref["clips_per_s"], 2)
            row["max_abs_diff"] = float(np.abs(ours(case) - ref["heatmaps"]).max())
        rows.append(row)
        print(
            f"{row['case']:<24}{mine:>16.1f}{row.get('mmaction2_clips_per_s', float('nan')):>19.1f}"
            f"{row.get('ratio', float('nan')):>8.2f}{row.get('max_abs_diff', float('nan')):>11.1e}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "benchmark": "heatmaps",
        "frames": 32,
        "joints": 17,
        "grid": 56,
        "threads": 1,
        "machine": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
    }
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
