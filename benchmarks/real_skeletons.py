"""Real-data benchmark: the shipped skeleton recipes on two real datasets, cross-subject, 3 seeds.

UTKinect-Action3D (10 actions, ../shared/data/utkinect) and UTD-MHAD (27 actions,
../shared/data/utd_mhad) are converted to 2-D pixel skeletons (kinect20 layout, 640x480 pinhole
projection; each dataset's cross-subject split). Each recipe is trained *unchanged* apart from
the three data keys every user sets (annotations, num_classes, layout), then its last checkpoint
is tested with the recipe's own test settings. Per dataset it prints top-1, mean class accuracy
and training time (mean +- std over seeds), the 95 % bootstrap interval of the seed-mean top-1
(test clips and seeds resampled, ``mgproto.engine.stats``), and each recipe's paired difference
with the coordinate baseline (``tcn``: same clips, same seeds); then the mean over the datasets,
on which recipes are chosen. Writes JSON (``real_skeletons_two_datasets.json``: ``datasets``
{dataset: {recipe: row}}, ``paired_with_tcn`` {dataset: {recipe: difference}}, ``mean``
{recipe: row}). Finished runs are reused when their config is the same.

    python benchmarks/real_skeletons.py [--datasets utkinect utdmhad] [--seeds 0 1 2]
        [--recipes tcn cpu_pose] [--threads 2]
        # cpu_pose: configs/cpu/pose_only.yaml (heatmaps + coordinate stream);
        # cpu_pose_heatmaps: the same without the coordinate stream
    python benchmarks/real_skeletons.py --recipes gcn_joint gcn_bone gcn_joint_motion \
        gcn_bone_motion     # ST-GCN++, and the ensembles of its four streams
    python benchmarks/real_skeletons.py --recipes gcn_joint_3d   # ST-GCN++ on the 3-D joints

The variants below are options, not the default; ``--labels`` applies to UTKinect only. They
write ``real_skeletons_two_datasets_<variant>.json``.

``--swap-subjects`` trains on the test subjects and tests on the training ones: a second
cross-subject protocol on which to check that a choice made on the first one carries over.

``--noise mild|strong`` trains and tests on the 2-D skeletons with pose-estimator-like noise
(``mgproto.data.corruption``: per-frame jitter, lost joints and lost frames, confidences that fall
with the error), drawn once with ``--noise-seed``, the same for every recipe and seed: how much
each recipe loses when its input comes from a 2-D pose estimator instead of a depth camera.

``--yaw DEG`` and ``--frame-step N`` make another dataset from the same people: the joints
turned by ``DEG`` degrees about the vertical axis before the projection (a camera to the side),
every ``N``-th frame kept (30 fps -> 30 / N); the converters' ``yaw`` and ``frame_step``.

``--labels actionLabel_modified.txt`` cuts the clips by the corrected label file found beside
the original, whose three ranges that run into other actions it fixes (docs/datasets.md).

Recipes in ``RECIPES_3D`` read the native 3-D joints instead (the converters' ``coords="3d"``,
metres, PreNormalize3D in the pipeline). ``gcn_joint_jse`` needs class-name vectors of the
dataset's classes: UTKinect only.

The paper-size pose pathway (``paper_pose``: configs/imigue/pose_only.yaml, 56x56 heatmaps,
36 M-parameter family) costs ~8 s per step on 2 CPU cores, hours per run: it is only run when
asked for (``--recipes paper_pose``), with ``--paper-epochs`` to bound it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from mgproto.data.annotations import save_annotations  # noqa: E402
from mgproto.data.converters import utkinect  # noqa: E402
from mgproto.data.corruption import LEVELS, corrupt_annotations  # noqa: E402
from mgproto.engine.scores import load_labelled_scores  # noqa: E402
from mgproto.engine.stats import bootstrap, correct_matrix, paired  # noqa: E402
from recipe_study import run_one  # noqa: E402

RECIPES = {
    "tcn": ("coordinate TCN baseline", "configs/cpu/pose_tcn.yaml"),
    "cpu_pose": ("CPU pose recipe (heatmaps + coordinate stream)", "configs/cpu/pose_only.yaml"),
    "cpu_pose_heatmaps": ("CPU pose recipe, heatmaps alone", "configs/cpu/pose_only.yaml"),
    "paper_pose": ("paper-size pose pathway", "configs/imigue/pose_only.yaml"),
    "gcn_joint": ("ST-GCN++ joint", "configs/cpu/gcn_joint.yaml"),
    "gcn_bone": ("ST-GCN++ bone", "configs/cpu/gcn_bone.yaml"),
    "gcn_joint_motion": ("ST-GCN++ joint motion", "configs/cpu/gcn_joint_motion.yaml"),
    "gcn_bone_motion": ("ST-GCN++ bone motion", "configs/cpu/gcn_bone_motion.yaml"),
    "gcn_joint_3d": ("ST-GCN++ joint, 3-D joints", "configs/cpu/gcn_joint_3d.yaml"),
    "gcn_joint_3d_raw": ("ST-GCN++ joint, raw 3-D joints", "configs/cpu/gcn_joint_3d.yaml"),
    "gcn_joint_jse": ("ST-GCN++ joint + JSE loss", "configs/cpu/gcn_joint.yaml"),
}
LABEL_FILES = (utkinect.LABELS, utkinect.LABELS_CORRECTED)
RECIPES_3D = ("gcn_joint_3d", "gcn_joint_3d_raw")  # trained on the 3-D file, not the projection
OVERRIDES = {  # recipe -> --set overrides on top of its config
    "cpu_pose_heatmaps": [  # the recipe before the coordinate stream, exactly
        "data.pose.representation=heatmaps",
        "data.pose.fill_gaps=0",
        "data.pose.use_score=true",
        "model.tcn.dropout=0.1",  # the TCN settings as they were (no TCN here: no effect)
        "model.tcn.head_dropout=null",
    ],
    "gcn_joint_3d_raw": ["data.pose.normalize_3d=false"],  # camera coordinates, no PreNormalize3D
    "gcn_joint_jse": [  # CE + 20 x MSE to class-name vectors (benchmarks/data/NOTICE.md)
        "model.semantic.enabled=true",
        f"model.semantic.vectors={ROOT / 'benchmarks' / 'data' / 'utkinect10_wordllama256.npy'}",
    ],
}
GCN4 = ("gcn_joint", "gcn_bone", "gcn_joint_motion", "gcn_bone_motion")
# name -> (title, members): 1:1 means of test probabilities, reported where all members ran
ENSEMBLES = {
    "ensemble": ("ensemble: TCN + CPU pose heatmaps, 1:1", ("tcn", "cpu_pose_heatmaps")),
    "gcn4": ("ensemble: the 4 ST-GCN++ streams, 1:1", GCN4),
    "gcn4_tcn": ("ensemble: 4 ST-GCN++ streams + TCN, 1:1", (*GCN4, "tcn")),
}


def cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{names[0]} x {len(names)}" if names else platform.processor() or "unknown"


@dataclass(frozen=True)
class Dataset:
    title: str
    folder: str  # under ../shared/data
    num_classes: int
    converter: str  # module of mgproto.data.converters with convert(root, coords=, yaw=, ...)


DATASETS = {
    "utkinect": Dataset("UTKinect-Action3D", "utkinect", 10, "utkinect"),
    "utdmhad": Dataset("UTD-MHAD", "utd_mhad", 27, "utdmhad"),
}
BASELINE = "tcn"  # the coordinate baseline every recipe is paired with
ONLY_ON = {"gcn_joint_jse": ("utkinect",)}  # its class-name vectors are UTKinect's


def shared_data() -> Path:
    return Path(os.environ.get("MGPROTO_SHARED", ROOT.parent / "shared")) / "data"


def convert(name: str, root: Path, args: argparse.Namespace, coords: str):
    """The dataset's annotation file for ``coords``, with the variant of ``args`` applied."""
    module = importlib.import_module(f"mgproto.data.converters.{DATASETS[name].converter}")
    extra = {"labels": args.labels} if name == "utkinect" else {}
    ann, _ = module.convert(root, coords=coords, yaw=args.yaw, frame_step=args.frame_step, **extra)
    if args.swap_subjects:
        ann.split = {**ann.split, "train": ann.split["test"], "test": ann.split["train"]}
    if args.noise and coords == "2d":
        ann = corrupt_annotations(ann, LEVELS[args.noise], seed=args.noise_seed)
    return ann


def ensemble_row(work: Path, seeds: list[int], title: str, members: tuple[str, ...]) -> dict:
    """1:1 mean of the members' test probabilities, seed by seed."""
    top1, mca = [], []
    for seed in seeds:
        runs = [np.load(work / f"{n}_s{seed}" / "test_test" / "scores.npz") for n in members]
        if any(list(r["frame_dirs"]) != list(runs[0]["frame_dirs"]) for r in runs):
            raise ValueError("the recipes scored different clips")
        pred, labels = sum(r["fused"] for r in runs).argmax(1), runs[0]["labels"]
        top1.append(100 * float((pred == labels).mean()))
        mca.append(100 * float(np.mean([(pred[labels == k] == k).mean() for k in set(labels)])))
    return {
        "recipe": title,
        "config": "mgproto ensemble",
        "top1_mean": float(np.mean(top1)),
        "top1_std": float(np.std(top1)),
        "mca_mean": float(np.mean(mca)),
        "mca_std": float(np.std(mca)),
        "train_seconds_mean": 0.0,
        "per_seed_top1": [round(x, 1) for x in top1],
        "seeds": seeds,
        "machine": cpu_model(),  # where the 1:1 mean was taken; the members' rows say theirs
    }


def top1_interval(work: Path, row: dict, name: str, seeds: list[int]) -> list[float] | None:
    """95 % bootstrap interval of a row's seed-mean top-1 (clips and seeds resampled).

    Read from the runs' test scores in ``work`` (the 1:1 mean of the members for an ensemble);
    None where a run is missing or the runs there are not the ones the row was measured on
    (their mean differs). ``seeds``: where the row does not name its own.
    """
    members = ENSEMBLES[name][1] if name in ENSEMBLES else (name,) if name in RECIPES else ()
    runs = []
    for seed in row.get("seeds", seeds):
        files = [work / f"{m}_s{seed}" / "test_test" / "scores.npz" for m in members]
        if not members or not all(f.is_file() for f in files):
            return None
        z = [load_labelled_scores(f) for f in files]
        if any(r[0] != z[0][0] for r in z):
            raise ValueError(f"{work}: the members of {name} scored other clips")
        runs.append((z[0][0], sum(r[1] for r in z), z[0][2]))
    if not runs:
        return None
    r = bootstrap(correct_matrix(runs, source=f"{work} {name}")[1])
    if abs(100 * r.mean - row["top1_mean"]) > 0.05:
        return None
    return [round(100 * r.low, 1), round(100 * r.high, 1)]


def paired_with_baseline(work: Path, name: str, seeds: list[int]) -> dict | None:
    """``name`` - the baseline on the same test clips and seeds (points, 95 % interval)."""
    members = {n: ENSEMBLES[n][1] if n in ENSEMBLES else (n,) for n in (name, BASELINE)}
    mats = []
    for n, parts in members.items():
        runs = []
        for seed in seeds:
            files = [work / f"{m}_s{seed}" / "test_test" / "scores.npz" for m in parts]
            if not all(f.is_file() for f in files):
                return None
            z = [load_labelled_scores(f) for f in files]
            runs.append((z[0][0], sum(r[1] for r in z), z[0][2]))
        mats.append(correct_matrix(runs, source=f"{work} {n}")[1])
    r = paired(*mats)
    return {
        "diff": round(100 * r.diff.mean, 1),
        "interval95": [round(100 * r.diff.low, 1), round(100 * r.diff.high, 1)],
        "clips_better": r.better,
        "clips_worse": r.worse,
        "p_value": round(r.p_value, 4),
    }


def run_dataset(name: str, args: argparse.Namespace, rows: dict) -> None:
    """Train and test the recipes of ``args`` on one dataset, into ``rows`` (its JSON part)."""
    spec = DATASETS[name]
    root = args.root or shared_data() / spec.folder
    if not root.is_dir():
        sys.exit(f"{spec.title} not found in {root} (set MGPROTO_SHARED or --root)")
    work = args.work / name
    work.mkdir(parents=True, exist_ok=True)
    files = {"2d": work / f"{name}.pkl", "3d": work / f"{name}_3d.pkl"}
    for coords, data in files.items():
        if not data.is_file():
            save_annotations(convert(name, root, args, coords), data)
    recipes = [r for r in args.recipes if name in ONLY_ON.get(r, (name,))]
    for recipe in [] if args.intervals_only else recipes:
        title, config = RECIPES[recipe]
        data = files["3d" if recipe in RECIPES_3D else "2d"]
        sets = [
            f"data.annotations={data}",
            f"data.num_classes={spec.num_classes}",
            "data.pose.layout=kinect20",
        ]
        extra = [f"train.epochs={args.paper_epochs}"] if recipe == "paper_pose" else []
        extra += OVERRIDES.get(recipe, [])
        runs = []
        for seed in args.seeds:
            r = run_one(
                ROOT / config,
                [*sets, *extra, "train.tensorboard=false"],
                seed=seed,
                run_dir=work / f"{recipe}_s{seed}",
                split="test",
                device="cpu",
            )
            runs.append(r)
            print(
                f"{name} {recipe} seed {seed}: top1 {100 * r['top1']:.1f} "
                f"({r['train_seconds']:.0f} s)"
            )
        top1 = 100 * np.array([r["top1"] for r in runs])
        mca = 100 * np.array([r["mean_class_acc"] for r in runs])
        secs = np.array([r["train_seconds"] for r in runs])
        rows[recipe] = {
            "recipe": title,
            "config": config,
            "overrides": extra,
            "noise": {"level": args.noise, "seed": args.noise_seed} if args.noise else None,
            "view": {"yaw": args.yaw, "frame_step": args.frame_step},
            "threads": torch.get_num_threads(),
            "machine": cpu_model(),  # float sums, and so runs, differ between CPUs
            "seeds": args.seeds,
            "top1_mean": float(top1.mean()),
            "top1_std": float(top1.std()),
            "mca_mean": float(mca.mean()),
            "mca_std": float(mca.std()),
            "train_seconds_mean": float(secs.mean()),
            "per_seed_top1": [round(float(x), 1) for x in top1],
        }
    for ens, (title, members) in ENSEMBLES.items():
        have = all(
            (work / f"{m}_s{s}" / "test_test" / "scores.npz").is_file()
            for m in members
            for s in args.seeds
        )
        if have and set(members) & set(recipes) and not args.intervals_only:
            rows[ens] = ensemble_row(work, args.seeds, title, members)
    for recipe, row in rows.items():  # rows of earlier runs too, where their scores are here
        interval = top1_interval(work, row, recipe, args.seeds)
        if interval:
            row["top1_interval95"] = interval


def mean_rows(results: dict) -> dict:
    """Recipe -> its mean top-1 over the datasets where it ran on all of them."""
    datasets = results["datasets"]
    out = {}
    for recipe in sorted({r for rows in datasets.values() for r in rows}):
        per = {d: rows[recipe]["top1_mean"] for d, rows in datasets.items() if recipe in rows}
        if len(per) == len(datasets):
            out[recipe] = {"top1_mean": float(np.mean(list(per.values()))), "per_dataset": per}
    return out


def print_tables(results: dict) -> None:
    for name, rows in results["datasets"].items():
        print(f"\n{DATASETS[name].title}\n")
        print(
            "| recipe | config | top-1 (%) | 95 % interval | vs TCN (paired) | mean class acc (%) "
            "| train time (s) | per seed |"
        )
        print("|---|---|---:|---|---|---:|---:|---|")
        for recipe, r in rows.items():
            low, high = r.get("top1_interval95", ("-", "-"))
            d = results["paired_with_tcn"].get(name, {}).get(recipe)
            vs = (
                f"{d['diff']:+.1f} [{d['interval95'][0]:+.1f}, {d['interval95'][1]:+.1f}]"
                if d
                else "-"
            )
            print(
                f"| {r['recipe']} | `{r['config']}` | {r['top1_mean']:.1f} +- {r['top1_std']:.1f} "
                f"| {low} - {high} | {vs} | {r['mca_mean']:.1f} +- {r['mca_std']:.1f} "
                f"| {r['train_seconds_mean']:.0f} | {', '.join(map(str, r['per_seed_top1']))} |"
            )
    names = list(results["datasets"])
    print(f"\nmean over {', '.join(names)}\n")
    print("| recipe | mean top-1 (%) | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for recipe, r in sorted(results["mean"].items(), key=lambda kv: -kv[1]["top1_mean"]):
        cells = " | ".join(f"{r['per_dataset'][n]:.1f}" for n in names)
        print(f"| {recipe} | {r['top1_mean']:.1f} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="one dataset's folder (default: ../shared/data/<its folder>)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=["tcn", "cpu_pose"])
    parser.add_argument("--paper-epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--swap-subjects", action="store_true", help="train on the test subjects")
    parser.add_argument("--noise", choices=LEVELS, default=None, help="pose-estimator noise")
    parser.add_argument("--noise-seed", type=int, default=0, help="seed of the noise draw")
    parser.add_argument("--yaw", type=float, default=0.0, help="turn the view (degrees)")
    parser.add_argument("--frame-step", type=int, default=1, help="keep every n-th frame")
    parser.add_argument(
        "--labels", default=utkinect.LABELS, help=f"UTKinect label file: {' or '.join(LABEL_FILES)}"
    )
    parser.add_argument("--work", type=Path, default=None, help="run folder")
    parser.add_argument("--out", type=Path, default=None, help="results JSON")
    parser.add_argument(
        "--intervals-only",
        action="store_true",
        help="train nothing: intervals and pairs from the runs in --work",
    )
    args = parser.parse_args()
    if args.root and len(args.datasets) != 1:
        sys.exit("--root names one dataset's folder: pass one --datasets")
    tag = ("_swap" if args.swap_subjects else "") + (f"_noise_{args.noise}" if args.noise else "")
    tag += (f"_yaw{args.yaw:g}" if args.yaw else "") + (
        f"_step{args.frame_step}" if args.frame_step != 1 else ""
    )
    if args.labels != utkinect.LABELS:
        tag += f"_{Path(args.labels).stem}"
    if args.noise and any(name in RECIPES_3D for name in args.recipes):
        sys.exit("--noise models a 2-D pose estimator: it does not apply to the 3-D recipes")
    args.work = args.work or ROOT / "work" / f"real_skeletons{tag}"
    args.out = (
        args.out or ROOT / "benchmarks" / "results" / f"real_skeletons_two_datasets{tag}.json"
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results.setdefault("datasets", {})
    results.setdefault("paired_with_tcn", {})
    for name in args.datasets:
        rows = results["datasets"].setdefault(name, {})
        run_dataset(name, args, rows)
        pairs = results["paired_with_tcn"].setdefault(name, {})
        for recipe in rows:
            pair = (
                None
                if recipe == BASELINE
                else paired_with_baseline(args.work / name, recipe, args.seeds)
            )
            if pair:
                pairs[recipe] = pair
        results["mean"] = mean_rows(results)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
    print_tables(results)


if __name__ == "__main__":
    main()
