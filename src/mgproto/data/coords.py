"""Normalised joint coordinates: the input of the coordinate models (the TCN baseline).

Pixel keypoints of any layout, frame size and person count become body-centred, body-scaled
coordinates, so one recipe fits 2-D skeletons from any source: the clip's valid joints are
centred on their mean and divided by the longer side of their bounding box over the whole clip
(translation and scale *changes* within the clip, e.g. walking towards the camera, are kept).
Missing joints (score 0) stay at 0 and keep score 0, so the model can tell them apart.

3-D keypoints (x, y, z; :mod:`mgproto.data.coords3d`) give the channels x, y, z instead, as they
come out of PreNormalize3D (or raw, with ``data.pose.normalize_3d`` off): no per-clip box
normalisation, since PreNormalize3D already fixed the body's position and orientation and metres
need no rescaling. Invalid joints are 0 in all three channels. The channel count stays 3, so the
coordinate models take either.

Axis legend: N clips, M persons, T frames (of a clip: clip_len; T_all: the record's), V joints,
C channels (x, y, score; or x, y, z).
"""

from __future__ import annotations

import numpy as np

from mgproto.data.transforms import Sample, Transform


def normalize_coords(keypoint: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Centre and scale one clip's keypoints by the box of its valid joints.

    Args:
        keypoint: (M, T, V, 2) pixels.
        score: (M, T, V) confidences; joints with score <= 0 or non-finite values are invalid.

    Returns:
        (M, T, V, 3) float32: x, y in units of the box's longer side (about [-0.5, 0.5]),
        and the score; invalid joints are all zero.
    """
    kp = np.asarray(keypoint, np.float64)
    sc = np.asarray(score, np.float64)
    valid = (sc > 0) & np.isfinite(kp).all(-1) & np.isfinite(sc)
    out = np.zeros((*kp.shape[:-1], 3), np.float32)
    if not valid.any():
        return out
    pts = kp[valid]  # (P, 2)
    lo, hi = pts.min(0), pts.max(0)
    centre = pts.mean(0)
    scale = max(float((hi - lo).max()), 1e-6)
    out[..., :2] = np.where(valid[..., None], (kp - centre) / scale, 0.0)
    out[..., 2] = np.where(valid, sc, 0.0)
    return out


def coords_3d(keypoint: np.ndarray, score: np.ndarray) -> np.ndarray:
    """3-D keypoints as coordinate channels: (M, T, V, 3) x, y, z, invalid joints all zero.

    Args:
        keypoint: (M, T, V, 3) x, y, z.
        score: (M, T, V); joints with score <= 0 or non-finite values are invalid.
    """
    valid = (score > 0) & np.isfinite(keypoint).all(-1) & np.isfinite(score)
    return np.where(valid[..., None], keypoint, 0.0).astype(np.float32)


def flip_coords(coords: np.ndarray, flip_index: np.ndarray) -> np.ndarray:
    """Mirror normalised coordinates: x -> -x and left/right joints swapped.

    Args:
        coords: (..., V, 3) from :func:`normalize_coords` or :func:`coords_3d`.
        flip_index: (V,) joint permutation of the layout.
    """
    out = coords[..., flip_index, :].copy()
    out[..., 0] = -out[..., 0]
    return out


class PoseCoords(Transform):
    """Normalised coordinates of the sampled frames: adds ``coords`` (N', M', T, V, 3) float32.

    Channels are x, y, score for 2-D keypoints and x, y, z for 3-D ones; without ``use_score``
    the 2-D score channel only says whether the joint is detected (1) or lost (0).
    ``max_persons``
    persons are kept (the first ones, padded with zeros): M' is fixed so that batches stack.
    With ``flip_test`` the mirrored view is appended as N more clips.
    """

    requires = ("keypoint", "keypoint_score", "num_clips")
    adds = ("coords",)

    def __init__(
        self,
        *,
        max_persons: int,
        flip_index: np.ndarray,
        flip_test: bool = False,
        use_score: bool = True,
    ) -> None:
        if max_persons < 1:
            raise ValueError(f"max_persons must be at least 1, got {max_persons}")
        self.max_persons, self.use_score = max_persons, use_score
        self.flip_index = np.asarray(flip_index)
        self.flip_test = flip_test

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        kp, sc = sample["keypoint"], sample["keypoint_score"]  # (M, N * T, V, 2 | 3), (M, N * T, V)
        m, nl, v = sc.shape
        n = sample["num_clips"]
        to_coords = coords_3d if kp.shape[-1] == 3 else normalize_coords
        clips = []
        for i in range(n):  # each clip is normalised on its own frames
            part = slice(i * (nl // n), (i + 1) * (nl // n))
            clips.append(to_coords(kp[:, part], sc[:, part]))
        coords = np.zeros((n, self.max_persons, nl // n, v, 3), np.float32)
        keep = min(m, self.max_persons)
        coords[:, :keep] = np.stack(clips)[:, :keep]
        if not self.use_score and kp.shape[-1] == 2:
            coords[..., 2] = coords[..., 2] > 0
        if self.flip_test:
            coords = np.concatenate([coords, flip_coords(coords, self.flip_index)])
        sample["coords"] = np.ascontiguousarray(coords)
        return sample
