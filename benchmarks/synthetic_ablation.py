"""The ablation ladder on the synthetic benchmark, over several training seeds.

For each seed: pose-only and RGB-only pre-training, the merged initialisation, then the four
two-stream variants (RGBPoseConv3D, + fusion, + prototypes, + both = the paper) from that same
init; every run is tested on the test split, with its best-on-val and its last checkpoint. Prints
mean +- std of Top-1 and mean class accuracy, and each two-stream variant's paired difference
with RGBPoseConv3D alone, or with ``--against`` each rung's with the same rung of another
ladder (same seeds, same test clips: 95 % interval and sign test, ``mgproto.engine.stats``),
and writes JSON. Finished runs are reused, so an
interrupted study continues where it stopped.

    python benchmarks/synthetic_ablation.py [--seeds 0 1 2] [--data work/synthetic/small]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mgproto.engine.scores import load_labelled_scores
from mgproto.engine.stats import correct_matrix, paired

ROOT = Path(__file__).resolve().parents[1]
LADDER = ("pose_only", "rgb_only", "two_stream", "two_stream_fusion", "two_stream_pr", "paper")
TWO_STREAM = LADDER[2:]


def mgproto(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "mgproto", *args], check=True, cwd=ROOT)


def run_one(
    name: str,
    seed: int,
    data: Path,
    work: Path,
    init_seed: int | None = None,
    variant: tuple[str, list[str]] = ("", []),
) -> dict:
    """Train (unless done) and test ``configs/synthetic/<name>.yaml`` at ``seed``; ``variant``
    = (tag, extra --set pairs) names the run ``<name>_<tag>_s<seed>``."""
    tag, extra = variant
    run = run_dir(name, seed, work, tag)
    metrics = run / "test_test" / "metrics.json"
    if not metrics.is_file():
        sets = ["--set", f"data.annotations={data / 'annotations.pkl'}", "--set", f"seed={seed}"]
        sets += [a for pair in extra for a in ("--set", pair)]
        if (
            not (run / "checkpoints" / "last.pt").is_file()
            or not (run / "checkpoints" / "best.pt").is_file()
        ):
            init_path = work / f"init_s{seed if init_seed is None else init_seed}.pt"
            init = ["--init", str(init_path)] if name in TWO_STREAM else []
            if run.exists():
                import shutil

                shutil.rmtree(run)
            mgproto("train", f"configs/synthetic/{name}.yaml", "--run-dir", str(run), *init, *sets)
        mgproto("test", str(run), "--split", "test", "--device", "cpu")
    last = run / "test_test_last" / "metrics.json"  # the last checkpoint (as `compare --last`)
    if not last.is_file():
        mgproto("test", str(run / "checkpoints" / "last.pt"), "--split", "test", "--device",
                "cpu", "--out", str(last.parent))  # fmt: skip
    return {**json.loads(metrics.read_text()), "last": json.loads(last.read_text())}


def run_dir(name: str, seed: int, work: Path, tag: str = "") -> Path:
    return work / f"{name}_{tag}_s{seed}" if tag else work / f"{name}_s{seed}"


def paired_rows(
    work: Path, seeds: list[int], tag: str, names: list[str], against: Path | None = None
) -> list[dict]:
    """Each two-stream variant against RGBPoseConv3D alone, or, with ``against`` (another
    ladder's work folder), each rung against the same rung there; paired by seed on the test
    clips (fused scores; best-on-val and last checkpoint): difference, 95 % interval, sign test."""
    rows = []
    other_work, other_tag = (against, "") if against else (work, tag)
    pairs = [(n, n) for n in names] if against else [(n, "two_stream") for n in names]
    for name, other in (p for p in pairs if against or p[0] != "two_stream"):
        row: dict = {"model": name, "against": f"{other} of {against}" if against else other}
        for ckpt, folder in (("best", "test_test"), ("last", "test_test_last")):
            runs = [
                load_labelled_scores(run_dir(n, seed, w, g) / folder / "scores.npz")
                for n, w, g in ((name, work, tag), (other, other_work, other_tag))
                for seed in seeds
            ]
            both = correct_matrix(runs, source=str(work))[1]
            r = paired(both[: len(seeds)], both[len(seeds) :])
            row[ckpt] = {
                "diff": 100 * r.diff.mean,
                "interval95": [100 * r.diff.low, 100 * r.diff.high],
                "clips_better": r.better,
                "clips_worse": r.worse,
                "sign_test_p": r.p_value,
            }
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--init-seed",
        type=int,
        default=None,
        help="start every seed's two-stream runs from this seed's merged init (default: each "
        "seed pre-trains its own)",
    )
    parser.add_argument("--only", nargs="+", default=list(LADDER), choices=LADDER)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override for the two-stream runs (needs --tag), e.g. model.prototype.centres=batch",
    )
    parser.add_argument("--tag", default="", help="name of the --set variant's runs")
    parser.add_argument(
        "--against",
        default=None,
        help="another ladder's work folder (same seeds and test clips): pair each rung with the "
        "same rung there instead of with RGBPoseConv3D, e.g. the ladder of older configs",
    )
    parser.add_argument("--data", default="work/synthetic/small")
    parser.add_argument("--work", default="work/ablation")
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "synthetic_ablation.json")
    )
    args = parser.parse_args()
    if args.sets and not args.tag:
        parser.error("--set needs --tag, so the variant's runs do not overwrite the ladder's")
    data, work = (ROOT / args.data).resolve(), (ROOT / args.work).resolve()
    if not (data / "annotations.pkl").is_file():
        mgproto("synth", "--size", "small", "--out", str(data))
    results: dict[str, list[dict]] = {name: [] for name in LADDER}
    start = time.perf_counter()
    for seed in args.seeds:
        for name in LADDER[:2]:
            if name in args.only:
                results[name].append(run_one(name, seed, data, work))
        init_seed = seed if args.init_seed is None else args.init_seed
        init = work / f"init_s{init_seed}.pt"
        if not init.is_file():
            for name in LADDER[:2]:
                run_one(name, init_seed, data, work)
            mgproto(
                "merge-init",
                "--rgb",
                str(work / f"rgb_only_s{init_seed}"),
                "--pose",
                str(work / f"pose_only_s{init_seed}"),
                "-o",
                str(init),
                "--config",
                "configs/synthetic/paper.yaml",
                "--set",
                f"data.annotations={data / 'annotations.pkl'}",
                "--set",
                f"seed={init_seed}",  # the fills no checkpoint gives (laterals) follow the seed
            )
        for name in TWO_STREAM:
            if name in args.only:
                variant = (args.tag, args.sets)
                results[name].append(run_one(name, seed, data, work, args.init_seed, variant))
    rows = []
    for name in (n for n in LADDER if results[n]):
        stream = "fused" if name in TWO_STREAM else name.split("_")[0]
        top1 = np.array([m[stream]["top1"] for m in results[name]]) * 100
        mca = np.array([m[stream]["mean_class_acc"] for m in results[name]]) * 100
        row = {
            "model": name,
            "prediction": stream,
            "seeds": args.seeds,
            "top1_mean": float(top1.mean()),
            "top1_std": float(top1.std(ddof=1)) if len(top1) > 1 else 0.0,
            "mca_mean": float(mca.mean()),
            "mca_std": float(mca.std(ddof=1)) if len(mca) > 1 else 0.0,
            "top1_per_seed": top1.tolist(),
            "top1_last_per_seed": [m["last"][stream]["top1"] * 100 for m in results[name]],
        }
        row["top1_last_mean"] = float(np.mean(row["top1_last_per_seed"]))
        if name in TWO_STREAM:
            for s in ("rgb", "pose"):
                row[f"{s}_top1_mean"] = float(np.mean([m[s]["top1"] for m in results[name]]) * 100)
        rows.append(row)
    print("| model | top-1 (%) | mean class acc (%) | per seed | last checkpoint: mean, per seed |")
    print("|---|---:|---:|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['top1_mean']:.1f} +- {r['top1_std']:.1f} | "
            f"{r['mca_mean']:.1f} +- {r['mca_std']:.1f} | "
            f"{', '.join(f'{x:.1f}' for x in r['top1_per_seed'])} | "
            f"{r['top1_last_mean']:.1f}: {', '.join(f'{x:.1f}' for x in r['top1_last_per_seed'])} |"
        )
    ladder = [n for n in TWO_STREAM if results[n]]
    against = (ROOT / args.against).resolve() if args.against else None
    pairs = (
        paired_rows(work, args.seeds, args.tag, ladder, against)
        if against or "two_stream" in ladder
        else []
    )
    if pairs:
        what = f"the same rung of {against}" if against else "two_stream (variant - RGBPoseConv3D)"
        print(f"\npaired with {what}: fused scores, 95 % interval,")
        print("clips better / worse, sign test p; best-on-val and last checkpoint:")
    for r in pairs:
        cells = [
            f"{r[c]['diff']:+.1f} [{r[c]['interval95'][0]:+.1f}, {r[c]['interval95'][1]:+.1f}] "
            f"{r[c]['clips_better']}/{r[c]['clips_worse']} p={r[c]['sign_test_p']:.2g}"
            for c in ("best", "last")
        ]
        print(f"  {r['model']:<18} best: {cells[0]}   last: {cells[1]}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(
            {
                "rows": rows,
                "paired": pairs,
                "seconds": time.perf_counter() - start,
                "data": str(args.data),
                "init_seed": args.init_seed,
                "two_stream_sets": args.sets,
                "paired_against": str(args.against) if args.against else "two_stream",
            },
            indent=2,
        )
    )
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
