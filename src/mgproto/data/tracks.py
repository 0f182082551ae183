"""Per-joint track clean-up before sampling: fill short gaps.

A 2-D pose estimator loses a joint now and then (occluded, blurred, out of frame) and some
formats write the lost joint as (0, 0) with score 0 (OpenPose, most converted skeleton files).
Heatmap models simply draw nothing there; coordinate models see the joint jump to the body's
centre and back. :func:`fill_gaps` replaces each run of at most ``max_gap`` lost frames of one
joint of one person by the straight line between the joint's last position before the run and
its first one after; a run at the start or end of the record holds the nearest position. The
score is interpolated the same way. Longer runs, and joints never seen in the record, stay lost.

A joint is lost where its score is <= 0 or any of its values is not finite. Person slots are
assumed to follow one person over time (the PYSKL convention for tracked skeletons). Records
without lost joints come back from :func:`fill_gaps` unchanged.

Axis legend: M persons, T frames (the record's), V joints, C coordinates (2 or 3).
"""

from __future__ import annotations

import numpy as np

from mgproto.data.transforms import Sample, Transform


def _detected(kp: np.ndarray, sc: np.ndarray) -> np.ndarray:
    """(M, T, V) bool: joints with a positive, finite score and finite coordinates."""
    return (sc > 0) & np.isfinite(sc) & np.isfinite(kp).all(-1)


def fill_gaps(
    keypoint: np.ndarray, score: np.ndarray, *, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate runs of at most ``max_gap`` lost frames per joint (see the module docstring).

    Args:
        keypoint: (M, T, V, C) coordinates.
        score: (M, T, V) confidences.
        max_gap: longest run of lost frames that is filled (>= 1).

    Returns:
        (keypoint, score) of the same shapes and dtypes; the inputs are not modified.
    """
    if max_gap < 1:
        raise ValueError(f"max_gap must be at least 1, got {max_gap}")
    kp, sc = np.asarray(keypoint), np.asarray(score)
    valid = _detected(kp, sc)  # (M, T, V)
    lost = ~valid
    if not lost.any():
        return kp, sc
    t = kp.shape[1]
    frames = np.arange(t)[None, :, None]  # (1, T, 1)
    prev = np.maximum.accumulate(np.where(valid, frames, -1), axis=1)  # last valid frame <= t
    nxt = np.minimum.accumulate(np.where(valid, frames, t)[:, ::-1], axis=1)[:, ::-1]
    has_prev, has_next = prev >= 0, nxt < t
    run = nxt - prev - 1  # length of the run of lost frames each lost frame is in
    fill = lost & (has_prev | has_next) & (run <= max_gap)
    if not fill.any():
        return kp, sc
    p = np.clip(np.where(has_prev, prev, nxt), 0, t - 1)  # a lead-in run holds the first
    n = np.clip(np.where(has_next, nxt, prev), 0, t - 1)  # position, a tail run the last one
    span = np.maximum(n - p, 1)
    w = np.where(n > p, (frames - p) / span, 0.0)[..., None]  # (M, T, V, 1)
    finite = np.nan_to_num(kp)  # a copy: lost joints may hold NaN
    kp_p = np.take_along_axis(finite, p[..., None], axis=1)
    kp_n = np.take_along_axis(finite, n[..., None], axis=1)
    out_kp = kp.copy()
    out_kp[fill] = ((1 - w) * kp_p + w * kp_n).astype(kp.dtype)[fill]
    sc_finite = np.nan_to_num(sc)
    sc_p, sc_n = np.take_along_axis(sc_finite, p, axis=1), np.take_along_axis(sc_finite, n, axis=1)
    out_sc = sc.copy()
    out_sc[fill] = ((1 - w[..., 0]) * sc_p + w[..., 0] * sc_n).astype(sc.dtype)[fill]
    return out_kp, out_sc


class FillGaps(Transform):
    """:func:`fill_gaps` on the record's whole sequence (before frames are sampled)."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, max_gap: int) -> None:
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        self.max_gap = max_gap

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        sample["keypoint"], sample["keypoint_score"] = fill_gaps(
            sample["keypoint"], sample["keypoint_score"], max_gap=self.max_gap
        )
        return sample
