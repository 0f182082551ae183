"""iMiGUE raw-release converter: OpenPose JSON folders + the dataset label CSV."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from mgproto.commands.convert import FORMATS
from mgproto.data.converters import imigue
from mgproto.data.layouts import get_layout

HEADER = (
    "video_id,label_id,start_time,start_frame,end_time,end_frame,class,subject_id,"
    "subject_gender,subject_nationality,win_or_lose"
)
IM22 = get_layout("imigue22")


def person(
    x0: float, *, conf: float = 0.9, wrist: tuple[float, float] | None = None, hands: bool = True
) -> dict:
    """An OpenPose person whose neck/shoulders sit around x0; right wrist at ``wrist``."""
    pose = np.zeros((25, 3))
    pose[[1, 2, 5]] = [[x0, 300, conf], [x0 - 50, 300, conf], [x0 + 50, 300, conf]]
    pose[0] = [x0, 200, conf]
    pose[4] = [*(wrist or (x0 - 60, 500)), conf]
    out = {"person_id": [-1], "pose_keypoints_2d": pose.ravel().tolist(), "face_keypoints_2d": []}
    if hands:
        right = np.full((21, 3), [x0 - 60, 520, 0.5])
        right[4] = [x0 - 70, 560, 0.6]  # right thumb tip
        out["hand_right_keypoints_2d"] = right.ravel().tolist()
        out["hand_left_keypoints_2d"] = np.full((21, 3), [x0 + 60, 520, 0.5]).ravel().tolist()
    out["pose_keypoints_3d"] = []
    return out


def write_frame(folder: Path, prefix: str, frame: int, people: list[dict]) -> Path:
    path = folder / f"{prefix}_{frame:012d}_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": people}))
    return path


def write_dataset(root: Path) -> tuple[Path, Path]:
    """Videos 54 (test subject 3), 1 (val), 20 (train) and 218 (left out of MiGA's train)."""
    skel = root / "skeleton"
    v54 = skel / "0054"
    v54.mkdir(parents=True)
    # frame 0: the subject (x0=600) and a less confident person far away
    write_frame(v54, "54", 0, [person(100, conf=0.3), person(600, wrist=(111, 222))])
    write_frame(v54, "54", 1, [person(605, wrist=(112, 223))])
    write_frame(v54, "54", 2, [])  # no person
    # frame 3 missing; frame 4: the subject after a gap -> most confident person
    write_frame(v54, "54", 4, [person(610, conf=0.9), person(900, conf=0.2)])
    # frame 5: a more confident stranger far away; tracking keeps the subject (wrist 333, 444)
    write_frame(v54, "54", 5, [person(1200, conf=1.0), person(612, conf=0.4, wrist=(333, 444))])
    for video in (1, 20, 218):
        folder = skel / str(video)
        folder.mkdir()
        for t in range(3):
            write_frame(folder, f"clip{video}", t, [person(400 + t)])
    rows = [
        "54,2,0.1,3,0.2,5,99,3,F,FR,win",  # listed first but starts later -> clip 2
        "54,1,0.0,0,0.1,2,5,3,F,FR,win",
        "54,3,0.0,0,0.1,1,40,3,F,FR,win",  # clip 1: unknown class
        "54,4,2.0,50,2.4,60,1,3,F,FR,win",  # clip 3: outside the sequence
        "1,1,0,0,0.1,2,7,2,M,US,lose",
        "20,1,0,0,0.1,2,8,2,M,US,lose",
        "218,1,0,1,0.1,2,9,4,M,US,lose",
        "77,1,0,0,0.1,2,9,5,M,US,lose",  # no skeleton folder
    ]
    labels = root / "labels.csv"
    labels.write_text("\n".join([HEADER, *rows]) + "\n")
    return skel, labels


@pytest.fixture()
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    return write_dataset(tmp_path)


def test_clips_labels_and_shapes(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    ann, report = imigue.convert(skel, labels=labels)
    by_name = {r["frame_dir"]: r for r in ann.annotations}
    assert sorted(by_name) == ["0001_0", "0020_0", "0054_0", "0054_2", "0218_0"]
    assert by_name["0054_0"]["label"] == 4  # class 5 -> 4
    assert by_name["0054_2"]["label"] == 31  # class 99 -> 31
    assert (by_name["0054_2"]["start_frame"], by_name["0054_2"]["end_frame"]) == (3, 5)
    rec = by_name["0054_0"]
    assert rec["keypoint"].shape == (1, 3, 22, 2)
    assert rec["keypoint_score"].shape == (1, 3, 22)
    assert rec["total_frames"] == 3
    assert rec["img_shape"] == (720, 1280)
    assert (rec["video_id"], rec["subject_id"], rec["fps"]) == ("0054", "3", 25.0)
    assert rec["layout"] == "imigue22" and ann.meta["layout"] == "imigue22"
    assert len(ann.meta["classes"]) == 32
    assert report.written == 5


def test_joint_positions_person_choice_and_scores(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    ann, _ = imigue.convert(skel, labels=labels)
    by_name = {r["frame_dir"]: r for r in ann.annotations}
    wrist, tip = IM22.index("right_wrist"), IM22.index("right_thumb_tip")
    first, second = by_name["0054_0"], by_name["0054_2"]
    # frame 0: the more confident of two people; its right wrist lands at right_wrist
    np.testing.assert_allclose(first["keypoint"][0, 0, wrist], [111, 222])
    np.testing.assert_allclose(first["keypoint"][0, 0, tip], [530, 560])
    assert first["keypoint_score"][0, 0, tip] == pytest.approx(0.6)
    np.testing.assert_allclose(first["keypoint"][0, 1, wrist], [112, 223])
    assert not first["keypoint_score"][0, 2].any()  # no person in frame 2
    # frames 3..5: frame 3 missing (score 0), frame 5 tracked to the subject, not the stranger
    assert not second["keypoint_score"][0, 0].any()
    np.testing.assert_allclose(second["keypoint"][0, 1, IM22.index("neck")], [610, 300])
    np.testing.assert_allclose(second["keypoint"][0, 2, wrist], [333, 444])


def test_report_and_splits(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    ann, report = imigue.convert(skel, labels=labels)
    reasons = dict(report.skipped)
    assert "unknown iMiGUE class id 40" in next(r for w, r in reasons.items() if "0054_1" in w)
    assert "outside the sequence" in next(r for w, r in reasons.items() if "0054_3" in w)
    assert "1 missing frame files" in reasons[str(skel / "0054")]
    assert "no skeleton folder" in reasons["video 0077"]
    assert ann.split == {"test": ["0054_0", "0054_2"], "val": ["0001_0"], "train": ["0020_0"]}
    # 8 label rows: 5 written, 2 clips skipped, 1 video (its 1 clip) without a folder; the
    # missing frame of video 54 costs no clip
    assert (report.written, report.skipped_clips, len(report.skipped)) == (5, 3, 4)
    text = report.summary()
    assert text.startswith("wrote 5 clips, skipped 3 labelled clips\n")
    assert "  1 video: no skeleton folder (1 clip)\n" in text
    assert "  1 video: missing frame files, those frames get score 0 (no clip lost)\n" in text


def test_miga_split_rule() -> None:
    assert imigue.miga_split(3, 2) == "val"
    assert imigue.miga_split(54, 3) == "test"
    assert imigue.miga_split(20, 2) == "train"
    assert imigue.miga_split(218, 4) is None
    assert len(imigue.TRAIN_SUBJECTS) == 37


def test_split_file(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    skel, labels = dataset
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": [54, "0001"], "test": [218]}))
    ann, _ = imigue.convert(skel, labels=labels, split_file=split)
    assert ann.split == {"train": ["0001_0", "0054_0", "0054_2"], "test": ["0218_0"]}


def _people(*persons: list[tuple[float, float]]) -> np.ndarray:
    """(P, 25, 3) arrays from per-person (neck x, confidence) pairs."""
    out = np.zeros((len(persons), 25, 3))
    for i, (x, c) in enumerate(persons):
        out[i, [1, 2, 5]] = [[x, 100, c], [x - 10, 100, c], [x + 10, 100, c]]
    return out


def test_select_main_person_tracks_then_restarts() -> None:
    frames = [
        _people((0, 0.5), (500, 0.9)),  # start: most confident -> 1
        _people((900, 1.0), (510, 0.1)),  # tracking: nearest to 500 -> 1
        np.zeros((0, 25, 3)),  # gap
        _people((20, 0.2), (600, 0.8)),  # restart: most confident -> 1
        _people((0, 0.0), (30, 1.0)),  # person 0 has no valid anchor; nearest valid -> 1
    ]
    np.testing.assert_array_equal(imigue.select_main_person(frames), [1, 1, -1, 1, 1])


def test_select_main_person_without_anchors_falls_back_to_confidence() -> None:
    a = np.zeros((2, 25, 3))
    a[1, 0, 2] = 0.9  # only a nose: no centroid, but the larger confidence sum
    b = _people((100, 0.1), (800, 0.9))
    np.testing.assert_array_equal(imigue.select_main_person([a, b]), [1, 1])


def test_corrupt_json_raises_or_is_skipped(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    bad = skel / "20" / "clip20_000000000001_keypoints.json"
    bad.write_text('{"people": [')
    with pytest.raises(imigue.CorruptFrameError, match=r"clip20_000000000001_keypoints.json"):
        imigue.convert(skel, labels=labels)
    ann, report = imigue.convert(skel, labels=labels, skip_corrupt=True)
    assert any(w == str(bad) and "corrupt" in r for w, r in report.skipped)
    rec = next(r for r in ann.annotations if r["frame_dir"] == "0020_0")
    assert not rec["keypoint_score"][0, 1].any() and rec["keypoint_score"][0, 0].any()


def test_wrong_keypoint_count_is_corrupt(tmp_path: Path) -> None:
    path = write_frame(tmp_path, "x", 0, [{"pose_keypoints_2d": [1.0] * 54}])
    with pytest.raises(imigue.CorruptFrameError, match=r"pose_keypoints_2d is not a list of 75"):
        imigue.read_people(path)


def test_missing_label_file_and_columns(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    skel, _ = dataset
    with pytest.raises(FileNotFoundError, match=r"nope.csv: label file not found"):
        imigue.convert(skel, labels=tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("video_id,class\n1,5\n")
    with pytest.raises(ValueError, match=r"bad.csv: missing columns"):
        imigue.convert(skel, labels=bad)


def test_cli_with_layout_and_img_shape(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    skel, labels = dataset
    parser = argparse.ArgumentParser()
    FORMATS["imigue"].add_arguments(parser)
    args = parser.parse_args(
        [str(skel), "--labels", str(labels), "--layout", "openpose137", "--img-shape", "1080",
         "1920", "-o", str(tmp_path / "out.pkl")]
    )  # fmt: skip
    ann, report = FORMATS["imigue"].run(args)
    rec = next(r for r in ann.annotations if r["frame_dir"] == "0054_0")
    assert rec["keypoint"].shape == (1, 3, 137, 2)
    assert rec["img_shape"] == (1080, 1920)
    op = get_layout("openpose137")
    np.testing.assert_allclose(rec["keypoint"][0, 0, op.index("right_thumb_tip")], [530, 560])
    assert report.written == 5


def test_imigue36_layout(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    ann, _ = imigue.convert(skel, labels=labels, layout="imigue36")
    rec = next(r for r in ann.annotations if r["frame_dir"] == "0054_0")
    assert rec["keypoint"].shape == (1, 3, 36, 2)
    i36 = get_layout("imigue36")
    np.testing.assert_allclose(rec["keypoint"][0, 0, i36.index("right_hand_wrist")], [540, 520])


def test_huge_frame_number_is_an_error_not_an_allocation(dataset: tuple[Path, Path]) -> None:
    skel, labels = dataset
    bad = write_frame(skel / "20", "clip20", 999_999_999_999, [person(400)])
    with pytest.raises(ValueError, match=rf"{bad.name}: frame number 999999999999 is beyond"):
        imigue.convert(skel, labels=labels)
    bad.unlink()
    write_frame(skel / "20", "clip20", 100_000, [person(400)])  # 4 files spanning 100001 frames
    with pytest.raises(ValueError, match=r"20: frame numbers run from 0 to 100000 .* only 4"):
        imigue.convert(skel, labels=labels)


@pytest.mark.parametrize(
    ("start", "message"),
    [("-3", r"start_frame -3 is negative"), ("12.7", r"start_frame 12.7 is not a whole")],
)
def test_bad_label_frames_name_the_line(dataset: tuple[Path, Path], start: str, message: str):
    skel, labels = dataset
    lines = labels.read_text().splitlines()
    lines[2] = f"54,1,0.0,{start},0.1,2,5,3,F,FR,win"
    labels.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"labels.csv: line 3: {message}"):
        imigue.convert(skel, labels=labels)


def test_nothing_converted_is_an_error(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    skel, _ = dataset
    labels = tmp_path / "only_unknown.csv"
    labels.write_text(f"{HEADER}\n20,1,0,0,0.1,2,40,2,M,US,lose\n77,1,0,0,0.1,2,9,5,M,US,lose\n")
    with pytest.raises(
        ValueError,
        match=r"skeleton: nothing was converted: 0 clips written, .*1 x unknown class.*"
        r"1 x no skeleton folder",
    ):
        imigue.convert(skel, labels=labels)
