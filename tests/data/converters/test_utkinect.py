import collections

import numpy as np
import pytest

from mgproto.cli import main
from mgproto.data.annotations import load_annotations
from mgproto.data.converters import utkinect


def test_converts_all_segments_with_right_counts(utkinect_root):
    ann, report = utkinect.convert(utkinect_root)
    # 10 subjects x 2 runs x 10 actions = 200 segments; s10_e02 'carry' has NaN frame ids
    assert report.written == 199 and len(ann.annotations) == 199
    assert report.skipped == [
        (
            f"s10_e02_carry ({utkinect_root / 'joints_s10_e02.txt'})",
            "segment has no valid frame range (start/end missing or NaN)",
        )
    ]
    per_class = collections.Counter(utkinect.CLASSES[r["label"]] for r in ann.annotations)
    assert per_class == {c: 19 if c == "carry" else 20 for c in utkinect.CLASSES}
    per_subject = collections.Counter(r["subject_id"] for r in ann.annotations)
    assert per_subject == {str(s): 19 if s == 10 else 20 for s in range(1, 11)}
    assert len(ann.split["train"]) == 100 and len(ann.split["test"]) == 99
    assert {r["subject_id"] for r in ann.select("test")} == {"2", "4", "6", "8", "10"}


def test_clip_content_and_projection(utkinect_root):
    ann, _ = utkinect.convert(utkinect_root)
    rec = next(r for r in ann.annotations if r["frame_dir"] == "s01_e01_walk")
    assert rec["layout"] == "kinect20" and rec["img_shape"] == (480, 640)
    assert (rec["start_frame"], rec["end_frame"]) == (252, 390)
    m, t, v, _ = rec["keypoint"].shape
    assert (m, v) == (1, 20) and 1 <= t <= 390 - 252 + 1
    # the head is above the feet in the image (y grows downwards)
    assert np.all(rec["keypoint"][0, :, 3, 1] < rec["keypoint"][0, :, 15, 1])
    assert np.all(rec["keypoint_score"] == 1)


def test_projection_pinhole():
    xyz = np.array([[0.0, 0.0, 2.0], [1.0, -0.5, 2.0], [np.nan, 0, 1], [0, 0, 0]])
    uv, score = utkinect.project(xyz)
    np.testing.assert_allclose(uv[0], [320, 240])
    np.testing.assert_allclose(uv[1], [320 + 571.26 / 2, 240 + 571.26 / 4], rtol=1e-6)
    assert score.tolist() == [1, 1, 0, 0] and np.all(uv[2:] == 0)


def test_cli_round_trip(utkinect_root, tmp_path, capsys):
    out = tmp_path / "utk.npz"
    assert main(["convert", "utkinect", str(utkinect_root), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "wrote 199 clips, skipped 1" in text and "carry: 19" in text
    assert len(load_annotations(out, num_classes=10).annotations) == 199
    assert main(["inspect", str(out)]) == 0
    assert "split train: 100 clips" in capsys.readouterr().out


def test_bad_lines(tmp_path):
    (tmp_path / "actionLabel.txt").write_text("s01_e01\nwalk: 1 3\n")
    (tmp_path / "joints_s01_e01.txt").write_text("1 " + " ".join(["0.1"] * 59) + "\n")
    with pytest.raises(ValueError, match=r"joints_s01_e01\.txt: line 1 has 60 values"):
        utkinect.convert(tmp_path)
    (tmp_path / "actionLabel.txt").write_text("s01_e01\nwalk 1 3\n")
    with pytest.raises(ValueError, match=r"actionLabel\.txt: line 2"):
        utkinect.convert(tmp_path)


def test_frame_ids_must_be_whole_numbers(tmp_path):
    (tmp_path / "actionLabel.txt").write_text("s01_e01\nwalk: 1 3\n")
    (tmp_path / "joints_s01_e01.txt").write_text("1.5 " + " ".join(["0.1"] * 60) + "\n")
    with pytest.raises(ValueError, match=r"joints_s01_e01\.txt: line 1: frame id 1.5 is not a"):
        utkinect.convert(tmp_path)
    (tmp_path / "joints_s01_e01.txt").write_text("1 " + " ".join(["0.1"] * 60) + "\n")
    (tmp_path / "actionLabel.txt").write_text("s01_e01\nwalk: -2 3\n")
    with pytest.raises(ValueError, match=r"actionLabel\.txt: line 2: start frame -2 is negative"):
        utkinect.convert(tmp_path)


def test_all_skipped_is_an_error(tmp_path):
    (tmp_path / "actionLabel.txt").write_text("s01_e01\nwalk: 7 9\nfly: 1 1\n")
    (tmp_path / "joints_s01_e01.txt").write_text("1 " + " ".join(["0.1"] * 60) + "\n")
    with pytest.raises(ValueError, match=r"nothing was converted: 0 clips written, 2 skipped"):
        utkinect.convert(tmp_path)
