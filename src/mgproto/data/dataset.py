"""Map-style skeleton dataset: records + a pipeline -> model-ready pose samples.

Deterministic given (index, epoch, seed): each item draws its augmentation from a generator
seeded with exactly those three numbers, so a resumed or distributed run sees the same samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from mgproto.data.transforms import Compose


class SkeletonDataset(Dataset):
    """Pose-only samples.

    Each item is ``{"heatmaps": (N, C, L, H, W) float32 tensor, "label": int, "frame_dir": str,
    "subject_id": str | None}`` with N = 1 in training and N = clips (x2 with flip test) at test.
    """

    def __init__(self, records: list[dict[str, Any]], pipeline: Compose, *, seed: int = 0) -> None:
        self.records = records
        self.pipeline = pipeline
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation stream (call once per epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = {
            "frame_dir": record["frame_dir"],
            "label": int(record["label"]),
            "keypoint": record["keypoint"],
            "keypoint_score": record["keypoint_score"],
            "img_shape": tuple(record["img_shape"]),
            "total_frames": int(record["total_frames"]),
        }
        sample = self.pipeline(sample, rng)
        return {
            "heatmaps": torch.from_numpy(sample["heatmaps"]),
            "label": sample["label"],
            "frame_dir": sample["frame_dir"],
            "subject_id": record.get("subject_id"),
        }
