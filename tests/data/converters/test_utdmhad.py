"""UTD-MHAD converter: aA_sS_tT_skeleton.mat (d_skel, 20 joints x 3 x frames) -> kinect20."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.io import savemat

from mgproto.cli import main
from mgproto.data.annotations import AnnotationError, AnnotationFile, load_annotations
from mgproto.data.converters import utdmhad, utkinect
from mgproto.data.layouts import get_layout
from mgproto.data.sequences import ConversionError

K20 = get_layout("kinect20").joints
HEAD, HIP = K20.index("head"), K20.index("hip_center")
LEFT_HAND, RIGHT_HAND = K20.index("left_hand"), K20.index("right_hand")


@pytest.fixture(scope="module")
def real_2d(utdmhad_root: Path) -> AnnotationFile:
    return utdmhad.convert(utdmhad_root)[0]


@pytest.fixture(scope="module")
def real_3d(utdmhad_root: Path) -> AnnotationFile:
    return utdmhad.convert(utdmhad_root, coords="3d")[0]


def skeleton(num_frames: int = 5) -> np.ndarray:
    """(20, 3, T) d_skel in the file's joint order: a person 3 m away, joint k at x = k cm."""
    skel = np.zeros((20, 3, num_frames))
    skel[:, 0] = (np.arange(20) / 100.0)[:, None]
    skel[:, 1] = np.linspace(0.5, -1.0, 20)[:, None]  # head (row 0) up, feet down
    skel[:, 2] = 3.0
    return skel


def write(folder: Path, name: str, **variables) -> Path:
    path = folder / name
    savemat(path, variables or {"d_skel": skeleton()})
    return path


# ---- the joint mapping ---------------------------------------------------------------------


def test_joint_table_maps_every_kinect20_joint_by_name():
    assert len(utdmhad.JOINTS) == 20 and set(utdmhad.JOINTS) == set(K20)
    assert [utdmhad.JOINTS[i] for i in utdmhad.TO_KINECT20] == list(K20)
    # the dataset starts from the head; kinect20 from the hip centre; the limbs are in place
    assert utdmhad.TO_KINECT20[:4].tolist() == [3, 2, 1, 0]
    assert utdmhad.TO_KINECT20[4:].tolist() == list(range(4, 20))


def test_converted_joints_are_in_kinect20_order(tmp_path):
    skel = skeleton(2)
    write(tmp_path, "a3_s1_t1_skeleton.mat", d_skel=skel)
    rec = utdmhad.convert(tmp_path, coords="3d")[0].annotations[0]
    rows = np.round(rec["keypoint"][0, 0, :, 0] * 100).astype(int)  # x encodes the file's row
    assert rows[HIP] == 3 and rows[HEAD] == 0  # hip_center is row 4 of the file, head row 1
    assert rows.tolist() == utdmhad.TO_KINECT20.tolist()
    np.testing.assert_allclose(rec["keypoint"][0, 1], skel[utdmhad.TO_KINECT20, :, 1], rtol=1e-6)


# ---- the real files ------------------------------------------------------------------------


def test_real_counts_classes_and_splits(real_2d):
    ann = real_2d
    assert len(ann.annotations) == 861
    assert ann.meta == {"dataset": "utdmhad", "layout": "kinect20",
                        "classes": list(utdmhad.CLASSES)}  # fmt: skip
    assert len(ann.meta["classes"]) == 27
    every = {f"a{a}_s{s}_t{t}" for a in range(1, 28) for s in range(1, 9) for t in range(1, 5)}
    # the authors removed three corrupt sequences
    assert every - {r["frame_dir"] for r in ann.annotations} == {"a8_s1_t4", "a23_s6_t4",
                                                                 "a27_s8_t4"}  # fmt: skip
    per_class = collections.Counter(r["label"] for r in ann.annotations)
    assert per_class == {k: 31 if k in (7, 22, 26) else 32 for k in range(27)}
    assert len(ann.split["train"]) == 431 and len(ann.split["test"]) == 430
    assert {r["subject_id"] for r in ann.select("train")} == {"1", "3", "5", "7"}
    assert {r["subject_id"] for r in ann.select("test")} == {"2", "4", "6", "8"}
    rec = next(r for r in ann.annotations if r["frame_dir"] == "a27_s8_t3")
    assert rec["label"] == 26 and rec["subject_id"] == "8" and rec["fps"] == 30.0


def test_real_2d_geometry(real_2d):
    recs = real_2d.annotations
    assert {r["layout"] for r in recs} == {"kinect20"}
    assert {r["img_shape"] for r in recs} == {(480, 640)}
    assert {r["keypoint"].shape[2:] for r in recs} == {(20, 2)}
    assert all(r["keypoint"].shape[:2] == (1, r["total_frames"]) for r in recs)
    assert 41 <= min(r["total_frames"] for r in recs) <= max(r["total_frames"] for r in recs) <= 125
    assert all(np.all(r["keypoint_score"] == 1) for r in recs)  # no invalid joint in the release
    kp = np.concatenate([r["keypoint"][0] for r in recs])  # (all frames, 20, 2)
    assert np.mean(kp[:, HEAD, 1] < kp[:, HIP, 1]) > 0.99  # image y grows downwards
    assert np.mean(kp[:, K20.index("left_foot"), 1] > kp[:, HIP, 1]) > 0.99
    right, left = K20.index("right_shoulder"), K20.index("left_shoulder")
    assert np.mean(kp[:, right, 0] > kp[:, left, 0]) > 0.99  # the UTKinect side of the image


def test_real_right_hand_actions_move_the_right_hand(real_2d):
    """Left and right are the subject's: action 3 (right hand wave) moves the joint that the
    converter writes as kinect20's right_hand, and lunge 26 (left foot forward) the left knee."""

    def travel(action: int, joint: str) -> float:
        recs = [r for r in real_2d.annotations if r["label"] == action - 1]
        j = K20.index(joint)
        return float(np.median([np.ptp(r["keypoint"][0, :, j, 1]) for r in recs]))

    for action in (3, 8, 19):  # wave, draw x, knock on door
        assert travel(action, "right_hand") > 5 * travel(action, "left_hand")
    assert travel(26, "left_knee") > travel(26, "right_knee")


def test_real_3d_native_metres_match_the_2d_pixels(real_2d, real_3d):
    assert [r["frame_dir"] for r in real_3d.annotations] == [
        r["frame_dir"] for r in real_2d.annotations
    ]
    rec2, rec3 = real_2d.annotations[100], real_3d.annotations[100]
    assert rec3["keypoint"].shape == (*rec2["keypoint"].shape[:3], 3)
    uv, _ = utkinect.project(rec3["keypoint"].astype(np.float64))
    np.testing.assert_allclose(uv, rec2["keypoint"], atol=1e-3)
    kp = np.concatenate([r["keypoint"][0] for r in real_3d.annotations])
    assert 2.0 < float(np.median(kp[..., 2])) < 4.0  # metres from the camera
    assert np.mean(kp[:, HEAD, 1] > kp[:, HIP, 1]) > 0.99  # camera y is up


def test_real_cli_writes_the_file(utdmhad_root, tmp_path, capsys):
    out = tmp_path / "utd.npz"
    assert main(["convert", "utdmhad", str(utdmhad_root), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "wrote 861 clips, skipped 0 labelled clips" in text and "right hand wave: 32" in text
    assert "(splits: train: 431, test: 430)" in text
    assert not out.with_suffix(".skipped.txt").exists()
    ann = load_annotations(out, num_classes=27)
    assert len(ann.annotations) == 861 and ann.meta["layout"] == "kinect20"


# ---- synthetic files: bad input ------------------------------------------------------------


def test_cli_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["convert", "utdmhad", "--help"])
    text = capsys.readouterr().out
    assert "aA_sS_tT_skeleton.mat" in text and "--coords {2d,3d}" in text and "-o" in text
    assert "``" not in text and "mgproto.data" not in text


def test_cli_counts_skips_and_writes_the_list(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write(data, "a1_s1_t1_skeleton.mat")
    write(data, "a2_s2_t1_skeleton.mat")
    write(data, "a28_s1_t1_skeleton.mat")  # no action 28
    write(data, "a1_s1_skeleton.mat")  # no trial
    write(data, "a1_s1_t1_inertial.mat", d_inertial=np.zeros((10, 6)))  # not read
    out = tmp_path / "utd.pkl"
    assert main(["convert", "utdmhad", str(data), "--coords", "3d", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "wrote 2 clips, skipped 2 labelled clips" in text
    assert "1 file: name does not parse (1 clip)" in text and "1 clip: unknown class" in text
    listed = out.with_suffix(".skipped.txt").read_text()
    assert "a1_s1_skeleton.mat: name is not aA_sS_tT_skeleton.mat" in listed
    assert "a28_s1_t1 (" in listed and "unknown UTD-MHAD action 28 (valid: 1..27)" in listed
    assert "inertial" not in listed
    ann = load_annotations(out, num_classes=27)
    assert ann.split == {"train": ["a1_s1_t1"], "test": ["a2_s2_t1"]}
    assert ann.annotations[0]["keypoint"].shape == (1, 5, 20, 3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable MATLAB file"),
        (b"hello, not a MATLAB file\n" * 8, "not a readable MATLAB file"),
        ("truncated", "not a readable MATLAB file"),
    ],
)
def test_corrupt_file_is_one_error_naming_it(tmp_path, content, message):
    path = write(tmp_path, "a1_s1_t1_skeleton.mat")
    if content == "truncated":
        content = path.read_bytes()[: path.stat().st_size - 40]
    path.write_bytes(content)
    with pytest.raises(ConversionError, match=message) as err:
        utdmhad.convert(tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"d_skel": np.zeros((19, 3, 5))}, r"d_skel has shape \(19, 3, 5\), expected \(20, 3,"),
        ({"d_skel": np.zeros((20, 2, 5))}, r"d_skel has shape \(20, 2, 5\)"),
        ({"d_skel": np.zeros((3, 20, 5))}, r"d_skel has shape \(3, 20, 5\)"),
        ({"d_skel": np.zeros((20, 3, 5, 2))}, r"d_skel has shape \(20, 3, 5, 2\)"),
        ({"skel": skeleton()}, r"no variable 'd_skel' \(variables: skel\)"),
        ({"d_skel": "head"}, "d_skel is not a numeric array"),
        ({"d_skel": skeleton() * np.array([1, 1, 1e6])[:, None]}, r"z = 3e\+06 m, beyond the"),
    ],
)
def test_wrong_contents_are_one_error_naming_the_file(tmp_path, variables, message):
    path = write(tmp_path, "a1_s1_t1_skeleton.mat", **variables)
    with pytest.raises(ConversionError, match=message) as err:
        utdmhad.convert(tmp_path)
    assert str(path) in str(err.value)


def test_nan_joints_get_score_0_with_a_warning(tmp_path):
    skel = skeleton(4)
    skel[7, :, 1] = np.nan  # row 8 of the file: left_hand, frame 1
    skel[0, 2, 2] = -1.0  # head behind the camera in frame 2
    path = write(tmp_path, "a4_s3_t2_skeleton.mat", d_skel=skel)
    ann, report = utdmhad.convert(tmp_path)
    score = ann.annotations[0]["keypoint_score"][0]
    assert score[1, LEFT_HAND] == 0 and score[2, HEAD] == 0 and score.sum() == 4 * 20 - 2
    assert np.all(ann.annotations[0]["keypoint"][0, 1, LEFT_HAND] == 0)
    assert report.warnings == [
        (str(path), "2 of 80 joint positions are not finite or have z <= 0 (score 0)")
    ]


def test_all_nan_file_is_a_counted_skip(tmp_path):
    write(tmp_path, "a4_s3_t2_skeleton.mat", d_skel=np.full((20, 3, 4), np.nan))
    with pytest.raises(ConversionError, match="nothing was converted: 0 clips written, 1 skipped"):
        utdmhad.convert(tmp_path)
    write(tmp_path, "a4_s3_t3_skeleton.mat")
    ann, report = utdmhad.convert(tmp_path)
    assert [r["frame_dir"] for r in ann.annotations] == ["a4_s3_t3"]
    assert report.kinds == {"no valid keypoint": 1} and "a4_s3_t2" in report.skipped[0][0]


def test_frame_count_edge_cases(tmp_path):
    write(tmp_path, "a5_s2_t1_skeleton.mat", d_skel=skeleton(1)[..., 0])  # (20, 3): one frame
    write(tmp_path, "a5_s2_t2_skeleton.mat", d_skel=np.zeros((20, 3, 0)))
    ann, report = utdmhad.convert(tmp_path)
    assert [r["total_frames"] for r in ann.annotations] == [1]
    assert report.kinds == {"no frames": 1} and report.skipped[0][0].endswith("t2_skeleton.mat")


def test_folder_errors_and_options(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        utdmhad.convert(tmp_path / "nowhere")
    with pytest.raises(ConversionError, match=r"no \*_skeleton\.mat files"):
        utdmhad.convert(tmp_path)
    write(tmp_path, "a01_s02_t03_skeleton.mat")  # zero-padded numbers parse too
    write(tmp_path, "a2_s3_t1_skeleton.mat")
    ann, _ = utdmhad.convert(tmp_path, test_subjects=(3,))
    assert ann.split == {"train": ["a01_s02_t03"], "test": ["a2_s3_t1"]}
    assert [r["label"] for r in ann.annotations] == [0, 1]
    with pytest.raises(ValueError, match="coords must be one of 2d, 3d"):
        utdmhad.convert(tmp_path, coords="4d")


@settings(
    max_examples=int(os.environ.get("MGPROTO_FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_damaged_bytes_give_a_record_or_one_error_naming_the_file(tmp_path, data):
    path = tmp_path / "a1_s1_t1_skeleton.mat"
    savemat(path, {"d_skel": skeleton(6)}, do_compression=data.draw(st.booleans()))
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    for _ in range(data.draw(st.integers(0, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw[:cut] if data.draw(st.booleans()) else raw))
    try:
        ann, _ = utdmhad.convert(tmp_path)
    except AnnotationError as err:
        assert str(path) in str(err) and "\n" not in str(err), err
    else:
        assert ann.annotations[0]["keypoint"].shape[2:] == (20, 2)


def test_view_and_frame_rate_variants(tmp_path):
    skel = skeleton(7)
    skel[:, 0] += np.linspace(-0.3, 0.3, 20)[:, None]  # spread in x, so that a turn moves z
    write(tmp_path, "a6_s1_t1_skeleton.mat", d_skel=skel)
    base = utdmhad.convert(tmp_path, coords="3d")[0]
    ann = utdmhad.convert(tmp_path, coords="3d", yaw=30.0, frame_step=3)[0]
    assert ann.meta["variant"] == {"yaw": 30.0, "frame_step": 3} and "variant" not in base.meta
    old, new = base.annotations[0], ann.annotations[0]
    assert new["total_frames"] == 3 and new["fps"] == 10.0 and old["fps"] == 30.0
    want = utkinect.rotate_view(skel[utdmhad.TO_KINECT20].transpose(2, 0, 1)[::3], 30.0)
    np.testing.assert_allclose(new["keypoint"][0], want, rtol=1e-6)
    assert not np.allclose(new["keypoint"][0, 0], old["keypoint"][0, 0])
    with pytest.raises(ValueError, match="frame_step must be >= 1"):
        utdmhad.convert(tmp_path, frame_step=0)


def test_cli_variant_flags(tmp_path):
    write(tmp_path, "a6_s1_t1_skeleton.mat", d_skel=skeleton(6))
    out = tmp_path / "utd.npz"
    argv = ["convert", "utdmhad", str(tmp_path), "--yaw", "45", "--frame-step", "2"]
    assert main([*argv, "-o", str(out)]) == 0
    ann = load_annotations(out, num_classes=27)
    assert ann.meta["variant"] == {"yaw": 45.0, "frame_step": 2}
    assert ann.annotations[0]["total_frames"] == 3 and ann.annotations[0]["fps"] == 15.0
