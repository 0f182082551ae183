"""Checkpoints: one torch file with everything needed to rebuild, evaluate or resume a run.

Content: ``format`` / ``version``, ``config`` (the resolved YAML), ``model`` (state dict, with
the prototype buffers), and when training: ``optimizer``, ``scheduler``, ``scaler``, ``epoch``,
``step``, ``rng`` states and ``best``. Files are written atomically (temporary file, then
rename) and read with ``weights_only=True`` (tensors, numbers, strings, containers).
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import torch

from mgproto.build import model_from_config
from mgproto.config import ExperimentConfig, dump_config, load_config_text
from mgproto.fileio import InputError, atomic_write, check_input
from mgproto.models import Recognizer

FORMAT = "mgproto-checkpoint"
VERSION = 2  # 2: ST-GCN++ bone and motion streams as the reference computes them


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not ours; the message names the file."""


def save_checkpoint(
    path: str | Path, *, cfg: ExperimentConfig, model: torch.nn.Module, **extra: Any
) -> Path:
    """Write model + resolved config (+ ``extra`` training state) atomically."""
    state = {
        "format": FORMAT,
        "version": VERSION,
        "config": dump_config(cfg),
        "model": model.state_dict(),
        **extra,
    }
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read one of our checkpoints (safely) and check its format."""
    try:
        path = check_input(path, what="checkpoint")
    except InputError as err:
        raise CheckpointError(str(err)) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # torch's advice to unpickle fully is not for a user
        what = (
            "holds Python objects, not only tensors"
            if "weights_only" in str(err)
            else ("truncated or corrupt")
        )
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({what}); MMAction2 / PYSKL files go through "
            "`mgproto import-checkpoint`"
        ) from None
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {type(err).__name__})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not an mgproto checkpoint (for MMAction2 / PYSKL files "
            "use `mgproto import-checkpoint`)"
        )
    return state


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a run directory's best (else last) checkpoint."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / "checkpoints" / name).is_file():
                return path / "checkpoints" / name
        raise FileNotFoundError(f"{path}: no checkpoints/best.pt or last.pt in this run directory")
    return path


def class_names(state: dict[str, Any], cfg: ExperimentConfig) -> list[str]:
    """The K class names of a loaded checkpoint: saved in it, else from its annotation file's
    meta if that file is still there, else ``class k``."""
    from mgproto.data.annotations import load_annotations

    names = state.get("class_names")
    if not names and cfg.data.annotations and Path(cfg.data.annotations).is_file():
        names = load_annotations(cfg.data.annotations).meta.get("classes")
    names = list(names or [])
    return names + [f"class {k}" for k in range(len(names), cfg.data.num_classes)]


def load_model(path: str | Path) -> tuple[Recognizer, ExperimentConfig]:
    """Rebuild the model of a checkpoint from its saved config and load its weights."""
    return model_from_state(load_checkpoint(path), source=str(path))


def load_init(model: torch.nn.Module, path: str | Path) -> None:
    """Start ``model`` from a checkpoint's weights (non-strict; logs what did not fit)."""
    state = load_checkpoint(path)["model"]
    bad = non_finite_tensors(state)
    if bad:
        raise CheckpointError(f"{path}: {len(bad)} weight tensors hold NaN or inf ({bad[0]})")
    missing, unexpected = model.load_state_dict(state, strict=False)
    logging.getLogger("mgproto").info(
        "init from %s: %d tensors loaded, %d missing (e.g. %s), %d unexpected",
        path, len(state) - len(unexpected), len(missing), missing[:3], len(unexpected),
    )  # fmt: skip


def model_from_state(
    state: dict[str, Any], *, source: str = "<checkpoint>"
) -> tuple[Recognizer, ExperimentConfig]:
    """The model and config of an already loaded checkpoint (see :func:`load_checkpoint`)."""
    cfg = load_config_text(state["config"], source=source)
    model = model_from_config(cfg)
    bad = non_finite_tensors(state["model"])
    if bad:
        raise CheckpointError(
            f"{source}: {len(bad)} weight tensors hold NaN or inf (first: {bad[0]}); the run "
            "diverged, evaluate an earlier checkpoint"
        )
    model.load_state_dict(state["model"])
    _warn_stream_definition(state, cfg, source)
    return model, cfg


def _warn_stream_definition(state: dict[str, Any], cfg: ExperimentConfig, source: str) -> None:
    """Version 1 computed ST-GCN++ bone streams on the graph's tree, and motion streams along the
    sampled clip with the score differenced; a model trained so now sees other inputs."""
    feature = cfg.model.gcn.feature
    if state.get("version", 1) >= 2 or cfg.model.arch != "stgcn" or feature == "joint":
        return
    from mgproto.data.layouts import get_layout
    from mgproto.models.graph import bone_parents, parents

    layout = get_layout(cfg.data.pose.layout)
    bones_moved = "bone" in feature and (bone_parents(layout) != parents(layout)).any()
    if bones_moved or "motion" in feature:
        logging.getLogger("mgproto").warning(
            "%s: trained by an earlier mgproto whose %s stream differs from the reference's "
            "(%s); its inputs now follow the reference, so retrain it for exact results",
            source, feature,
            "bone pairs" if bones_moved else "motion to the record's next frame",
        )  # fmt: skip


def non_finite_tensors(state: dict[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors of a state dict that hold NaN or inf."""
    return [
        k
        for k, v in state.items()
        if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()
    ]
