"""Run MMAction2's GeneratePoseTarget on cases from a pickle (executed by the oracle's Python).

Usage: ORACLE_PYTHON tools/oracle_heatmaps.py CASES.pkl OUT.pkl [--repeat-seconds S]

Each case is a dict with keypoint (M, T, V, 2), keypoint_score (M, T, V), img_shape, sigma,
with_kp, with_limb, skeletons, scaling. The output pickle holds, per case, the heatmaps
(C, T, H, W) and, with --repeat-seconds, the clips/s measured on this interpreter.
This file imports MMAction2 only; it is never imported by mgproto.
"""

import pickle
import sys
import time

import numpy as np
from mmaction.datasets.transforms import GeneratePoseTarget


def _run(case):
    target = GeneratePoseTarget(
        sigma=case["sigma"],
        use_score=True,
        with_kp=case["with_kp"],
        with_limb=case["with_limb"],
        skeletons=case["skeletons"],
        scaling=case["scaling"],
    )
    results = {
        "keypoint": case["keypoint"].copy(),
        "keypoint_score": case["keypoint_score"].copy(),
        "img_shape": tuple(case["img_shape"]),
    }
    return target(results)["imgs"]  # (T, C, H, W)


def main():
    cases_path, out_path = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--repeat-seconds" else 0
    with open(cases_path, "rb") as f:
        cases = pickle.load(f)
    outputs = []
    for case in cases:
        maps = np.ascontiguousarray(_run(case).transpose(1, 0, 2, 3))
        rate = None
        if seconds:
            start, n = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                _run(case)
                n += 1
            rate = n / (time.perf_counter() - start)
        outputs.append({"heatmaps": maps, "clips_per_s": rate})
    with open(out_path, "wb") as f:
        pickle.dump(outputs, f)


if __name__ == "__main__":
    main()
