"""Normalised coordinates: known values, invariances, flips, and the coords pipeline."""

import numpy as np
import pytest

from mgproto.config import load_config
from mgproto.data.coords import PoseCoords, flip_coords, normalize_coords
from mgproto.data.layouts import get_layout
from mgproto.data.pipelines import build_pipeline


def test_normalize_known_values_and_missing_joints():
    kp = np.array([[[[10, 20], [30, 20], [20, 60], [999, 999]]]], np.float32)  # (1, 1, 4, 2)
    sc = np.array([[[1.0, 1.0, 0.5, 0.0]]], np.float32)
    out = normalize_coords(kp, sc)
    # valid joints: box 20 x 40 -> scale 40; mean (20, 33.33)
    np.testing.assert_allclose(out[0, 0, 0, :2], [(10 - 20) / 40, (20 - 100 / 3) / 40], atol=1e-6)
    np.testing.assert_allclose(out[0, 0, :, 2], [1, 1, 0.5, 0])
    assert (out[0, 0, 3] == 0).all()  # a missing joint stays zero, score 0


def test_normalize_ignores_frame_size_translation_and_scale():
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, (2, 8, 17, 2)).astype(np.float32)
    sc = np.ones((2, 8, 17), np.float32)
    moved = kp * 3.5 + np.array([400, -70], np.float32)
    np.testing.assert_allclose(normalize_coords(kp, sc), normalize_coords(moved, sc), atol=1e-5)


def test_normalize_nan_and_empty():
    kp = np.full((1, 3, 5, 2), np.nan, np.float32)
    sc = np.ones((1, 3, 5), np.float32)
    assert (normalize_coords(kp, sc) == 0).all()
    kp[0, 1, 2] = [5, 5]
    out = normalize_coords(kp, sc)
    assert np.isfinite(out).all() and out[0, 1, 2, 2] == 1 and out[..., 2].sum() == 1


def test_flip_twice_is_identity_and_swaps_sides():
    layout = get_layout("coco17")
    rng = np.random.default_rng(1)
    c = normalize_coords(rng.uniform(0, 50, (1, 4, 17, 2)), np.ones((1, 4, 17)))
    f = flip_coords(c, layout.flip_index)
    np.testing.assert_allclose(flip_coords(f, layout.flip_index), c)
    np.testing.assert_allclose(f[..., 1, 0], -c[..., 2, 0])  # left eye <- -right eye


def test_pose_coords_pads_persons_and_appends_flip():
    t = PoseCoords(max_persons=2, flip_index=get_layout("coco17").flip_index, flip_test=True)
    sample = {
        "keypoint": np.random.default_rng(0).uniform(0, 9, (1, 12, 17, 2)),
        "keypoint_score": np.ones((1, 12, 17)),
        "num_clips": 3,
    }
    out = t(sample, np.random.default_rng(0))["coords"]
    assert out.shape == (6, 2, 4, 17, 3) and out.dtype == np.float32
    assert (out[:, 1] == 0).all()
    flip = get_layout("coco17").flip_index
    np.testing.assert_allclose(out[3:, :, :, :, 0], -out[:3][:, :, :, flip, 0])
    with pytest.raises(ValueError, match="max_persons"):
        PoseCoords(max_persons=0, flip_index=np.arange(17))


def test_pose_coords_without_scores_keeps_only_detection_flags():
    rng = np.random.default_rng(0)
    score = rng.uniform(0.2, 1.0, (1, 8, 17))
    score[0, 2, 5] = 0  # one lost joint
    sample = {"keypoint": rng.uniform(0, 9, (1, 8, 17, 2)), "keypoint_score": score,
              "num_clips": 1}  # fmt: skip
    flip = get_layout("coco17").flip_index
    kept = PoseCoords(max_persons=1, flip_index=flip)(dict(sample), rng)["coords"]
    flags = PoseCoords(max_persons=1, flip_index=flip, use_score=False)(dict(sample), rng)["coords"]
    np.testing.assert_allclose(kept[..., 2], np.where(score > 0, score, 0)[None], rtol=1e-6)
    assert flags[0, 0, 2, 5, 2] == 0 and (np.delete(flags[..., 2].ravel(), 2 * 17 + 5) == 1).all()
    np.testing.assert_array_equal(flags[..., :2], kept[..., :2])


@pytest.mark.parametrize("train", [True, False])
def test_coords_pipeline_on_a_pixel_record(make_rec, train):
    cfg = load_config(
        None,
        [
            "data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn",
            "data.pose.clip_len=16", "data.sampling.num_clips_test=2",
        ],
    )  # fmt: skip
    rec = make_rec(num_frames=30, img_shape=(1080, 1920))
    sample = {**rec, "img_shape": tuple(rec["img_shape"])}
    out = build_pipeline(cfg.data, train=train)(sample, np.random.default_rng(0))
    assert "heatmaps" not in out
    expected = (1, 1, 16, 17, 3) if train else (4, 1, 16, 17, 3)  # 2 clips x (view + flip)
    assert out["coords"].shape == expected
    assert np.abs(out["coords"][..., :2]).max() < 1.5


def _config_3d(*extra):
    return load_config(
        None,
        [
            "data.modalities=[pose]", "data.pose.representation=coords", "model.arch=stgcn",
            "data.pose.layout=kinect20", "data.pose.clip_len=8", "data.sampling.num_clips_test=2",
            *extra,
        ],
    )  # fmt: skip


def _sample_3d(frames=12, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.normal([0.2, 0.1, 3.0], 0.3, (1, frames, 20, 3)).astype(np.float32)
    score = np.ones((1, frames, 20), np.float32)
    score[0, :, 7] = 0  # left hand never seen
    kp[0, :, 7] = 0
    return {"frame_dir": "s01_e01_walk", "label": 0, "keypoint": kp, "keypoint_score": score,
            "img_shape": (), "total_frames": frames}  # fmt: skip


def test_pose_coords_3d_gives_xyz_channels():
    kp = np.random.default_rng(0).normal(0, 1, (1, 6, 20, 3)).astype(np.float32)
    score = np.ones((1, 6, 20), np.float32)
    score[0, 2, 4] = 0
    sample = {"keypoint": kp, "keypoint_score": score, "num_clips": 2}
    out = PoseCoords(max_persons=2, flip_index=get_layout("kinect20").flip_index, flip_test=True)(
        sample, np.random.default_rng(0)
    )["coords"]
    assert out.shape == (4, 2, 3, 20, 3)
    expected = kp.copy()
    expected[0, 2, 4] = 0
    np.testing.assert_array_equal(out[0, 0], expected[0, :3])  # no per-clip normalisation
    np.testing.assert_array_equal(out[1, 0], expected[0, 3:])
    np.testing.assert_array_equal(out[:, 1], 0)  # the padded person
    np.testing.assert_array_equal(out[2:], flip_coords(out[:2], get_layout("kinect20").flip_index))


@pytest.mark.parametrize("train", [True, False])
def test_coords_pipeline_on_a_3d_record(train):
    cfg = _config_3d()
    pipeline = build_pipeline(cfg.data, train=train, keypoint_dims=3)
    names = [type(t).__name__ for t in pipeline.transforms]
    tail = ["Flip3D", "PoseCoords"] if train else ["PoseCoords"]
    assert names == ["PreNormalize3D", "SampleFrames", "SelectPoseFrames", *tail]
    out = pipeline(_sample_3d(), np.random.default_rng(0))
    # testing: 2 clips x (view + mirrored view, sampling.flip_test)
    assert out["coords"].shape == ((1, 1, 8, 20, 3) if train else (4, 1, 8, 20, 3))
    views = out["coords"] if train else out["coords"][:2]  # test: the mirrored views follow
    assert np.all(views[..., 7, :] == 0) or (train and np.all(views[..., 11, :] == 0))
    if not train:  # the unseen left hand is the mirrored view's right hand
        assert np.all(out["coords"][2:, ..., 11, :] == 0)
    assert np.abs(out["coords"][..., 2]).max() < 2  # z is body-relative, not ~3 m away


def test_3d_pipeline_options_and_refusals():
    raw = build_pipeline(_config_3d("data.pose.normalize_3d=false").data, train=False,
                         keypoint_dims=3)  # fmt: skip
    out = raw(_sample_3d(), np.random.default_rng(0))["coords"]
    assert out[..., 2].max() > 2  # raw camera depth
    with pytest.raises(ValueError, match="need data.pose.representation=coords"):
        heatmaps = _config_3d("data.pose.representation=heatmaps", "model.arch=conv3d")
        build_pipeline(heatmaps.data, train=True, keypoint_dims=3)
    with pytest.raises(ValueError, match=r"layout 'coco17' has no joint"):
        build_pipeline(_config_3d("data.pose.layout=coco17").data, train=True, keypoint_dims=3)
    with pytest.raises(ValueError, match="keypoint_dims must be 2 or 3"):
        build_pipeline(_config_3d().data, train=True, keypoint_dims=4)


def test_pixel_transforms_refuse_3d_keypoints():
    sample = {**_sample_3d(), "img_shape": (480, 640), "num_clips": 1}
    with pytest.raises(ValueError, match=r"PoseCompact needs 2-D pixel keypoints.*'s01_e01_walk'"):
        build_pipeline(_config_3d().data, train=False)(sample, np.random.default_rng(0))


def _motion_sample(make_rec, num_frames: int, clip_len: int, short_clips: str, train: bool):
    cfg = load_config(None, [
        "data.modalities=[pose]", "data.pose.representation=coords", "model.arch=stgcn",
        "model.gcn.feature=joint_motion", f"data.pose.clip_len={clip_len}",
        "data.sampling.num_clips_test=2", f"data.sampling.short_clips={short_clips}",
        "data.pose.flip_ratio=0",
    ])  # fmt: skip
    rec = make_rec(num_frames=num_frames, img_shape=(480, 640))
    rec["keypoint_score"][0, 3, 5] = 0.0  # a lost joint inside the record
    sample = {**rec, "img_shape": tuple(rec["img_shape"])}
    pipeline = build_pipeline(cfg.data, train=train, next_frames=True)
    return rec, pipeline(sample, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("num_frames", "clip_len", "short_clips", "train"),
    [(30, 16, "loop", False), (10, 16, "stretch", True), (10, 16, "loop", True),
     (40, 8, "loop", False)],
)  # fmt: skip
def test_next_frames_are_the_records_next_frames(make_rec, num_frames, clip_len, short_clips,
                                                 train):  # fmt: skip
    """Each sampled frame carries the record's next frame, mapped to the clip's normalised
    coordinates by the same affine map as the sampled frames; at the record's last frame it
    repeats the frame with its score negated (zero motion)."""
    rec, out = _motion_sample(make_rec, num_frames, clip_len, short_clips, train)
    coords, inds = out["coords"], out["pose_inds"]  # (N', M, T, V, 6), (N, T)
    assert coords.shape[-1] == 6 and coords.shape[2] == clip_len
    kp, sc = rec["keypoint"][0], rec["keypoint_score"][0]  # (T_all, V, 2), (T_all, V)
    for clip in range(inds.shape[0]):
        now, later = coords[clip, 0, ..., :3], coords[clip, 0, ..., 3:]  # (T, V, 3)
        i = inds[clip]
        nxt = np.minimum(i + 1, num_frames - 1)
        valid, valid_next = sc[i] > 0, sc[nxt] > 0
        for axis in (0, 1):  # x' = a x + b, fitted on the sampled frames
            a, b = np.polyfit(kp[i][valid][:, axis], now[valid][:, axis], 1)
            np.testing.assert_allclose(later[valid_next][:, axis],
                                       a * kp[nxt][valid_next][:, axis] + b, atol=1e-4)  # fmt: skip
        last = i == num_frames - 1
        np.testing.assert_allclose(later[~last, :, 2], sc[nxt][~last], atol=1e-6)
        np.testing.assert_allclose(later[last, :, 2], -now[last, :, 2])
        assert (later[~valid_next] == 0).all()  # the lost joint stays zero


def test_flip_test_mirrors_the_next_frames_too(make_rec):
    _, out = _motion_sample(make_rec, 30, 16, "loop", False)
    coords, flip = out["coords"], get_layout("coco17").flip_index
    assert coords.shape[0] == 4  # 2 clips x (view + flip)
    np.testing.assert_allclose(coords[2:, ..., 3], -coords[:2][..., flip, 3])
    np.testing.assert_allclose(coords[2:, ..., 4], coords[:2][..., flip, 4])


def test_geometric_transforms_move_the_next_frames_with_the_sampled_ones():
    from mgproto.data.transforms import Flip, RandomResizedCrop

    rng = np.random.default_rng(0)
    kp = rng.uniform(50, 400, (1, 6, 17, 2))
    sample = {"keypoint": kp.copy(), "keypoint_score": np.ones((1, 6, 17)),
              "keypoint_next": kp.copy(), "keypoint_score_next": np.ones((1, 6, 17)),
              "img_shape": (480, 640)}  # fmt: skip
    sample = RandomResizedCrop()(sample, rng)
    sample = Flip(flip_index=get_layout("coco17").flip_index, flip_ratio=1.0)(sample, rng)
    assert sample["flipped"] and not np.allclose(sample["keypoint"], kp)
    np.testing.assert_allclose(sample["keypoint_next"], sample["keypoint"])
