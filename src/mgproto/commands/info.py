"""``mgproto info PATH...``: a short summary of what a checkpoint, a run folder, a score file or a
skeleton file holds (``mgproto inspect`` checks a skeleton file record by record).

Every kind of file the project writes or reads is recognised by its content, not only its name:
an mgproto checkpoint (``format`` key), a run folder (``checkpoints/`` + ``config.yaml``), our
``scores.npz`` (``frame_dirs`` + ``fused``), a PYSKL / MMAction2 0.x result pickle (a list of
score arrays), an MMAction2 1.x ``--dump`` pickle (a list of dicts with ``pred_score``), a
skeleton file (``.pkl`` / ``.npz`` with records).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mgproto.commands.errors import USER_ERRORS, user_message
from mgproto.fileio import NPZ_ERRORS, UnsafeFileError, check_input, read_npz, safe_unpickle
from mgproto.fileio.text import read_json


def layout_text(meta: dict, records: list[dict]) -> str:
    """The layout of a skeleton file as ``info`` and ``inspect`` print it: its name, whether it
    is inferred from the joint count, or ``?`` with the reason."""
    from mgproto.data.records import file_layout

    name, how = file_layout(meta, records)
    if name is None:
        return f"? ({how})"
    return f"{name} ({how})" if how else name


def describe_skeletons(path: Path) -> list[str]:
    """A short summary of a skeleton file: clips, layout, splits, clip lengths, classes."""
    from mgproto.data.annotations import load_annotations
    from mgproto.data.records import keypoint_dims

    ann = load_annotations(path)
    records, meta = ann.annotations, ann.meta
    lines = [f"{path}: skeleton file, {len(records)} clips; layout "
             f"{layout_text(meta, records)}; dataset {meta.get('dataset', '?')}"]  # fmt: skip
    splits = ", ".join(f"{name} {len(ids)}" for name, ids in ann.split.items())
    lines.append(f"  splits (clips): {splits or 'none'}")
    if records:
        frames = sorted(r["total_frames"] for r in records)
        persons = sorted({r["keypoint"].shape[0] for r in records})
        lines.append(f"  {keypoint_dims(records)}-D keypoints; frames per clip: min {frames[0]}, "
                     f"median {frames[len(frames) // 2]}, max {frames[-1]}; persons "
                     f"{'/'.join(map(str, persons))}")  # fmt: skip
        labels = [r["label"] for r in records if r["label"] >= 0]
        names = meta.get("classes")
        classes = len(names) if names else max(labels, default=-1) + 1
        lines.append(f"  {classes} classes; {len(labels)} clips labelled, "
                     f"{len(records) - len(labels)} not")  # fmt: skip
    lines.append("  (`mgproto inspect` checks every record and lists clips per class)")
    return lines


def _config_summary(text: str, source: str) -> list[str]:
    from mgproto.config import load_config_text

    cfg = load_config_text(text, source=source)
    m, d, t = cfg.model, cfg.data, cfg.train
    model = {
        "conv3d": f"conv3d preset {m.preset}",
        "tcn": "tcn",
        "stgcn": f"stgcn ({m.gcn.feature})",
        "swin": f"swin {m.swin.arch}",
    }[m.arch]
    modules = [n for n, on in (("fusion", m.fusion.enabled), ("prototypes", m.prototype.enabled))
               if on]  # fmt: skip
    return [
        f"  config: {cfg.name}; model {model}" + (f" + {', '.join(modules)}" if modules else ""),
        f"  data: {', '.join(d.modalities)}; {d.num_classes} classes; layout {d.pose.layout}; "
        f"{d.annotations or '(no annotation file)'}",
        f"  training: {t.epochs} epochs, batch {t.batch_size}, {t.optimizer} lr {t.lr:g}, "
        f"{t.schedule}",
    ]


def describe_checkpoint(path: Path, state: dict) -> list[str]:
    """Config summary, classes, position in training, best metrics and size of a checkpoint."""
    from mgproto.engine.checkpoint import model_from_state

    model, _ = model_from_state(state, source=str(path))
    params = sum(p.numel() for p in model.parameters())
    kind = "training checkpoint" if "optimizer" in state else "weights only"
    lines = [f"{path}: mgproto checkpoint (version {state.get('version')}, {kind}); "
             f"{params / 1e6:.2f} M parameters"]  # fmt: skip
    lines += _config_summary(state["config"], str(path))
    ts = state.get("train_state") or state  # older checkpoints kept these at the top level
    if "epoch" in ts:
        lines.append(f"  position: epoch {ts['epoch']}, step {ts.get('global_step')}")
    best = ts.get("best")
    if best:
        shown = {k: round(v, 4) for k, v in best.items() if k.endswith("top1")}
        lines.append(f"  best (epoch {best.get('epoch')}): {shown}")
    names = state.get("class_names")
    if names:
        lines.append(f"  classes ({len(names)}): {', '.join(map(str, names[:8]))}"
                     + (", ..." if len(names) > 8 else ""))  # fmt: skip
    if state.get("source"):
        lines.append(f"  made from: {state['source']}")
    return lines


def describe_run(path: Path) -> list[str]:
    """A run folder: its checkpoints (described), progress and test folders."""
    from mgproto.engine.checkpoint import load_checkpoint
    from mgproto.engine.logging import read_metrics

    lines = [f"{path}: run folder"]
    records = read_metrics(path)
    vals = [r for r in records if r.get("kind") == "val"]
    if records:
        lines.append(f"  metrics.jsonl: {len(records)} records, last step "
                     f"{records[-1].get('step')}, {len(vals)} validations")  # fmt: skip
    for name in ("last.pt", "best.pt"):
        ckpt = path / "checkpoints" / name
        if ckpt.is_file():
            lines += ["  " + x for x in describe_checkpoint(ckpt, load_checkpoint(ckpt))]
    for test in sorted(path.glob("test_*/metrics.json")):
        metrics = read_json(test, what="test metrics file")
        metrics = metrics if isinstance(metrics, dict) else {}
        fused = metrics.get("fused") if isinstance(metrics.get("fused"), dict) else {}
        lines.append(f"  {test.parent.name}: fused top-1 {fused.get('top1')}, mean class acc "
                     f"{fused.get('mean_class_acc')} ({metrics.get('checkpoint')})")  # fmt: skip
    return lines


def describe_scores(path: Path, arrays: dict[str, np.ndarray]) -> list[str]:
    """Our scores.npz: streams and shapes, clips, labels, and the split if ids.json says."""
    ids = [str(x) for x in arrays["frame_dirs"]]
    lines = [f"{path}: score file, {len(ids)} clips ({', '.join(ids[:3])}"
             f"{', ...' if len(ids) > 3 else ''})"]  # fmt: skip
    for key in sorted(k for k in arrays if k == "fused" or k.startswith("stream_")):
        lines.append(f"  {key.removeprefix('stream_')}: {arrays[key].shape} {arrays[key].dtype}")
    labels = arrays.get("labels")
    if labels is not None:
        lines.append(f"  labels: {int((labels >= 0).sum())} of {len(labels)} clips labelled")
    ids_file = path.parent / "ids.json"
    if ids_file.is_file():
        ids_doc = read_json(ids_file, what="clip id file")
        split = ids_doc.get("split") if isinstance(ids_doc, dict) else None
        lines.append(f"  split: {split}")
    return lines


def describe(path: str | Path) -> list[str]:
    """The lines ``mgproto info`` prints for ``path`` (any kind the project writes)."""
    path = Path(path)
    if path.is_dir():
        if (path / "checkpoints").is_dir() or (path / "config.yaml").is_file():
            return describe_run(path)
        raise ValueError(f"{path}: a folder, but not a run folder (no checkpoints/, config.yaml)")
    check_input(path)
    if path.suffix == ".npz":
        try:
            arrays = read_npz(path)
        except UnsafeFileError as err:  # a zip bomb, or a member larger than it holds
            raise ValueError(f"{path}: {err}") from None
        except NPZ_ERRORS as err:
            raise ValueError(f"{path}: not a readable .npz ({type(err).__name__})") from None
        if "frame_dirs" in arrays and "fused" in arrays:
            return describe_scores(path, arrays)
        return describe_skeletons(path)
    if path.suffix in (".pt", ".pth"):
        return _describe_torch_file(path)
    obj = safe_unpickle(path.read_bytes(), source=str(path), tensors=True)
    if isinstance(obj, list) and obj and not isinstance(obj[0], dict):
        shapes = sorted({np.shape(x) for x in obj})
        return [f"{path}: result pickle (PYSKL / MMAction2 0.x), {len(obj)} clips, score shapes "
                f"{shapes}; clip ids come from the annotation file's split order"]  # fmt: skip
    if isinstance(obj, list) and obj and all(isinstance(x, dict) and "pred_score" in x
                                             for x in obj):  # fmt: skip
        return describe_dump(path, obj)
    return describe_skeletons(path)


def _describe_torch_file(path: Path) -> list[str]:
    """An mgproto checkpoint, else a foreign one (read safely, runner state as inert
    stand-ins); a file that is no checkpoint at all is one error saying what it is."""
    from mgproto.engine.checkpoint import UnusableCheckpointError, load_checkpoint
    from mgproto.models.foreign_checkpoint import read_foreign_checkpoint

    try:
        state = load_checkpoint(path)
    except UnusableCheckpointError:
        raise
    except ValueError:  # not ours
        foreign = read_foreign_checkpoint(path)
        return [f"{path}: a foreign checkpoint (MMAction2 / PYSKL?) with "
                f"{len(foreign.state)} tensors; convert it with `mgproto import-checkpoint`",
                *foreign.summary().splitlines()]  # fmt: skip
    return describe_checkpoint(path, state)


def _label_of(item: dict) -> int | None:
    """The true class of one ``--dump`` item (``gt_label``, or 1.0's ``gt_labels.item``)."""
    value = item.get("gt_label", item.get("gt_labels"))
    if isinstance(value, dict):
        value = value.get("item")
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    return int(flat[0]) if flat.size == 1 and np.issubdtype(flat.dtype, np.integer) else None


def describe_dump(path: Path, items: list[dict]) -> list[str]:
    """An MMAction2 1.x ``--dump`` pickle: clips, classes, labels and clip ids if it has them."""
    sizes = sorted({np.size(x["pred_score"]) for x in items})
    classes = f"{sizes[0]} classes" if len(sizes) == 1 else f"score lengths {sizes} (differ!)"
    lines = [f"{path}: result pickle (MMAction2 1.x --dump), {len(items)} clips, {classes}"]
    labels = [_label_of(x) for x in items]
    known = [(k, x) for k, x in zip(labels, items) if k is not None]
    if known:
        right = sum(int(np.argmax(x["pred_score"])) == k for k, x in known)
        lines.append(f"  labels: in the file for {len(known)} of {len(items)} clips; top-1 "
                     f"against them {right / len(known):.4f}")  # fmt: skip
    else:
        lines.append("  labels: not in the file")
    ids = [x.get("frame_dir") for x in items]
    if all(isinstance(x, str) for x in ids):
        lines.append(f"  clip ids: in the file ({', '.join(ids[:3])}{', ...' * (len(ids) > 3)})")
    else:
        lines.append("  clip ids: not in the file; they come from the annotation file's split "
                     "order (`mgproto ensemble --annotations`)")  # fmt: skip
    return lines


def _cmd_info(args: argparse.Namespace) -> int:
    """Describe each path; a path that fails is reported on stderr and the rest still run."""
    failed = 0
    for path in args.paths:
        try:
            lines = describe(path)
        except BrokenPipeError:
            raise
        except USER_ERRORS as err:
            print(f"mgproto info: error: {user_message(err)}", file=sys.stderr)
            failed += 1
            continue
        print("\n".join(lines), flush=True)
    if failed and len(args.paths) > 1:
        print(f"mgproto info: {failed} of {len(args.paths)} paths could not be described",
              file=sys.stderr)  # fmt: skip
    return 2 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="a short summary of any file mgproto reads or writes (checkpoint, run folder, "
        "score or result file, skeleton file)",
        description="One short summary per path. A path that cannot be read is reported and "
        "the others are still described (the exit status is then 2). To check a skeleton "
        "file record by record, use `mgproto inspect`.",
    )
    p.add_argument("paths", nargs="+", help="files or run folders")
    p.set_defaults(func=_cmd_info)
