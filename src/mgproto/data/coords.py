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


def normalize_coords(
    keypoint: np.ndarray, score: np.ndarray, *, box_of: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Centre and scale one clip's keypoints by the box of its valid joints.

    Args:
        keypoint: (M, T, V, 2) pixels.
        score: (M, T, V) confidences; joints with score <= 0 or non-finite values are invalid.
        box_of: another (keypoint, score) pair whose box to use instead (the next frames of a
            clip are normalised with the clip's own centre and scale).

    Returns:
        (M, T, V, 3) float32: x, y in units of the box's longer side (about [-0.5, 0.5]),
        and the score; invalid joints are all zero.
    """
    kp, sc, valid = _valid(keypoint, score)
    out = np.zeros((*kp.shape[:-1], 3), np.float32)
    box_kp, _, box_valid = (kp, sc, valid) if box_of is None else _valid(*box_of)
    if not box_valid.any():
        return out
    pts = box_kp[box_valid]  # (P, 2)
    lo, hi = pts.min(0), pts.max(0)
    centre = pts.mean(0)
    scale = max(float((hi - lo).max()), 1e-6)
    out[..., :2] = np.where(valid[..., None], (kp - centre) / scale, 0.0)
    out[..., 2] = np.where(valid, sc, 0.0)
    return out


def _valid(keypoint: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kp = np.asarray(keypoint, np.float64)
    sc = np.asarray(score, np.float64)
    return kp, sc, (sc > 0) & np.isfinite(kp).all(-1) & np.isfinite(sc)


def coords_3d(keypoint: np.ndarray, score: np.ndarray, *, box_of: object = None) -> np.ndarray:
    """3-D keypoints as coordinate channels: (M, T, V, 3) x, y, z, invalid joints all zero.

    Args:
        keypoint: (M, T, V, 3) x, y, z.
        score: (M, T, V); joints with score <= 0 or non-finite values are invalid.
        box_of: unused (3-D joints are not box-normalised; the signature of
            :func:`normalize_coords`).
    """
    valid = (score > 0) & np.isfinite(keypoint).all(-1) & np.isfinite(score)
    return np.where(valid[..., None], keypoint, 0.0).astype(np.float32)


def flip_coords(coords: np.ndarray, flip_index: np.ndarray) -> np.ndarray:
    """Mirror normalised coordinates: x -> -x and left/right joints swapped.

    Args:
        coords: (..., V, 3) from :func:`normalize_coords` or :func:`coords_3d`, or (..., V, 6)
            with the next frames' channels after them.
        flip_index: (V,) joint permutation of the layout.
    """
    out = coords[..., flip_index, :].copy()
    out[..., 0::3] = -out[..., 0::3]
    return out


class PoseCoords(Transform):
    """Normalised coordinates of the sampled frames: adds ``coords`` (N', M', T, V, C) float32.

    Channels are x, y, score for 2-D keypoints and x, y, z for 3-D ones (C = 3); without
    ``use_score`` the 2-D score channel only says whether the joint is detected (1) or lost (0).
    ``max_persons`` persons are kept (the first ones, padded with zeros): M' is fixed so that
    batches stack. With ``flip_test`` the mirrored view is appended as N more clips.

    With ``next_frames`` (samples from ``SelectPoseFrames(next_frames=True)``) C = 6: the three
    channels of each sampled frame, then those of the record's next frame, normalised with the
    clip's own centre and scale, for the motion streams of ST-GCN++. Where the sampled frame is
    the record's last, the next frame repeats it with its score negated, so that its motion,
    coordinates and score mean alike, is 0 as the reference's.
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
        next_frames: bool = False,
    ) -> None:
        if max_persons < 1:
            raise ValueError(f"max_persons must be at least 1, got {max_persons}")
        self.max_persons, self.use_score = max_persons, use_score
        self.flip_index = np.asarray(flip_index)
        self.flip_test, self.next_frames = flip_test, next_frames
        if next_frames:
            self.requires = (*self.requires, "keypoint_next", "keypoint_score_next", "has_next")

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        kp, sc = sample["keypoint"], sample["keypoint_score"]  # (M, N * T, V, 2 | 3), (M, N * T, V)
        m, nl, v = sc.shape
        n = sample["num_clips"]
        to_coords = coords_3d if kp.shape[-1] == 3 else normalize_coords
        clips = []
        for i in range(n):  # each clip is normalised on its own frames
            part = slice(i * (nl // n), (i + 1) * (nl // n))
            clip = to_coords(kp[:, part], sc[:, part])
            if self.next_frames:
                later = to_coords(sample["keypoint_next"][:, part],
                                  sample["keypoint_score_next"][:, part],
                                  box_of=(kp[:, part], sc[:, part]))  # fmt: skip
                clip = np.concatenate([clip, later], -1)
            clips.append(clip)
        channels = 6 if self.next_frames else 3
        coords = np.zeros((n, self.max_persons, nl // n, v, channels), np.float32)
        keep = min(m, self.max_persons)
        coords[:, :keep] = np.stack(clips)[:, :keep]
        if not self.use_score and kp.shape[-1] == 2:
            coords[..., 2::3] = coords[..., 2::3] > 0
        if self.next_frames:
            last = ~sample["has_next"].reshape(n, 1, nl // n, 1, 1)  # (N, 1, T, 1, 1)
            repeat = coords[..., :3] * np.array([1, 1, 1 if kp.shape[-1] == 3 else -1], np.float32)
            coords[..., 3:] = np.where(last, repeat, coords[..., 3:])
        if self.flip_test:
            coords = np.concatenate([coords, flip_coords(coords, self.flip_index)])
        sample["coords"] = np.ascontiguousarray(coords)
        return sample
