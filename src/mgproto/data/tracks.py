"""Per-joint track clean-up before sampling: fill short gaps, smooth estimator jitter.

A 2-D pose estimator loses a joint now and then (occluded, blurred, out of frame) and some
formats write the lost joint as (0, 0) with score 0 (OpenPose, most converted skeleton files).
Heatmap models simply draw nothing there; coordinate models see the joint jump to the body's
centre and back. :func:`fill_gaps` replaces each run of at most ``max_gap`` lost frames of one
joint of one person by the straight line between the joint's last position before the run and
its first one after; a run at the start or end of the record holds the nearest position. The
score is interpolated the same way, times ``score_scale`` (below 1, a score-weighted model
trusts filled joints less than detections; measured: a fixed low score makes the coordinate
models' score channel flicker, which costs them more than the gap). Longer runs, and joints
never seen in the record, stay lost.

An estimator also jitters: every frame's joint is off by a few pixels, independently from frame
to frame. Positions barely suffer, but frame-to-frame motion (the coordinate models' velocity
features) can drown in it. :func:`smooth_tracks` averages each joint's track over time with a
Gaussian of ``sigma`` frames, over its detected frames only (lost joints stay lost and do not
pull their neighbours towards (0, 0)). Both steps are measured in docs/recipes.md
("Robustness to pose-estimator noise").

A record shorter than the clip is stretched by the sampler, which repeats frames: the motion
then stops and jumps, more so the lower the frame rate. :func:`resample_tracks` instead
interpolates each joint linearly to ``num_frames`` frames (between two detections; next to a
lost joint the nearest frame is held), so a short record looks the same at any frame rate
(docs/recipes.md, "Another camera, another frame rate").

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
    keypoint: np.ndarray, score: np.ndarray, *, max_gap: int, score_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate runs of at most ``max_gap`` lost frames per joint (see the module docstring).

    Args:
        keypoint: (M, T, V, C) coordinates.
        score: (M, T, V) confidences.
        max_gap: longest run of lost frames that is filled (>= 1).
        score_scale: filled joints get this times the interpolated score, in (0, 1].

    Returns:
        (keypoint, score) of the same shapes and dtypes; the inputs are not modified.
    """
    if max_gap < 1:
        raise ValueError(f"max_gap must be at least 1, got {max_gap}")
    if not 0 < score_scale <= 1:
        raise ValueError(f"score_scale must be in (0, 1], got {score_scale}")
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
    out_sc[fill] = (score_scale * ((1 - w[..., 0]) * sc_p + w[..., 0] * sc_n)).astype(sc.dtype)[
        fill
    ]
    return out_kp, out_sc


def smooth_tracks(keypoint: np.ndarray, score: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian temporal smoothing of each joint's detected positions.

    Args:
        keypoint: (M, T, V, C) coordinates.
        score: (M, T, V) confidences (only which joints are detected is used).
        sigma: the Gaussian's standard deviation in frames (> 0); it is cut at 3 sigma.

    Returns:
        (M, T, V, C) of the input's dtype: at detected joints the weighted mean of the joint's
        detected positions around it; lost joints keep their values.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    kp = np.asarray(keypoint)
    valid = _detected(kp, np.asarray(score))
    t = kp.shape[1]
    weight = valid.astype(np.float64)[..., None]  # (M, T, V, 1)
    x = np.where(weight > 0, kp, 0.0).astype(np.float64) * weight
    num, den = np.zeros_like(x), np.zeros_like(weight)
    for k in range(-min(int(np.ceil(3 * sigma)), t - 1), min(int(np.ceil(3 * sigma)), t - 1) + 1):
        g = np.exp(-0.5 * (k / sigma) ** 2)
        lo, hi = max(0, -k), min(t, t - k)  # out[i] += g * x[i + k] for i in [lo, hi)
        num[:, lo:hi] += g * x[:, lo + k : hi + k]
        den[:, lo:hi] += g * weight[:, lo + k : hi + k]
    out = kp.copy()
    out[valid] = (num / np.maximum(den, 1e-12)).astype(kp.dtype)[valid]
    return out


class FillGaps(Transform):
    """:func:`fill_gaps` on the record's whole sequence (before frames are sampled)."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, max_gap: int, score_scale: float = 1.0) -> None:
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        self.max_gap, self.score_scale = max_gap, score_scale

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        sample["keypoint"], sample["keypoint_score"] = fill_gaps(
            sample["keypoint"],
            sample["keypoint_score"],
            max_gap=self.max_gap,
            score_scale=self.score_scale,
        )
        return sample


class SmoothTracks(Transform):
    """:func:`smooth_tracks` on the record's whole sequence (before frames are sampled)."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, sigma: float) -> None:
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma = sigma

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        sample["keypoint"] = smooth_tracks(
            sample["keypoint"], sample["keypoint_score"], sigma=self.sigma
        )
        return sample


def resample_tracks(
    keypoint: np.ndarray, score: np.ndarray, *, num_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of every joint's track to ``num_frames`` frames.

    Output frame j sits at time j (T - 1) / (num_frames - 1) of the input; it blends the two
    input frames around it where the joint is detected in both, and takes the nearer one
    otherwise (a lost joint is never blended with a position).

    Args:
        keypoint: (M, T, V, C) coordinates.
        score: (M, T, V) confidences.
        num_frames: frames of the output (>= 1).

    Returns:
        (M, num_frames, V, C) keypoints and (M, num_frames, V) scores, the inputs' dtypes.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    kp, sc = np.asarray(keypoint), np.asarray(score)
    t = kp.shape[1]
    pos = np.linspace(0.0, t - 1, num_frames) if num_frames > 1 else np.zeros(1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, t - 1)
    w = (pos - i0)[None, :, None]  # (1, N, 1)
    valid = _detected(kp, sc)
    both = valid[:, i0] & valid[:, i1]  # (M, N, V)
    w = np.where(both, w, np.where(w < 0.5, 0.0, 1.0))
    out_kp = (1 - w[..., None]) * np.nan_to_num(kp[:, i0]) + w[..., None] * np.nan_to_num(kp[:, i1])
    out_sc = (1 - w) * np.nan_to_num(sc[:, i0]) + w * np.nan_to_num(sc[:, i1])
    nearest = np.where(w < 0.5, i0[None, :, None], i1[None, :, None])  # (M, N, V)
    lost = ~np.take_along_axis(valid, nearest, axis=1) & ~both
    out_kp[lost] = np.take_along_axis(kp, nearest[..., None], axis=1)[lost]  # keep NaN / zeros
    return out_kp.astype(kp.dtype), out_sc.astype(sc.dtype)


class ResampleShort(Transform):
    """:func:`resample_tracks` up to ``min_frames`` for records with fewer frames (pose only:
    the frames of a video would no longer line up)."""

    requires = ("keypoint", "keypoint_score", "total_frames")

    def __init__(self, *, min_frames: int) -> None:
        if min_frames < 1:
            raise ValueError(f"min_frames must be at least 1, got {min_frames}")
        self.min_frames = min_frames

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        if sample["keypoint"].shape[1] < self.min_frames:
            sample["keypoint"], sample["keypoint_score"] = resample_tracks(
                sample["keypoint"], sample["keypoint_score"], num_frames=self.min_frames
            )
            sample["total_frames"] = self.min_frames
        return sample
