"""Gap filling: known interpolations, the run-length limit, edges, never-seen joints, the
pipeline step and its config, and a fuzzed invariant (detections are never changed)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgproto.config import ConfigError, load_config
from mgproto.data.pipelines import build_pipeline
from mgproto.data.tracks import (
    FillGaps,
    ResampleShort,
    SmoothTracks,
    fill_gaps,
    resample_tracks,
    smooth_tracks,
)


def _track(lost, t=10):
    """One person, one joint moving x = y = frame index; ``lost`` frames at (0, 0), score 0."""
    kp = np.repeat(np.arange(t, dtype=np.float32)[None, :, None, None], 2, -1)  # (1, T, 1, 2)
    sc = np.ones((1, t, 1), np.float32)
    kp[0, lost], sc[0, lost] = 0, 0
    return kp, sc


def test_interior_run_is_a_straight_line_and_edges_hold():
    kp, sc = _track([0, 3, 4, 8, 9])
    sc[0, 2, 0] = 0.4  # the score is interpolated too: 0.4 -> 1.0 over frames 2-5
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=2, score_scale=0.5)
    assert out_kp[0, :, 0, 0].tolist() == [1, 1, 2, 3, 4, 5, 6, 7, 7, 7]
    np.testing.assert_allclose(
        out_sc[0, :, 0], [0.5, 1, 0.4, 0.3, 0.4, 1, 1, 1, 0.5, 0.5], rtol=1e-6
    )
    assert (kp[0, 3] == 0).all() and sc[0, 3, 0] == 0  # the inputs are not modified


def test_runs_longer_than_max_gap_stay_lost():
    kp, sc = _track([0, 3, 4, 8, 9])
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=1)
    assert out_kp[0, :, 0, 0].tolist() == [1, 1, 2, 0, 0, 5, 6, 7, 0, 0]
    assert out_sc[0, :, 0].tolist() == [1, 1, 1, 0, 0, 1, 1, 1, 0, 0]


def test_uneven_interpolation_nan_joints_and_never_seen_joints():
    kp = np.zeros((1, 5, 2, 2), np.float32)
    kp[0, :, 0, 0] = [0, np.nan, np.nan, np.nan, 8]  # a NaN position counts as lost
    sc = np.ones((1, 5, 2), np.float32)
    sc[0, :, 1] = 0  # joint 1 is never seen: nothing to interpolate from
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=3)
    assert out_kp[0, :, 0, 0].tolist() == [0, 2, 4, 6, 8]
    assert (out_sc[0, :, 1] == 0).all() and (out_kp[0, :, 1] == 0).all()
    assert np.isnan(kp[0, 1, 0, 0])  # the input keeps its NaN


def test_clean_records_come_back_unchanged_and_bad_arguments_are_refused():
    kp, sc = _track([])
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=5)
    assert out_kp is kp and out_sc is sc
    with pytest.raises(ValueError, match="max_gap"):
        fill_gaps(kp, sc, max_gap=0)
    with pytest.raises(ValueError, match="score_scale"):
        fill_gaps(kp, sc, max_gap=1, score_scale=0.0)
    with pytest.raises(ValueError, match="max_gap"):
        FillGaps(max_gap=0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    t=st.integers(1, 30),
    lost_share=st.floats(0, 1),
    max_gap=st.integers(1, 8),
)
def test_detections_are_kept_and_fills_lie_between_neighbours(seed, t, lost_share, max_gap):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 100, (2, t, 3, 2)).astype(np.float32)
    sc = rng.uniform(0.2, 1, (2, t, 3)).astype(np.float32)
    sc[rng.random((2, t, 3)) < lost_share] = 0
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=max_gap, score_scale=0.5)
    seen = sc > 0
    np.testing.assert_array_equal(out_kp[seen], kp[seen])
    np.testing.assert_array_equal(out_sc[seen], sc[seen])
    filled = ~seen & (out_sc > 0)
    assert np.all((out_sc[filled] >= 0.5 * 0.2 - 1e-6) & (out_sc[filled] <= 0.5 + 1e-6))
    assert np.all(out_kp[~seen & ~filled] == kp[~seen & ~filled])
    for m, i, v in zip(*np.nonzero(filled)):  # inside the box of the joint's detections
        track = kp[m, seen[m, :, v], v]
        assert np.all(out_kp[m, i, v] >= track.min(0) - 1e-3)
        assert np.all(out_kp[m, i, v] <= track.max(0) + 1e-3)


def test_pipeline_step_fills_before_the_coordinates(make_rec):
    sets = ["data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn",
            "data.pose.clip_len=20", "data.sampling.num_clips_test=1",
            "data.sampling.flip_test=false"]  # fmt: skip
    rec = make_rec(num_frames=20)
    rec["keypoint_score"][0, 5:7, 3] = 0  # joint 3 lost for two frames
    rec["keypoint"][0, 5:7, 3] = 0
    plain = build_pipeline(load_config(None, sets).data, train=False)
    filled = build_pipeline(
        load_config(None, [*sets, "data.pose.fill_gaps=4", "data.pose.fill_score_scale=0.25"]).data,
        train=False,
    )
    assert not any(isinstance(s, FillGaps) for s in plain.transforms)
    assert isinstance(filled.transforms[0], FillGaps)
    a = plain({**rec}, np.random.default_rng(0))["coords"][0, 0]  # (T, V, 3)
    b = filled({**rec}, np.random.default_rng(0))["coords"][0, 0]
    assert (a[5:7, 3] == 0).all()
    s4, s7 = rec["keypoint_score"][0, [4, 7], 3]
    np.testing.assert_allclose(b[5:7, 3, 2], 0.25 * np.array([2 * s4 + s7, s4 + 2 * s7]) / 3, 1e-5)
    assert np.abs(b[5:7, 3, :2]).min() > 0
    with pytest.raises(ConfigError, match="fill_score_scale"):
        load_config(None, [*sets, "data.pose.fill_score_scale=0"])


def test_smoothing_averages_detections_only_and_keeps_lines():
    kp, sc = _track([5])  # x = y = frame index, frame 5 lost at (0, 0)
    out = smooth_tracks(kp, sc, sigma=1.5)
    inner = [2, 3, 4, 6, 7]  # a straight line stays put where the window is whole and even
    np.testing.assert_allclose(out[0, inner, 0, 0], np.float32(inner), atol=0.4)
    assert out[0, 5, 0, 0] == 0 and out.dtype == kp.dtype  # the lost joint stays lost
    assert out[0, 4, 0, 0] > 3.5  # not pulled towards (0, 0) (that gives 2.9): detections only
    spike = np.zeros((1, 9, 1, 2), np.float32)
    spike[0, 4] = 9.0
    flat = smooth_tracks(spike, np.ones((1, 9, 1)), sigma=1.0)[0, :, 0, 0]
    assert flat.max() < 4 and flat.sum() == pytest.approx(9.0, rel=0.05)  # jitter spreads out
    np.testing.assert_array_equal(smooth_tracks(spike, np.ones((1, 9, 1)), sigma=1e-3), spike)
    with pytest.raises(ValueError, match="sigma"):
        SmoothTracks(sigma=0.0)


def test_pipeline_orders_fill_before_smoothing():
    sets = ["data.modalities=[pose]", "data.pose.fill_gaps=3", "data.pose.smooth_sigma=1"]
    steps = build_pipeline(load_config(None, sets).data, train=True).transforms
    assert [type(s) for s in steps[:2]] == [FillGaps, SmoothTracks]


def test_resampling_interpolates_between_detections_and_holds_next_to_lost_joints():
    kp, sc = _track([2], t=4)  # x = y = frame index; frame 2 lost at (0, 0)
    out_kp, out_sc = resample_tracks(kp, sc, num_frames=7)  # output j at input time j / 2
    assert out_kp.shape == (1, 7, 1, 2) and out_sc.shape == (1, 7, 1)
    assert out_kp.dtype == kp.dtype and out_sc.dtype == sc.dtype
    # 0 -> 1 blends (0, 0.5, 1); around the lost frame 2 the nearer input frame is taken
    # (a tie goes to the later one): 1.5 -> frame 2 (lost), 2 -> lost, 2.5 -> frame 3
    assert out_kp[0, :, 0, 0].tolist() == [0, 0.5, 1, 0, 0, 3, 3]
    assert out_sc[0, :, 0].tolist() == [1, 1, 1, 0, 0, 1, 1]
    same_kp, same_sc = resample_tracks(kp, sc, num_frames=4)  # same length: the identity
    np.testing.assert_array_equal(same_kp, kp)
    np.testing.assert_array_equal(same_sc, sc)
    one_kp, _ = resample_tracks(kp[:, :1], sc[:, :1], num_frames=3)  # one frame: held
    assert one_kp[0, :, 0, 0].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="num_frames"):
        resample_tracks(kp, sc, num_frames=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 12), st.integers(1, 40))
def test_resampled_tracks_stay_inside_their_detections(seed, t, n):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 100, (1, t, 3, 2)).astype(np.float32)
    sc = (rng.random((1, t, 3)) > 0.3).astype(np.float32)
    kp[sc == 0] = 0
    out_kp, out_sc = resample_tracks(kp, sc, num_frames=n)
    assert out_kp.shape == (1, n, 3, 2) and np.isfinite(out_kp).all()
    for v in range(3):
        seen = kp[0, sc[0, :, v] > 0, v]
        det = out_sc[0, :, v] > 0
        if len(seen):  # a detected output lies in the box of the joint's detections
            assert np.all(out_kp[0, det, v] >= seen.min(0) - 1e-3)
            assert np.all(out_kp[0, det, v] <= seen.max(0) + 1e-3)
        assert np.all(out_kp[0, ~det, v] == 0)  # lost outputs are lost inputs, never blends
    np.testing.assert_array_equal(
        out_kp[:, [0, -1]] if n > 1 else out_kp[:, :1], kp[:, [0, -1]] if n > 1 else kp[:, :1]
    )


def test_resample_step_only_lengthens_short_records_and_refuses_rgb(make_rec):
    sets = ["data.modalities=[pose]", "data.pose.min_frames=24"]
    steps = build_pipeline(load_config(None, sets).data, train=True).transforms
    step = next(s for s in steps if isinstance(s, ResampleShort))
    short = make_rec(num_frames=8)
    out = step({**short}, np.random.default_rng(0))
    assert out["keypoint"].shape[1] == 24 and out["total_frames"] == 24
    assert out["keypoint_score"].shape == (1, 24, short["keypoint"].shape[2])
    long = make_rec(num_frames=30)
    assert step({**long}, np.random.default_rng(0))["keypoint"] is long["keypoint"]
    assert not any(isinstance(s, ResampleShort) for s in build_pipeline(
        load_config(None, ["data.modalities=[pose]"]).data, train=True).transforms)  # fmt: skip
    with pytest.raises(ConfigError, match="min_frames changes keypoints only"):
        load_config(None, ["data.modalities=[rgb,pose]", "data.pose.min_frames=24"])
