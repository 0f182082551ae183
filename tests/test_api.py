"""The Python API (``mgproto.api``, docs/api.md): the documented example runs as written, and
each call keeps its contract: a run folder or a file loads, class names come from the
checkpoint, probabilities sum to 1 and equal ``mgproto test``'s, bad inputs name the file."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mgproto
from mgproto.api import Classifier, ClipPrediction
from mgproto.config import ConfigError, load_config
from mgproto.data.annotations import (
    AnnotationError,
    AnnotationFile,
    load_annotations,
    save_annotations,
)
from mgproto.engine.checkpoint import CheckpointError
from mgproto.engine.rundir import TrainingError
from mgproto.engine.scores import load_scores
from mgproto.engine.testing import run_test

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["alpha", "beta", "gamma"]


def _code_block(doc: Path) -> str:
    """The first ```python block of a Markdown page."""
    match = re.search(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert match, f"{doc}: no python code block"
    return match.group(1)


def test_the_documented_example_runs(tmp_path, monkeypatch):
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    monkeypatch.chdir(tmp_path)  # the example writes work/api_example/ under the clone's root
    scope: dict = {"__name__": "docs_api_example"}
    exec(compile(_code_block(ROOT / "docs" / "api.md"), "docs/api.md", "exec"), scope)
    work = tmp_path / "work" / "api_example"
    assert (work / "run" / "checkpoints" / "last.pt").is_file()
    pred = scope["pred"]
    assert isinstance(pred, ClipPrediction) and len(pred.probs) == 15
    assert pred.probs.sum() == pytest.approx(1, abs=1e-5)
    assert scope["timeline"].probs.shape[1] == 15
    assert (work / "video" / "timeline" / "timeline.json").is_file()


# ---- a tiny run whose annotation file names its classes --------------------------------------


@pytest.fixture(scope="module")
def named_dataset(tiny_dataset, tmp_path_factory) -> Path:
    """The tiny pose + RGB dataset (3 classes, imigue22) with class names in its meta."""
    ann = load_annotations(tiny_dataset)
    root = tmp_path_factory.mktemp("named")
    (root / "videos").symlink_to(tiny_dataset.parent / "videos")
    meta = {**ann.meta, "classes": NAMES}
    return save_annotations(AnnotationFile(ann.annotations, ann.split, meta), root / "ann.pkl")


@pytest.fixture(scope="module")
def pose_run(named_dataset, tiny_settings, tmp_path_factory) -> Path:
    """A pose-only tiny run trained through ``mgproto.train`` from an ExperimentConfig."""
    cfg = load_config(None, [f"data.annotations={named_dataset}", *tiny_settings,
                             "data.modalities=[pose]", "train.epochs=1"])  # fmt: skip
    run = mgproto.train(cfg, overrides=["train.epochs=2"], run_dir=tmp_path_factory.mktemp("run"),
                        device="cpu")  # fmt: skip
    assert run.global_step > 0 and (run.run_dir / "checkpoints" / "best.pt").is_file()
    return run.run_dir


@pytest.fixture(scope="module")
def clf(pose_run) -> Classifier:
    return mgproto.load_classifier(pose_run, device="cpu")


def test_import_mgproto_loads_no_torch():
    code = "import sys, mgproto; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip


def test_train_took_the_overrides_and_wrote_a_run_folder(pose_run):
    assert "epochs: 2" in (pose_run / "config.yaml").read_text()
    assert (pose_run / "checkpoints" / "last.pt").is_file()


def test_a_run_folder_loads_its_best_checkpoint_and_a_file_loads_itself(pose_run, clf):
    assert clf.checkpoint == pose_run / "checkpoints" / "best.pt"
    last = mgproto.load_classifier(pose_run / "checkpoints" / "last.pt", device="cpu")
    assert last.checkpoint == pose_run / "checkpoints" / "last.pt"
    assert not clf.model.training and clf.modalities == ("pose",) and clf.layout == "imigue22"


def test_class_names_come_from_the_checkpoint(pose_run, named_dataset, tmp_path):
    moved = named_dataset.rename(tmp_path / "elsewhere.pkl")  # the names cannot come from it
    try:
        assert mgproto.load_classifier(pose_run, device="cpu").class_names == NAMES
    finally:
        moved.rename(named_dataset)


def test_classify_gives_probabilities_that_sum_to_one(clf, named_dataset):
    rec = load_annotations(named_dataset).annotations[0]
    pred = clf.classify(
        keypoints=rec["keypoint"], scores=rec["keypoint_score"], img_shape=rec["img_shape"]
    )
    assert pred.probs.shape == (3,) and pred.probs.sum() == pytest.approx(1, abs=1e-5)
    assert set(pred.stream_probs) == {"pose"}
    assert pred.label == NAMES[int(pred.probs.argmax())] and pred.class_names == NAMES
    top = pred.top(3)
    assert [p for _, p in top] == sorted(pred.probs, reverse=True)
    assert top[0] == (pred.label, pred.confidence)
    same = clf.classify(record=rec)  # the record form: the same clip, the same numbers
    np.testing.assert_allclose(same.probs, pred.probs, atol=1e-6)


def test_classify_records_equals_mgproto_test(clf, named_dataset, tmp_path):
    val = load_annotations(named_dataset).select("val")
    preds = clf.classify_records(val)
    run_test(clf.checkpoint, split="val", out_dir=tmp_path, device="cpu")
    ids, fused = load_scores(tmp_path / "scores.npz")
    assert [p.frame_dir for p in preds] == ids == [r["frame_dir"] for r in val]
    np.testing.assert_allclose(np.stack([p.probs for p in preds]), fused, atol=1e-5)


def test_a_two_stream_model_reads_the_video_of_a_record(named_dataset, tiny_settings, tmp_path):
    overrides = [f"data.annotations={named_dataset}", *tiny_settings, "train.epochs=1"]
    run = mgproto.train(mgproto.ExperimentConfig(), overrides=overrides, run_dir=tmp_path / "r",
                        device="cpu", max_steps=1)  # fmt: skip
    two = mgproto.load_classifier(run.run_dir, device="cpu")
    rec = load_annotations(named_dataset).annotations[0]
    pred = two.classify(record=rec, video_root=named_dataset.parent)
    assert set(pred.stream_probs) == {"rgb", "pose"}
    assert pred.probs.sum() == pytest.approx(1, abs=1e-5)
    with pytest.raises(ValueError, match="reads RGB frames too"):
        two.classify(keypoints=rec["keypoint"], img_shape=rec["img_shape"])


def test_predict_video_gives_a_timeline(clf, named_dataset, tmp_path):
    ann = load_annotations(named_dataset)
    rec = {**ann.annotations[0], "label": -1}
    pose = save_annotations(AnnotationFile([rec], {}, {"layout": "imigue22"}), tmp_path / "p.pkl")
    video = named_dataset.parent / rec["filename"]
    result = clf.predict_video(video, pose=pose)
    assert result.probs.shape == (rec["total_frames"], 3) and result.class_names == NAMES
    short = {**rec, "keypoint": rec["keypoint"][:, :6], "total_frames": 6,
             "keypoint_score": rec["keypoint_score"][:, :6]}  # fmt: skip
    other = save_annotations(
        AnnotationFile([short], {}, {"layout": "imigue22"}), tmp_path / "o.pkl"
    )
    with pytest.raises(ValueError, match=r"o\.pkl: the pose has 6 frames but the video .* has 12"):
        clf.predict_video(video, pose=other)


# ---- clear errors --------------------------------------------------------------------------


def test_a_missing_or_foreign_checkpoint_names_the_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothing\.pt: checkpoint not found"):
        mgproto.load_classifier(tmp_path / "nothing.pt")
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.pt: not a readable checkpoint"):
        mgproto.load_classifier(text)
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty_run: no checkpoints/best\.pt or last\.pt"):
        mgproto.load_classifier(tmp_path / "empty_run")


def test_a_clip_that_does_not_fit_the_model_says_why(clf, make_rec):
    coco = make_rec(num_joints=17, layout=None)
    with pytest.raises(AnnotationError, match=r"imigue22 model\).*: keypoint has 17 joints.* 22"):
        clf.classify(keypoints=coco["keypoint"], img_shape=(480, 640))
    with pytest.raises(AnnotationError, match="layout 'coco17', but the model of .* expects"):
        clf.classify(record=make_rec(num_joints=17))
    rec = make_rec(num_joints=22, layout=None)
    with pytest.raises(AnnotationError, match="missing key 'img_shape'"):
        clf.classify(keypoints=rec["keypoint"], scores=rec["keypoint_score"])
    with pytest.raises(AnnotationError, match=r"keypoint_score shape \(1, 20, 21\)"):
        clf.classify(keypoints=rec["keypoint"], scores=rec["keypoint_score"][..., :21],
                     img_shape=(480, 640))  # fmt: skip
    with pytest.raises(ValueError, match="either keypoints="):
        clf.classify()
    with pytest.raises(ValueError, match="records 0 and 1 share the frame_dir 'x'"):
        clf.classify_records([{**rec, "frame_dir": "x", "img_shape": (9, 9)}] * 2)
    with pytest.raises(ValueError, match="trained on 2"):
        kp3 = np.concatenate([rec["keypoint"], rec["keypoint"][..., :1]], -1)
        clf.classify(keypoints=kp3, scores=rec["keypoint_score"])


def test_a_rgb_only_config_refuses_bare_keypoints(clf):
    data = dataclasses.replace(clf.cfg.data, modalities=("rgb",))
    rgb = dataclasses.replace(clf, cfg=dataclasses.replace(clf.cfg, data=data))
    with pytest.raises(ValueError, match=r"best\.pt: the model reads RGB frames too"):
        rgb.classify(keypoints=np.zeros((1, 4, 22, 2), np.float32), img_shape=(48, 48))


def test_train_errors_name_the_config_or_the_run(tmp_path, pose_run):
    with pytest.raises((ConfigError, OSError), match=r"missing\.yaml"):
        mgproto.train(tmp_path / "missing.yaml", run_dir=tmp_path / "r")
    with pytest.raises(ConfigError, match="no_such_key"):
        mgproto.train(ROOT / "configs" / "cpu" / "pose_tcn.yaml", overrides=["train.no_such_key=1"],
                      run_dir=tmp_path / "r")  # fmt: skip
    with pytest.raises(ValueError, match="give a config"):
        mgproto.train(run_dir=tmp_path / "r")
    cfg_file = pose_run / "config.yaml"
    with pytest.raises(TrainingError, match="already holds a run"):
        mgproto.train(cfg_file, run_dir=pose_run, device="cpu")
