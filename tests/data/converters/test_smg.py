"""SMG converter: SampleXXXX_skeleton.csv (25 Kinect v2 joints x 11 values) + finelabels."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from mgproto.commands.convert import FORMATS
from mgproto.data.converters import smg
from mgproto.data.layouts import get_layout

K25 = get_layout("kinect25")


def frame_row(t: int) -> list[float]:
    """275 values: every joint at colour (100 + t, 50), depth (10, 20); right hand at (111, 222)."""
    values = np.zeros((25, 11))
    values[:, :3] = [0.1, 0.2, 2.0]  # x, y, z in metres
    values[:, 3:5] = [10, 20]  # depthX, depthY
    values[:, 5:7] = [100 + t, 50]  # colorX, colorY
    values[:, 7] = 1.0  # orientationW
    values[K25.index("right_hand"), 5:7] = [111, 222]
    values[K25.index("left_foot")] = 0  # not tracked
    values[K25.index("left_knee"), 5] = -np.inf  # outside the colour image
    return values.ravel().tolist()


def write_sample(root: Path, number: int, *, frames: int, labels: list[str]) -> Path:
    folder = root / f"Sample{number:04d}"
    folder.mkdir(parents=True)
    lines = [",".join(f"{v:g}" for v in frame_row(t)) for t in range(frames)]
    (folder / f"{folder.name}_skeleton.csv").write_text("\n".join(lines) + "\n")
    (folder / f"{folder.name}_finelabels.csv").write_text("\n".join(labels) + "\n")
    return folder


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    write_sample(tmp_path, 1, frames=6, labels=["3,0,2", "18,0,1", "17,3,5", "1,50,60"])
    folder = write_sample(tmp_path, 36, frames=4, labels=["1,1,3"])
    (folder / "Sample0036_data.csv").write_text("4,30,4500\n")
    return tmp_path


def test_clips_labels_shapes_and_scores(root: Path) -> None:
    ann, report = smg.convert(root)
    by_name = {r["frame_dir"]: r for r in ann.annotations}
    assert sorted(by_name) == ["Sample0001_0", "Sample0001_2", "Sample0036_0"]
    assert [by_name[n]["label"] for n in sorted(by_name)] == [2, 16, 0]
    rec = by_name["Sample0001_0"]
    assert rec["keypoint"].shape == (1, 3, 25, 2) and rec["img_shape"] == (1080, 1920)
    kp, score = rec["keypoint"][0], rec["keypoint_score"][0]
    np.testing.assert_allclose(kp[:, K25.index("right_hand")], [[111, 222]] * 3)
    np.testing.assert_allclose(kp[2, K25.index("head")], [102, 50])
    assert score[0, K25.index("head")] == 1
    assert score[0, K25.index("left_foot")] == 0 and score[0, K25.index("left_knee")] == 0
    np.testing.assert_allclose(kp[0, K25.index("left_knee")], [0, 0])
    assert (rec["subject_id"], rec["layout"]) == ("1", "kinect25")
    assert "fps" not in rec and by_name["Sample0036_0"]["fps"] == 30.0
    reasons = {w.split()[0]: r for w, r in report.skipped}
    assert "unknown SMG class id 18" in reasons["Sample0001_1"]
    assert "outside the sequence" in reasons["Sample0001_3"]
    assert ann.split == {"train": ["Sample0001_0", "Sample0001_2"], "test": ["Sample0036_0"]}
    assert ann.meta == {"dataset": "smg", "layout": "kinect25", "classes": None}


def test_cli_depth_coords_and_test_subjects(root: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    FORMATS["smg"].add_arguments(parser)
    args = parser.parse_args(
        [str(root), "--coords", "depth", "--test-subjects", "1", "-o", str(tmp_path / "o.pkl")]
    )
    ann, _ = FORMATS["smg"].run(args)
    rec = ann.annotations[0]
    assert rec["img_shape"] == (424, 512)
    np.testing.assert_allclose(rec["keypoint"][0, 0, K25.index("right_hand")], [10, 20])
    assert ann.split == {"test": ["Sample0001_0", "Sample0001_2"], "train": ["Sample0036_0"]}


def test_wrong_column_count(root: Path) -> None:
    path = root / "Sample0036" / "Sample0036_skeleton.csv"
    lines = path.read_text().splitlines()
    lines[2] = ",".join(lines[2].split(",")[:-11])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"Sample0036_skeleton.csv: line 3 has 264 columns"):
        smg.convert(root)


def test_missing_files(root: Path) -> None:
    (root / "Sample0036" / "Sample0036_finelabels.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"Sample0036_finelabels.csv: label file not found"):
        smg.convert(root)
    (root / "Sample0001" / "Sample0001_skeleton.csv").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"Sample0001_skeleton.csv: skeleton file not found"
    ):
        smg.convert(root)


def test_joints_2d_pure() -> None:
    values = np.zeros((2, 11))
    values[0, 5:7] = [5, 6]
    x, s = smg.joints_2d(values)
    np.testing.assert_array_equal(x, [[5, 6], [0, 0]])
    np.testing.assert_array_equal(s, [1, 0])
