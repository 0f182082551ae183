"""The benchmark on disk: determinism, files, frame counts, keypoint/pixel agreement, CLI."""

import re

import numpy as np
import pytest

from mgproto.data.annotations import load_annotations
from mgproto.data.synthetic import NUM_CLASSES, generate_dataset, sample_subject
from mgproto.data.video import probe_video, read_frames


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Three tiny datasets: seed 0 twice (the second with 2 workers) and seed 1."""
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(root / "a", size="tiny", seed=0)
    generate_dataset(root / "b", size="tiny", seed=0, workers=2)
    generate_dataset(root / "c", size="tiny", seed=1)
    return root


def all_frames(root, rec):
    return read_frames(root / rec["filename"], np.arange(rec["total_frames"]))


def test_same_seed_is_identical(tiny):
    a, b = tiny / "a", tiny / "b"
    assert (a / "annotations.pkl").read_bytes() == (b / "annotations.pkl").read_bytes()
    for s in ("train", "val", "test"):
        assert (a / "lists" / f"{s}.txt").read_text() == (b / "lists" / f"{s}.txt").read_text()
    for rec in load_annotations(a / "annotations.pkl").annotations:
        assert np.array_equal(all_frames(a, rec), all_frames(b, rec)), rec["frame_dir"]


def test_other_seed_differs(tiny):
    a = load_annotations(tiny / "a" / "annotations.pkl").annotations
    c = load_annotations(tiny / "c" / "annotations.pkl").annotations
    assert [r["label"] for r in a] != [r["label"] for r in c]
    assert not np.array_equal(all_frames(tiny / "a", a[0]), all_frames(tiny / "c", c[0]))


def test_files_and_records(tiny):
    root = tiny / "a"
    ann = load_annotations(root / "annotations.pkl", num_classes=NUM_CLASSES)
    assert ann.meta["dataset"] == "synthetic" and ann.meta["layout"] == "imigue22"
    assert len(ann.meta["classes"]) == NUM_CLASSES
    assert ann.meta["pose_identical_pairs"] == [[6, 5], [13, 12]]
    assert ann.meta["size"] == "tiny" and ann.meta["seed"] == 0
    assert len(ann.annotations) == 48
    videos = sorted(p.name for p in (root / "videos").iterdir())
    assert videos == sorted(f"{r['frame_dir']}.mp4" for r in ann.annotations)
    for rec in ann.annotations:
        assert re.fullmatch(r"s\d\d_\d{4}", rec["frame_dir"])
        assert rec["filename"] == f"videos/{rec['frame_dir']}.mp4"
        assert rec["img_shape"] == (64, 64) and rec["layout"] == "imigue22"
        assert rec["keypoint"].shape == (1, rec["total_frames"], 22, 2)
        assert 16 <= rec["total_frames"] <= 32
        info = probe_video(root / rec["filename"], count=True)
        assert info.num_frames == rec["total_frames"]
        assert (info.height, info.width) == (64, 64) and info.fps == pytest.approx(25)
    by_id = {r["frame_dir"]: r for r in ann.annotations}
    for split, ids in ann.split.items():
        lines = (root / "lists" / f"{split}.txt").read_text().splitlines()
        assert lines == [f"{i}.mp4 {by_id[i]['label']}" for i in ids]
    subjects = [{by_id[i]["subject_id"] for i in ids} for ids in ann.split.values()]
    assert all(not (x & y) for k, x in enumerate(subjects) for y in subjects[k + 1 :])


def test_keypoints_sit_on_the_drawn_person(tiny):
    """The pixel under the nose and wrist keypoints looks like the subject's skin far more often
    than a random pixel does."""
    root = tiny / "a"
    rng = np.random.default_rng(0)
    wins = {0: [], 4: [], 7: []}
    for rec in load_annotations(root / "annotations.pkl").annotations:
        skin = np.asarray(sample_subject(seed=0, subject_id=int(rec["subject_id"])).skin, float)
        frames = all_frames(root, rec).astype(float)
        kp, score = rec["keypoint"][0], rec["keypoint_score"][0]
        for t in range(rec["total_frames"]):
            x, y = rng.integers(0, 64, 2)
            d_random = np.linalg.norm(frames[t, y, x] - skin)
            for j in wins:
                if score[t, j] > 0:
                    px, py = np.clip(np.round(kp[t, j]).astype(int), 0, 63)
                    wins[j].append(np.linalg.norm(frames[t, py, px] - skin) < d_random)
    for j, w in wins.items():
        assert len(w) > 500 and np.mean(w) > 0.8, (j, np.mean(w))


def test_regenerating_replaces_stale_clips(tmp_path):
    stale = tmp_path / "videos" / "s99_0000.mp4"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    keep = tmp_path / "videos" / "notes.txt"
    keep.write_text("mine")
    generate_dataset(tmp_path, size="tiny", seed=0)
    assert not stale.exists() and keep.exists()
