"""The shipped CPU recipes: each builds and trains a few steps, unchanged but for the data keys.

A user runs them on any skeleton file with exactly ``data.annotations``, ``data.num_classes``
and ``data.pose.layout``; here that is a COCO-17 file in 1920x1080 pixels with clips of 5 to 120
frames (another layout, frame size and length than the synthetic data the configs name), the
tiny RGB + pose set for the video recipes, and the real UTKinect skeletons where present.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from mgproto.cli import main
from mgproto.config import load_config_text
from mgproto.data.annotations import AnnotationFile, save_annotations
from mgproto.data.converters import utkinect
from mgproto.engine.checkpoint import load_checkpoint

CPU = Path(__file__).resolve().parents[2] / "configs" / "cpu"
POSE_RECIPES = (
    "pose_only",
    "pose_tcn",
    "gcn_joint",
    "gcn_bone",
    "gcn_joint_motion",
    "gcn_bone_motion",
)
VIDEO_RECIPES = ("rgb_only", "two_stream", "swin_rgb")


@pytest.fixture(scope="module")
def coco_file(tmp_path_factory) -> Path:
    """40 clips, 4 classes, COCO-17 pixels of a 1080x1920 frame, 5-120 frames each."""
    rng = np.random.default_rng(0)
    records, split = [], {"train": [], "val": [], "test": []}
    for i in range(40):
        t = int(rng.integers(5, 121))
        base = rng.uniform([600, 300], [1300, 700], (1, 1, 17, 2))
        drift = np.cumsum(rng.normal(0, 3, (1, t, 1, 2)), axis=1) * (1 + i % 4)
        records.append(
            {
                "frame_dir": f"v{i:02d}",
                "label": i % 4,
                "img_shape": (1080, 1920),
                "original_shape": (1080, 1920),
                "total_frames": t,
                "keypoint": (base + drift).astype(np.float32),
                "keypoint_score": rng.uniform(0.2, 1, (1, t, 17)).astype(np.float32),
            }
        )
        split["train" if i < 32 else "val" if i < 36 else "test"].append(f"v{i:02d}")
    path = tmp_path_factory.mktemp("coco") / "skeletons.pkl"
    return save_annotations(AnnotationFile(records, split, {}), path)


def _train_and_test(config: Path, data_sets: list[str], run: Path, split: str) -> None:
    sets = [x for s in data_sets for x in ("--set", s)]
    extra = ["--set", "train.tensorboard=false", "--set", "train.num_workers=0"]
    assert main(["train", str(config), "--run-dir", str(run), "--device", "cpu",
                 "--max-steps", "3", *sets, *extra]) == 0  # fmt: skip
    assert (run / "checkpoints" / "last.pt").is_file()
    last = run / "checkpoints" / "last.pt"
    assert main(["test", str(last), "--split", split, "--device", "cpu"]) == 0


@pytest.mark.parametrize("name", POSE_RECIPES)
def test_pose_recipe_runs_on_any_skeleton_file(name, coco_file, tmp_path):
    data = [f"data.annotations={coco_file}", "data.num_classes=4", "data.pose.layout=coco17"]
    _train_and_test(CPU / f"{name}.yaml", data, tmp_path / name, "test")


@pytest.mark.parametrize("name", VIDEO_RECIPES)
def test_video_recipe_runs(name, tiny_dataset, tmp_path):
    data = [f"data.annotations={tiny_dataset}", "data.num_classes=3", "data.pose.layout=imigue22"]
    _train_and_test(CPU / f"{name}.yaml", data, tmp_path / name, "val")


def test_pose_recipe_on_real_utkinect(utkinect_root, tmp_path):
    ann, _ = utkinect.convert(utkinect_root)
    path = save_annotations(ann, tmp_path / "utk.pkl")
    data = [f"data.annotations={path}", "data.num_classes=10", "data.pose.layout=kinect20"]
    _train_and_test(CPU / "pose_only.yaml", data, tmp_path / "run", "test")


def test_two_stream_recipe_starts_from_the_cpu_unimodal_recipes(tiny_dataset, tmp_path):
    """The four commands of configs/cpu/two_stream.yaml: the two CPU unimodal recipes, their
    merge (the heads agree, e.g. the pose head's temporal bins) and the two-stream training."""
    data = [f"data.annotations={tiny_dataset}", "data.num_classes=3", "data.pose.layout=imigue22"]
    for name in ("pose_only", "rgb_only"):
        _train_and_test(CPU / f"{name}.yaml", data, tmp_path / name, "val")
    init = tmp_path / "init.pt"
    sets = [x for s in data for x in ("--set", s)]
    assert main(["merge-init", "--rgb", str(tmp_path / "rgb_only"), "--pose",
                 str(tmp_path / "pose_only"), "-o", str(init),
                 "--config", str(CPU / "two_stream.yaml"), *sets]) == 0  # fmt: skip
    # without --config, the pose run's own config made two-stream, its coordinate stream kept
    # (configs/cpu/pose_only.yaml has data.pose.representation both)
    assert main(["merge-init", "--rgb", str(tmp_path / "rgb_only"), "--pose",
                 str(tmp_path / "pose_only"), "-o", str(tmp_path / "own.pt")]) == 0  # fmt: skip
    own = load_checkpoint(tmp_path / "own.pt")
    assert load_config_text(own["config"]).data.pose.representation == "both"
    pose = load_checkpoint(tmp_path / "pose_only" / "checkpoints" / "best.pt")["model"]
    coords = [k for k in pose if k.startswith(("coord_backbone.", "head.coords."))]
    assert coords and all(torch.equal(own["model"][k], pose[k]) for k in coords)
    run = tmp_path / "two"
    assert main(["train", str(CPU / "two_stream.yaml"), "--run-dir", str(run), "--init",
                 str(init), "--device", "cpu", "--max-steps", "2", *sets, "--set",
                 "train.num_workers=0", "--set", "train.tensorboard=false"]) == 0  # fmt: skip
    assert (run / "checkpoints" / "last.pt").is_file()
