"""Records of a split, datasets and loaders for training and evaluation.

Training batches come from :class:`ShardedBatchSampler`: for each optimiser step it cuts one
*global* batch of ``batch_size x world_size x grad_accum_steps`` indices from a permutation
seeded by (seed, epoch), and this process takes its micro-batches. Slot ``rank * accum + a`` of
the global batch is micro-batch ``a`` of rank ``rank``, so one process accumulating 2
micro-batches sees exactly what 2 DDP processes see. Resuming mid-epoch starts at a given step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from mgproto.config import DataConfig
from mgproto.data.annotations import AnnotationError, AnnotationFile, load_annotations
from mgproto.data.dataset import INPUT_KEYS, ClipDataset, collate
from mgproto.data.layouts import get_layout
from mgproto.data.pipelines import build_pipeline, check_3d_input
from mgproto.data.records import file_layout, keypoint_dims, layouts_with_joints


def load_split(cfg: DataConfig, split: str) -> tuple[list[dict[str, Any]], Path, dict]:
    """Records of ``split``, the folder their videos are relative to, and the file's meta."""
    if not cfg.annotations:
        raise ValueError(
            "data.annotations is empty: point it at a .pkl / .npz skeleton file "
            "(`mgproto synth` makes the synthetic benchmark)"
        )
    path = Path(cfg.annotations)
    ann = load_annotations(path, num_classes=cfg.num_classes)
    check_joint_count(ann, cfg.pose.layout, source=str(path))
    dims = keypoint_dims(ann.annotations)
    if dims != cfg.pose.keypoint_dims:
        score_hint = (
            " (or, if the third value is a detection confidence such as OpenPose's x, y, c, "
            "store it as keypoint_score (M, T, V) and keep (M, T, V, 2) keypoints)"
            if dims == 3
            else ""
        )
        raise AnnotationError(
            f"{path}: the keypoints have {dims} coordinates but data.pose.keypoint_dims is "
            f"{cfg.pose.keypoint_dims}; set data.pose.keypoint_dims={dims}{score_hint}"
        )
    if dims == 3:
        try:
            check_3d_input(cfg)
        except ValueError as err:
            raise AnnotationError(f"{path}: {err}") from None
    root = Path(cfg.video_root) if cfg.video_root else path.parent
    return ann.select(split), root, ann.meta


def check_joint_count(ann: AnnotationFile, layout: str, *, source: str) -> None:
    """Refuse records whose joint count is not that of ``layout`` (``data.pose.layout``), with
    the layout that would fit: the file's own, or the one its joint count means."""
    expected = get_layout(layout).num_joints
    for i, r in enumerate(ann.annotations):
        v = int(r["keypoint"].shape[2])
        if v == expected:
            continue
        own, _ = file_layout(ann.meta, ann.annotations)
        fits = [own] if own else layouts_with_joints(v)
        hint = (f"; set data.pose.layout={fits[0]}" if len(fits) == 1 else
                f"; set data.pose.layout to one of {', '.join(fits)}" if fits else
                f"; no known layout has {v} joints")  # fmt: skip
        raise AnnotationError(
            f"{source}: record {i} ({r['frame_dir']!r}): keypoint has {v} joints, but "
            f"data.pose.layout is {layout!r} ({expected} joints){hint}"
        )


def load_val_split(cfg: DataConfig) -> tuple[list[dict[str, Any]], Path | None, str]:
    """Validation records, their video folder, and why there are none (``""`` if there are).

    ``data.val_split: ""`` turns validation off; a named split missing from the file does too
    (the reason names the file's splits). Without validation there is no ``best.pt``.
    """
    if not cfg.val_split:
        return [], None, "validation is off (data.val_split is empty)"
    try:
        records, root, _ = load_split(cfg, cfg.val_split)
    except KeyError as err:
        return [], None, f"{err.args[0]} (data.val_split={cfg.val_split!r})"
    return records, root, ""


class ShardedBatchSampler(Sampler[list[int]]):
    """Micro-batches of this process for one epoch (see the module docstring).

    Args:
        num_samples: dataset size.
        batch_size: samples per micro-batch.
        world_size / rank: DDP processes and this one.
        accum: micro-batches per optimiser step.
        seed: base seed; the permutation depends on (seed, epoch) only.
        start_step: first optimiser step to yield (resume mid-epoch).
    """

    def __init__(
        self,
        num_samples: int,
        *,
        batch_size: int,
        world_size: int = 1,
        rank: int = 0,
        accum: int = 1,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        self.num_samples, self.batch_size = num_samples, batch_size
        self.world_size, self.rank, self.accum = world_size, rank, accum
        self.seed, self.shuffle = seed, shuffle
        self.epoch, self.start_step = 0, 0

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size * self.accum

    @property
    def steps_per_epoch(self) -> int:
        return self.num_samples // self.global_batch

    def set_epoch(self, epoch: int, start_step: int = 0) -> None:
        self.epoch, self.start_step = epoch, start_step

    def __len__(self) -> int:
        return (self.steps_per_epoch - self.start_step) * self.accum

    def __iter__(self) -> Iterator[list[int]]:
        order = np.arange(self.num_samples)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_samples)
        b = self.batch_size
        for step in range(self.start_step, self.steps_per_epoch):
            chunk = order[step * self.global_batch : (step + 1) * self.global_batch]
            for a in range(self.accum):
                slot = self.rank * self.accum + a
                yield chunk[slot * b : (slot + 1) * b].tolist()


def train_loader(
    cfg: DataConfig,
    records: list[dict],
    root: Path,
    *,
    batch_size: int,
    num_workers: int,
    seed: int,
    world_size: int = 1,
    rank: int = 0,
    accum: int = 1,
    skip_errors: bool = True,
    next_frames: bool = False,
) -> DataLoader:
    """Shuffled, augmented training batches (see ShardedBatchSampler); ``next_frames``: see
    :func:`~mgproto.data.pipelines.build_pipeline`."""
    dataset = ClipDataset(
        records,
        build_pipeline(
            cfg, train=True, keypoint_dims=keypoint_dims(records), next_frames=next_frames
        ),
        seed=seed,
        video_root=root,
        long_videos=cfg.video_mode == "long",
        skip_errors=skip_errors,
    )
    sampler = ShardedBatchSampler(
        len(records),
        batch_size=batch_size,
        world_size=world_size,
        rank=rank,
        accum=accum,
        seed=seed,
    )
    if sampler.steps_per_epoch == 0:
        raise ValueError(
            f"{len(records)} training clips are fewer than one global batch "
            f"({sampler.global_batch}); lower train.batch_size"
        )
    # a private generator: creating the iterator must not consume the global torch RNG,
    # or a resumed run would draw different dropout masks than an uninterrupted one
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(seed),
    )


def eval_loader(
    cfg: DataConfig,
    records: list[dict],
    root: Path,
    *,
    num_clips: int,
    batch_size: int,
    num_workers: int,
    world_size: int = 1,
    rank: int = 0,
    next_frames: bool = False,
) -> DataLoader:
    """Deterministic multi-clip test batches; rank r takes records r, r + W, ... ."""
    dims = keypoint_dims(records)
    pipeline = build_pipeline(
        cfg, train=False, num_clips=num_clips, keypoint_dims=dims, next_frames=next_frames
    )
    dataset = ClipDataset(
        records,
        pipeline,
        video_root=root,
        long_videos=cfg.video_mode == "long",
        skip_errors=False,
    )
    indices = list(range(rank, len(records), world_size))
    batches = [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    return DataLoader(
        dataset,
        batch_sampler=batches,
        num_workers=num_workers,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(0),
    )


def batch_to_device(
    batch: dict[str, Any], device: torch.device, *, channels_last: bool = False
) -> dict[str, Any]:
    """The model inputs (and label, if any) of a collated batch moved to ``device``."""
    out = dict(batch)
    for key in INPUT_KEYS:
        if key in batch:
            x = batch[key].to(device, non_blocking=True)
            if channels_last and key != "coords":  # (N, C, T, H, W) tensors only
                x = x.contiguous(memory_format=torch.channels_last_3d)
            out[key] = x
    if "label" in batch:
        out["label"] = batch["label"].to(device, non_blocking=True)
    return out
