"""Gap filling: known interpolations, the run-length limit, edges, never-seen joints, the
pipeline step and its config, and a fuzzed invariant (detections are never changed)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgproto.config import load_config
from mgproto.data.pipelines import build_pipeline
from mgproto.data.tracks import FillGaps, fill_gaps


def _track(lost, t=10):
    """One person, one joint moving x = y = frame index; ``lost`` frames at (0, 0), score 0."""
    kp = np.repeat(np.arange(t, dtype=np.float32)[None, :, None, None], 2, -1)  # (1, T, 1, 2)
    sc = np.ones((1, t, 1), np.float32)
    kp[0, lost], sc[0, lost] = 0, 0
    return kp, sc


def test_interior_run_is_a_straight_line_and_edges_hold():
    kp, sc = _track([0, 3, 4, 8, 9])
    sc[0, 2, 0] = 0.4  # the score is interpolated too: 0.4 -> 1.0 over frames 2-5
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=2)
    assert out_kp[0, :, 0, 0].tolist() == [1, 1, 2, 3, 4, 5, 6, 7, 7, 7]
    np.testing.assert_allclose(out_sc[0, :, 0], [1, 1, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1], rtol=1e-6)
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
    out_kp, out_sc = fill_gaps(kp, sc, max_gap=max_gap)
    seen = sc > 0
    np.testing.assert_array_equal(out_kp[seen], kp[seen])
    np.testing.assert_array_equal(out_sc[seen], sc[seen])
    filled = ~seen & (out_sc > 0)
    assert np.all((out_sc[filled] >= 0.2 - 1e-6) & (out_sc[filled] <= 1 + 1e-6))
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
    filled = build_pipeline(load_config(None, [*sets, "data.pose.fill_gaps=4"]).data, train=False)
    assert not any(isinstance(s, FillGaps) for s in plain.transforms)
    assert isinstance(filled.transforms[0], FillGaps)
    a = plain({**rec}, np.random.default_rng(0))["coords"][0, 0]  # (T, V, 3)
    b = filled({**rec}, np.random.default_rng(0))["coords"][0, 0]
    assert (a[5:7, 3] == 0).all()
    s4, s7 = rec["keypoint_score"][0, [4, 7], 3]
    np.testing.assert_allclose(b[5:7, 3, 2], np.array([2 * s4 + s7, s4 + 2 * s7]) / 3, 1e-5)
    assert np.abs(b[5:7, 3, :2]).min() > 0
