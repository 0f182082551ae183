"""How far a test top-1 can be trusted: bootstrap intervals over clips and seeds, paired tests.

A test set of N clips measures top-1 with a sampling error of about sqrt(p (1 - p) / N): at
99 clips and 95 % that is 2.2 points, so one clip is a point and a 95 % interval is about +-4.
Seeds add the training's own spread. These functions put both into one interval, and compare
two recipes run on the same clips with the same seeds clip by clip (a paired comparison, much
finer than two separate intervals).

Axis legend: S runs (seeds) of one recipe, N test clips (the same clips in the same order in
every run). ``correct`` is (S, N) bool: run s classified clip n right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

REPS = 10_000  # draws: another bootstrap seed moves an end by at most a step of 1 / (S N)
_CELLS = 2_000_000  # draws x clips per step (16 MB of floats)


@dataclass(frozen=True)
class Interval:
    """A mean (share of clips, 0..1) and its bootstrap interval at ``level``."""

    mean: float
    low: float
    high: float
    level: float

    def points(self) -> str:
        """``94.9 [90.6, 98.7]``: percentage points, one decimal."""
        return f"{100 * self.mean:.1f} [{100 * self.low:.1f}, {100 * self.high:.1f}]"


def correct_matrix(
    runs: list[tuple[list[str], np.ndarray, np.ndarray]], *, source: str = "runs"
) -> tuple[list[str], np.ndarray]:
    """Clip ids and the (S, N) right / wrong matrix of runs given as (ids, scores, labels).

    Every run must score the same clips with the same labels (in any order; the first run's
    order is kept). scores (N, K), labels (N,).
    """
    if not runs:
        raise ValueError(f"{source}: no runs")
    ids, _, labels = runs[0]
    order = {x: i for i, x in enumerate(ids)}
    rows = []
    for k, (run_ids, scores, run_labels) in enumerate(runs):
        if sorted(run_ids) != sorted(ids):
            raise ValueError(f"{source}: run {k} scored other clips than run 0")
        perm = np.array([order[x] for x in run_ids])
        lab = np.empty_like(labels)
        lab[perm] = run_labels
        if not np.array_equal(lab, labels):
            raise ValueError(f"{source}: run {k} has other labels than run 0 for the same clips")
        row = np.empty(len(ids), bool)
        row[perm] = scores.argmax(1) == run_labels
        rows.append(row)
    return list(ids), np.stack(rows)


def bootstrap(
    values: np.ndarray,
    *,
    reps: int = REPS,
    level: float = 0.95,
    seed: int = 0,
    resample_runs: bool = True,
) -> Interval:
    """Mean of ``values`` (S, N) over runs and clips, with a percentile bootstrap interval.

    Each draw resamples the N clips with replacement (the same clips for every run) and, with
    ``resample_runs``, the S runs too, so the interval holds both the test set's sampling error
    and the seed spread. ``values`` may be ``correct`` (top-1) or a paired difference of two
    such matrices (see :func:`paired`).
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"expected a non-empty (runs, clips) matrix, got shape {values.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    s, n = values.shape
    rng = np.random.default_rng(seed)
    chunk = max(1, _CELLS // n)  # draws per step: bounds memory at (chunk, N) floats
    draws = []
    for start in range(0, reps, chunk):
        r = min(chunk, reps - start)
        if resample_runs:  # each draw's runs, as counts (r, S), then their per-clip mean (r, N)
            runs = rng.multinomial(s, np.full(s, 1 / s), size=r)
            per_clip = runs @ values / s
        else:
            per_clip = np.broadcast_to(values.mean(0), (r, n))
        clips = rng.integers(0, n, size=(r, n))  # each draw's clips, with replacement
        draws.append(np.take_along_axis(per_clip, clips, axis=1).mean(1))
    draws = np.concatenate(draws)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(values.mean()), float(low), float(high), level)


def sign_test(diff: np.ndarray) -> float:
    """Exact two-sided sign test of per-clip differences (N,): p of a split this uneven or more.

    Clips where the two recipes tie (same seed-mean correctness) carry no information and are
    left out; with one seed this is McNemar's exact test.
    """
    up, down = int(np.sum(diff > 0)), int(np.sum(diff < 0))
    n = up + down
    if n == 0:
        return 1.0
    k = min(up, down)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Paired:
    """Recipe A against recipe B on the same clips and seeds."""

    a: Interval
    b: Interval
    diff: Interval  # A - B
    better: int  # clips A gets right more often than B (over the seeds)
    worse: int  # clips B gets right more often
    p_value: float  # sign test on those clips


def paired(correct_a: np.ndarray, correct_b: np.ndarray, **kwargs) -> Paired:
    """Compare two (S, N) matrices whose run s used the same seed and clip n the same clip."""
    if correct_a.shape != correct_b.shape:
        raise ValueError(
            f"paired runs need the same seeds and clips: {correct_a.shape} vs {correct_b.shape}"
        )
    a, b = np.asarray(correct_a, np.float64), np.asarray(correct_b, np.float64)
    per_clip = (a - b).mean(0)
    return Paired(
        a=bootstrap(a, **kwargs),
        b=bootstrap(b, **kwargs),
        diff=bootstrap(a - b, **kwargs),
        better=int(np.sum(per_clip > 0)),
        worse=int(np.sum(per_clip < 0)),
        p_value=sign_test(per_clip),
    )
