"""MiGA 2023 package converter: <vid4>_light_hand.csv + <vid4>_label.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from mgproto.commands.convert import FORMATS
from mgproto.data.converters import miga2023
from mgproto.data.layouts import get_layout

IM22 = get_layout("imigue22")
M35 = miga2023.MIGA35


def frame_row(t: int, *, empty: bool = False) -> list[float]:
    """One light_hand row: frame index + 35 x (x, y, c) with recognisable points."""
    values = np.zeros((35, 3))
    if not empty:
        values[:, :] = [10 + t, 20, 0.5]
        values[M35.index("right_wrist")] = [111, 222, 0.9]
        values[M35.index("right_thumb_tip")] = [333, 444, 0.8]
        values[M35.index("left_pinky_tip")] = [555, 666, 0.7]
        values[M35.index("left_wrist")] = [0, 0, 0]  # not detected
    return [t, *values.ravel().tolist()]


def write_video(root: Path, vid4: str, *, frames: int, labels: list[str]) -> Path:
    folder = root / vid4
    folder.mkdir(parents=True)
    rows = [frame_row(t, empty=(t == 1)) for t in range(frames)]
    text = "\n".join(",".join(f"{v:g}" for v in r) for r in rows)
    (folder / f"{vid4}_light_hand.csv").write_text(text + "\n")
    (folder / f"{vid4}_label.csv").write_text("\n".join(labels) + "\n")
    return folder


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    base = tmp_path / "datasets"
    labels = ["5,0,2", "99,3,5", "40,0,1", "1,50,60"]
    write_video(base / "imigue_skeleton_train", "0054", frames=6, labels=labels)
    write_video(base / "imigue_skeleton_validate", "0004", frames=3, labels=["2,0,2"])
    return base


def test_clips_labels_shapes_and_coordinates(package: Path) -> None:
    ann, report = miga2023.convert([package])
    by_name = {r["frame_dir"]: r for r in ann.annotations}
    assert sorted(by_name) == ["0004_0", "0054_0", "0054_1"]
    assert [by_name[n]["label"] for n in ("0054_0", "0054_1", "0004_0")] == [4, 31, 1]
    rec = by_name["0054_0"]
    assert rec["keypoint"].shape == (1, 3, 22, 2)
    assert rec["img_shape"] == (1080, 1920) and rec["fps"] == 25.0
    kp, score = rec["keypoint"][0], rec["keypoint_score"][0]
    np.testing.assert_allclose(kp[0, IM22.index("right_wrist")], [111, 222])
    np.testing.assert_allclose(kp[0, IM22.index("right_thumb_tip")], [333, 444])
    np.testing.assert_allclose(kp[2, IM22.index("left_pinky_tip")], [555, 666])
    np.testing.assert_allclose(kp[2, IM22.index("nose")], [12, 20])  # frame index 2
    assert score[0, IM22.index("right_wrist")] == pytest.approx(0.9)
    assert score[0, IM22.index("left_wrist")] == 0
    assert not score[1].any()  # an all-zero row
    assert (rec["start_frame"], rec["end_frame"], rec["total_frames"]) == (0, 2, 3)
    assert report.written == 3


def test_report_and_split_from_folder_names(package: Path) -> None:
    ann, report = miga2023.convert([package])
    reasons = {w.split()[0]: r for w, r in report.skipped}
    assert "unknown iMiGUE class id 40" in reasons["0054_2"]
    assert "outside the sequence" in reasons["0054_3"]
    assert ann.split == {"train": ["0054_0", "0054_1"], "val": ["0004_0"]}
    assert ann.meta["dataset"] == "miga2023" and len(ann.meta["classes"]) == 32


def test_split_roots_and_openpose25(package: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    FORMATS["miga2023"].add_arguments(parser)
    args = parser.parse_args(
        ["--split-root", f"test={package / 'imigue_skeleton_train'}", "--layout", "openpose25",
         "--img-shape", "720", "1280", "-o", str(tmp_path / "out.pkl")]
    )  # fmt: skip
    ann, _ = FORMATS["miga2023"].run(args)
    assert ann.split == {"test": ["0054_0", "0054_1"]}
    rec = ann.annotations[0]
    assert rec["keypoint"].shape == (1, 3, 25, 2) and rec["img_shape"] == (720, 1280)
    op25 = get_layout("openpose25")
    np.testing.assert_allclose(rec["keypoint"][0, 0, op25.index("right_wrist")], [111, 222])


def test_root_without_split_word_has_no_split(tmp_path: Path) -> None:
    write_video(tmp_path / "videos", "0007", frames=3, labels=["3,0,1"])
    ann, _ = miga2023.convert([tmp_path / "videos"])
    assert ann.split == {} and [r["frame_dir"] for r in ann.annotations] == ["0007_0"]


def test_wrong_column_count(package: Path) -> None:
    path = package / "imigue_skeleton_validate" / "0004" / "0004_light_hand.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1] + ",1.0"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValueError, match=r"0004_light_hand.csv: line 2 has 107 columns, expected 106"
    ):
        miga2023.convert([package])


def test_missing_files(package: Path) -> None:
    folder = package / "imigue_skeleton_validate" / "0004"
    (folder / "0004_label.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"0004_label.csv: label file not found"):
        miga2023.convert([package])
    (folder / "0004_label.csv").write_text("2,0,2\n")
    (folder / "0004_light_hand.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"0004_light_hand.csv: skeleton file not found"):
        miga2023.convert([package])


def test_bad_roots(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no <vid4> video folders"):
        miga2023.convert([tmp_path / "empty"])
    with pytest.raises(ValueError, match=r"NAME=PATH"):
        miga2023.parse_split_root("train")


def test_nothing_converted_is_an_error(tmp_path: Path) -> None:
    write_video(tmp_path / "videos", "0007", frames=3, labels=["40,0,1", "41,0,1", "3,5,9"])
    with pytest.raises(
        ValueError,
        match=r"videos: nothing was converted: 0 clips written, 3 skipped \(2 x unknown class, "
        r"1 x outside the sequence\)",
    ):
        miga2023.convert([tmp_path / "videos"])


def test_negative_label_frame_names_file_and_row(package: Path) -> None:
    (package / "imigue_skeleton_validate" / "0004" / "0004_label.csv").write_text("2,0,2\n2,-3,1\n")
    with pytest.raises(ValueError, match=r"0004_label.csv: row 2: start frame -3 is negative"):
        miga2023.convert([package])
