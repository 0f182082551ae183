"""Skeleton augmentation for the coordinate models: random rotation and shear, joint dropout.

Skeleton toolkits augment the joints themselves, beyond the crop and flip that heatmaps share
with frames: a small random rotation and shear of the 2-D skeleton (the view and the body lean
differently), and whole joints lost for a clip (a pose estimator misses a hand). Both act on
the sampled frames in training only, and on the next frames of the motion streams with the
same draw (:func:`~mgproto.data.transforms.keypoint_sets`).

Rotation and shear turn the joints about their own centre; they would leave the frames behind,
so they are for pose-only coordinate pipelines (``data.pose.representation=coords``), where the
coordinates are re-centred and re-scaled per clip afterwards (:mod:`mgproto.data.coords`).

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import math

import numpy as np

from mgproto.data.transforms import Sample, Transform, keypoint_sets, require_2d


def rotation_shear_matrix(degrees: float, shear: float) -> np.ndarray:
    """(2, 2) matrix that shears (x += shear * y), then rotates by ``degrees``.

    Image axes: x right, y down, so a positive angle turns clockwise on screen.
    """
    a = math.radians(degrees)
    rotate = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return rotate @ np.array([[1.0, shear], [0.0, 1.0]])


def transform_keypoints(
    keypoint: np.ndarray, keypoint_score: np.ndarray, matrix: np.ndarray, centre: np.ndarray
) -> np.ndarray:
    """Apply ``matrix`` about ``centre`` to the valid joints; missing joints stay where they are.

    Args:
        keypoint: (M, T, V, 2) pixels; keypoint_score: (M, T, V), score <= 0 = missing.
        matrix: (2, 2); centre: (2,) pixels.

    Returns:
        (M, T, V, 2) float, a new array.
    """
    moved = (keypoint - centre) @ matrix.T + centre
    return np.where((keypoint_score > 0)[..., None], moved, keypoint).astype(keypoint.dtype)


def joints_centre(keypoint: np.ndarray, keypoint_score: np.ndarray) -> np.ndarray | None:
    """(2,) mean of the valid joints of (M, T, V, 2) keypoints, or None when none is valid."""
    valid = (keypoint_score > 0) & np.isfinite(keypoint).all(-1)
    return keypoint[valid].mean(0) if valid.any() else None


class RandomRotateShear(Transform):
    """Rotate by an angle drawn uniformly in ±``degrees`` and shear by a factor drawn in
    ±``shear``, about the clip's joint centre; the same draw for every frame and person."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, degrees: float, shear: float) -> None:
        if degrees < 0 or shear < 0:
            raise ValueError(f"degrees and shear must be >= 0, got {degrees} and {shear}")
        self.degrees, self.shear = degrees, shear

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        require_2d(sample, "RandomRotateShear")
        matrix = rotation_shear_matrix(
            rng.uniform(-self.degrees, self.degrees), rng.uniform(-self.shear, self.shear)
        )
        centre = joints_centre(sample["keypoint"], sample["keypoint_score"])
        for kp, score in keypoint_sets(sample) if centre is not None else ():
            sample[kp] = transform_keypoints(sample[kp], sample[score], matrix, centre)
        return sample


class DropJoints(Transform):
    """Lose each joint for the whole clip with probability ``p`` (its score set to 0, so the
    coordinates and heatmaps treat it as undetected); at least one joint is always kept."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, p: float) -> None:
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = p

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        num_joints = sample["keypoint_score"].shape[-1]
        drop = rng.random(num_joints) < self.p  # (V,)
        if drop.all():
            drop[rng.integers(num_joints)] = False
        for _, score in keypoint_sets(sample) if drop.any() else ():
            sample[score] = np.where(drop, 0, sample[score]).astype(sample[score].dtype)
        return sample
