"""Pose-estimator noise on clean 2-D skeletons: a robustness probe for the recipes.

Skeletons from motion capture or a depth camera (UTKinect's Kinect joints) are cleaner than what
a 2-D pose estimator (OpenPose, HRNet) gives on video, which is what iMiGUE, SMG and most users'
data hold. :func:`estimator_noise` turns clean keypoints into estimator-like ones, with three
independent, per-frame effects:

- **jitter**: each joint moves by a 2-D Gaussian of std ``jitter`` times the person's size
  (the longer side of the box of their valid joints over the clip), drawn anew each frame, as an
  estimator run frame by frame does;
- **dropped joints**: each joint of each frame is lost with probability ``drop_joint``;
- **dropped frames**: the whole person is lost in a frame with probability ``drop_frame``
  (a missed detection).

A lost joint is written as an estimator writes it: (0, 0) with score 0. A kept joint's score
falls with its error, ``max(0.3, 1 - 0.25 * |error| / (jitter * size))`` (about 0.69 on average;
1 without jitter), so confidence carries some information about localisation, as it does for a
real estimator. The numbers are a model, not a measurement of one estimator: the point is to
rank recipes by how much they lose, not to predict a dataset's accuracy.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationFile

# The largest jitter: a whole body size (the "strong" level's is 0.03); more moves joints off
# the body, and past ~1e38 pixels off float32 (keypoints no reader accepts).
MAX_JITTER = 1.0


@dataclass(frozen=True)
class EstimatorNoise:
    """Strength of each effect (see the module docstring).

    Attributes:
        jitter: std of the per-frame joint error, as a share of the person's size.
        drop_joint: probability that one joint of one frame is lost.
        drop_frame: probability that the whole person is lost in one frame.
    """

    jitter: float = 0.0
    drop_joint: float = 0.0
    drop_frame: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.jitter) and 0 <= self.jitter <= MAX_JITTER):
            raise ValueError(f"jitter must be >= 0 and <= {MAX_JITTER:g}, got {self.jitter}")
        for name in ("drop_joint", "drop_frame"):
            p = getattr(self, name)
            if not 0 <= p < 1:
                raise ValueError(f"{name} must be in [0, 1), got {p}")


# Named strengths for benchmarks and the CLI. "mild": a good top-down estimator on a clear view
# (errors ~1 % of the body, a few joints lost); "strong": a bottom-up estimator on a hard view.
LEVELS = {
    "mild": EstimatorNoise(jitter=0.01, drop_joint=0.02, drop_frame=0.01),
    "strong": EstimatorNoise(jitter=0.03, drop_joint=0.10, drop_frame=0.05),
}


def person_sizes(keypoint: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(M,) longer side of each person's box of valid joints over the clip (0 if none).

    Args:
        keypoint: (M, T, V, 2) pixels; score: (M, T, V), valid where > 0.
    """
    sizes = np.zeros(keypoint.shape[0])
    for m in range(keypoint.shape[0]):
        pts = keypoint[m][score[m] > 0]
        if len(pts):
            sizes[m] = float((pts.max(0) - pts.min(0)).max())
    return sizes


def estimator_noise(
    keypoint: np.ndarray, score: np.ndarray, noise: EstimatorNoise, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Estimator-like copy of one clip's skeletons.

    Args:
        keypoint: (M, T, V, 2) pixels.
        score: (M, T, V) confidences; joints with score <= 0 are already missing and stay so.
        noise: the strengths.
        rng: the only source of randomness (same seed, same output).

    Returns:
        keypoint (M, T, V, 2) float32 and score (M, T, V) float32; lost joints are (0, 0), 0.
    """
    kp = np.asarray(keypoint, np.float64)
    if kp.ndim != 4 or kp.shape[-1] != 2:
        raise ValueError(f"keypoint must be (M, T, V, 2) pixels, got shape {kp.shape}")
    sc = np.asarray(score, np.float64)
    if sc.shape != kp.shape[:-1]:
        raise ValueError(f"score shape {sc.shape} does not match keypoint {kp.shape[:-1]}")
    valid = (sc > 0) & np.isfinite(kp).all(-1)
    sigma = noise.jitter * person_sizes(kp, np.where(valid, sc, 0.0))  # (M,)
    error = rng.standard_normal(kp.shape) * sigma[:, None, None, None]
    out_kp = kp + error
    out_sc = np.where(valid, 1.0, 0.0)
    if noise.jitter > 0:
        dist = np.linalg.norm(error, axis=-1) / np.maximum(sigma, 1e-12)[:, None, None]
        out_sc = out_sc * np.maximum(0.3, 1.0 - 0.25 * dist)
    lost = rng.random(sc.shape) < noise.drop_joint
    lost |= (rng.random(sc.shape[:2]) < noise.drop_frame)[..., None]
    lost |= ~valid
    out_kp[lost] = 0.0
    out_sc[lost] = 0.0
    return out_kp.astype(np.float32), out_sc.astype(np.float32)


def corrupt_annotations(
    ann: AnnotationFile,
    noise: EstimatorNoise,
    seed: int,
    *,
    frame_dirs: Collection[str] | None = None,
) -> AnnotationFile:
    """A copy of ``ann`` with :func:`estimator_noise` on its records (2-D keypoints only).

    Args:
        ann: the file's content (not modified).
        noise: the strengths.
        seed: each record draws from its own generator, seeded by (``seed``, its index), so the
            same file and seed always give the same output.
        frame_dirs: only these records get noise (e.g. one split's, to test a model trained on
            clean skeletons on noisy ones); the others are copied as they are. None: all.

    Records without ``keypoint_score`` are read as all joints present; ``meta["noise"]`` says
    what was applied.
    """
    chosen = None if frame_dirs is None else set(frame_dirs)
    records: list[dict[str, Any]] = []
    for i, rec in enumerate(ann.annotations):
        if chosen is not None and rec.get("frame_dir") not in chosen:
            records.append(dict(rec))
            continue
        kp = np.asarray(rec["keypoint"])
        if kp.shape[-1] != 2:
            raise ValueError(
                f"record {i} ({rec.get('frame_dir')!r}): estimator noise is for 2-D keypoints "
                f"(x, y pixels); this one has {kp.shape[-1]} values per joint"
            )
        sc = rec.get("keypoint_score")
        sc = np.ones(kp.shape[:-1], np.float32) if sc is None else np.asarray(sc)
        rng = np.random.default_rng([seed, i])
        new_kp, new_sc = estimator_noise(kp, sc, noise, rng)
        records.append({**rec, "keypoint": new_kp, "keypoint_score": new_sc})
    meta = {**ann.meta, "noise": noise_meta(noise, seed)}
    if chosen is not None:
        meta["noise"]["records"] = len(chosen & {r.get("frame_dir") for r in ann.annotations})
    return dataclasses.replace(ann, annotations=records, meta=meta)


def noise_meta(noise: EstimatorNoise, seed: int) -> dict[str, float | int]:
    """What was applied, for the file's ``meta`` (so a corrupted file says it is one)."""
    return {**dataclasses.asdict(noise), "seed": seed}
