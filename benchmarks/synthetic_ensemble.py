"""The paper's three-model ensemble on the synthetic benchmark, over several training seeds.

For each seed, the demo's protocol: pose-only and RGB-only pre-training, the merged
initialisation, the paper's two-stream model (fusion + prototypes); a CPU-size Video Swin
(`configs/synthetic/swin.yaml`) and an ST-GCN++ with the JSE loss
(`configs/synthetic/gcn_joint_jse.yaml`). Every member is tested on val and test, and
`mgproto ensemble` searches the weights on val and applies them to test. Prints each member's
and the ensemble's test Top-1 (mean +- std over the seeds) and writes JSON. Finished runs are
reused, so an interrupted study continues where it stopped.

    python benchmarks/synthetic_ensemble.py [--seeds 0 1 2] [--data work/synthetic/small]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN = ("pose_only", "rgb_only")
MEMBERS = ("paper", "swin", "gcn_joint_jse")


def mgproto(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "mgproto", *args], check=True, cwd=ROOT)


def trained(name: str, seed: int, data: Path, work: Path, init_seed: int | None = None) -> Path:
    """The run folder of ``configs/synthetic/<name>.yaml`` at ``seed`` (trained if needed; the
    paper's model starts from ``init_seed``'s merged pre-training, by default its own seed's)."""
    run = work / f"{name}_s{seed}"
    if (run / "checkpoints" / "best.pt").is_file():
        return run
    if run.exists():
        shutil.rmtree(run)
    sets = ["--set", f"data.annotations={data / 'annotations.pkl'}", "--set", f"seed={seed}"]
    source = seed if init_seed is None else init_seed
    init = ["--init", str(work / f"init_s{source}.pt")] if name == "paper" else []
    if name == "paper" and not (work / f"init_s{source}.pt").is_file():
        pose, rgb = (trained(n, source, data, work) for n in PRETRAIN)
        mgproto("merge-init", "--rgb", str(rgb), "--pose", str(pose), "-o", init[1],
                "--config", "configs/synthetic/paper.yaml", *sets)  # fmt: skip
    mgproto("train", f"configs/synthetic/{name}.yaml", "--run-dir", str(run), *init, *sets)
    return run


def scores(run: Path, split: str) -> Path:
    path = run / f"test_{split}" / "scores.npz"
    if not path.is_file():
        mgproto("test", str(run), "--split", split, "--device", "cpu")
    return path


def one_seed(seed: int, data: Path, work: Path, init_seed: int | None) -> dict:
    runs = [trained(name, seed, data, work, init_seed) for name in MEMBERS]
    out = work / f"ensemble_s{seed}.npz"
    val, test = [str(scores(r, "val")) for r in runs], [str(scores(r, "test")) for r in runs]
    mgproto("ensemble", "--val", *val, "--test", *test, "-o", str(out), "--force")
    return json.loads(out.with_suffix(".json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data", type=Path, default=ROOT / "work" / "synthetic" / "small")
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "ensemble3",
                        help="run folder; benchmarks/synthetic_ablation.py's (work/ablation) "
                        "shares its pre-training and paper runs")  # fmt: skip
    parser.add_argument("--init-seed", type=int, default=None,
                        help="every seed's paper model starts from this seed's merged init "
                        "(as synthetic_ablation.py --init-seed)")  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "synthetic_ensemble.json"
    )
    args = parser.parse_args()
    if not (args.data / "annotations.pkl").is_file():
        mgproto("synth", "--size", "small", "--out", str(args.data))
    args.work.mkdir(parents=True, exist_ok=True)
    per_seed = {s: one_seed(s, args.data, args.work, args.init_seed) for s in args.seeds}
    rows = {}
    for i, name in enumerate((*MEMBERS, "ensemble")):
        accs = [
            100 * (r["test_top1"] if name == "ensemble" else r["test_top1_single"][i])
            for r in per_seed.values()
        ]
        rows[name] = {
            "top1_per_seed": [round(a, 1) for a in accs],
            "top1_mean": float(np.mean(accs)),
            "top1_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        }
    weights = {s: r["weights"] for s, r in per_seed.items()}
    print(f"{'model':<16} {'test top-1 (%)':>16}  per seed")
    for name, row in rows.items():
        spread = f"{row['top1_mean']:.1f} +- {row['top1_std']:.1f}"
        print(f"{name:<16} {spread:>16}  {', '.join(map(str, row['top1_per_seed']))}")
    print("weights (paper, swin, gcn_joint_jse) per seed:", weights)
    work = args.work.relative_to(ROOT) if args.work.is_relative_to(ROOT) else args.work
    result = {"benchmark": "synthetic small, test split, best checkpoints; weights searched on val",
              "command": "python benchmarks/synthetic_ensemble.py --seeds " +
              " ".join(map(str, args.seeds)) + f" --init-seed {args.init_seed}"
              f" --work {work}",
              "rows": rows, "weights": weights}  # fmt: skip
    tmp = args.out.with_suffix(".json.tmp")  # written whole, then renamed
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
