import numpy as np
import pytest

from mgproto.data.sampling import dense_sample, sample_modalities, uniform_sample


@pytest.mark.parametrize("n", [1, 5, 31, 32, 40, 63, 64, 100, 1000])
def test_shapes_range_and_order(n):
    inds = uniform_sample(n, 32, num_clips=3, rng=np.random.default_rng(0))
    assert inds.shape == (3, 32) and inds.dtype == np.int64
    assert inds.min() >= 0 and inds.max() < n
    if n >= 32:
        assert np.all(np.diff(inds, axis=1) > 0)  # strictly increasing, no repeats


def test_one_frame_per_segment_when_long():
    n, L = 320, 32
    inds = uniform_sample(n, L, rng=np.random.default_rng(1))[0]
    assert np.array_equal(inds // 10, np.arange(L))  # one frame in each of the 32 bins


def test_between_L_and_2L_covers_with_single_skips():
    inds = uniform_sample(40, 32, rng=np.random.default_rng(2))[0]
    steps = np.diff(inds)
    assert set(steps.tolist()) <= {1, 2} and (steps == 2).sum() <= 8


def test_short_clip_wraps():
    inds = uniform_sample(5, 8, num_clips=2, test_mode=True)
    # test mode starts clip i at i * n // num_clips (reference-spec 2)
    assert inds.tolist() == [[0, 1, 2, 3, 4, 0, 1, 2], [2, 3, 4, 0, 1, 2, 3, 4]]


def test_test_mode_is_deterministic_and_clips_differ():
    a = uniform_sample(500, 32, num_clips=10, test_mode=True)
    b = uniform_sample(500, 32, num_clips=10, test_mode=True, rng=np.random.default_rng(9))
    assert np.array_equal(a, b)
    assert len({tuple(c) for c in a}) == 10


def test_training_is_random():
    rng = np.random.default_rng(0)
    a, b = uniform_sample(500, 32, rng=rng), uniform_sample(500, 32, rng=rng)
    assert not np.array_equal(a, b)


def test_modalities_from_one_call():
    out = sample_modalities(200, {"pose": 32, "rgb": 8}, rng=np.random.default_rng(0))
    assert out["pose"].shape == (1, 32) and out["rgb"].shape == (1, 8)
    nested = sample_modalities(
        200, {"pose": 32, "rgb": 8}, alignment="nested", rng=np.random.default_rng(0)
    )
    assert np.array_equal(nested["rgb"][0], nested["pose"][0, 2::4])
    assert set(nested["rgb"][0]) <= set(nested["pose"][0])
    with pytest.raises(ValueError, match="multiple"):
        sample_modalities(200, {"pose": 30, "rgb": 8}, alignment="nested")


def test_empty_clip_error():
    with pytest.raises(ValueError, match="empty clip"):
        uniform_sample(0, 32)


def test_stretch_keeps_short_clips_in_order():
    """n < L: 'stretch' repeats frames in order (no jump back to the start), loop wraps."""
    rng = np.random.default_rng(0)
    for n in (1, 5, 7, 31):
        inds = uniform_sample(n, 32, rng=rng, short_clips="stretch")[0]
        assert (np.diff(inds) >= 0).all() and inds.min() >= 0 and inds.max() <= n - 1
        if n <= 16:  # each frame's share spans >= 2 slots, so every frame is used
            assert set(inds) == set(range(n))
        test = uniform_sample(n, 32, num_clips=3, test_mode=True, short_clips="stretch")
        np.testing.assert_array_equal(
            test, uniform_sample(n, 32, num_clips=3, test_mode=True, short_clips="stretch")
        )
        assert (np.diff(test, axis=1) >= 0).all()
    looped = uniform_sample(7, 32, rng=np.random.default_rng(0))[0]
    assert (np.diff(looped) < 0).any()  # the reference's loop jumps back
    # clips of L frames or more are sampled identically by both options
    for n in (32, 50, 100):
        a = uniform_sample(n, 32, rng=np.random.default_rng(3))
        b = uniform_sample(n, 32, rng=np.random.default_rng(3), short_clips="stretch")
        np.testing.assert_array_equal(a, b)


def test_dense_windows_are_clip_len_frames_interval_apart():
    rng = np.random.default_rng(0)
    for _ in range(50):
        inds = dense_sample(200, 32, 2, rng=rng)  # Video Swin's 32 x 2 on a 200-frame clip
        assert inds.shape == (1, 32)
        assert (np.diff(inds[0]) == 2).all() and 0 <= inds[0, 0] <= 200 - 64


def test_dense_test_windows_are_evenly_spaced_and_the_single_one_is_central():
    assert dense_sample(100, 4, 5, test_mode=True).tolist() == [[40, 45, 50, 55]]  # room 80
    starts = dense_sample(100, 4, 5, num_clips=3, test_mode=True)[:, 0]
    assert starts.tolist() == [0, 40, 80]


def test_dense_windows_longer_than_the_clip_start_at_zero_and_wrap():
    inds = dense_sample(10, 8, 2, rng=np.random.default_rng(0))
    assert inds.tolist() == [[0, 2, 4, 6, 8, 0, 2, 4]]  # frames past the end loop


def test_training_dense_offsets_cover_the_whole_room():
    rng = np.random.default_rng(0)
    starts = {int(dense_sample(20, 4, 2, rng=rng)[0, 0]) for _ in range(400)}
    assert starts == set(range(13))  # every start in [0, 20 - 8] is drawn


def test_rgb_interval_makes_only_the_rgb_frames_dense():
    out = sample_modalities(300, {"pose": 32, "rgb": 16}, rgb_interval=2,
                            rng=np.random.default_rng(0))  # fmt: skip
    assert (np.diff(out["rgb"][0]) == 2).all()
    assert out["pose"][0, -1] > 250  # pose stays uniform over the whole clip
    with pytest.raises(ValueError, match="nested alignment"):
        sample_modalities(300, {"pose": 32, "rgb": 16}, rgb_interval=2, alignment="nested")
