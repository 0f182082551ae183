"""Result verbs: ensemble, submit, report, compare."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mgproto.commands.argtypes import unit_float
from mgproto.commands.outputs import add_force, output_of, outputs_of
from mgproto.fileio import atomic_write_npz, atomic_write_text
from mgproto.fileio.text import read_json


def _ids_and_labels(args: argparse.Namespace, split: str) -> tuple[list[str] | None, dict]:
    """Clip ids (split order) and labels of a split, from --annotations if given."""
    if not args.annotations:
        return None, {}
    from mgproto.data.annotations import load_annotations

    records = load_annotations(args.annotations).select(split)
    return [r["frame_dir"] for r in records], {r["frame_dir"]: r["label"] for r in records}


def _split_records(paths: list[str]) -> list[Path]:
    """The ``ids.json`` beside each score file, which :func:`_recorded_split` reads: inputs of
    the command, like the score files themselves."""
    return [Path(p).with_name("ids.json") for p in paths]


def _recorded_split(paths: list[str], flag: str, fallback: str) -> str:
    """The split the score files were computed on, as ``mgproto test`` records it in the
    ``ids.json`` beside its outputs; ``fallback`` where no file has one (other tools' files)."""
    found: dict[str, str] = {}
    for path, record in zip(paths, _split_records(paths), strict=True):
        try:
            split = json.loads(record.read_text()).get("split")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(split, str) and split:
            found[path] = split
    if len(set(found.values())) > 1:
        which = ", ".join(f"{p} on {s!r}" for p, s in found.items())
        raise ValueError(f"the score files were computed on different splits ({which}); {flag} "
                         "names the split of --annotations they all hold")  # fmt: skip
    return next(iter(found.values()), fallback)


def _check_pickles_have_ids(args: argparse.Namespace) -> None:
    """A .pkl score file (PYSKL / MMAction2 output) holds no clip ids: without --annotations,
    nothing says which clip a row is, and another file's clip order would be a guess."""
    pickles = [p for p in [*args.val, *args.test] if Path(p).suffix != ".npz"]
    if pickles and not args.annotations:
        raise ValueError(
            f"{pickles[0]}: a .pkl score file holds no clip ids, so its rows cannot be matched "
            "to clips; pass --annotations FILE (the rows are then read in the order of its "
            "--val-split / --test-split, and their number must be the split's)"
        )


def _read_all(
    paths: list[str], order: list[str] | None, stream: str, listed_in: str | None
) -> tuple[list[str], list]:
    """Each file's scores in the clip order of ``listed_in`` (--annotations), else of the
    first file."""
    from mgproto.engine.ensemble import align
    from mgproto.engine.scores import load_scores

    matrices = []
    for path in paths:
        ids, scores = load_scores(path, ids=order, stream=stream)
        if order is None:
            order, listed_in = ids, path
        matrices.append(align(ids, scores, order, source=path, listed_in=listed_in or ""))
    return order, matrices


def _ensemble_outputs(args: argparse.Namespace) -> tuple[Path, Path]:
    """The fused scores (``-o``, an .npz) and their summary beside them (.json), both checked
    before the first is written: neither an input, a folder or (without --force) a file."""
    if Path(args.output).suffix != ".npz":
        raise ValueError(
            f"{args.output}: the fused scores are an .npz file (their summary is written beside "
            "them as .json)"
        )
    paths = [args.output, Path(args.output).with_suffix(".json")]
    out, summary = outputs_of(
        args, paths, skip=["output"], inputs=_split_records([*args.val, *args.test])
    )
    return out, summary


def _val_scores(
    args: argparse.Namespace, order: list[str] | None, labels: dict[str, int]
) -> tuple[list[np.ndarray], np.ndarray, int]:
    """The validation scores and labels of the labelled clips (the weights are searched and
    checked on them), and the number of clips in the files."""
    from mgproto.engine.ensemble import labelled_clips
    from mgproto.engine.scores import load_labels

    order, scores = _read_all(args.val, order, args.stream, args.annotations)
    source = args.annotations or args.val[0]
    if not labels:  # labels from our own .npz files
        labels = load_labels(args.val[0])
    y = np.array([labels[x] for x in order])
    keep = labelled_clips(order, y, num_classes=scores[0].shape[1], source=source)
    return [s[keep] for s in scores], y[keep], len(order)


def _cmd_ensemble(args: argparse.Namespace) -> int:
    from mgproto.engine.ensemble import check_weights, fuse, search_weights
    from mgproto.engine.metrics import topk_accuracy

    out, summary_path = _ensemble_outputs(args)
    if len(args.val) != len(args.test):
        raise ValueError(f"{len(args.val)} validation score files but {len(args.test)} test ones")
    if args.weights:
        check_weights(args.weights, len(args.val))
    _check_pickles_have_ids(args)
    val_split = args.val_split or _recorded_split(args.val, "--val-split", "val")
    test_split = args.test_split or _recorded_split(args.test, "--test-split", "test")
    val_order, val_labels = _ids_and_labels(args, val_split)
    test_order, test_labels = _ids_and_labels(args, test_split)
    val_scores, labels, num_val = _val_scores(args, val_order, val_labels)
    weights = list(args.weights) if args.weights else search_weights(val_scores, labels)[0]
    val_top1 = topk_accuracy(fuse(val_scores, weights), labels)
    singles = [topk_accuracy(s, labels) for s in val_scores]
    test_order, test_scores = _read_all(args.test, test_order, args.stream, args.annotations)
    fused = fuse(test_scores, weights)
    test_y = _known_labels(test_labels or _labels_or_none(args.test[0]), test_order)
    summary = {"weights": weights, "val_top1": val_top1, "val_top1_single": singles,
               "val_clips_labelled": len(labels), "val": args.val, "test": args.test}  # fmt: skip
    if args.annotations:
        summary["annotations"] = {"file": args.annotations, "val_split": val_split,
                                  "test_split": test_split}  # fmt: skip
    if test_y is not None:  # labelled test clips (a benchmark, not a challenge's hidden test)
        summary["test_top1_single"] = [topk_accuracy(x, test_y) for x in test_scores]
        summary["test_top1"] = topk_accuracy(fused, test_y)
    arrays = {"frame_dirs": np.array(test_order), "fused": fused.astype(np.float32),
              "labels": test_y if test_y is not None else np.full(len(test_order), -1)}  # fmt: skip
    atomic_write_npz(out, arrays)
    atomic_write_text(summary_path, json.dumps(summary, indent=1))
    tested = summary.get("test_top1_single", [None] * len(weights))
    for path, acc, w, t in zip(args.val, singles, weights, tested):
        extra = f", test top-1 {t:.4f}" if t is not None else ""
        print(f"  {path}: weight {w:g}, val top-1 {acc:.4f}{extra}")
    extra = f", test top-1 {summary['test_top1']:.4f}" if test_y is not None else ""
    on = f" ({len(labels)} of {num_val} clips labelled)" if len(labels) < num_val else ""
    print(f"ensemble: val top-1 {val_top1:.4f}{on}{extra}; test scores -> {out}")
    return 0


def _labels_or_none(path: str) -> dict[str, int]:
    """Labels of one of our score files; {} for files without them (result pickles)."""
    from mgproto.engine.scores import ScoreError, load_labels

    try:
        return load_labels(path)
    except ScoreError:
        return {}


def _known_labels(labels: dict[str, int], order: list[str]) -> np.ndarray | None:
    """(N,) labels in ``order`` if every clip has a real one (>= 0), else None."""
    y = [labels.get(x, -1) for x in order]
    return np.array(y) if y and min(y) >= 0 else None


def _cmd_submit(args: argparse.Namespace) -> int:
    from mgproto.engine.ensemble import align, read_id_list, write_submission
    from mgproto.engine.scores import load_scores

    output = output_of(args)
    order = read_id_list(args.ids)
    ids, scores = load_scores(args.scores, ids=order if args.scores.endswith(".pkl") else None)
    rows = align(ids, scores, order, source=args.scores, listed_in=args.ids)
    header = args.format == "kaggle"
    name = "prediction.csv" if header else "Submission.csv"
    out = write_submission(output, order, rows, header=header, csv_name=name)
    print(f"wrote {out} ({len(order)} clips, {name})")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from mgproto.engine.checkpoint import resolve_checkpoint
    from mgproto.engine.testing import default_split, metrics_match, run_test
    from mgproto.report.run_report import build_report
    from mgproto.report.test_figures import write_test_figures

    run_dir = Path(args.run_dir)
    ckpt = resolve_checkpoint(run_dir)
    split = args.split or default_split(ckpt, "val")
    test_dir = run_dir / f"test_{split}"
    if args.refresh or not metrics_match(test_dir / "metrics.json", ckpt, split=split):
        print(f"evaluating {ckpt} on {split} (no metrics of this checkpoint yet)")
        run_test(ckpt, split=split, out_dir=test_dir, device=args.device)
        write_test_figures(test_dir)
    out = build_report(run_dir, test_dir=test_dir, checkpoint=ckpt)
    print(f"wrote {out / 'index.html'} and {out / 'report.md'}")
    return 0


def _test_dir(run: str, split: str | None, device: str, last: bool = False) -> Path:
    """The folder of the run's test outputs on ``split`` (None: the run's data.test_split),
    evaluated unless its metrics are of the checkpoint: ``RUN/test_<split>`` for the best (else
    last) checkpoint; with ``last``, the last checkpoint's, read from ``RUN/test_<split>`` where
    that holds it (a run without best.pt) and otherwise written to ``RUN/test_<split>_last``,
    so the best one's stay."""
    from mgproto.engine.checkpoint import resolve_checkpoint
    from mgproto.engine.testing import default_split, metrics_match, run_test

    run_dir = Path(run)
    ckpt = run_dir / "checkpoints" / "last.pt" if last else resolve_checkpoint(run_dir)
    if not ckpt.is_file():
        raise FileNotFoundError(f"{run_dir}: no checkpoints/last.pt in this run directory")
    split = split or default_split(ckpt, "test")
    dirs = [run_dir / f"test_{split}", *([run_dir / f"test_{split}_last"] if last else [])]
    for test_dir in dirs:
        metrics = test_dir / "metrics.json"
        if metrics_match(metrics, ckpt, split=split) and (test_dir / "scores.npz").is_file():
            return test_dir
    run_test(ckpt, split=split, out_dir=dirs[-1], device=device)
    return dirs[-1]


def _right_and_wrong(test_dirs: list[Path], stream: str) -> np.ndarray:
    """(S, N) right / wrong of the runs' ``scores.npz``, clips in the first run's order."""
    from mgproto.engine.scores import load_labelled_scores
    from mgproto.engine.stats import correct_matrix

    runs = [load_labelled_scores(d / "scores.npz", stream=stream) for d in test_dirs]
    return correct_matrix(runs, source=", ".join(str(d) for d in test_dirs))[1]


def _cmd_compare(args: argparse.Namespace) -> int:
    """Markdown table of the test metrics of several runs (evaluating them if needed); with
    ``--vs``, the two groups' seed-mean top-1 with bootstrap intervals and their paired test."""
    from mgproto.engine.stats import paired
    from mgproto.models import STREAMS

    if args.vs and len(args.vs) != len(args.runs):
        raise ValueError(
            f"--vs pairs runs by position (seed s of A with seed s of B): {len(args.runs)} runs "
            f"against {len(args.vs)}"
        )
    groups = {"A": args.runs, "B": args.vs or []}
    dirs = {
        g: [_test_dir(r, args.split, args.device, last=args.last) for r in runs]
        for g, runs in groups.items()
    }
    lines = ["| run | stream | top-1 | top-5 | mean class acc |", "|---|---|---:|---:|---:|"]
    for run, test_dir in zip([*groups["A"], *groups["B"]], [*dirs["A"], *dirs["B"]]):
        metrics = read_json(test_dir / "metrics.json", what="test metrics file")
        for stream in [s for s in (*STREAMS, "fused") if s in metrics]:
            if stream == "fused" and sum(s in metrics for s in STREAMS) < 2:
                continue
            m = metrics[stream]
            lines.append(
                f"| {Path(run).name} | {stream} | {m['top1']:.4f} | {m['top5']:.4f} "
                f"| {m['mean_class_acc']:.4f} |"
            )
    print("\n".join(lines))
    if args.vs:
        both = _right_and_wrong([*dirs["A"], *dirs["B"]], args.stream)
        a, b = both[: len(args.runs)], both[len(args.runs) :]
        r = paired(a, b, level=args.level)
        pct = f"{100 * args.level:g} %"
        print(
            f"\n{args.stream} top-1 over {len(args.runs)} runs each, mean [{pct} interval; "
            "clips and runs resampled]:"
        )
        print(f"  A (the runs):     {r.a.points()}")
        print(f"  B (--vs):         {r.b.points()}")
        print(f"  A - B, paired:    {r.diff.points()}")
        print(
            f"  A right more often on {r.better} clips, B on {r.worse}; sign test p = "
            f"{r.p_value:.3g}"
        )
    return 0


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="Markdown table of several runs' test metrics")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument(
        "--vs",
        nargs="+",
        default=None,
        metavar="RUN",
        help="a second recipe's runs, paired by position with the first (same seeds): prints "
        "both seed-mean top-1 with bootstrap intervals and the paired difference",
    )
    p.add_argument("--stream", default="fused", help="which scores to compare with --vs")
    p.add_argument("--level", type=unit_float, default=0.95, help="interval level with --vs")
    p.add_argument(
        "--split", default=None, help="split to compare (default: each run's data.test_split)"
    )
    p.add_argument(
        "--last",
        action="store_true",
        help="each run's last checkpoint (default: its best, else last); written to "
        "RUN/test_<split>_last where RUN/test_<split> holds the best one's",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(func=_cmd_compare)


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="HTML + Markdown report of a run (evaluates if needed)")
    p.add_argument("run_dir", help="run directory")
    p.add_argument(
        "--split",
        default=None,
        help="split to evaluate and show (default: the run's data.val_split; its "
        "data.test_split if it validated on none)",
    )
    p.add_argument("--refresh", action="store_true", help="re-run the evaluation")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(func=_cmd_report)


def _add_ensemble(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ensemble", help="weighted fusion of score files; weights searched on validation"
    )
    p.add_argument("--val", nargs="+", required=True, help="validation score files, one per model")
    p.add_argument("--test", nargs="+", required=True, help="test score files, same model order")
    p.add_argument(
        "--annotations",
        default=None,
        help="annotation file: clip order and labels; required with .pkl score files, whose "
        "rows are read in the order of its splits (default: none, the .npz files' own ids)",
    )
    for flag, files, fallback in (
        ("--val-split", "--val", "val"),
        ("--test-split", "--test", "test"),
    ):
        p.add_argument(
            flag,
            default=None,
            help=f"split of --annotations the {files} scores are of (default: the split in the "
            f"ids.json that mgproto test writes beside the {files} files, else {fallback})",
        )
    p.add_argument(
        "--stream", default="fused", help="which scores of our .npz files (default: fused)"
    )
    p.add_argument(
        "--weights",
        nargs="+",
        type=float,
        default=None,
        help="fixed weights, one per model, each in [0, 1e6] (only their ratios matter; "
        "default: searched on the labelled validation clips)",
    )
    p.add_argument("-o", "--output", required=True, help="fused test scores (.npz)")
    add_force(p)
    p.set_defaults(func=_cmd_ensemble)


def _add_submit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submit", help="MiGA track-1 submission zip from a score file")
    p.add_argument("scores", help="score file (.npz ours / ensemble, or .pkl in --ids order)")
    p.add_argument(
        "--ids",
        required=True,
        help="test list: one clip id per line (test_id.txt) or '0054_0.mp4 31' lines",
    )
    p.add_argument(
        "--format",
        choices=("kaggle", "codalab"),
        default="kaggle",
        help="kaggle: Id,Target header (2024/25); codalab: no header (2023)",
    )
    p.add_argument("-o", "--output", required=True, help="zip to write")
    add_force(p)
    p.set_defaults(func=_cmd_submit)


def register(sub: argparse._SubParsersAction) -> None:
    for add in (_add_ensemble, _add_submit, _add_report, _add_compare):
        add(sub)
