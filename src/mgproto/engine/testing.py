"""``mgproto test``: evaluate a checkpoint on a split and write its metrics and scores.

The figures of a test folder are drawn from these files by ``mgproto.report.test_figures``.
``metrics.json`` records what defines its result (:func:`result_key`), so that ``report`` and
``compare`` reuse it only for the same checkpoint, annotation file, split and test settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from tqdm import tqdm

from mgproto.build import evaluation_loader, model_inputs
from mgproto.config import (
    ConfigError,
    ExperimentConfig,
    from_dict,
    load_config_text,
    merge_overrides,
    to_dict,
)
from mgproto.data.loader import load_split
from mgproto.engine.checkpoint import load_checkpoint, model_from_state
from mgproto.engine.distributed import init_distributed, pick_device
from mgproto.engine.evaluate import predict
from mgproto.engine.scores import check_scores, save_pyskl_results, save_scores
from mgproto.engine.stats import bootstrap
from mgproto.fileio import atomic_write_text, check_outputs
from mgproto.schema import parse_override


def json_safe(obj: object) -> object:
    """``obj`` with NaN / inf floats as ``null``: strict JSON that every reader accepts."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def _write_json(path: Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(json_safe(obj), indent=1, allow_nan=False))


def file_digest(path: Path) -> str:
    """SHA-256 of a file: which checkpoint a metrics.json was computed from."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_stamp(path: str | Path) -> dict[str, object] | None:
    """Which version of a file: its resolved path, size and modification time (ns); None
    where there is no such file."""
    if not str(path):
        return None
    try:
        resolved = Path(path).resolve()
        st = resolved.stat()
    except (OSError, RuntimeError):
        return None
    return {"path": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def result_key(ckpt: Path, cfg: ExperimentConfig, *, split: str, clips: int) -> dict:
    """Everything a test result depends on, as JSON values: the checkpoint's bytes, the
    annotation file (:func:`file_stamp`), the split, the clips and every data setting of the
    test (``test --set data.*``, ``--flip``)."""
    key = {
        "checkpoint_sha256": file_digest(ckpt),
        "annotations": file_stamp(cfg.data.annotations),
        "split": split,
        "clips": clips,
        "data": to_dict(cfg)["data"],
    }
    return json.loads(json.dumps(json_safe(key)))  # tuples as lists, as read back


def metrics_match(metrics_path: Path, ckpt: Path, *, split: str) -> bool:
    """Whether ``metrics.json`` exists and holds what evaluating ``ckpt`` on ``split`` with
    its own settings would give now: the same checkpoint file, annotation file (unchanged
    since), split and test settings (none of ``test``'s ``--set``, ``--clips``, ``--flip``)."""
    try:
        saved = json.loads(metrics_path.read_text()).get("result_key")
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(saved, dict) or saved.get("split") != split:
        return False
    cfg = load_config_text(load_checkpoint(ckpt)["config"], source=str(ckpt))
    return saved == result_key(ckpt, cfg, split=split, clips=cfg.data.sampling.num_clips_test)


def result_files(out_dir: Path, streams: Sequence[str]) -> list[Path]:
    """Every file ``mgproto test`` writes into ``out_dir`` for a model with ``streams``: scores,
    result pickles, metrics, ids and the figures of ``mgproto.report.test_figures``."""
    names = [*streams, "fused"]
    return [
        out_dir / "scores.npz",
        *(out_dir / f"{name}_result.pkl" for name in names),
        out_dir / "metrics.json",
        out_dir / "ids.json",
        *(out_dir / f"confusion_{name}.png" for name in names),
        out_dir / "per_class.png",
    ]


def default_split(
    ckpt: Path, role: Literal["test", "val"], overrides: list[str] | None = None
) -> str:
    """The split a verb evaluates when no ``--split`` is given, from the run's own config (saved
    in the checkpoint, with ``test --set`` ``overrides``): ``data.test_split`` for ``"test"``;
    ``data.val_split`` for ``"val"``, or ``data.test_split`` where the run validated on nothing
    (``val_split: ""``)."""
    cfg = load_config_text(load_checkpoint(ckpt)["config"], source=str(ckpt))
    data = _test_config(cfg, overrides, None).data if overrides else cfg.data
    if role == "val":
        return data.val_split or data.test_split
    return data.test_split


def _test_config(
    cfg: ExperimentConfig, overrides: list[str], flip: bool | None
) -> ExperimentConfig:
    """The checkpoint's config with test-time overrides of the data (never of the model)."""
    keys = [parse_override(o)[0] for o in overrides]
    other = [".".join(k) for k in keys if k[0] != "data" and k != ["train", "num_workers"]]
    if other:
        raise ConfigError(
            f"--set {other[0]}: test overrides data fields (data.*, train.num_workers); the "
            "model is the checkpoint's"
        )
    data = to_dict(cfg)
    if flip is not None:
        data["data"]["sampling"]["flip_test"] = flip
    new = from_dict(ExperimentConfig, merge_overrides(data, overrides))
    if model_inputs(new) != model_inputs(cfg):
        changed = [k for k, v in model_inputs(new).items() if model_inputs(cfg)[k] != v]
        raise ConfigError(
            f"--set {' '.join(overrides)}: changes the model of the checkpoint "
            f"({', '.join(changed)})"
        )
    return new


def run_test(
    ckpt: Path,
    *,
    split: str,
    out_dir: Path,
    overrides: list[str] | None = None,
    num_clips: int | None = None,
    flip: bool | None = None,
    device: str = "auto",
    batch_size: int | None = None,
) -> dict | None:
    """Evaluate ``ckpt`` on ``split``; returns the metrics (on rank 0) and writes ``out_dir``."""
    info = init_distributed(None)
    dev = pick_device(info, device)
    state = load_checkpoint(ckpt)
    model, cfg = model_from_state(state, source=str(ckpt))
    if overrides or flip is not None:
        cfg = _test_config(cfg, overrides or [], flip)
    clips = num_clips or cfg.data.sampling.num_clips_test
    # before any work: no file of out_dir is one this test reads
    check_outputs(result_files(out_dir, model.streams), inputs=[ckpt, cfg.data.annotations])
    key = result_key(ckpt, cfg, split=split, clips=clips)
    try:
        records, root, meta = load_split(cfg.data, split)
    except KeyError as err:  # a split name the annotation file lacks
        raise KeyError(
            f"{cfg.data.annotations}: {err.args[0]}; name one of them with --split"
        ) from None
    class_names = meta.get("classes") or state.get("class_names")
    loader = evaluation_loader(
        cfg, records, root, num_clips=clips, batch_size=batch_size,
        world_size=info.world_size, rank=info.rank,
    )  # fmt: skip
    model.to(dev)
    with tqdm(
        total=len(records), disable=None if info.is_main else True, desc=f"test {split}"
    ) as bar:
        scores = predict(
            model,
            loader,
            device=dev,
            amp=cfg.train.amp,
            amp_dtype=getattr(torch, cfg.train.amp_dtype),
            progress=bar,
        )
    if not info.is_main:
        return None
    for name, s in {**scores.streams, "fused": scores.fused}.items():
        check_scores(scores.frame_dirs, s, source=f"{ckpt}: {name} scores on {split}")
    out_dir.mkdir(parents=True, exist_ok=True)
    save_scores(scores, out_dir / "scores.npz")
    for name, s in {**scores.streams, "fused": scores.fused}.items():
        save_pyskl_results(s, out_dir / f"{name}_result.pkl")
    report = None
    if (scores.labels >= 0).any():
        report = scores.report(cfg.data.num_classes)
        keep = scores.labels >= 0
        for name, s in {**scores.streams, "fused": scores.fused}.items():
            right = s[keep].argmax(1) == scores.labels[keep]
            ci = bootstrap(right[None], resample_runs=False)  # the test clips' sampling error
            report[name]["top1_interval95"] = [ci.low, ci.high]
        _write_json(
            out_dir / "metrics.json",
            {
                "checkpoint": str(ckpt),
                "checkpoint_sha256": key["checkpoint_sha256"],
                "split": split,
                "clips": clips,
                "result_key": key,
                **report,
            },
        )
    _write_json(
        out_dir / "ids.json",
        {
            "split": split,
            "frame_dirs": scores.frame_dirs,
            "class_names": class_names,
            "config": dataclasses.asdict(cfg.data),
        },
    )
    return report
