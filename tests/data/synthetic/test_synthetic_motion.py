"""Keypoints of synthetic clips: shapes, determinism, detector model, pose-identical pairs."""

import numpy as np
import pytest

from mgproto.data.synthetic.classes import NUM_CLASSES
from mgproto.data.synthetic.keypoints import synthesize_clip
from mgproto.data.synthetic.subjects import sample_subject

SEED = 11
SUBJECTS = [sample_subject(seed=SEED, subject_id=s) for s in range(10)]
NOSE, WRISTS = 0, [4, 7]
TIPS = {0: list(range(17, 22)), 1: list(range(12, 17))}  # imigue22: 17-21 right, 12-16 left


def clip(label, index, *, subject=None, frames=40, size=128, seed=SEED):
    subject = subject or SUBJECTS[index % len(SUBJECTS)]
    return synthesize_clip(seed=seed, subject=subject, clip_index=index, label=label,
                           num_frames=frames, frame_size=size)  # fmt: skip


def observed(c):
    """(T, V, 2) keypoints with dropped joints as NaN."""
    kp = c.keypoint.astype(np.float64).copy()
    kp[c.keypoint_score == 0] = np.nan
    return kp


@pytest.mark.parametrize("label", range(NUM_CLASSES))
def test_shapes_ranges_and_determinism(label):
    c = clip(label, 3, frames=37, size=64)
    assert c.keypoint.shape == (37, 22, 2) and c.keypoint.dtype == np.float32
    assert c.keypoint_score.shape == (37, 22) and c.keypoint_score.dtype == np.float32
    assert c.clean.shape == (37, 22, 2) and c.jitter.shape == (37, 2)
    dropped = c.keypoint_score == 0
    assert np.all(c.keypoint[dropped] == 0)  # a dropped joint has coordinates 0
    body = np.delete(c.keypoint_score, [0, 8, 9, 10, 11], axis=1)  # face joints may be occluded
    assert body[body > 0].min() >= 0.55 and c.keypoint_score.max() <= 1.0
    assert c.keypoint_score[~dropped].min() >= 0.3  # a hand over the face lowers its scores
    assert np.all((c.keypoint[~dropped] >= 0) & (c.keypoint[~dropped] <= 63))
    again = clip(label, 3, frames=37, size=64)
    assert np.array_equal(c.keypoint, again.keypoint)
    assert np.array_equal(c.keypoint_score, again.keypoint_score)
    other = clip(label, 3, frames=37, size=64, seed=SEED + 1)
    assert not np.array_equal(c.keypoint, other.keypoint)


def test_observation_is_clean_plus_camera_plus_small_noise():
    c = clip(14, 5)
    ok = c.keypoint_score > 0
    err = (c.keypoint - (c.clean + c.jitter[:, None]))[ok]
    assert np.abs(err).max() < 5 and 0.05 < np.abs(err).mean() < 1.5
    assert c.jitter.dtype == np.int64  # whole pixels: frames shift by exactly the same amount


def test_drops_happen_but_are_rare():
    scores = np.concatenate([clip(k % NUM_CLASSES, k).keypoint_score.ravel() for k in range(60)])
    rate = np.mean(scores == 0)
    assert 0.002 < rate < 0.1


@pytest.mark.parametrize("cued,twin", [(6, 5), (13, 12)])
def test_pose_identical_pairs_give_identical_keypoints(cued, twin):
    for index in range(20):
        a, b = clip(cued, index), clip(twin, index)
        assert np.array_equal(a.keypoint, b.keypoint)
        assert np.array_equal(a.keypoint_score, b.keypoint_score)


def ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov distance."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return np.abs(np.searchsorted(a, grid, "right") / len(a)
                  - np.searchsorted(b, grid, "right") / len(b)).max()  # fmt: skip


def hand_stats(c):
    """Per clip: wrist travel, mean wrist distance, spread of fingertips, highest fingertip."""
    kp = observed(c) / 128.0
    wrist = kp[:, WRISTS]
    travel = np.nanmax(np.linalg.norm(wrist - np.nanmedian(wrist, axis=0), axis=-1))
    gap = np.nanmean(np.linalg.norm(wrist[:, 0] - wrist[:, 1], axis=-1))
    tips = kp[:, TIPS[0] + TIPS[1]]
    spread = np.nanmean(np.nanstd(tips, axis=1))
    top = np.nanmin(tips[..., 1] - kp[:, None, NOSE, 1])
    return np.array([travel, gap, spread, top])


def pair_distances(label_a, label_b, n=160):
    a = np.array([hand_stats(clip(label_a, i)) for i in range(n)])
    b = np.array([hand_stats(clip(label_b, 5000 + i)) for i in range(n)])
    return np.array([ks_statistic(a[:, j], b[:, j]) for j in range(a.shape[1])])


def test_pose_identical_pairs_have_matching_statistics_over_clips():
    critical = 1.95 * np.sqrt(2 / 160)  # KS two-sample, alpha = 0.001
    for cued, twin in ((6, 5), (13, 12)):
        assert np.all(pair_distances(cued, twin) < critical), (cued, twin)
    # the same statistics separate classes whose hands stop in different places
    assert pair_distances(0, 3)[3] > 0.9  # chin vs forehead: highest fingertip
    assert pair_distances(5, 7).max() > 0.5  # rub hand vs cross finger
    assert pair_distances(12, 0).max() > 0.9  # breath vs touch chin


def test_one_handed_gestures_use_the_dominant_hand_and_mirror():
    lefty = next(s for s in (sample_subject(seed=SEED, subject_id=i) for i in range(100))
                 if s.handedness == "left")  # fmt: skip
    righty = next(s for s in SUBJECTS if s.handedness == "right")
    for subject, dominant in ((lefty, 1), (righty, 0)):
        clips = [clip(1, i, subject=subject) for i in range(60)]  # touch cheek
        hands = np.array([c.hand for c in clips])
        assert 0.65 < np.mean(hands == dominant) < 0.95  # mostly, not always, the dominant hand
        for c in clips:  # the hand touches the cheek on its own side of the face
            t = int(np.argmax(c.cue))
            dx = c.clean[t, TIPS[c.hand], 0].mean() - c.clean[t, NOSE, 0]
            assert np.sign(dx) == (-1 if c.hand == 0 else 1)


def test_touch_targets_are_a_few_pixels_apart():
    def contact(label):
        out = []
        for i in range(40):
            c = clip(label, i, size=128)
            t = int(np.argmax(c.cue))
            side = -1 if c.hand == 0 else 1
            d = c.clean[t, TIPS[c.hand][1:3]].mean(0) - c.clean[t, NOSE]
            out.append([side * d[0], d[1]])
        return np.mean(out, axis=0)

    chin, cheek, ear = contact(0), contact(1), contact(2)
    for a, b in ((chin, cheek), (cheek, ear), (chin, ear)):
        assert 3.0 < np.linalg.norm(a - b) < 18.0  # pixels at 128x128
