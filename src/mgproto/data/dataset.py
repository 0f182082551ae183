"""Map-style micro-gesture dataset: records + a pipeline -> model-ready samples.

Deterministic given (index, epoch, seed): each item draws its augmentation from a generator
seeded with exactly those three numbers, so a resumed or distributed run sees the same samples.

A clip that cannot be read (missing or corrupt video, too few frames) raises
:class:`SampleError` naming the file and the record; with ``skip_errors=True`` the item is
``None`` instead, and :func:`collate` drops it and counts it in ``batch["num_skipped"]`` so the
training loop can log the skip.

Axis legend: B batch, N clips, C channels, T frames per clip (clip_len), H/W rows/columns.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from mgproto.data.frames import clip_path
from mgproto.data.transforms import Compose
from mgproto.data.video import VideoError

log = logging.getLogger(__name__)

INPUT_KEYS = ("imgs", "heatmaps", "coords")  # the model inputs a pipeline may produce


class SampleError(RuntimeError):
    """A record whose sample cannot be built; the message names the record and the file."""


class ClipDataset(Dataset):
    """Samples of micro-gesture clips for any modality set.

    Each item is a dict with ``label`` (int), ``frame_dir``, ``subject_id`` and, depending on
    the pipeline, ``imgs`` (N, 3, L_rgb, H, W) and/or ``heatmaps`` (N, C, L_pose, h, w), or
    ``coords`` (N, M, L_pose, V, 3), float32 tensors (N = 1 in training; clips x views at test).
    """

    def __init__(
        self,
        records: list[dict[str, Any]],
        pipeline: Compose,
        *,
        seed: int = 0,
        video_root: str | Path = ".",
        long_videos: bool = False,
        skip_errors: bool = False,
    ) -> None:
        self.records = records
        self.pipeline = pipeline
        self.seed = seed
        self.video_root = Path(video_root)
        self.long_videos = long_videos
        self.skip_errors = skip_errors
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation stream (call once per epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def _sample(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        path, offset = clip_path(record, self.video_root, long_videos=self.long_videos)
        sample = {
            "frame_dir": record["frame_dir"],
            "label": int(record["label"]),
            "keypoint": record["keypoint"],
            "keypoint_score": record["keypoint_score"],
            "img_shape": tuple(record.get("img_shape", ())),  # () for 3-D records without one
            "total_frames": int(record["total_frames"]),
            "video_path": path,
            "frame_offset": offset,
        }
        return self.pipeline(sample, rng)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        try:
            sample = self._sample(index)
        except (VideoError, OSError) as err:
            name = self.records[index]["frame_dir"]
            message = f"record {index} ({name!r}): {err}"
            if self.skip_errors:
                log.warning("skipping %s", message)
                return None
            raise SampleError(message) from err
        item = {
            "label": sample["label"],
            "frame_dir": sample["frame_dir"],
            "subject_id": self.records[index].get("subject_id"),
        }
        for key in INPUT_KEYS:
            if key in sample:
                item[key] = torch.from_numpy(np.ascontiguousarray(sample[key]))
        return item


def collate(items: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Stack items into a batch; ``None`` items (skipped clips) are dropped and counted.

    Returns:
        ``imgs`` (B, N, 3, T, H, W) / ``heatmaps`` (B, N, C, T, h, w) / ``coords``
        (B, N, M, T, V, 3) tensors, ``label`` (B,)
        int64, lists ``frame_dir`` and ``subject_id``, and ``num_skipped``.
    """
    kept = [x for x in items if x is not None]
    batch: dict[str, Any] = {"num_skipped": len(items) - len(kept)}
    if not kept:
        return batch
    batch["label"] = torch.tensor([x["label"] for x in kept], dtype=torch.int64)
    batch["frame_dir"] = [x["frame_dir"] for x in kept]
    batch["subject_id"] = [x["subject_id"] for x in kept]
    for key in INPUT_KEYS:
        if key in kept[0]:
            batch[key] = torch.stack([x[key] for x in kept])
    return batch
