import numpy as np
import pytest

from mgproto.engine.stats import bootstrap, correct_matrix, paired, sign_test


def test_all_right_has_no_uncertainty():
    r = bootstrap(np.ones((3, 50), bool))
    assert (r.mean, r.low, r.high) == (1.0, 1.0, 1.0)


def test_one_run_interval_is_the_binomial_one():
    correct = np.zeros((1, 100), bool)
    correct[0, :90] = True  # 90 of 100: normal approximation 0.90 +- 1.96 * 0.03
    r = bootstrap(correct)
    assert r.mean == pytest.approx(0.9)
    assert 0.83 <= r.low <= 0.85 and 0.95 <= r.high <= 0.96
    assert r.points() == f"90.0 [{100 * r.low:.1f}, {100 * r.high:.1f}]"


def test_resampling_runs_adds_the_seed_spread():
    correct = np.stack([np.ones(40, bool), np.zeros(40, bool)])  # one seed right, one wrong
    clips_only = bootstrap(correct, resample_runs=False)
    assert (clips_only.low, clips_only.high) == (0.5, 0.5)  # every clip is right half the time
    both = bootstrap(correct)
    assert both.low == 0.0 and both.high == 1.0


def test_bootstrap_is_seeded_and_checks_its_input():
    rng = np.random.default_rng(1)
    correct = rng.random((3, 60)) < 0.8
    assert bootstrap(correct, seed=4) == bootstrap(correct, seed=4)
    with pytest.raises(ValueError, match="matrix"):
        bootstrap(np.ones(5))
    with pytest.raises(ValueError, match="level"):
        bootstrap(correct, level=1.0)


def test_sign_test_exact_values():
    assert sign_test(np.array([1, 1, 1, 1, 0, 0])) == pytest.approx(0.125)  # 2 / 2**4
    assert sign_test(np.array([1.0] + [-1.0] * 9)) == pytest.approx(2 * 11 / 1024)
    assert sign_test(np.array([0.5, -0.5])) == 1.0
    assert sign_test(np.zeros(7)) == 1.0


def _scores(pred, k=3):
    return np.eye(k)[np.asarray(pred)]


def test_correct_matrix_follows_the_first_runs_clip_order():
    labels = np.array([0, 1, 2])
    run0 = (["a", "b", "c"], _scores([0, 1, 0]), labels)
    run1 = (["c", "a", "b"], _scores([2, 0, 2]), labels[[2, 0, 1]])  # same clips, other order
    ids, correct = correct_matrix([run0, run1])
    assert ids == ["a", "b", "c"]
    np.testing.assert_array_equal(correct, [[True, True, False], [True, False, True]])
    with pytest.raises(ValueError, match="other clips"):
        correct_matrix([run0, (["a", "b", "d"], _scores([0, 1, 2]), labels)])
    with pytest.raises(ValueError, match="other labels"):
        correct_matrix([run0, (["a", "b", "c"], _scores([0, 1, 2]), np.array([1, 1, 2]))])


def test_paired_counts_the_clips_each_recipe_wins():
    a = np.array([[1, 1, 1, 0, 1], [1, 1, 0, 0, 1]], bool)
    b = np.array([[1, 0, 1, 1, 1], [1, 0, 1, 0, 1]], bool)
    r = paired(a, b)
    assert r.diff.mean == pytest.approx(a.mean() - b.mean())
    assert (r.better, r.worse) == (1, 2)  # clip 1 for A; clips 2 and 3 for B, once each
    assert r.p_value == 1.0  # 1 against 2: 2 * (1 + 3) / 2**3, capped at 1
    with pytest.raises(ValueError, match="same seeds and clips"):
        paired(a, b[:1])


def test_labelled_scores_of_a_test_output_feed_the_matrix(tmp_path):
    from mgproto.engine.evaluate import Scores
    from mgproto.engine.scores import ScoreError, load_labelled_scores, save_scores

    probs = _scores([0, 2, 1]).astype(np.float32)
    run = Scores(["a", "b", "c"], np.array([0, 1, 1]), streams={"pose": probs}, fused=probs)
    path = save_scores(run, tmp_path / "scores.npz")
    ids, scores, labels = load_labelled_scores(path, stream="pose")
    assert ids == ["a", "b", "c"] and scores.shape == (3, 3)
    np.testing.assert_array_equal(correct_matrix([(ids, scores, labels)])[1], [[1, 0, 1]])
    np.savez(tmp_path / "bare.npz", frame_dirs=np.array(["a"]), fused=probs[:1])
    with pytest.raises(ScoreError, match="no 'labels'"):
        load_labelled_scores(tmp_path / "bare.npz")
