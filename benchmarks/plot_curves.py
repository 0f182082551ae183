"""Learning curves (train and held-out top-1 per epoch) from recipe_study JSON files.

python benchmarks/plot_curves.py RESULTS.json [RESULTS.json ...] --variants a b -o out.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--variants", nargs="+", required=True)
    parser.add_argument("--title", default="")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()
    found = {}
    for path in args.results:
        found.update(json.loads(path.read_text()))
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, name in enumerate(args.variants):
        curve = found[name]["runs"][0]["curve"]
        epochs = [c["epoch"] for c in curve]
        color = f"C{i}"
        ax.plot(epochs, [100 * c["val_top1"] for c in curve], "-o", ms=3, color=color,
                label=f"{name}: held-out")  # fmt: skip
        ax.plot(epochs, [100 * c["train_top1"] for c in curve], "--", color=color,
                label=f"{name}: train")  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("top-1 (%)")
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
