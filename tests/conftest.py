"""Shared fixtures: tiny synthetic skeleton records, a tiny pose + RGB dataset on disk, and the
real UTKinect and UTD-MHAD folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, save_annotations
from mgproto.data.video import write_video

SHARED = Path(os.environ.get("MGPROTO_SHARED", Path(__file__).resolve().parents[2] / "shared"))
UTKINECT = SHARED / "data" / "utkinect"
UTDMHAD = SHARED / "data" / "utd_mhad"


@pytest.fixture
def utkinect_root() -> Path:
    """The real UTKinect-Action3D skeletons (skips with a clear reason where absent)."""
    if not (UTKINECT / "actionLabel.txt").is_file():
        pytest.skip(
            f"real-data fixture not found at {UTKINECT} (set MGPROTO_SHARED to the "
            "folder that holds data/utkinect; CI always has it)"
        )
    return UTKINECT


@pytest.fixture(scope="session")
def utdmhad_root() -> Path:
    """The real UTD-MHAD skeletons (skips with a clear reason where absent)."""
    if not (UTDMHAD / "a1_s1_t1_skeleton.mat").is_file():
        pytest.skip(
            f"real-data fixture not found at {UTDMHAD} (set MGPROTO_SHARED to the "
            "folder that holds data/utd_mhad)"
        )
    return UTDMHAD


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


# ---- a tiny pose + RGB dataset on disk (random content: fast, not learnable) ----
@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """12 train + 4 val clips of 3 classes, imigue22 layout, 48x48 videos of 12 frames."""
    root = tmp_path_factory.mktemp("tinyset")
    rng = np.random.default_rng(0)
    records, split = [], {"train": [], "val": []}
    for i in range(16):
        name = f"c{i:02d}"
        t = 12
        kp = rng.uniform(8, 40, (1, t, 22, 2)).astype(np.float32)
        frames = rng.integers(0, 255, (t, 48, 48, 3), dtype=np.uint8)
        write_video(root / "videos" / f"{name}.mp4", frames, fps=25)
        records.append(
            {
                "frame_dir": name,
                "label": i % 3,
                "img_shape": (48, 48),
                "original_shape": (48, 48),
                "total_frames": t,
                "keypoint": kp,
                "keypoint_score": np.ones((1, t, 22), np.float32),
                "layout": "imigue22",
                "filename": f"videos/{name}.mp4",
                "subject_id": str(i % 4),
            }
        )
        split["train" if i < 12 else "val"].append(name)
    path = save_annotations(
        AnnotationFile(records, split, {"layout": "imigue22"}), root / "annotations.pkl"
    )
    return path


TINY_SETTINGS = [
    "data.pose.layout=imigue22", "data.num_classes=3", "data.rgb.clip_len=4",
    "data.pose.clip_len=8", "data.rgb.pre_crop_size=36", "data.rgb.train_size=32",
    "data.rgb.test_size=32", "data.pose.train_size=8", "data.pose.test_size=8",
    "data.pose.pre_crop_size=10", "data.sampling.num_clips_test=2", "model.preset=tiny",
    "train.batch_size=2", "train.num_workers=0", "train.epochs=2", "train.log_every=1",
    "train.tensorboard=false", "train.lr=0.01",
]  # fmt: skip


def tiny_config(annotations, *extra: str):
    """Tiny model and input sizes on the tiny dataset; ``extra`` are --set overrides."""
    return load_config(None, [f"data.annotations={annotations}", *TINY_SETTINGS, *extra])


@pytest.fixture(scope="session")
def tiny_settings() -> list[str]:
    """The --set overrides of the tiny setup (for tests that go through the CLI)."""
    return list(TINY_SETTINGS)


@pytest.fixture
def make_cfg():
    return tiny_config


@pytest.fixture(scope="session")
def world(tmp_path_factory, tiny_dataset, tiny_settings):
    """The files of the table-driven bad-input tests (``tests/cli_cases.py``)."""
    from tests.cli_cases import build_world

    return build_world(tmp_path_factory.mktemp("world"), tiny_dataset, tiny_settings)
