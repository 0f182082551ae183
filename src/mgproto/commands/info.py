"""``mgproto info PATH``: what a checkpoint, a run folder, a score file or a skeleton file holds.

Every kind of file the project writes is recognised by its content, not only its name: an
mgproto checkpoint (``format`` key), a run folder (``checkpoints/`` + ``config.yaml``), our
``scores.npz`` (``frame_dirs`` + ``fused``), a PYSKL result pickle (a list of score arrays),
a skeleton file (``.pkl`` / ``.npz`` with records).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mgproto.fileio import NPZ_ERRORS, check_input, check_npz, safe_unpickle


def describe_skeletons(path: Path) -> list[str]:
    """Clips, layout, splits, frame counts and per-class counts of a skeleton file."""
    from mgproto.data.annotations import load_annotations
    from mgproto.data.records import class_counts, label_doubts
    from mgproto.data.sequences import MAX_WARNINGS_SHOWN

    ann = load_annotations(path)
    meta = ann.meta
    lines = [f"{path}: skeleton file, {len(ann.annotations)} clips; layout "
             f"{meta.get('layout', '?')}; dataset {meta.get('dataset', '?')}"]  # fmt: skip
    lines += [f"  split {name}: {len(ids)} clips" for name, ids in ann.split.items()]
    if ann.annotations:
        frames = sorted(r["total_frames"] for r in ann.annotations)
        shapes = sorted({tuple(r["keypoint"].shape[::2]) for r in ann.annotations})
        lines.append(f"  frames per clip: min {frames[0]}, median {frames[len(frames) // 2]}, "
                     f"max {frames[-1]}; (persons, joints): {shapes}")  # fmt: skip
        num_classes = max(r["label"] for r in ann.annotations) + 1
        names = meta.get("classes") or [str(k) for k in range(num_classes)]
        counts = class_counts(ann.annotations, max(num_classes, len(names)))
        lines += [f"  class {k:3d} {names[k] if k < len(names) else k}: {n}"
                  for k, n in enumerate(counts)]  # fmt: skip
        doubts = label_doubts(ann.annotations)
        if doubts:
            lines.append(f"  label ranges to check ({len(doubts)}; mgproto.data.records."
                         "label_doubts):")  # fmt: skip
            lines += [f"    {d}" for d in doubts[:MAX_WARNINGS_SHOWN]]
            if len(doubts) > MAX_WARNINGS_SHOWN:
                lines.append(f"    ... and {len(doubts) - MAX_WARNINGS_SHOWN} more")
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
        metrics = json.loads(test.read_text())
        fused = metrics.get("fused", {})
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
        lines.append(f"  split: {json.loads(ids_file.read_text()).get('split')}")
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
            check_npz(path)
            with np.load(path, allow_pickle=False) as z:
                if "frame_dirs" in z.files and "fused" in z.files:
                    return describe_scores(path, {k: z[k] for k in z.files})
        except NPZ_ERRORS as err:
            raise ValueError(f"{path}: not a readable .npz ({type(err).__name__})") from None
        return describe_skeletons(path)
    if path.suffix in (".pt", ".pth"):
        import torch

        from mgproto.engine.checkpoint import FORMAT, load_checkpoint

        try:
            return describe_checkpoint(path, load_checkpoint(path))
        except ValueError:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and state.get("format") != FORMAT:
                tensors = state.get("state_dict", state)
                return [f"{path}: a foreign checkpoint (MMAction2 / PYSKL?) with {len(tensors)} "
                        "entries; convert it with `mgproto import-checkpoint`"]  # fmt: skip
            raise
    obj = safe_unpickle(path.read_bytes(), source=str(path))
    if isinstance(obj, list) and obj and not isinstance(obj[0], dict):
        shapes = sorted({np.shape(x) for x in obj})
        return [f"{path}: result pickle (PYSKL / MMAction2 0.x), {len(obj)} clips, score shapes "
                f"{shapes}; clip ids come from the annotation file's split order"]  # fmt: skip
    return describe_skeletons(path)


def _cmd_info(args: argparse.Namespace) -> int:
    for path in args.paths:
        print("\n".join(describe(path)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info", help="what a checkpoint, run folder, score file or skeleton file holds"
    )
    p.add_argument("paths", nargs="+", help="files or run folders")
    p.set_defaults(func=_cmd_info)
