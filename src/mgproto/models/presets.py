"""Backbone sizes: ``paper`` reproduces the reference architectures; ``small`` and ``tiny`` keep
the same topology (4 RGB stages, 3 pose stages, laterals at the same points, RGB width = 2x
pose width so the lateral channel ratios hold) at CPU-friendly widths and depths."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackbonePreset:
    """Widths and depths of the two pathways."""

    rgb_base: int
    rgb_blocks: tuple[int, int, int, int]
    pose_base: int
    pose_blocks: tuple[int, int, int]


PRESETS = {
    # reference-spec 1.1: SlowOnly-R50 (3, 4, 6, 3) at 64; PoseConv3D (4, 6, 3) at 32
    "paper": BackbonePreset(64, (3, 4, 6, 3), 32, (4, 6, 3)),
    "small": BackbonePreset(16, (1, 2, 2, 1), 8, (2, 2, 1)),
    "tiny": BackbonePreset(8, (1, 1, 1, 1), 4, (1, 1, 1)),
}


def rgb_pathway_kwargs(preset: BackbonePreset) -> dict:
    """SlowOnly RGB pathway (reference-spec 1.1: conv1 (1, 7, 7), inflate (0, 0, 1, 1))."""
    return {
        "in_channels": 3,
        "base_channels": preset.rgb_base,
        "stage_blocks": preset.rgb_blocks,
        "spatial_strides": (1, 2, 2, 2),
        "temporal_strides": (1, 1, 1, 1),
        "inflate": (0, 0, 1, 1),
        "conv1_kernel": (1, 7, 7),
        "conv1_stride": (1, 2),
        "pool1_stride": (1, 2),
    }


def pose_pathway_kwargs(
    preset: BackbonePreset,
    in_channels: int,
    *,
    temporal_strides: tuple[int, ...] = (),
    conv1_kernel_t: int = 1,
) -> dict:
    """PoseConv3D pose pathway (reference-spec 1.1: stride-1 stem, inflate (0, 1, 1),
    temporal strides (1, 1, 1) so all T_pose frames are kept for the laterals).

    ``temporal_strides`` and ``conv1_kernel_t`` widen the temporal receptive field (see
    docs/recipes.md: a shallow pose pathway with strides 1 sees ~7 frames before the global
    average pool, too few to tell a motion from its reverse)."""
    if conv1_kernel_t < 1 or conv1_kernel_t % 2 == 0:
        raise ValueError(
            f"model.pose_conv1_kernel_t must be odd and positive, got {conv1_kernel_t}"
        )
    return {
        "in_channels": in_channels,
        "base_channels": preset.pose_base,
        "stage_blocks": preset.pose_blocks,
        "spatial_strides": (2, 2, 2),
        "temporal_strides": tuple(temporal_strides) or (1, 1, 1),
        "inflate": (0, 1, 1),
        "conv1_kernel": (conv1_kernel_t, 7, 7),
        "conv1_stride": (1, 1),
        "pool1_stride": (1, 1),
    }


def get_preset(
    name: str,
    *,
    pose_base: int = 0,
    pose_blocks: tuple[int, ...] = (),
    rgb_base: int = 0,
    rgb_blocks: tuple[int, ...] = (),
) -> BackbonePreset:
    """The preset called ``name``, with optional width / depth overrides (0 or () = keep).

    Raises:
        KeyError: unknown name (the message lists the valid ones).
        ValueError: a block list of the wrong length or a non-positive width.
    """
    try:
        preset = PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown model preset {name!r}; valid: {', '.join(PRESETS)}") from None
    if (pose_blocks and len(pose_blocks) != 3) or (rgb_blocks and len(rgb_blocks) != 4):
        raise ValueError("model.pose_blocks needs 3 values and model.rgb_blocks 4")
    if min(pose_base, rgb_base) < 0 or 0 in (*pose_blocks, *rgb_blocks):
        raise ValueError("model widths and block counts must be positive")
    return BackbonePreset(
        rgb_base=rgb_base or preset.rgb_base,
        rgb_blocks=tuple(rgb_blocks) or preset.rgb_blocks,
        pose_base=pose_base or preset.pose_base,
        pose_blocks=tuple(pose_blocks) or preset.pose_blocks,
    )
