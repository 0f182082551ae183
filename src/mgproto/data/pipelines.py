"""Sample pipelines built from the typed config (PoseConv3D / RGBPoseConv3D pipelines).

Training: sample frames -> compact box -> resize (short side ``pre_crop_size``) -> random
resized crop -> resize to ``train_size`` -> flip -> heatmaps / normalised frames.
Skeleton augmentation can follow the flip (:mod:`mgproto.data.augment`): rotation and shear
(``pose.rotate``, ``pose.shear``; pose-only coordinates) and joint dropout (``pose.drop_joints``).
Testing: ``num_clips_test`` deterministic clips -> compact box -> resize to ``test_size`` ->
heatmaps / frames (+ the mirrored view with ``flip_test``).

Geometry is shared: with RGB in the sample, the RGB sizes drive the crop and resize, and the
heatmaps are drawn at ``pose.train_size / rgb.train_size`` of the frame (56 / 224 = 0.25, as
RGBPoseConv3D); pose-only pipelines work at the heatmap size directly (scaling 1).
With ``pose.representation = coords`` the last pose step writes normalised joint coordinates
(``coords``, see :mod:`mgproto.data.coords`) instead of heatmaps, after the same geometric
augmentation; with ``both`` it writes the two, from the same frames, crop and flip.
Single-modality pipelines build only what they need (no decoding for pose-only,
no heatmaps for RGB-only; RGB-only still reads keypoints for the compact box unless
``rgb.compact`` is off).

3-D keypoints (``keypoint_dims=3``; pose-only coordinate pipelines) take their own path:
PreNormalize3D on the whole record (``pose.normalize_3d``), sampling, then the 3-D flip in
training (:mod:`mgproto.data.coords3d`) and the coordinates. The compact box, resizes
and crops are skipped: they act on image pixels, and metres have no frame to crop.
"""

from __future__ import annotations

import numpy as np

from mgproto.config import DataConfig, PoseInputConfig
from mgproto.data.augment import DropJoints, RandomRotateShear
from mgproto.data.coords import PoseCoords
from mgproto.data.coords3d import Flip3D, PreNormalize3D, normalization_joints
from mgproto.data.frames import DecodeFrames, FormatRGB, FrameReader
from mgproto.data.layouts import Layout, get_layout
from mgproto.data.tracks import FillGaps
from mgproto.data.transforms import (
    Compose,
    Flip,
    PoseCompact,
    PoseHeatmaps,
    RandomResizedCrop,
    Resize,
    SampleFrames,
    SelectPoseFrames,
    Transform,
)
from mgproto.data.video import read_frames


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


def _heatmaps(cfg: PoseInputConfig, *, scaling: float, flip_test: bool) -> PoseHeatmaps:
    layout = get_layout(cfg.layout)
    return PoseHeatmaps(
        sigma=cfg.sigma,
        scaling=scaling,
        with_joints=cfg.with_joints,
        limbs=np.asarray(layout.limbs) if cfg.with_limbs else None,
        use_score=cfg.use_score,
        flip_test=flip_test,
        channel_flip_index=channel_flip_index(
            layout, with_joints=cfg.with_joints, with_limbs=cfg.with_limbs
        ),
    )


def _track_steps(cfg: PoseInputConfig) -> list[Transform]:
    """The record-level track steps that ``pose.fill_gaps`` asks for."""
    return [FillGaps(max_gap=cfg.fill_gaps)] if cfg.fill_gaps else []


def _augment_steps(cfg: PoseInputConfig) -> list[Transform]:
    """The skeleton augmentation that ``pose.rotate`` / ``shear`` / ``drop_joints`` ask for
    (training only; :mod:`mgproto.data.augment`)."""
    steps: list[Transform] = []
    if cfg.rotate or cfg.shear:
        steps.append(RandomRotateShear(degrees=cfg.rotate, shear=cfg.shear))
    if cfg.drop_joints:
        steps.append(DropJoints(p=cfg.drop_joints))
    return steps


def build_pipeline(
    cfg: DataConfig,
    *,
    train: bool,
    num_clips: int | None = None,
    frame_reader: FrameReader = read_frames,
    keypoint_dims: int = 2,
    next_frames: bool = False,
) -> Compose:
    """The pipeline for ``cfg.modalities``.

    ``num_clips`` overrides ``num_clips_test``; ``frame_reader`` replaces per-clip decoding
    (see :class:`~mgproto.data.frames.DecodeFrames`); ``keypoint_dims`` is the records'
    coordinates per joint (2 = x, y pixels; 3 = x, y, z, see :func:`build_pipeline_3d`);
    ``next_frames`` adds each sampled frame's next frame in the record to the coordinates (six
    channels, :class:`~mgproto.data.coords.PoseCoords`): the input of the motion streams.
    """
    if keypoint_dims == 3:
        return build_pipeline_3d(cfg, train=train, num_clips=num_clips, next_frames=next_frames)
    if keypoint_dims != 2:
        raise ValueError(f"keypoint_dims must be 2 or 3, got {keypoint_dims}")
    use_rgb, use_pose = "rgb" in cfg.modalities, "pose" in cfg.modalities
    pose, rgb, sampling = cfg.pose, cfg.rgb, cfg.sampling
    clip_lens = {
        **({"pose": pose.clip_len} if use_pose else {}),
        **({"rgb": rgb.clip_len} if use_rgb else {}),
    }
    clips = 1 if train else (sampling.num_clips_test if num_clips is None else num_clips)
    need_keypoints = use_pose or rgb.compact
    steps: list[Transform] = _track_steps(pose) if need_keypoints else []
    steps += [
        SampleFrames(
            clip_lens=clip_lens,
            num_clips=clips,
            test_mode=not train,
            test_seed=sampling.test_seed,
            alignment=cfg.alignment,
            short_clips=sampling.short_clips,
            rgb_interval=rgb.frame_interval if use_rgb else 0,
        ),
    ]
    if need_keypoints:
        steps.append(
            SelectPoseFrames(
                inds_key="pose_inds" if use_pose else "rgb_inds", next_frames=next_frames
            )
        )
    if use_rgb:
        steps.append(DecodeFrames(reader=frame_reader))
    if need_keypoints:
        steps.append(PoseCompact(padding=pose.compact_padding, threshold=pose.compact_threshold))
    sizes = (
        (rgb.pre_crop_size, rgb.train_size, rgb.test_size)
        if use_rgb
        else (pose.pre_crop_size, pose.train_size, pose.test_size)
    )
    pre, train_size, test_size = sizes
    if train:
        steps += [
            Resize(size=(-1, pre)),
            RandomResizedCrop(
                area_range=pose.area_range, aspect_ratio_range=pose.aspect_ratio_range
            ),
            Resize(size=(train_size, train_size)),
        ]
        steps.append(
            Flip(flip_index=get_layout(pose.layout).flip_index, flip_ratio=pose.flip_ratio)
        )
        steps += _augment_steps(pose) if use_pose else []
    else:
        steps.append(Resize(size=(test_size, test_size)))
    flip_test = sampling.flip_test and not train
    if use_pose and pose.representation in ("coords", "both"):
        steps.append(
            PoseCoords(
                max_persons=pose.max_persons,
                flip_index=get_layout(pose.layout).flip_index,
                flip_test=flip_test,
                use_score=pose.use_score,
                next_frames=next_frames,
            )
        )
    if use_pose and pose.representation != "coords":
        out_size = pose.train_size if train else pose.test_size
        scaling = out_size / (train_size if train else test_size) if use_rgb else 1.0
        steps.append(_heatmaps(pose, scaling=scaling, flip_test=flip_test))
    if use_rgb:
        steps.append(
            FormatRGB(
                mean=rgb.mean,
                std=rgb.std,
                flip_test=flip_test,
                frame_diff=rgb.frame_diff,
                keep_frames=rgb.keep_frames,
            )
        )
    return Compose(steps)


def check_3d_input(cfg: DataConfig) -> None:
    """Refuse the configs that cannot take 3-D keypoints (ValueError saying why)."""
    if "rgb" in cfg.modalities:
        raise ValueError(
            "3-D keypoints (x, y, z) cannot go with the rgb modality: the frames are cropped "
            "to the keypoints' pixel box; use data.modalities=[pose]"
        )
    if cfg.pose.representation != "coords":
        raise ValueError(
            "3-D keypoints (x, y, z) need data.pose.representation=coords: pseudo-heatmaps "
            "are drawn at 2-D pixel positions"
        )
    if cfg.pose.rotate or cfg.pose.shear:
        raise ValueError(
            "data.pose.rotate / data.pose.shear turn 2-D pixel skeletons; 3-D keypoints take "
            "data.pose.drop_joints only (set rotate and shear to 0)"
        )
    if cfg.pose.normalize_3d:
        normalization_joints(get_layout(cfg.pose.layout))  # raises naming the missing joints


def build_pipeline_3d(
    cfg: DataConfig, *, train: bool, num_clips: int | None = None, next_frames: bool = False
) -> Compose:
    """The pose-only coordinate pipeline for 3-D keypoints (see the module docstring)."""
    check_3d_input(cfg)
    pose, sampling = cfg.pose, cfg.sampling
    layout = get_layout(pose.layout)
    steps: list[Transform] = _track_steps(pose)
    if pose.normalize_3d:
        steps.append(PreNormalize3D(joints=normalization_joints(layout)))
    clips = 1 if train else (sampling.num_clips_test if num_clips is None else num_clips)
    steps += [
        SampleFrames(
            clip_lens={"pose": pose.clip_len},
            num_clips=clips,
            test_mode=not train,
            test_seed=sampling.test_seed,
            alignment=cfg.alignment,
            short_clips=sampling.short_clips,
        ),
        SelectPoseFrames(inds_key="pose_inds", next_frames=next_frames),
    ]
    if train:
        steps.append(Flip3D(flip_index=layout.flip_index, flip_ratio=pose.flip_ratio))
        steps += _augment_steps(pose)
    steps.append(
        PoseCoords(
            max_persons=pose.max_persons,
            flip_index=layout.flip_index,
            flip_test=sampling.flip_test and not train,
            next_frames=next_frames,
        )
    )
    return Compose(steps)
