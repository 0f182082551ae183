"""Skeleton augmentation: rotation / shear of the joints and joint dropout."""

import numpy as np
import pytest

from mgproto.config import ConfigError, load_config
from mgproto.data.augment import (
    DropJoints,
    RandomRotateShear,
    rotation_shear_matrix,
    transform_keypoints,
)
from mgproto.data.pipelines import build_pipeline, check_3d_input

COORDS = ["data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn",
          "data.pose.layout=coco17", "data.num_classes=5", "data.pose.clip_len=8"]  # fmt: skip


def test_matrix_known_values():
    np.testing.assert_allclose(rotation_shear_matrix(90, 0) @ [1, 0], [0, 1], atol=1e-12)
    np.testing.assert_allclose(rotation_shear_matrix(0, 0.5) @ [2, 4], [4, 4])  # x += 0.5 * y
    # shear first, then rotate
    np.testing.assert_allclose(rotation_shear_matrix(90, 0.5) @ [2, 4], [-4, 4], atol=1e-12)


def test_transform_turns_about_the_centre_and_leaves_missing_joints():
    kp = np.array([[[[12.0, 10.0], [10.0, 10.0], [5.0, 7.0]]]])  # (M=1, T=1, V=3, 2)
    score = np.array([[[1.0, 1.0, 0.0]]])
    out = transform_keypoints(kp, score, rotation_shear_matrix(90, 0), np.array([10.0, 10.0]))
    np.testing.assert_allclose(out[0, 0, 0], [10, 12], atol=1e-12)
    np.testing.assert_allclose(out[0, 0, 1], [10, 10])  # the centre stays
    np.testing.assert_array_equal(out[0, 0, 2], [5, 7])  # missing: not moved
    back = transform_keypoints(out, score, rotation_shear_matrix(-90, 0), np.array([10.0, 10.0]))
    np.testing.assert_allclose(back, kp, atol=1e-12)


def _sample(rng, num_joints=17):
    kp = rng.uniform(100, 400, (1, 8, num_joints, 2))
    score = np.ones((1, 8, num_joints))
    return {"keypoint": kp, "keypoint_score": score,
            "keypoint_next": kp + 1.0, "keypoint_score_next": score.copy()}  # fmt: skip


def test_rotation_keeps_distances_and_moves_next_frames_alike():
    s = _sample(np.random.default_rng(0))
    before = {k: v.copy() for k, v in s.items()}
    out = RandomRotateShear(degrees=30, shear=0)(s, np.random.default_rng(1))
    assert not np.allclose(out["keypoint"], before["keypoint"])

    def dists(kp):
        return np.linalg.norm(kp[..., :, None, :] - kp[..., None, :, :], axis=-1)

    np.testing.assert_allclose(dists(out["keypoint"]), dists(before["keypoint"]), atol=1e-9)
    # next frame = frame + (1, 1) before; after, the same turned offset for every joint
    offset = out["keypoint_next"] - out["keypoint"]
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0, 0, 0], offset.shape))
    np.testing.assert_allclose(np.linalg.norm(offset[0, 0, 0]), np.sqrt(2))


def test_shear_changes_distances_and_zero_is_the_identity():
    s = _sample(np.random.default_rng(0))
    same = RandomRotateShear(degrees=0, shear=0)(dict(s), np.random.default_rng(1))
    np.testing.assert_allclose(same["keypoint"], s["keypoint"])
    sheared = RandomRotateShear(degrees=0, shear=0.3)(dict(s), np.random.default_rng(1))
    assert not np.allclose(sheared["keypoint"], s["keypoint"])
    with pytest.raises(ValueError, match=">= 0"):
        RandomRotateShear(degrees=-1, shear=0)


def test_drop_joints_loses_whole_joints_in_both_frame_sets_never_all():
    s = _sample(np.random.default_rng(0))
    out = DropJoints(p=0.5)(s, np.random.default_rng(2))
    lost = out["keypoint_score"][0, 0] == 0  # (V,)
    assert 0 < lost.sum() < 17
    assert (out["keypoint_score"][:, :, lost] == 0).all()  # every frame
    assert (out["keypoint_score"][:, :, ~lost] == 1).all()
    np.testing.assert_array_equal(out["keypoint_score_next"], out["keypoint_score"])
    for seed in range(20):
        nearly_all = DropJoints(p=0.999)(_sample(np.random.default_rng(0)),
                                         np.random.default_rng(seed))  # fmt: skip
        assert (nearly_all["keypoint_score"][0, 0] > 0).sum() >= 1
    with pytest.raises(ValueError, match="p must be"):
        DropJoints(p=1.0)


def test_pipeline_augments_in_training_only(make_rec):
    rec = make_rec(num_frames=30, img_shape=(480, 640))
    sample = {**rec, "img_shape": tuple(rec["img_shape"])}
    aug = load_config(None, [*COORDS, "data.pose.rotate=20", "data.pose.shear=0.2",
                             "data.pose.drop_joints=0.2"])  # fmt: skip
    plain = load_config(None, COORDS)
    for train in (True, False):
        a = build_pipeline(aug.data, train=train)(dict(sample), np.random.default_rng(3))
        b = build_pipeline(plain.data, train=train)(dict(sample), np.random.default_rng(3))
        assert np.array_equal(a["coords"], b["coords"]) is not train


def test_config_refuses_rotation_where_frames_or_heatmaps_would_not_follow():
    with pytest.raises(ConfigError, match="representation=coords"):
        load_config(None, ["data.modalities=[pose]", "data.pose.rotate=10"])  # heatmaps
    with pytest.raises(ConfigError, match="representation=coords"):
        load_config(None, ["data.pose.representation=coords", "data.pose.shear=0.1"])  # + rgb
    with pytest.raises(ConfigError, match="rotate"):
        load_config(None, [*COORDS, "data.pose.rotate=200"])
    assert load_config(None, ["data.pose.drop_joints=0.1"]).data.pose.drop_joints == 0.1
    with pytest.raises(ValueError, match="3-D keypoints take data.pose.drop_joints only"):
        check_3d_input(load_config(None, [*COORDS, "data.pose.layout=kinect20",
                                          "data.pose.rotate=10"]).data)  # fmt: skip
