"""Pose-estimator noise: known values, the statistics of each effect, determinism, file copies."""

import numpy as np
import pytest

from mgproto.data.annotations import AnnotationFile
from mgproto.data.corruption import (
    LEVELS,
    EstimatorNoise,
    corrupt_annotations,
    estimator_noise,
    person_sizes,
)


def _clip(m=1, t=400, v=17, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(100, 300, (m, t, v, 2)).astype(np.float32)  # a 200-pixel person
    kp[..., 0, :] = (100, 100)  # pin the box: exactly 200 x 200
    kp[..., 1, :] = (300, 300)
    return kp, np.ones((m, t, v), np.float32)


def test_person_sizes_ignores_missing_joints():
    kp = np.array([[[[10, 10], [50, 30], [900, 900]]]], np.float32)  # (1, 1, 3, 2)
    sc = np.array([[[1.0, 0.5, 0.0]]], np.float32)
    assert person_sizes(kp, sc).tolist() == [40.0]
    assert person_sizes(kp, np.zeros_like(sc)).tolist() == [0.0]


def test_no_noise_is_identity():
    kp, sc = _clip()
    sc[0, 3, 5] = 0  # an already missing joint is written as (0, 0), score 0
    out_kp, out_sc = estimator_noise(kp, sc, EstimatorNoise(), np.random.default_rng(0))
    keep = sc > 0
    np.testing.assert_array_equal(out_kp[keep], kp[keep])
    assert (out_sc[keep] == 1).all()
    assert out_sc[0, 3, 5] == 0 and (out_kp[0, 3, 5] == 0).all()


def test_jitter_has_the_asked_std_and_scores_fall_with_error():
    kp, sc = _clip()
    out_kp, out_sc = estimator_noise(kp, sc, EstimatorNoise(jitter=0.02), np.random.default_rng(1))
    err = out_kp.astype(np.float64) - kp
    assert err.std() == pytest.approx(0.02 * 200, rel=0.03)  # 2 % of the 200-pixel box
    dist = np.linalg.norm(err, axis=-1).ravel()
    assert np.corrcoef(dist, out_sc.ravel())[0, 1] < -0.9
    assert out_sc.min() >= 0.3 and out_sc.max() <= 1
    assert out_sc.mean() == pytest.approx(0.69, abs=0.02)


def test_dropped_joints_and_frames_have_the_asked_rates():
    kp, sc = _clip(t=2000)
    noise = EstimatorNoise(drop_joint=0.1, drop_frame=0.2)
    out_kp, out_sc = estimator_noise(kp, sc, noise, np.random.default_rng(2))
    frame_lost = (out_sc == 0).all(-1)  # (M, T)
    assert frame_lost.mean() == pytest.approx(0.2 + 0.8 * 0.1**17, abs=0.025)
    joint_lost = out_sc[~frame_lost] == 0
    assert joint_lost.mean() == pytest.approx(0.1, abs=0.01)
    assert (out_kp[out_sc == 0] == 0).all()


def test_same_seed_same_output_and_bad_input():
    kp, sc = _clip(t=20)
    a = estimator_noise(kp, sc, LEVELS["strong"], np.random.default_rng(5))
    b = estimator_noise(kp, sc, LEVELS["strong"], np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match=r"\(M, T, V, 2\)"):
        estimator_noise(kp[..., :1], sc, LEVELS["mild"], np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not match"):
        estimator_noise(kp, sc[:, :5], LEVELS["mild"], np.random.default_rng(0))
    with pytest.raises(ValueError, match="drop_joint"):
        EstimatorNoise(drop_joint=1.0)
    with pytest.raises(ValueError, match="jitter"):
        EstimatorNoise(jitter=float("nan"))


def test_corrupt_annotations_copies_and_records_what_it_did():
    kp, _ = _clip(t=10)
    recs = [
        {"frame_dir": "a", "label": 0, "keypoint": kp, "keypoint_score": np.ones((1, 10, 17))},
        {"frame_dir": "b", "label": 1, "keypoint": kp.copy()},  # no scores: all present
    ]
    ann = AnnotationFile(recs, {"train": ["a", "b"]}, {"layout": "coco17"})
    out = corrupt_annotations(ann, LEVELS["mild"], seed=3)
    assert out.meta["layout"] == "coco17" and out.meta["noise"]["seed"] == 3
    assert out.split == ann.split and "noise" not in ann.meta
    np.testing.assert_array_equal(ann.annotations[0]["keypoint"], kp)  # input untouched
    assert not np.array_equal(out.annotations[0]["keypoint"], kp)
    assert out.annotations[1]["keypoint_score"].shape == (1, 10, 17)
    again = corrupt_annotations(ann, LEVELS["mild"], seed=3)
    np.testing.assert_array_equal(again.annotations[1]["keypoint"], out.annotations[1]["keypoint"])
    three_d = AnnotationFile([{"frame_dir": "c", "label": 0, "keypoint": np.zeros((1, 4, 17, 3))}])
    with pytest.raises(ValueError, match=r"record 0 \('c'\).*2-D"):
        corrupt_annotations(three_d, LEVELS["mild"], seed=0)
