"""Shared fixtures: tiny synthetic skeleton records and the real UTKinect folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(os.environ.get("MGPROTO_SHARED", Path(__file__).resolve().parents[2] / "shared"))
UTKINECT = SHARED / "data" / "utkinect"


@pytest.fixture
def utkinect_root() -> Path:
    """The real UTKinect-Action3D skeletons (skips with a clear reason where absent)."""
    if not (UTKINECT / "actionLabel.txt").is_file():
        pytest.skip(
            f"real-data fixture not found at {UTKINECT} (set MGPROTO_SHARED to the "
            "folder that holds data/utkinect; CI always has it)"
        )
    return UTKINECT


def make_record(
    name: str = "0001_0",
    *,
    label: int = 0,
    num_persons: int = 1,
    num_frames: int = 20,
    num_joints: int = 17,
    img_shape: tuple[int, int] = (480, 640),
    seed: int = 0,
    layout: str | None = "coco17",
) -> dict:
    """A valid record with joints scattered around the frame centre."""
    rng = np.random.default_rng(seed)
    h, w = img_shape
    kp = rng.normal([w / 2, h / 2], [w / 10, h / 10], (num_persons, num_frames, num_joints, 2))
    rec = {
        "frame_dir": name,
        "label": label,
        "img_shape": img_shape,
        "original_shape": img_shape,
        "total_frames": num_frames,
        "keypoint": kp.astype(np.float32),
        "keypoint_score": rng.uniform(0.3, 1.0, kp.shape[:-1]).astype(np.float32),
    }
    if layout:
        rec["layout"] = layout
    return rec


@pytest.fixture
def make_rec():
    """Factory fixture: ``make_rec(name, label=..., num_frames=...)`` -> a valid record."""
    return make_record
