import math
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mgproto.data.heatmaps import flip_heatmaps, joint_heatmaps, limb_heatmaps, pose_heatmaps
from mgproto.data.layouts import get_layout
from mgproto.data.pipelines import channel_flip_index


def _one(x, y, v=1.0):
    return np.array([[[[x, y]]]], np.float32), np.array([[[v]]], np.float32)


def test_joint_values_hand_computed():
    kp, v = _one(5.0, 4.0, 0.8)
    maps = joint_heatmaps(kp, v, size=(10, 12), sigma=0.6)[0, 0]
    assert maps.shape == (10, 12)
    assert maps[4, 5] == pytest.approx(0.8)
    assert maps[4, 6] == pytest.approx(0.8 * math.exp(-1 / 0.72), rel=1e-6)
    assert maps[5, 6] == pytest.approx(0.8 * math.exp(-2 / 0.72), rel=1e-6)
    # windows x: [trunc(5 - 1.8), trunc(5 + 1.8) + 1) = [3, 7), y: [2, 6); nothing outside
    assert maps[4, 3] > 0 and maps[4, 7] == 0 and maps[2, 5] > 0 and maps[6, 5] == 0
    assert np.count_nonzero(maps) == 16


def test_peak_lands_on_joint():
    rng = np.random.default_rng(0)
    kp = rng.integers(3, 50, (1, 6, 17, 2)).astype(np.float32)
    score = np.ones((1, 6, 17), np.float32)
    maps = joint_heatmaps(kp, score, size=(56, 56), sigma=0.6)  # (V, T, H, W)
    for t in range(6):
        for j in range(17):
            y, x = np.unravel_index(maps[j, t].argmax(), (56, 56))
            assert (x, y) == tuple(kp[0, t, j].astype(int))


def test_max_over_persons_and_threshold():
    kp = np.array([[[[5, 5]]], [[[6, 5]]]], np.float32)
    score = np.array([[[0.5]], [[1.0]]], np.float32)
    maps = joint_heatmaps(kp, score, size=(10, 10), sigma=1.0)[0, 0]
    assert maps[5, 5] == pytest.approx(max(0.5, math.exp(-0.5)))
    assert maps[5, 6] == pytest.approx(1.0)
    low = joint_heatmaps(kp, score * 1e-5, size=(10, 10), sigma=1.0)
    assert not low.any()


def test_limb_values_hand_computed():
    kp = np.array([[[[2, 5], [8, 5]]]], np.float32)
    score = np.array([[[0.9, 0.6]]], np.float32)
    maps = limb_heatmaps(kp, score, [(0, 1)], size=(10, 14), sigma=1.0)[0, 0]
    assert maps[5, 2:9] == pytest.approx(np.full(7, 0.6))  # on the segment: min score
    assert maps[6, 5] == pytest.approx(0.6 * math.exp(-0.5))  # 1 px from the line
    assert maps[5, 9] == pytest.approx(0.6 * math.exp(-0.5))  # 1 px beyond the end b
    assert maps[6, 1] == pytest.approx(0.6 * math.exp(-1.0))  # sqrt(2) px from a
    # window x: [max(trunc(2 - 3), 0), trunc(8 + 3) + 1) = [0, 12)
    assert maps[5, 0] > 0 and maps[5, 11] == pytest.approx(0.6 * math.exp(-4.5))
    assert maps[5, 12] == 0
    assert maps[1, 5] == 0  # 4 px away: outside the 3-sigma box


def test_short_limb_draws_first_joint():
    kp = np.array([[[[4, 4], [4.5, 4]]]], np.float32)
    score = np.array([[[0.7, 0.9]]], np.float32)
    maps = limb_heatmaps(kp, score, [(0, 1)], size=(9, 9), sigma=0.6)[0, 0]
    expected = joint_heatmaps(kp[:, :, :1], score[:, :, :1], size=(9, 9), sigma=0.6)[0, 0]
    np.testing.assert_allclose(maps, expected)


def test_pose_heatmaps_channels_and_scaling():
    layout = get_layout("coco17")
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, 224, (2, 4, 17, 2)).astype(np.float32)
    score = rng.uniform(0, 1, (2, 4, 17)).astype(np.float32)
    both = pose_heatmaps(
        kp, score, img_shape=(224, 224), sigma=0.7, scaling=0.25, limbs=layout.limbs
    )
    assert both.shape == (17 + 17, 4, 56, 56) and both.dtype == np.float32
    joints = pose_heatmaps(kp / 4, score, img_shape=(56, 56), sigma=0.7)
    np.testing.assert_allclose(both[:17], joints, atol=1e-6)
    unscored = pose_heatmaps(kp, None, img_shape=(224, 224), sigma=0.7, scaling=0.25)
    assert 0.95 < unscored.max() <= 1
    with pytest.raises(ValueError, match="joints, limbs or both"):
        pose_heatmaps(kp, score, img_shape=(224, 224), sigma=0.7, with_joints=False)


@pytest.mark.parametrize("with_limbs", [False, True])
def test_flip_view_equals_heatmaps_of_flipped_keypoints(with_limbs):
    layout = get_layout("coco17")
    rng = np.random.default_rng(2)
    kp = rng.uniform(2, 60, (1, 3, 17, 2)).astype(np.float32)
    score = rng.uniform(0.2, 1, (1, 3, 17)).astype(np.float32)
    limbs = layout.limbs if with_limbs else None
    maps = pose_heatmaps(kp, score, img_shape=(64, 64), sigma=0.6, limbs=limbs)
    flip_kp = kp[:, :, layout.flip_index].copy()
    flip_kp[..., 0] = 63 - flip_kp[..., 0]
    expected = pose_heatmaps(
        flip_kp, score[:, :, layout.flip_index], img_shape=(64, 64), sigma=0.6, limbs=limbs
    )
    idx = channel_flip_index(layout, with_joints=True, with_limbs=with_limbs)
    # equal up to the window edges, which truncate towards zero on both sides
    flipped = flip_heatmaps(maps, idx)
    assert np.abs(flipped - expected).max() < 0.05
    np.testing.assert_array_equal(flip_heatmaps(flipped, idx), maps)  # flip twice = identity


# ---- parity with MMAction2's GeneratePoseTarget (opt-in: needs the oracle environment) --------

ORACLE = os.environ.get("MGPROTO_ORACLE_PYTHON")
SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "oracle_heatmaps.py"


@pytest.mark.oracle
@pytest.mark.skipif(
    not ORACLE,
    reason="set MGPROTO_ORACLE_PYTHON to an interpreter with "
    "MMAction2 (`make oracle`, docs/oracle.md)",
)
def test_parity_with_mmaction2(tmp_path):
    layout = get_layout("coco17")
    rng = np.random.default_rng(0)
    cases = []
    for persons in (1, 2):
        for with_kp in (True, False):
            for img, sigma, scaling in (((56, 56), 0.6, 1.0), ((224, 224), 0.7, 0.25)):
                kp = rng.uniform(-10, img[1] + 10, (persons, 8, 17, 2)).astype(np.float32)
                kp[0, 0, 1] = kp[0, 0, 0] + 0.2  # a limb shorter than one pixel
                score = rng.uniform(0, 1, (persons, 8, 17)).astype(np.float32)
                score[score < 0.1] = 0
                cases.append(
                    {
                        "keypoint": kp,
                        "keypoint_score": score,
                        "img_shape": img,
                        "sigma": sigma,
                        "with_kp": with_kp,
                        "with_limb": not with_kp,
                        "skeletons": [list(x) for x in layout.limbs],
                        "scaling": scaling,
                    }
                )
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    subprocess.run(
        [ORACLE, str(SCRIPT), str(tmp_path / "cases.pkl"), str(tmp_path / "out.pkl")], check=True
    )
    refs = pickle.loads((tmp_path / "out.pkl").read_bytes())
    for case, ref in zip(cases, refs):
        ours = pose_heatmaps(
            case["keypoint"],
            case["keypoint_score"],
            img_shape=case["img_shape"],
            sigma=case["sigma"],
            scaling=case["scaling"],
            with_joints=case["with_kp"],
            limbs=layout.limbs if case["with_limb"] else None,
        )
        assert ours.shape == ref["heatmaps"].shape
        assert np.abs(ours - ref["heatmaps"]).max() < 1e-5
