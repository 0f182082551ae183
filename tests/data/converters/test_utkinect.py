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


def test_label_file_errors_are_warned_and_the_corrected_file_fixes_them(utkinect_root):
    _, report = utkinect.convert(utkinect_root)
    assert [w.split(" (")[0] for w, _ in report.warnings] == [
        "s03_e01_push",  # 2556..3622 covers throw 3226..3282
        "s09_e01_push",  # covers pull 3316..3390
        "s10_e02_push",  # shares 13 frames with pull
    ]
    assert "share 57 frames with s03_e01_throw (3226..3282)" in report.warnings[0][1]
    ann, report = utkinect.convert(utkinect_root, labels=utkinect.LABELS_CORRECTED)
    assert report.warnings == [] and report.written == 199
    push = next(r for r in ann.annotations if r["frame_dir"] == "s03_e01_push")
    assert (push["start_frame"], push["end_frame"]) == (3556, 3622)


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
    assert "warnings (3; the clips were written):" in text and "s09_e01_push" in text
    assert len(load_annotations(out, num_classes=10).annotations) == 199
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "split train: 100 clips" in text and "warning: label ranges to check (5):" in text
    assert "s03_e01_push: 170 frames, 17.9 x its class's median 9.5" in text


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


def test_3d_keeps_the_native_joints(tmp_path):
    first = [0.1 * k for k in range(60)]
    second = list(first)
    second[5] = -1.0  # joint 1 behind the camera (z <= 0): invalid
    (tmp_path / "joints_s03_e01.txt").write_text(
        "1 " + " ".join(map(str, first)) + "\n2 " + " ".join(map(str, second)) + "\n"
    )
    (tmp_path / "actionLabel.txt").write_text("s03_e01\nwaveHands: 1 2\n")
    ann, _ = utkinect.convert(tmp_path, coords="3d")
    rec = ann.annotations[0]
    assert rec["keypoint"].shape == (1, 2, 20, 3) and rec["layout"] == "kinect20"
    np.testing.assert_allclose(rec["keypoint"][0, 0], np.reshape(first, (20, 3)), rtol=1e-6)
    assert rec["keypoint_score"][0, 1, 1] == 0 and np.all(rec["keypoint"][0, 1, 1] == 0)
    assert rec["keypoint_score"].sum() == 2 * 20 - 1  # only frame 2's joint 1 is invalid
    with pytest.raises(ValueError, match="coords must be one of 2d, 3d"):
        utkinect.convert(tmp_path, coords="4d")


def test_3d_real_data_and_cli(utkinect_root, tmp_path):
    ann2, _ = utkinect.convert(utkinect_root)
    out = tmp_path / "utk3d.npz"
    assert main(["convert", "utkinect", str(utkinect_root), "--coords", "3d", "-o", str(out)]) == 0
    ann3 = load_annotations(out, num_classes=10)
    assert [r["frame_dir"] for r in ann3.annotations] == [r["frame_dir"] for r in ann2.annotations]
    rec2 = ann2.annotations[0]
    rec3 = ann3.annotations[0]
    assert rec3["keypoint"].shape == (*rec2["keypoint"].shape[:3], 3)
    # projecting the 3-D joints gives the 2-D file's pixels
    uv, _ = utkinect.project(rec3["keypoint"].astype(np.float64))
    np.testing.assert_allclose(uv, rec2["keypoint"], atol=1e-3)
    assert 1.5 < float(np.median(rec3["keypoint"][..., 2])) < 4.5  # metres from the camera


def test_rotate_view_turns_about_the_mean_and_keeps_invalid_joints_invalid():
    xyz = np.array([[[1.0, 0.5, 3.0], [-1.0, 0.2, 3.0], [0.0, 0.0, 0.0]]])  # (T=1, V=3, 3)
    out = utkinect.rotate_view(xyz, 90.0)
    # mean of the two valid joints: x 0, z 3; a quarter turn sends x offsets into z offsets
    np.testing.assert_allclose(out[0, 0], [0.0, 0.5, 2.0], atol=1e-12)
    np.testing.assert_allclose(out[0, 1], [0.0, 0.2, 4.0], atol=1e-12)
    assert np.all(np.isnan(out[0, 2]))  # (0, 0, 0) was invalid and must not come back valid
    np.testing.assert_allclose(utkinect.rotate_view(out[:, :2], -90.0), xyz[:, :2], atol=1e-12)
    # distances between joints and heights do not change
    turned = utkinect.rotate_view(xyz[:, :2], 37.0)
    assert np.isclose(
        np.linalg.norm(turned[0, 0] - turned[0, 1]), np.linalg.norm(xyz[0, 0] - xyz[0, 1])
    )
    np.testing.assert_allclose(turned[..., 1], xyz[:, :2, 1])


def test_view_and_frame_rate_variants(utkinect_root):
    base, _ = utkinect.convert(utkinect_root, coords="3d")
    ann, _ = utkinect.convert(utkinect_root, coords="3d", yaw=45.0, frame_step=2)
    assert ann.meta["variant"] == {"yaw": 45.0, "frame_step": 2} and "variant" not in base.meta
    assert [r["frame_dir"] for r in ann.annotations] == [r["frame_dir"] for r in base.annotations]
    for old, new in zip(base.annotations, ann.annotations):
        assert new["fps"] == 15.0
        assert new["total_frames"] in {old["total_frames"] // 2, (old["total_frames"] + 1) // 2}
    walk_old = next(r for r in base.annotations if r["frame_dir"] == "s01_e01_walk")
    walk_new = next(r for r in ann.annotations if r["frame_dir"] == "s01_e01_walk")
    bone = lambda kp: np.linalg.norm(kp[0, :, 3] - kp[0, :, 2], axis=-1)  # noqa: E731 head-neck
    assert np.median(bone(walk_new["keypoint"])) == pytest.approx(
        np.median(bone(walk_old["keypoint"])), rel=0.05
    )
    assert not np.allclose(walk_new["keypoint"][0, 0], walk_old["keypoint"][0, 0])
    with pytest.raises(ValueError, match="frame_step must be >= 1"):
        utkinect.convert(utkinect_root, frame_step=0)


def test_cli_variant_flags(utkinect_root, tmp_path, capsys):
    out = tmp_path / "utk.pkl"
    argv = [
        "convert",
        "utkinect",
        str(utkinect_root),
        "-o",
        str(out),
        "--yaw",
        "30",
        "--frame-step",
        "3",
    ]
    assert main(argv) == 0
    ann = load_annotations(out, num_classes=10)
    assert ann.meta["variant"] == {"yaw": 30.0, "frame_step": 3}
    assert all(r["fps"] == 10.0 for r in ann.annotations)
