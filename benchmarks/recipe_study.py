"""Recipe ablations: train variants of one config over seeds, keep learning curves and test scores.

Each variant is a name and a list of ``--set`` overrides applied on top of ``--config``. Every run
validates on ``--curve-split`` every ``--curve-every`` epochs (train and held-out top-1, the test
pipeline with one clip) and is then tested on ``--split`` with the recipe's own test settings,
from its **last** checkpoint (never the best one: the curve split may be the test split).
Results go to JSON; finished runs are reused, so an interrupted study continues (a run
whose saved config trains another model than the one asked for is trained again).

    python benchmarks/recipe_study.py --config configs/cpu/pose_only.yaml \\
        --data ANNOTATIONS --num-classes 10 --layout kinect20 \\
        --variant base --variant wide:model.pose_base=16 --seeds 0 1 2 --baseline base

Each variant's row gives its 95 % interval (test clips and seeds resampled); ``--baseline``
adds each variant's paired difference with that variant, on the same clips and seeds, with a
sign test (``mgproto.engine.stats``; ``mgproto compare --vs`` does the same for run folders).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mgproto.config import ExperimentConfig, load_config
from mgproto.engine.scores import load_labelled_scores
from mgproto.engine.stats import bootstrap, correct_matrix, paired
from mgproto.engine.testing import run_test
from mgproto.engine.trainer import train

ROOT = Path(__file__).resolve().parents[1]


def parse_variant(text: str) -> tuple[str, list[str]]:
    """``"name:a.b=1,c=2"`` -> ("name", ["a.b=1", "c=2"]); ``"name"`` -> ("name", [])."""
    name, _, rest = text.partition(":")
    sets, depth, cur = [], 0, ""
    for ch in rest:  # split on commas outside [...] lists
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            sets.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        sets.append(cur)
    return name, sets


def read_curve(run_dir: Path) -> list[dict]:
    """The ``val`` records of a run's metrics.jsonl (epoch, held-out and train top-1)."""
    rows = []
    path = run_dir / "metrics.jsonl"
    for line in path.read_text().splitlines() if path.is_file() else []:
        r = json.loads(line)
        if r.get("kind") == "val":
            rows.append(
                {
                    "epoch": r["epoch"],
                    "val_top1": r["fused_top1"],
                    "train_top1": r.get("train_fused_top1"),
                }
            )
    return rows


def same_training(a: ExperimentConfig, b: ExperimentConfig) -> bool:
    """True when two configs train the same model: equal but for the keys that only watch the
    run (validation split and period, train-split scoring, logging)."""

    def trained(cfg: ExperimentConfig) -> ExperimentConfig:
        watch = {"val_every": 1, "eval_train": False, "tensorboard": True, "log_every": 10}
        data = replace(cfg.data, val_split="val")
        return replace(cfg, data=data, train=replace(cfg.train, **watch))

    return trained(a) == trained(b)


def run_one(
    config: Path,
    sets: list[str],
    *,
    seed: int,
    run_dir: Path,
    split: str,
    device: str,
    init: str | None = None,
) -> dict:
    """Train one run (or reuse a finished one trained with the same config) and test its last
    checkpoint."""
    result_path = run_dir / "study.json"
    cfg = load_config(config, [*sets, f"seed={seed}"])
    if result_path.is_file():
        if same_training(load_config(run_dir / "config.yaml"), cfg):
            return json.loads(result_path.read_text())
        print(f"{run_dir}: trained with another config, training again")
    if run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    tic = time.perf_counter()
    train(cfg, run_dir=run_dir, device=device, init=init)
    seconds = time.perf_counter() - tic
    report = run_test(
        run_dir / "checkpoints" / "last.pt",
        split=split,
        out_dir=run_dir / f"test_{split}",
        device=device,
    )
    assert report is not None
    result = {
        "seed": seed,
        "top1": report["fused"]["top1"],
        "mean_class_acc": report["fused"]["mean_class_acc"],
        "train_seconds": seconds,
        "curve": read_curve(run_dir),
    }
    result_path.write_text(json.dumps(result, indent=1))
    return result


def summarise(runs: list[dict]) -> dict:
    top1 = np.array([r["top1"] for r in runs]) * 100
    mca = np.array([r["mean_class_acc"] for r in runs]) * 100
    return {
        "top1_mean": float(top1.mean()),
        "top1_std": float(top1.std()),
        "mca_mean": float(mca.mean()),
        "train_seconds_mean": float(np.mean([r["train_seconds"] for r in runs])),
        "per_seed_top1": [round(float(x), 1) for x in top1],
    }


def right_and_wrong(run_dirs: list[Path], split: str) -> np.ndarray:
    """(S, N) right / wrong of the runs' fused test scores (``mgproto.engine.stats``)."""
    runs = [load_labelled_scores(d / f"test_{split}" / "scores.npz") for d in run_dirs]
    return correct_matrix(runs, source=str(run_dirs[0].parent))[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--data", help="data.annotations")
    parser.add_argument("--num-classes", type=int)
    parser.add_argument("--layout")
    parser.add_argument("--variant", action="append", default=[], help="name:key=value,...")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--split", default="test", help="split the last checkpoint is tested on")
    parser.add_argument("--curve-split", default="test", help="split of the learning curves")
    parser.add_argument("--curve-every", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "study")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--init", help="start every run from this checkpoint (merge-init)")
    parser.add_argument(
        "--baseline",
        help="variant the others are compared with, paired by seed: difference, its 95 %% "
        "interval and a sign test (mgproto.engine.stats)",
    )
    args = parser.parse_args()
    logging.getLogger("mgproto").setLevel(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    common = [
        f"data.val_split={args.curve_split}",
        f"train.val_every={args.curve_every}",
        "train.eval_train=true",
        "train.tensorboard=false",
    ]
    if args.data:
        common.append(f"data.annotations={args.data}")
    if args.num_classes:
        common.append(f"data.num_classes={args.num_classes}")
    if args.layout:
        common.append(f"data.pose.layout={args.layout}")
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for text in args.variant or ["base"]:
        name, sets = parse_variant(text)
        runs = []
        for seed in args.seeds:
            run_dir = args.work / f"{name}_s{seed}"
            runs.append(
                run_one(
                    args.config,
                    common + sets,
                    seed=seed,
                    run_dir=run_dir,
                    split=args.split,
                    device=args.device,
                    init=args.init,
                )
            )
            r = runs[-1]
            print(
                f"{name} seed {seed}: top1 {100 * r['top1']:.1f} "
                f"mca {100 * r['mean_class_acc']:.1f} ({r['train_seconds']:.0f} s)",
                flush=True,
            )
        results[name] = {"overrides": sets, **summarise(runs), "runs": runs}
        ci = bootstrap(
            right_and_wrong([args.work / f"{name}_s{s}" for s in args.seeds], args.split)
        )
        results[name]["top1_interval95"] = [round(100 * ci.low, 1), round(100 * ci.high, 1)]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
    print(
        f"\n{'variant':<24} {'top1':>12} {'95 % interval':>14} {'mca':>6} {'train s':>8}  per seed"
    )
    for name, r in results.items():
        low, high = r.get("top1_interval95", ("-", "-"))
        print(
            f"{name:<24} {r['top1_mean']:6.1f} +- {r['top1_std']:3.1f} {low:>6} - {high:<5} "
            f"{r['mca_mean']:6.1f} {r['train_seconds_mean']:8.0f}  {r['per_seed_top1']}"
        )
    if args.baseline:
        compare_with(args.baseline, [parse_variant(t)[0] for t in args.variant], args)


def compare_with(baseline: str, names: list[str], args: argparse.Namespace) -> None:
    """Each variant against ``baseline``, paired by seed on the same test clips."""
    dirs = {n: [args.work / f"{n}_s{s}" for s in args.seeds] for n in {baseline, *names}}
    print(f"\npaired with {baseline} (variant - baseline, 95 % interval; clips better / worse; p)")
    for name in [n for n in names if n != baseline]:
        both = right_and_wrong(dirs[name] + dirs[baseline], args.split)
        r = paired(both[: len(args.seeds)], both[len(args.seeds) :])
        print(
            f"{name:<24} {100 * r.diff.mean:+5.1f} [{100 * r.diff.low:+.1f}, "
            f"{100 * r.diff.high:+.1f}]  {r.better} / {r.worse}  p = {r.p_value:.3g}"
        )


if __name__ == "__main__":
    main()
