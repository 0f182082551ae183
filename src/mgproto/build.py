"""The composition root: an experiment config becomes the objects a run needs.

Only this module (and the verbs above it) turns a whole ``ExperimentConfig`` into objects;
``data``, ``models`` and ``losses`` take plain keyword arguments (STYLE habit 3), and
``engine`` asks this module for the model, objective, loaders and device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from mgproto.config import ExperimentConfig
from mgproto.data.layouts import get_layout
from mgproto.data.loader import eval_loader, train_loader
from mgproto.data.pipelines import num_pose_channels
from mgproto.data.semantic import load_class_vectors, vector_width
from mgproto.losses import Objective
from mgproto.models import Recognizer, build_model


class DeviceError(ValueError):
    """A requested device this machine does not have; the message says what it has."""


def resolve_device(requested: str = "auto", *, local_rank: int = 0) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a device that exists here, else DeviceError.

    ``auto`` and ``cuda`` take the local rank's GPU (torchrun), ``cuda:N`` that one.
    """
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    have = "cpu" + "".join(f", cuda:{i}" for i in range(count))
    if requested == "cpu" or (requested == "auto" and not count):
        return torch.device("cpu")
    try:
        device = torch.device(requested if requested != "auto" else "cuda")
    except RuntimeError:
        raise DeviceError(f"--device {requested}: not a device name (available: {have})") from None
    if device.type != "cuda":
        raise DeviceError(f"--device {requested}: not supported (available: {have})")
    index = device.index if device.index is not None else local_rank
    if not count:
        raise DeviceError(
            f"--device {requested}: this torch {torch.__version__} sees no CUDA GPU "
            f"(available: {have})"
        )
    if index >= count:
        raise DeviceError(f"--device {requested}: no GPU {index} (available: {have})")
    return torch.device("cuda", index)


def model_inputs(cfg: ExperimentConfig) -> dict[str, Any]:
    """What the model of ``cfg`` is built from: two configs with equal inputs build the same
    network (so a checkpoint of one loads into the other)."""
    return dict(
        modalities=cfg.data.modalities,
        num_classes=cfg.data.num_classes,
        pose_channels=num_pose_channels(cfg.data.pose),
        rgb_frames=cfg.data.rgb.clip_len,
        speed_ratio=max(cfg.data.pose.clip_len // cfg.data.rgb.clip_len, 1),
        rgb_channels=6 if cfg.data.rgb.frame_diff and cfg.data.rgb.keep_frames else 3,
        num_joints=get_layout(cfg.data.pose.layout).num_joints,
        layout=cfg.data.pose.layout,
        semantic_dim=vector_width(cfg.model.semantic.vectors) if cfg.model.semantic.enabled else 0,
        num_persons=cfg.data.pose.max_persons,
        xyz=cfg.data.pose.keypoint_dims == 3,
        coord_stream=cfg.data.pose.representation == "both",
    )


def next_frames(cfg: ExperimentConfig) -> bool:
    """Whether the model differences each sampled frame against the record's next frame (the
    ST-GCN++ motion streams: the reference computes motion on the whole record, then samples),
    so the coordinates must carry the next frames (:func:`mgproto.data.build_pipeline`)."""
    return cfg.model.arch == "stgcn" and cfg.model.gcn.feature.endswith("motion")


def model_from_config(cfg: ExperimentConfig) -> Recognizer:
    """Build the recognizer an experiment config describes."""
    return build_model(cfg.model, **model_inputs(cfg))


def objective_from_config(
    cfg: ExperimentConfig, model: Recognizer, *, class_names: list[str] | None = None
) -> Objective:
    """The training objective around ``model``: CE, + prototypical refinement, + the semantic
    embedding loss against the class vectors of ``model.semantic.vectors`` (rows picked by
    ``class_names`` from a bundled table)."""
    sem = cfg.model.semantic
    vectors = None
    if sem.enabled:
        table = load_class_vectors(sem.vectors, num_classes=cfg.data.num_classes,
                                   class_names=class_names)  # fmt: skip
        vectors = torch.from_numpy(table)
    return Objective(model, prototype=cfg.model.prototype, class_vectors=vectors,
                     semantic_weight=sem.weight)  # fmt: skip


def training_loader(
    cfg: ExperimentConfig, records: list[dict], root: Path, *, world_size: int = 1, rank: int = 0
) -> DataLoader:
    """This process's shuffled, augmented training batches."""
    t = cfg.train
    return train_loader(
        cfg.data, records, root, batch_size=t.batch_size, num_workers=t.num_workers,
        seed=cfg.seed, world_size=world_size, rank=rank, accum=t.grad_accum_steps,
        next_frames=next_frames(cfg),
    )  # fmt: skip


def evaluation_loader(
    cfg: ExperimentConfig,
    records: list[dict],
    root: Path,
    *,
    num_clips: int,
    batch_size: int | None = None,
    world_size: int = 1,
    rank: int = 0,
) -> DataLoader:
    """This process's share of deterministic multi-clip test batches."""
    return eval_loader(
        cfg.data, records, root, num_clips=num_clips,
        batch_size=batch_size or cfg.train.batch_size, num_workers=cfg.train.num_workers,
        world_size=world_size, rank=rank, next_frames=next_frames(cfg),
    )  # fmt: skip
