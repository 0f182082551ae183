"""preview-pose sheets: sides read from joint names, colours by side, and the video overlay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex

from mgproto.data.layouts import LAYOUTS, Layout, get_layout
from mgproto.data.video import VideoError, write_video
from mgproto.report.pose_preview import (
    SIDE_COLOURS,
    joint_sides,
    limb_sides,
    pose_preview_figure,
    render_pose_preview,
)

COCO = get_layout("coco17")
VIDEO_SHAPE = (48, 64)  # (H, W); the records' keypoints refer to twice that
NUM_VIDEO_FRAMES = 40


def _level(frame: int) -> int:
    """Grey level of video frame ``frame``: each frame of the test video is identifiable."""
    return 5 * frame


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory) -> Path:
    frames = np.zeros((NUM_VIDEO_FRAMES, *VIDEO_SHAPE, 3), np.uint8)
    for i in range(NUM_VIDEO_FRAMES):
        frames[i] = _level(i)
    return write_video(tmp_path_factory.mktemp("preview") / "long.mp4", frames, fps=25)


def _record(start_frame: int, num_frames: int = 20) -> dict:
    """A coco17 clip of a long video; keypoints in a (96, 128) frame, the left wrist missing."""
    rng = np.random.default_rng(0)
    kp = rng.uniform(10, 90, (1, num_frames, 17, 2)).astype(np.float32)
    score = np.full((1, num_frames, 17), 0.9, np.float32)
    score[:, :, COCO.index("left_wrist")] = 0
    kp[:, :, COCO.index("left_wrist")] = 0
    return {
        "frame_dir": "clip_a",
        "label": 0,
        "img_shape": (96, 128),
        "total_frames": num_frames,
        "keypoint": kp,
        "keypoint_score": score,
        "start_frame": start_frame,
    }


def _limb_colour(ax, ends: np.ndarray) -> str:
    """Colour of the one limb drawn on ``ax`` from ``ends[0]`` to ``ends[1]`` ((2, 2) x, y)."""
    (line,) = [ln for ln in ax.lines if np.allclose(ln.get_xydata(), ends, atol=1e-3)]
    return to_hex(line.get_color())


def test_joint_sides_from_names():
    sides = dict(zip(COCO.joints, joint_sides(COCO), strict=True))
    assert sides["nose"] == "centre"
    assert sides["left_elbow"] == "left" and sides["right_ankle"] == "right"
    mp = dict(zip(LAYOUTS["mediapipe33"].joints, joint_sides(LAYOUTS["mediapipe33"]), strict=True))
    assert mp["mouth_left"] == "left" and mp["right_eye_inner"] == "right"
    short = Layout("short", ("head", "l_hand", "r_hand", "neck"), ((0, 1), (0, 2), (1, 2)))
    assert joint_sides(short) == ("centre", "left", "right", "centre")
    assert limb_sides(short) == ("left", "right", "centre")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_sides_agree_with_the_flip_pairs(name):
    """Names and flip pairs tell the same story: twins have opposite sides, the rest none."""
    lay = LAYOUTS[name]
    sides = joint_sides(lay)
    for i, j in enumerate(lay.flip_index):
        expected = {"centre"} if i == j else {"left", "right"}
        assert {sides[i], sides[int(j)]} == expected, (lay.joints[i], lay.joints[int(j)])


def test_limb_sides_coco17():
    limbs = dict(zip(COCO.limbs, limb_sides(COCO), strict=True))
    assert limbs[(5, 7)] == "left" and limbs[(6, 8)] == "right"  # upper arms
    assert limbs[(0, 1)] == "left"  # nose to left eye
    assert limbs[(11, 12)] == "centre"  # hip to hip


def test_heatmap_sheet_colours_the_sides(make_rec):
    fig = pose_preview_figure([make_rec("a", num_frames=8)], layout="coco17", num_frames=2)
    colours = {to_hex(line.get_color()) for line in fig.axes[0].lines}
    assert colours == {SIDE_COLOURS["left"], SIDE_COLOURS["right"], SIDE_COLOURS["centre"]}
    assert fig.axes[0].images  # the heatmaps are still the background


def test_video_sheet_reads_the_clip_frames_of_a_long_video(numbered_video):
    rec = _record(start_frame=7)
    fig = pose_preview_figure([rec], layout="coco17", num_frames=4, video=numbered_video)
    t_idx = [0, 6, 13, 19]  # 4 evenly spaced frames of 20
    for ax, t in zip(fig.axes[:4], t_idx, strict=True):
        image = ax.images[0].get_array()
        assert image.shape == (*VIDEO_SHAPE, 3)
        assert abs(float(image.mean()) - _level(7 + t)) < 3, (t, image.mean())
        assert ax.get_title() == f"frame {7 + t}"
    # limbs in the video's pixels (keypoints halved), coloured by side
    ax, t = fig.axes[1], 6
    kp = rec["keypoint"][0, t] / 2
    assert _limb_colour(ax, kp[[5, 7]]) == SIDE_COLOURS["left"]  # upper arms
    assert _limb_colour(ax, kp[[6, 8]]) == SIDE_COLOURS["right"]
    assert _limb_colour(ax, kp[[11, 12]]) == SIDE_COLOURS["centre"]  # hip to hip
    # the missing left wrist: no limb ends there and no dot is drawn for it
    assert len(ax.lines) == len(COCO.limbs) - 1  # (7, 9) left elbow - left wrist
    dots = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(dots) == 16 and not np.isclose(dots, kp[9]).all(axis=1).any()


def test_video_sheet_errors_name_the_file(numbered_video, tmp_path):
    rec = _record(start_frame=30)  # frames 30..49 of a 40-frame video
    with pytest.raises(VideoError) as err:
        render_pose_preview([rec], tmp_path / "s.png", layout="coco17", video=numbered_video)
    message = str(err.value)
    assert message.startswith(str(numbered_video)) and "\n" not in message
    assert "clip 'clip_a' covers video frames 30..49" in message
    assert not (tmp_path / "s.png").exists()
    with pytest.raises(VideoError, match="gone.mp4: video file not found"):
        render_pose_preview([rec], tmp_path / "s.png", layout="coco17", video=tmp_path / "gone.mp4")
