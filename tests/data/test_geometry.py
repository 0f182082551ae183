import numpy as np
import pytest

from mgproto.data import geometry as G
from mgproto.data.layouts import get_layout


def _kp():
    kp = np.array([[[[10, 20], [30, 60], [0, 0]]]], np.float32)  # (1, 1, 3, 2)
    score = np.array([[[1.0, 0.5, 0.0]]], np.float32)  # the third joint is missing
    return kp, score


def test_compact_box_hand_computed():
    kp, score = _kp()
    # joints span x 10..30, y 20..60: centre (20, 40), half (10, 20) * 1.25 -> square 25 x 25
    assert G.compact_box(kp, score, (100, 100)) == (-5, 15, 45, 65)
    assert G.compact_box(kp, score, (100, 100), hw_ratio=None) == (7, 15, 32, 65)
    assert G.compact_box(kp, score, (100, 100), allow_imgpad=False) == (0, 15, 45, 65)
    assert G.compact_box(kp, score, (100, 100), threshold=30) == (0, 0, 100, 100)
    assert G.compact_box(kp, score * 0, (100, 120)) == (0, 0, 120, 100)


def test_crop_and_resize_keep_missing_joints_at_zero():
    kp, score = _kp()
    crop = G.crop_keypoints(kp, score, (-5, 15, 45, 65))
    assert crop[0, 0].tolist() == [[15, 5], [35, 45], [0, 0]]
    res = G.resize_keypoints(crop, score, (50, 50), (100, 25))
    assert res[0, 0].tolist() == [[7.5, 10], [17.5, 90], [0, 0]]


def test_flip_twice_is_identity_and_swaps_sides():
    layout = get_layout("coco17")
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 63, (2, 4, 17, 2)).astype(np.float32)
    score = rng.uniform(0, 1, (2, 4, 17)).astype(np.float32)
    score[0, 0, 3] = 0
    kp[0, 0, 3] = 0
    f_kp, f_score = G.flip_keypoints(kp, score, 64, layout.flip_index)
    assert f_kp[0, 1, 1, 0] == 63 - kp[0, 1, 2, 0]  # left eye <- mirrored right eye
    assert f_score[0, 1, 1] == score[0, 1, 2]
    assert np.all(f_kp[0, 0, 4] == 0)  # missing left ear stays missing as right ear
    b_kp, b_score = G.flip_keypoints(f_kp, f_score, 64, layout.flip_index)
    np.testing.assert_allclose(b_kp, kp, atol=1e-5)
    np.testing.assert_array_equal(b_score, score)


def test_random_resized_crop_box_bounds():
    rng = np.random.default_rng(0)
    for _ in range(200):
        x0, y0, x1, y1 = G.random_resized_crop_box((64, 80), rng)
        assert 0 <= x0 < x1 <= 80 and 0 <= y0 < y1 <= 64
        assert (x1 - x0) * (y1 - y0) >= 0.5 * 64 * 80
        assert 3 / 4 - 0.05 <= (x1 - x0) / (y1 - y0) <= 4 / 3 + 0.05
    assert G.random_resized_crop_box((10, 20), rng, area_range=(5, 5)) == (5, 0, 15, 10)


def test_resized_shape():
    assert G.resized_shape((100, 200), (-1, 64)) == (64, 128)
    assert G.resized_shape((100, 200), (56, 56)) == (56, 56)


def test_frames_crop_pad_resize_flip():
    frames = np.arange(2 * 4 * 6 * 3, dtype=np.uint8).reshape(2, 4, 6, 3)
    crop = G.crop_frames(frames, (-1, 1, 3, 5))
    assert crop.shape == (2, 4, 4, 3)
    assert np.all(crop[:, :, 0] == 0) and np.all(crop[:, 3] == 0)  # padding
    np.testing.assert_array_equal(crop[:, :3, 1:], frames[:, 1:4, 0:3])
    assert G.resize_frames(frames, (8, 12)).shape == (2, 8, 12, 3)
    const = np.full((1, 4, 4, 3), 77, np.uint8)
    assert np.all(G.resize_frames(const, (7, 9)) == 77)
    flipped = G.flip_frames(frames)
    np.testing.assert_array_equal(flipped[:, :, 0], frames[:, :, 5])
    np.testing.assert_array_equal(G.flip_frames(flipped), frames)


@pytest.mark.parametrize("width", [56, 64])
def test_keypoint_flip_matches_frame_flip(width):
    frames = np.zeros((1, 8, width, 3), np.uint8)
    frames[0, 3, 10] = 255
    kp = np.array([[[[10, 3]]]], np.float32)
    f_kp, _ = G.flip_keypoints(kp, np.ones((1, 1, 1), np.float32), width, np.array([0]))
    x, y = f_kp[0, 0, 0].astype(int)
    assert G.flip_frames(frames)[0, y, x, 0] == 255
