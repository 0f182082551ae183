import numpy as np
import pytest

from mgproto.data.coords3d import (
    Flip3D,
    PreNormalize3D,
    flip_keypoints_3d,
    normalization_joints,
    prenormalize_3d,
)
from mgproto.data.layouts import get_layout

K20 = get_layout("kinect20")
JOINTS = normalization_joints(K20)  # hip_center, spine, right_shoulder, left_shoulder


def canonical_body(rng: np.random.Generator) -> np.ndarray:
    """(20, 3) kinect20 joints already in the body frame: spine at 0, hip below on z, right
    shoulder at +x, left at -x (both in the x-z plane); the other joints anywhere."""
    body = rng.normal(0, 0.3, (20, 3))
    body[0] = (0, 0, -0.3)  # hip_center
    body[1] = (0, 0, 0)  # spine
    body[8] = (0.2, 0, 0.25)  # right_shoulder
    body[4] = (-0.2, 0, 0.25)  # left_shoulder
    return body


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_joints_are_found_by_name():
    assert JOINTS == (0, 1, 8, 4)
    assert normalization_joints(get_layout("kinect25")) == (0, 1, 8, 4)  # NTU: 0->1, 8->4
    with pytest.raises(ValueError, match=r"layout 'coco17' has no joint 'spine_base / hip_center'"):
        normalization_joints(get_layout("coco17"))


def test_hand_computed_camera_skeleton():
    # camera frame: spine at (1, 2, 3), hip 0.5 m below (y up), right shoulder on the camera's
    # left (the subject faces the camera). Body axes: z = +y_cam, x = -x_cam, y = z x x = +z_cam.
    kp = np.zeros((1, 1, 20, 3))
    kp[0, 0, 1] = (1, 2, 3)
    kp[0, 0, 0] = (1, 1.5, 3)
    kp[0, 0, 8] = (0.8, 2.2, 3)
    kp[0, 0, 4] = (1.2, 2.2, 3)
    kp[0, 0, 3] = (1, 2, 4)  # "head" 1 m further from the camera than the spine
    score = np.zeros((1, 1, 20))
    score[0, 0, [0, 1, 3, 4, 8]] = 1
    out = prenormalize_3d(kp, score, JOINTS)
    np.testing.assert_allclose(out[0, 0, 1], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0], [0, 0, -0.5], atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 8], [0.2, 0, 0.2], atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 4], [-0.2, 0, 0.2], atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 3], [0, 1, 0], atol=1e-6)
    assert out.dtype == np.float32


def test_rotated_and_moved_skeleton_returns_to_the_canonical_pose():
    rng = np.random.default_rng(0)
    frames = np.stack([canonical_body(rng) for _ in range(5)])  # (T, V, 3), frame 0 canonical
    frames[1:] += rng.normal(0, 0.2, (4, 1, 3))  # later frames move
    rot, shift = random_rotation(rng), np.array([0.3, -1.0, 2.5])
    kp = (frames @ rot.T + shift)[None]  # (1, T, V, 3) in some camera frame
    out = prenormalize_3d(kp, np.ones((1, 5, 20)), JOINTS)
    np.testing.assert_allclose(out[0], frames, atol=1e-5)  # every frame, with one transform


def test_idempotent_and_invalid_joints_stay_zero():
    rng = np.random.default_rng(1)
    kp = rng.normal(0, 1, (2, 6, 20, 3)) + np.array([0, 0, 3])
    score = np.ones((2, 6, 20))
    score[0, 0, 1] = 0  # person 0's spine is missing in frame 0: frame 1 is the reference
    score[1, 2:, 5] = 0
    kp[1, 2:, 5] = 7.0  # garbage under score 0
    once = prenormalize_3d(kp, score, JOINTS)
    assert np.all(once[0, 0, 1] == 0) and np.all(once[1, 2:, 5] == 0)
    np.testing.assert_allclose(once[0, 1, 1], 0, atol=1e-6)  # reference spine at the origin
    np.testing.assert_allclose(prenormalize_3d(once, score, JOINTS), once, atol=1e-5)
    # distances within and between persons are kept (one rigid transform for all)
    a, b = kp[0, 3, 2] - kp[1, 4, 7], once[0, 3, 2] - once[1, 4, 7]
    np.testing.assert_allclose(np.linalg.norm(a), np.linalg.norm(b), rtol=1e-5)


def test_without_a_valid_body_nothing_moves():
    kp = np.arange(1 * 2 * 20 * 3, dtype=np.float64).reshape(1, 2, 20, 3)
    score = np.ones((1, 2, 20))
    score[..., 8] = 0  # no right shoulder anywhere
    out = prenormalize_3d(kp, score, JOINTS)
    np.testing.assert_array_equal(out[..., 8, :], 0)
    np.testing.assert_allclose(np.delete(out, 8, axis=2), np.delete(kp, 8, axis=2))
    with pytest.raises(ValueError, match=r"\(M, T, V, 3\)"):
        prenormalize_3d(kp[..., :2], score, JOINTS)


def test_flip_negates_x_swaps_sides_and_twice_is_identity():
    rng = np.random.default_rng(2)
    kp = canonical_body(rng)[None, None].astype(np.float32)
    score = np.ones((1, 1, 20), np.float32)
    score[0, 0, 7] = 0  # left hand missing
    kp[0, 0, 7] = 0
    flipped, fscore = flip_keypoints_3d(kp, score, K20.flip_index)
    # the new right shoulder is the mirrored left one: still at +x, the canonical pose
    np.testing.assert_allclose(flipped[0, 0, 8], [0.2, 0, 0.25])
    np.testing.assert_allclose(flipped[0, 0, 5], kp[0, 0, 9] * [-1, 1, 1])  # elbows swap
    assert fscore[0, 0, 11] == 0 and np.all(flipped[0, 0, 11] == 0)  # right hand <- left
    back, bscore = flip_keypoints_3d(flipped, fscore, K20.flip_index)
    np.testing.assert_array_equal(back, kp)
    np.testing.assert_array_equal(bscore, score)


def test_transforms_use_the_functions():
    rng = np.random.default_rng(3)
    kp = (canonical_body(rng) @ random_rotation(rng).T + 1)[None, None]
    sample = {"keypoint": kp, "keypoint_score": np.ones((1, 1, 20))}
    out = PreNormalize3D(joints=JOINTS)(dict(sample), rng)
    np.testing.assert_allclose(out["keypoint"][0, 0, 1], 0, atol=1e-6)
    assert sample["keypoint"] is kp  # the record's array is not changed in place
    never = Flip3D(flip_index=K20.flip_index, flip_ratio=0.0)(dict(out), rng)
    always = Flip3D(flip_index=K20.flip_index, flip_ratio=1.0)(dict(out), rng)
    assert not never["flipped"] and always["flipped"]
    np.testing.assert_allclose(always["keypoint"][0, 0, 4, 0], -out["keypoint"][0, 0, 8, 0])
