"""Pose pipelines built from the typed config (PoseConv3D's keypoint pipelines).

Training: sample -> compact box -> resize to ``pre_crop_size`` -> random resized crop -> resize
to ``train_size`` -> flip -> heatmaps. Testing: sample ``num_clips_test`` clips -> compact box
-> resize to ``test_size`` -> heatmaps (+ the flipped view). Heatmaps are drawn at the frame's
own resolution (scaling 1), as in the single-stream PoseConv3D configs.
"""

from __future__ import annotations

import numpy as np

from mgproto.config import PoseInputConfig, SamplingConfig
from mgproto.data.layouts import Layout, get_layout
from mgproto.data.transforms import (
    Compose,
    Flip,
    PoseCompact,
    PoseHeatmaps,
    RandomResizedCrop,
    Resize,
    SampleFrames,
    SelectPoseFrames,
)


def channel_flip_index(layout: Layout, *, with_joints: bool, with_limbs: bool) -> np.ndarray:
    """(C,) channel permutation of the heatmaps under a horizontal flip."""
    parts = []
    if with_joints:
        parts.append(layout.flip_index)
    if with_limbs:
        parts.append(layout.limb_flip_index + (layout.num_joints if with_joints else 0))
    return np.concatenate(parts)


def num_pose_channels(cfg: PoseInputConfig) -> int:
    """C of the heatmaps for this config."""
    layout = get_layout(cfg.layout)
    return layout.num_joints * cfg.with_joints + layout.num_limbs * cfg.with_limbs


def build_pose_pipeline(
    cfg: PoseInputConfig, sampling: SamplingConfig, *, train: bool, num_clips: int | None = None
) -> Compose:
    """The pose-only pipeline; ``num_clips`` overrides ``sampling.num_clips_test`` at test."""
    layout = get_layout(cfg.layout)
    heat = {
        "sigma": cfg.sigma,
        "with_joints": cfg.with_joints,
        "limbs": np.asarray(layout.limbs) if cfg.with_limbs else None,
        "use_score": cfg.use_score,
        "channel_flip_index": channel_flip_index(
            layout, with_joints=cfg.with_joints, with_limbs=cfg.with_limbs
        ),
    }
    compact = PoseCompact(padding=cfg.compact_padding, threshold=cfg.compact_threshold)
    if train:
        return Compose(
            [
                SampleFrames(clip_lens={"pose": cfg.clip_len}, num_clips=1),
                SelectPoseFrames(),
                compact,
                Resize(size=(-1, cfg.pre_crop_size)),
                RandomResizedCrop(
                    area_range=cfg.area_range, aspect_ratio_range=cfg.aspect_ratio_range
                ),
                Resize(size=(cfg.train_size, cfg.train_size)),
                Flip(flip_index=layout.flip_index, flip_ratio=cfg.flip_ratio),
                PoseHeatmaps(**heat),
            ]
        )
    clips = sampling.num_clips_test if num_clips is None else num_clips
    return Compose(
        [
            SampleFrames(
                clip_lens={"pose": cfg.clip_len},
                num_clips=clips,
                test_mode=True,
                test_seed=sampling.test_seed,
            ),
            SelectPoseFrames(),
            compact,
            Resize(size=(cfg.test_size, cfg.test_size)),
            PoseHeatmaps(**heat, flip_test=sampling.flip_test),
        ]
    )
