"""A small trained pose model and a stitched synthetic "interview" with known segments.

Session-scoped, ~25 s on 2 cores: a synthetic benchmark with longer clips (40-64 frames of
64x64), restricted to four classes whose skeleton motion differs (touch other face part, fold
arm, shake shoulder, illustrative); a pose-only `tiny` model trained on its train + val
subjects for 20 epochs; four test-subject clips stitched into one video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.synthetic import SynthSize, generate_dataset
from mgproto.engine.trainer import train
from mgproto.infer.stitch import stitch_dataset
from mgproto.infer.timeline import Segment

CLASSES = (1, 8, 9, 14)
POSE_SETTINGS = [
    "data.modalities=[pose]", "data.num_classes=15", "data.pose.layout=imigue22",
    "data.pose.clip_len=16", "data.pose.train_size=16", "data.pose.test_size=16",
    "data.pose.pre_crop_size=18", "data.pose.sigma=0.7", "data.sampling.num_clips_test=1",
    "model.preset=tiny", "train.batch_size=8", "train.num_workers=0", "train.epochs=20",
    "train.lr=0.05", "train.milestones=[18]", "train.tensorboard=false", "train.log_every=100",
    "train.val_every=100",
]  # fmt: skip


@dataclass(frozen=True)
class Interview:
    """The stitched test video and what it needs."""

    annotations: Path  # the four-class dataset (videos relative to its folder)
    checkpoint: Path  # the trained pose-only model
    video: Path
    pose: Path
    truth: list[Segment]
    truth_csv: Path


@pytest.fixture(scope="session")
def interview(tmp_path_factory) -> Interview:
    root = tmp_path_factory.mktemp("interview")
    full = generate_dataset(
        root / "synth", size=SynthSize("interview", 12, 30, 0.0, 64, 40, 64, 1), seed=0, workers=2
    )
    records = [r for r in full.annotations if r["label"] in CLASSES]
    ids = {r["frame_dir"] for r in records}
    split = {k: [i for i in v if i in ids] for k, v in full.split.items()}
    split["train"] = split.pop("train") + split.pop("val")
    ann_path = save_annotations(
        AnnotationFile(records, split, full.meta), root / "synth" / "four_classes.pkl"
    )
    cfg = load_config(None, [f"data.annotations={ann_path}", *POSE_SETTINGS])
    run = train(cfg, run_dir=root / "run", device="cpu")
    out, truth = stitch_dataset(ann_path, root / "stitched", split="test", num_clips=4, seed=0)
    return Interview(
        annotations=ann_path,
        checkpoint=run.run_dir / "checkpoints" / "last.pt",
        video=out / "video.mp4",
        pose=out / "pose.pkl",
        truth=truth,
        truth_csv=out / "truth.csv",
    )


@pytest.fixture(scope="session")
def interview_pose(interview) -> dict:
    """The stitched video's pose record."""
    return load_annotations(interview.pose).annotations[0]
