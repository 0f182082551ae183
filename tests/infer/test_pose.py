"""extract-pose: the pure landmark maps, the subject gate, and MediaPipe end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mgproto.cli import main
from mgproto.data.annotations import load_annotations
from mgproto.data.layouts import get_layout, subset_indices
from mgproto.data.video import write_video
from mgproto.infer.landmarks import (
    FACE_MESH_POINTS,
    HAND_TIPS,
    POSE_TO_COCO17,
    STACK_NAMES,
    FrameLandmarks,
    SubjectGate,
    assign_hands,
    body_centre_and_size,
    layout_indices,
    stack_landmarks,
    to_layout,
)
from mgproto.infer.pose import extract_pose, frame_window

H, W = 480, 640


def _pose(vis: float = 0.9) -> np.ndarray:
    """(33, 3) landmarks with x = (i + 1) / 100, y = (i + 1) / 25: each one is identifiable."""
    i = np.arange(33, dtype=np.float32)
    return np.stack([(i + 1) / 100, (i + 1) / 25, np.full(33, vis, np.float32)], axis=1)


def _hand(offset: float) -> np.ndarray:
    """(21, 2) hand inside the frame whose point j sits at (offset + j / 100, 0.5)."""
    j = np.arange(21, dtype=np.float32)
    return np.stack([offset + j / 100, np.full(21, 0.5, np.float32)], axis=1)


def _map(frame: FrameLandmarks, layout: str, **kw) -> tuple[np.ndarray, np.ndarray]:
    xy, score = stack_landmarks(frame, img_shape=(H, W))
    return to_layout(xy, score, layout=layout, img_shape=(H, W), **kw)


# ---- pure mapping ----------------------------------------------------------------------------


def test_stack_names_unique_and_every_supported_joint_has_a_source():
    assert len(set(STACK_NAMES)) == len(STACK_NAMES)
    for layout in ("coco17", "imigue22", "imigue36"):
        assert (layout_indices(layout) >= 0).all(), layout


def test_coco17_order_and_pixel_scaling():
    assert tuple(layout_indices("coco17")) == POSE_TO_COCO17
    assert tuple(subset_indices("mediapipe33", "coco17")) == POSE_TO_COCO17
    kp, score = _map(FrameLandmarks(pose=_pose()), "coco17")
    src = np.array(POSE_TO_COCO17) + 1  # landmark i sits at ((i + 1) W / 100, (i + 1) H / 25)
    expected = np.stack([src * W / 100, src * H / 25], axis=1)
    inside = expected[:, 1] <= H  # knees and ankles: y > H, outside the frame
    np.testing.assert_allclose(kp[inside], expected[inside], rtol=1e-6)
    np.testing.assert_allclose(score[inside], 0.9)
    assert inside[:13].all() and not inside[13:].any()
    assert (kp[~inside] == 0).all() and (score[~inside] == 0).all()
    assert kp[5].tolist() == pytest.approx([12 * W / 100, 12 * H / 25])  # left_shoulder = 11


def test_missing_joints_are_zero_with_score_zero():
    kp, score = _map(FrameLandmarks(), "imigue22")  # no person
    assert kp.shape == (22, 2) and score.shape == (22,)
    assert not kp.any() and not score.any()
    pose = _pose()
    pose[0, 2] = 0.01  # nose barely visible
    pose[2, 0] = -0.1  # left eye left of the frame
    kp, score = _map(FrameLandmarks(pose=pose), "coco17", min_score=0.05)
    assert score[0] == 0 and kp[0].tolist() == [0, 0]
    assert score[1] == 0 and kp[1].tolist() == [0, 0]
    assert score[2] == pytest.approx(0.9)
    kp, score = _map(FrameLandmarks(pose=pose), "coco17", min_score=0.0)
    assert score[0] == pytest.approx(0.01) and kp[0].tolist() == pytest.approx([W / 100, H / 25])


def test_imigue22_body_neck_and_fingertips_by_side():
    layout = get_layout("imigue22")
    left, right = _hand(0.1), _hand(0.6)
    kp, score = _map(FrameLandmarks(pose=_pose(), left_hand=left, right_hand=right), "imigue22")
    px = np.array([W, H], np.float32)
    # body: our right_shoulder (2) is BlazePose 12, left_wrist (7) is 15, right_eye (8) is 5
    for ours, blaze in ((2, 12), (7, 15), (8, 5), (11, 7)):
        assert kp[ours].tolist() == pytest.approx((_pose()[blaze, :2] * px).tolist())
    np.testing.assert_allclose(kp[1], (_pose()[11, :2] + _pose()[12, :2]) / 2 * px, rtol=1e-6)
    # the subject's LEFT fingertips fill slots 12-16, the RIGHT ones 17-21
    fingers = ("thumb", "index", "middle", "ring", "pinky")
    assert layout.joints[12:17] == tuple(f"left_{f}_tip" for f in fingers)
    assert layout.joints[17:22] == tuple(f"right_{f}_tip" for f in fingers)
    np.testing.assert_allclose(kp[12:17], left[list(HAND_TIPS)] * px, rtol=1e-6)
    np.testing.assert_allclose(kp[17:22], right[list(HAND_TIPS)] * px, rtol=1e-6)
    assert (score[12:] == 1.0).all()
    kp, score = _map(FrameLandmarks(pose=_pose(), right_hand=right), "imigue22")
    assert not score[12:17].any() and not kp[12:17].any() and (score[17:] == 1).all()


def test_imigue36_face_and_hand_wrists():
    layout = get_layout("imigue36")
    face = np.random.default_rng(0).uniform(0.2, 0.8, (468, 2)).astype(np.float32)
    left, right = _hand(0.1), _hand(0.6)
    frame = FrameLandmarks(pose=_pose(), left_hand=left, right_hand=right, face=face)
    kp, score = _map(frame, "imigue36")
    px = np.array([W, H], np.float32)
    for name, mesh in FACE_MESH_POINTS.items():
        np.testing.assert_allclose(kp[layout.index(name)], face[mesh] * px, rtol=1e-6)
    np.testing.assert_allclose(kp[layout.index("left_hand_wrist")], left[0] * px, rtol=1e-6)
    np.testing.assert_allclose(kp[layout.index("right_pinky_tip")], right[20] * px, rtol=1e-6)
    assert (score > 0).all()


def test_assign_hands_follows_the_pose_wrists():
    lw, rw = np.array([0.7, 0.5]), np.array([0.2, 0.5])  # subject faces the camera
    near_left, near_right = _hand(0.69), _hand(0.19)
    assert assign_hands(near_left, near_right, lw, rw) == (near_left, near_right)
    out = assign_hands(near_right, near_left, lw, rw)  # crossed: swapped back
    assert out[0] is near_left and out[1] is near_right
    out = assign_hands(None, near_right, lw, rw)
    assert out == (None, near_right)
    out = assign_hands(near_right, None, lw, rw)  # one hand, given to the wrong side
    assert out[0] is None and out[1] is near_right


def test_frame_window():
    assert frame_window(10, start=0.3, end=0.8) == range(3, 8)
    assert frame_window(29.97, start=1.0, max_frames=5) == range(30, 35)
    assert frame_window(25).start == 0 and frame_window(25).stop > 10**9
    assert len(frame_window(25, start=2.0, end=1.0)) == 0


# ---- subject gate ----------------------------------------------------------------------------


def test_body_centre_and_size():
    xy = np.zeros((33, 2), np.float32)
    score = np.zeros(33, np.float32)
    assert body_centre_and_size(xy, score) is None
    xy[[11, 12, 23, 24]] = [[300, 100], [100, 100], [300, 400], [100, 400]]
    xy[0] = [200, 0]
    score[[0, 11, 12, 23, 24]] = 1
    centre, size = body_centre_and_size(xy, score)
    assert centre.tolist() == [200, 250] and size == pytest.approx(200)  # shoulder width
    score[12] = 0.2  # right shoulder unsure: size = bounding-box diagonal of the rest
    centre, size = body_centre_and_size(xy, score)
    assert centre.tolist() == pytest.approx([700 / 3, 300])  # the three confident torso points
    assert size == pytest.approx(np.hypot(200, 400))


def test_subject_gate_rejects_a_jump_to_a_smaller_person_only():
    diag = 1000.0
    gate = SubjectGate(max_jump=0.25, min_size_ratio=0.5, memory=10)
    assert gate.accept(0, np.array([500, 500]), 400, diagonal=diag)
    assert not gate.accept(1, np.array([100, 100]), 100, diagonal=diag)  # far and small
    assert gate.accept(2, np.array([800, 500]), 380, diagonal=diag)  # far, same size: accepted
    assert gate.accept(3, np.array([850, 500]), 100, diagonal=diag)  # near, small: accepted
    gate = SubjectGate(max_jump=0.25, min_size_ratio=0.5, memory=10)
    assert gate.accept(0, np.array([500, 500]), 400, diagonal=diag)
    for t in range(1, 11):  # a rejection does not move the reference
        assert not gate.accept(t, np.array([100, 100]), 100, diagonal=diag)
    assert gate.accept(11, np.array([100, 100]), 100, diagonal=diag)  # memory ran out


# ---- end to end --------------------------------------------------------------------------------


def _grace_hopper() -> np.ndarray:
    matplotlib = pytest.importorskip("matplotlib")
    from PIL import Image

    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not photo.is_file():
        pytest.skip(f"matplotlib's sample photo is not installed ({photo})")
    return np.asarray(Image.open(photo).convert("RGB"))  # (600, 512, 3), faces the camera


@pytest.fixture(scope="module")
def photo_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pose") / "hopper.mp4"
    return write_video(path, np.repeat(_grace_hopper()[None], 10, axis=0), fps=10)


@pytest.fixture(scope="module")
def noise_video(tmp_path_factory) -> Path:
    frames = np.random.default_rng(0).integers(0, 256, (10, 120, 160, 3), dtype=np.uint8)
    return write_video(tmp_path_factory.mktemp("pose") / "noise.mp4", frames, fps=10)


# Grace Hopper's face in the photo (read off the image): x 150..380, y 120..345.
FACE = (150, 120, 380, 345)


def _in_face(p: np.ndarray) -> bool:
    return FACE[0] <= p[0] <= FACE[2] and FACE[1] <= p[1] <= FACE[3]


@pytest.mark.parametrize("layout", ["coco17", "imigue36"])
def test_photo_joints_land_on_the_person(photo_video, tmp_path, capsys, layout):
    pytest.importorskip("mediapipe", reason="needs the pose extra: pip install -e '.[pose]'")
    out = tmp_path / "pose.npz"
    assert main(["extract-pose", str(photo_video), "-o", str(out), "--layout", layout]) == 0
    assert "10 frames, person detected in 100%" in capsys.readouterr().out
    ann = load_annotations(out)
    rec = ann.annotations[0]
    assert ann.meta["layout"] == layout and ann.meta["dataset"] == "extracted"
    assert ann.meta["extractor"].startswith("mediapipe 0.10.21")
    assert (rec["frame_dir"], rec["label"], rec["total_frames"]) == ("hopper", -1, 10)
    assert rec["img_shape"] == rec["original_shape"] == (600, 512) and rec["fps"] == 10
    lay = get_layout(layout)
    assert rec["keypoint"].shape == (1, 10, lay.num_joints, 2)
    kp, score = rec["keypoint"][0, -1], rec["keypoint_score"][0, -1]

    def at(name: str) -> np.ndarray:
        assert score[lay.index(name)] > 0.9, name
        return kp[lay.index(name)]

    for name in ("nose", "left_eye", "right_eye"):
        assert _in_face(at(name)), (name, at(name))
    assert at("left_eye")[1] < at("nose")[1] and at("right_eye")[1] < at("nose")[1]
    # she faces the camera: her left side is on the image's right
    assert at("left_eye")[0] > at("nose")[0] > at("right_eye")[0]
    assert at("left_shoulder")[0] > 380 and at("right_shoulder")[0] < 150
    assert at("left_shoulder")[1] > FACE[3] and at("right_shoulder")[1] > FACE[3]
    if layout == "imigue36":
        for name in FACE_MESH_POINTS:
            assert _in_face(at(name)), name
        assert at("chin")[1] > at("lower_lip_bottom")[1] > at("upper_lip_top")[1]
        assert at("left_mouth_corner")[0] > at("right_mouth_corner")[0]
        assert at("neck")[1] > FACE[3]
        # her hands are below the picture: no fingertips
        assert not score[lay.index("left_hand_wrist") :].any()
    else:
        assert not score[lay.index("left_elbow") :].any()  # elbows down: outside the frame


@pytest.fixture(scope="module")
def two_people_video(tmp_path_factory) -> Path:
    """A large subject (x 30..200) leaves after 15 frames; a small person (x 240..304) stays."""
    from PIL import Image

    photo = Image.fromarray(_grace_hopper())
    frames = np.full((60, 240, 320, 3), 90, np.uint8)
    frames[:, 150:226, 240:304] = np.asarray(photo.resize((64, 76)))
    frames[:15, 20:220, 30:200] = np.asarray(photo.resize((170, 200)))
    return write_video(tmp_path_factory.mktemp("pose") / "two.mp4", frames, fps=25)


def _nose_x(rec: dict) -> np.ndarray:
    """(T,) x of the nose where it is confident, else 0."""
    return np.where(rec["keypoint_score"][0, :, 0] > 0.5, rec["keypoint"][0, :, 0, 0], 0)


def test_gate_stops_mediapipe_jumping_to_a_smaller_person(two_people_video):
    pytest.importorskip("mediapipe", reason="needs the pose extra: pip install -e '.[pose]'")
    video = two_people_video

    def nose_x(gate: SubjectGate) -> tuple[np.ndarray, dict]:
        ann = extract_pose(video, layout="coco17", gate=gate)
        rec = ann.annotations[0]
        return np.where(
            rec["keypoint_score"][0, :, 0] > 0.5, rec["keypoint"][0, :, 0, 0], 0
        ), ann.meta

    # MediaPipe alone: once the subject has gone it tracks the background person
    x, meta = nose_x(SubjectGate(max_jump=10.0))
    assert (x[:15] < 200).all() and (x[17:] > 240).all() and meta["frames_rejected"] == 0
    # the gate drops that person for `memory` frames after the subject was last seen
    x, meta = nose_x(SubjectGate(memory=20))
    assert (x[:15] < 200).all() and not x[17:35].any() and (x[36:] > 240).all()
    assert (
        meta["frames_rejected"] >= 18
        and meta["frames_with_person"] == 60 - 1 - meta["frames_rejected"]
    )
    assert meta["person"] == "mediapipe" and meta["person_switches"] == 1  # the gate let it go


def test_person_switch_is_counted_and_warned_once(tmp_path, capsys):
    """The subject leaves at frame 15 and a person of the same size (the gate lets them in)
    appears elsewhere: MediaPipe follows them, and the switch is reported."""
    pytest.importorskip("mediapipe", reason="needs the pose extra: pip install -e '.[pose]'")
    from PIL import Image

    person = np.asarray(Image.fromarray(_grace_hopper()).resize((170, 200)))
    frames = np.full((30, 240, 400, 3), 90, np.uint8)
    frames[:15, 20:220, 20:190] = person
    frames[15:, 20:220, 220:390] = person
    video = write_video(tmp_path / "swap.mp4", frames, fps=25)
    out = tmp_path / "swap.npz"
    assert main(["extract-pose", str(video), "-o", str(out), "--layout", "coco17"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "changed 1 time(s)" in warnings[0], err
    meta = load_annotations(out).meta
    assert meta["person_switches"] == 1 and 15 <= meta["switch_frames"][0] <= 17
    assert f"frame(s) {meta['switch_frames'][0]};" in warnings[0]


def test_person_option_chooses_and_follows_the_subject(two_people_video, tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="needs the pose extra: pip install -e '.[pose]'")
    out = tmp_path / "p.npz"
    args = ["extract-pose", str(two_people_video), "-o", str(out), "--layout", "coco17"]
    # a box around the small background person: followed from frame 0, the large one ignored
    assert main([*args, "--person", "235,145,75,85"]) == 0
    assert "subject (235,145,75,85): chosen at frame 0" in capsys.readouterr().out
    ann = load_annotations(out)
    x = _nose_x(ann.annotations[0])
    assert (x[x > 0] > 240).all() and (x > 0).sum() >= 50, x
    assert ann.meta["person_frame"] == 0 and ann.meta["person_switches"] == 0
    box = ann.meta["person_box"]  # x, y, w, h of the small person
    assert 235 <= box[0] <= 275 and box[0] + box[2] <= 310
    # the largest person: followed while present, then nobody (the other is someone else)
    assert main([*args, "--person", "largest", "--force"]) == 0
    x = _nose_x(load_annotations(out).annotations[0])
    assert (x[:15] > 30).all() and (x[:15] < 200).all() and not x[17:].any(), x
    # a box with nobody in it: one clear error naming the file and the frame
    assert main([*args, "--person", "0,0,20,20", "--force"]) == 2
    err = capsys.readouterr().err
    assert f"{two_people_video}: frame 0: no person overlaps the person box 0,0,20,20" in err


def test_no_person_writes_zero_scores(noise_video, tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="needs the pose extra: pip install -e '.[pose]'")
    out = tmp_path / "noise.pkl"
    assert main(["extract-pose", str(noise_video), "-o", str(out), "--layout", "coco17"]) == 0
    assert "person detected in 0%" in capsys.readouterr().out
    rec = load_annotations(out).annotations[0]
    assert rec["keypoint"].shape == (1, 10, 17, 2) and rec["img_shape"] == (120, 160)
    assert not rec["keypoint_score"].any() and not rec["keypoint"].any()
    args = ["extract-pose", str(noise_video), "-o", str(out), "--layout", "coco17", "--force"]
    assert main([*args, "--start", "0.3", "--end", "0.8"]) == 0
    rec = load_annotations(out).annotations[0]
    assert (rec["total_frames"], rec["start_frame"], rec["end_frame"]) == (5, 3, 7)
    assert main([*args, "--max-frames", "4"]) == 0
    assert load_annotations(out).annotations[0]["total_frames"] == 4
    assert main([*args, "--start", "5"]) == 2  # the clip lasts 1 s: refused before MediaPipe
    assert "noise.mp4: --start 5 s is not before the end of the video (1 s)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("content", [b"", b"\x00\x01 not a video at all" * 50])
def test_bad_video_exits_2_naming_the_file(tmp_path, capsys, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    assert main(["extract-pose", str(bad), "-o", str(tmp_path / "out.pkl")]) == 2
    err = capsys.readouterr().err
    assert "mgproto extract-pose: error:" in err and str(bad) in err
    assert not (tmp_path / "out.pkl").exists()
    assert main(["extract-pose", str(tmp_path / "gone.mp4"), "-o", str(tmp_path / "o.pkl")]) == 2
    assert "gone.mp4: video file not found" in capsys.readouterr().err


def test_missing_mediapipe_gives_the_install_hint(noise_video, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes `import mediapipe` fail
    assert main(["extract-pose", str(noise_video), "-o", str(tmp_path / "o.pkl")]) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[pose]"' in err and "numpy < 2" in err


def test_importing_mgproto_does_not_import_mediapipe():
    code = "import sys, mgproto.cli, mgproto.infer; assert 'mediapipe' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
