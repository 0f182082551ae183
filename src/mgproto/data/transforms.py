"""Thin sample transforms over the pure functions of ``sampling``, ``geometry``, ``heatmaps``.

A sample is a dict. Every transform is a callable ``t(sample, rng) -> sample`` that declares the
keys it ``requires`` and the keys it ``adds``; :class:`Compose` checks them and names the
transform and the missing key. Geometric transforms move keypoints and, when the sample has
``imgs`` (T, H, W, 3) uint8 frames, the frames with the same box, size and flip decision.

Sample keys: ``keypoint`` (M, T, V, 2), ``keypoint_score`` (M, T, V), ``img_shape`` (H, W),
``total_frames``, ``pose_inds`` / ``rgb_inds`` (N, T), ``num_clips``, ``imgs``, ``flipped``,
``heatmaps`` (N, C, T, H, W). The pixel transforms here refuse 3-D keypoints (M, T, V, 3) with a
clear error; those have their own transforms in :mod:`mgproto.data.coords3d`.

Axis legend: N clips, M persons, T frames per clip (clip_len; T_all: the record's), V joints,
C channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mgproto.data import geometry as G
from mgproto.data.heatmaps import flip_heatmaps, pose_heatmaps
from mgproto.data.sampling import Alignment, ShortClips, sample_modalities

Sample = dict[str, Any]


class Transform:
    """Base class: subclasses set ``requires`` / ``adds`` and implement ``__call__``."""

    requires: tuple[str, ...] = ()
    adds: tuple[str, ...] = ()

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose:
    """Apply transforms in order, checking each one's required keys first."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        for t in self.transforms:
            missing = [k for k in t.requires if k not in sample]
            if missing:
                raise KeyError(
                    f"{type(t).__name__} needs sample key {missing[0]!r} "
                    f"(sample {sample.get('frame_dir', '?')!r} has {sorted(sample)})"
                )
            sample = t(sample, rng)
        return sample

    def __repr__(self) -> str:
        return "Compose([\n  " + ",\n  ".join(map(repr, self.transforms)) + "\n])"


class SampleFrames(Transform):
    """Temporal sampling of every modality from one call: uniform, or a dense RGB window with
    ``rgb_interval`` (see ``sampling``)."""

    requires = ("total_frames",)
    adds = ("num_clips",)

    def __init__(
        self,
        *,
        clip_lens: dict[str, int],
        num_clips: int = 1,
        test_mode: bool = False,
        test_seed: int = 255,
        alignment: Alignment = "independent",
        short_clips: ShortClips = "loop",
        rgb_interval: int = 0,
    ) -> None:
        self.clip_lens = dict(clip_lens)
        self.short_clips = short_clips
        self.rgb_interval = rgb_interval
        self.num_clips = num_clips
        self.test_mode = test_mode
        self.test_seed = test_seed
        self.alignment = alignment
        self.adds = ("num_clips", *(f"{m}_inds" for m in clip_lens))

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        inds = sample_modalities(
            sample["total_frames"],
            self.clip_lens,
            num_clips=self.num_clips,
            test_mode=self.test_mode,
            rng=rng,
            test_seed=self.test_seed,
            alignment=self.alignment,
            short_clips=self.short_clips,
            rgb_interval=self.rgb_interval,
        )
        sample.update({f"{m}_inds": v for m, v in inds.items()})
        sample["num_clips"] = self.num_clips
        return sample


NEXT_KEYS = ("keypoint_next", "keypoint_score_next")


class SelectPoseFrames(Transform):
    """Keep the keypoints of the sampled frames: (M, T_all, V, 2) -> (M, N * T, V, 2).

    ``inds_key`` names the indices to follow (``pose_inds``; ``rgb_inds`` when an RGB-only
    pipeline still needs keypoints of its frames for the compact box).

    With ``next_frames`` the frame after each sampled one in the record is kept too, as
    ``keypoint_next`` / ``keypoint_score_next`` (same shapes; the geometric transforms move them
    with the others), and ``has_next`` (N * T,) bool is False where the sampled frame is the
    record's last: what the motion streams are differenced on (the reference differences the
    whole record before sampling).
    """

    def __init__(self, *, inds_key: str = "pose_inds", next_frames: bool = False) -> None:
        self.inds_key, self.next_frames = inds_key, next_frames
        self.requires = ("keypoint", "keypoint_score", inds_key)
        self.adds = (*NEXT_KEYS, "has_next") if next_frames else ()

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        num_frames = sample["keypoint"].shape[1]
        inds = sample[self.inds_key].reshape(-1)  # wrapped into [0, num_frames) by the sampler
        if self.next_frames:
            later = np.minimum(inds + 1, num_frames - 1)
            sample["keypoint_next"] = sample["keypoint"][:, later]
            sample["keypoint_score_next"] = sample["keypoint_score"][:, later]
            sample["has_next"] = inds + 1 < num_frames
        sample["keypoint"] = sample["keypoint"][:, inds]
        sample["keypoint_score"] = sample["keypoint_score"][:, inds]
        return sample


def keypoint_sets(sample: Sample) -> list[tuple[str, str]]:
    """The (keypoint, score) keys a geometric transform moves: the sampled frames, and their
    next frames where :class:`SelectPoseFrames` kept them."""
    pairs = [("keypoint", "keypoint_score"), NEXT_KEYS]
    return [(k, s) for k, s in pairs if k in sample]


def require_2d(sample: Sample, what: str) -> None:
    """ValueError naming the clip if its keypoints are not 2-D pixels (M, T, V, 2)."""
    if "keypoint" in sample and sample["keypoint"].shape[-1] != 2:
        raise ValueError(
            f"{what} needs 2-D pixel keypoints (M, T, V, 2); clip "
            f"{sample.get('frame_dir', '?')!r} has {sample['keypoint'].shape[-1]} coordinates "
            "per joint (3-D keypoints take the coordinate pipeline, data.pose.representation="
            "coords)"
        )


class _Geometric(Transform):
    """Shared plumbing: apply a box crop and/or resize to keypoints and frames together."""

    requires = ("img_shape",)

    @staticmethod
    def crop(sample: Sample, box: G.Box) -> None:
        for kp, score in keypoint_sets(sample):
            sample[kp] = G.crop_keypoints(sample[kp], sample[score], box)
        sample["img_shape"] = (box[3] - box[1], box[2] - box[0])
        if "imgs" in sample:
            sample["imgs"] = G.crop_frames(sample["imgs"], box)

    @staticmethod
    def resize(sample: Sample, shape: tuple[int, int]) -> None:
        for kp, score in keypoint_sets(sample):
            sample[kp] = G.resize_keypoints(sample[kp], sample[score], sample["img_shape"], shape)
        sample["img_shape"] = tuple(shape)
        if "imgs" in sample:
            sample["imgs"] = G.resize_frames(sample["imgs"], shape)


class PoseCompact(_Geometric):
    """Crop to the box of all valid joints, grown by ``padding`` and squared (PoseConv3D)."""

    requires = ("keypoint", "keypoint_score", "img_shape")
    adds = ("crop_box",)

    def __init__(
        self,
        *,
        padding: float = 0.25,
        threshold: int = 10,
        hw_ratio: float | None = 1.0,
        allow_imgpad: bool = True,
    ) -> None:
        self.padding, self.threshold = padding, threshold
        self.hw_ratio, self.allow_imgpad = hw_ratio, allow_imgpad

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        require_2d(sample, "PoseCompact")
        box = G.compact_box(
            sample["keypoint"],
            sample["keypoint_score"],
            sample["img_shape"],
            padding=self.padding,
            threshold=self.threshold,
            hw_ratio=self.hw_ratio,
            allow_imgpad=self.allow_imgpad,
        )
        self.crop(sample, box)
        sample["crop_box"] = box
        return sample


class Resize(_Geometric):
    """Resize to (h, w), or to short side s with ``size=(-1, s)``."""

    def __init__(self, *, size: tuple[int, int]) -> None:
        self.size = tuple(size)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        self.resize(sample, G.resized_shape(sample["img_shape"], self.size))
        return sample


class RandomResizedCrop(_Geometric):
    """Random crop of random area and aspect ratio (Inception-style, PoseConv3D ranges)."""

    def __init__(
        self,
        *,
        area_range: tuple[float, float] = (0.56, 1.0),
        aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3),
    ) -> None:
        self.area_range, self.aspect_ratio_range = area_range, aspect_ratio_range

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        box = G.random_resized_crop_box(
            sample["img_shape"],
            rng,
            area_range=self.area_range,
            aspect_ratio_range=self.aspect_ratio_range,
        )
        self.crop(sample, box)
        return sample


class Flip(Transform):
    """Horizontal flip with probability ``flip_ratio``; swaps left/right joints by layout."""

    requires = ("img_shape",)
    adds = ("flipped",)

    def __init__(self, *, flip_index: np.ndarray, flip_ratio: float = 0.5) -> None:
        self.flip_index = np.asarray(flip_index)
        self.flip_ratio = flip_ratio

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        require_2d(sample, "Flip")
        flipped = bool(rng.random() < self.flip_ratio)
        for kp, score in keypoint_sets(sample) if flipped else ():
            sample[kp], sample[score] = G.flip_keypoints(
                sample[kp], sample[score], sample["img_shape"][1], self.flip_index
            )
        if flipped and "imgs" in sample:
            sample["imgs"] = G.flip_frames(sample["imgs"])
        sample["flipped"] = flipped
        return sample


class PoseHeatmaps(Transform):
    """Pseudo-heatmaps of the sampled frames: adds ``heatmaps`` (N', C, T, H, W) float32.

    With ``flip_test`` the mirrored view is appended as N more clips (N' = 2N), as PoseConv3D's
    ``double`` test mode does.
    """

    requires = ("keypoint", "keypoint_score", "img_shape", "num_clips")
    adds = ("heatmaps",)

    def __init__(
        self,
        *,
        sigma: float,
        scaling: float = 1.0,
        with_joints: bool = True,
        limbs: np.ndarray | None = None,
        use_score: bool = True,
        flip_test: bool = False,
        channel_flip_index: np.ndarray | None = None,
    ) -> None:
        if flip_test and channel_flip_index is None:
            raise ValueError("flip_test needs channel_flip_index")
        self.sigma, self.scaling = sigma, scaling
        self.with_joints, self.limbs, self.use_score = with_joints, limbs, use_score
        self.flip_test, self.channel_flip_index = flip_test, channel_flip_index

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        require_2d(sample, "pseudo-heatmaps")
        maps = pose_heatmaps(
            sample["keypoint"],
            sample["keypoint_score"],
            img_shape=sample["img_shape"],
            sigma=self.sigma,
            scaling=self.scaling,
            with_joints=self.with_joints,
            limbs=self.limbs,
            use_score=self.use_score,
        )  # (C, N * T, H, W)
        c, nl, h, w = maps.shape
        n = sample["num_clips"]
        clips = maps.reshape(c, n, nl // n, h, w).transpose(1, 0, 2, 3, 4)  # (N, C, T, H, W)
        if self.flip_test:
            flipped = [flip_heatmaps(x, self.channel_flip_index) for x in clips]
            clips = np.concatenate([clips, np.stack(flipped)])
        sample["heatmaps"] = np.ascontiguousarray(clips, dtype=np.float32)
        return sample
