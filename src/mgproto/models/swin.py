"""Video Swin Transformer backbone (Liu et al., CVPR 2022), built from torchvision's
``SwinTransformer3d`` without its pooling and classifier.

torchvision's implementation is used as is (a well-kept one of our field); this module only
picks the sizes, swaps the patch embedding for more input channels (frame differences) and
returns the feature map in the (B, C, T, H, W) layout every mgproto head pools. MMAction2's
``SwinTransformer3D`` is the same network under other names (``models/checkpoint_import.py``
maps them); ``tests/models/test_swin.py`` and the oracle test show the outputs agree.

Sizes (torchvision ``swin3d_t/s/b``, MMAction2 ``arch='tiny'|'small'|'base'``): patch 2x4x4,
window 8x7x7, MLP ratio 4, and

======  =====  =============  ==============
arch    C      depths         heads
======  =====  =============  ==============
tiny    96     2, 2, 6, 2     3, 6, 12, 24
small   96     2, 2, 18, 2    3, 6, 12, 24
base    128    2, 2, 18, 2    4, 8, 16, 32
======  =====  =============  ==============

Axis legend: B batch, C channels, T frames, H/W rows/columns (of the input, or tokens after
the 2x4x4 patches and the three 2x2 merges: T/2, H/32, W/32).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchvision.models.video import SwinTransformer3d


@dataclass(frozen=True)
class SwinSize:
    """The widths of one Video Swin variant."""

    embed_dim: int
    depths: tuple[int, ...]
    num_heads: tuple[int, ...]


SWIN_SIZES = {
    "tiny": SwinSize(96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "small": SwinSize(96, (2, 2, 18, 2), (3, 6, 12, 24)),
    "base": SwinSize(128, (2, 2, 18, 2), (4, 8, 16, 32)),
}


def swin_size(
    arch: str, *, embed_dim: int = 0, depths: tuple[int, ...] = (), num_heads: tuple[int, ...] = ()
) -> SwinSize:
    """The named variant, with any of its widths overridden (0 / () keep the variant's)."""
    if arch not in SWIN_SIZES:
        raise ValueError(f"unknown Video Swin arch {arch!r}; valid: {', '.join(SWIN_SIZES)}")
    base = SWIN_SIZES[arch]
    size = SwinSize(
        embed_dim or base.embed_dim,
        tuple(depths) or base.depths,
        tuple(num_heads) or base.num_heads,
    )
    if len(size.depths) != len(size.num_heads):
        raise ValueError(f"Video Swin: {len(size.depths)} depths but {len(size.num_heads)} heads")
    for i, heads in enumerate(size.num_heads):
        if (size.embed_dim * 2**i) % heads:
            raise ValueError(
                f"Video Swin: stage {i + 1} width {size.embed_dim * 2**i} is not divisible by "
                f"its {heads} heads"
            )
    return size


class VideoSwin(nn.Module):
    """The Video Swin backbone: (B, C_in, T, H, W) -> (B, C, T/2, H/32, W/32).

    Children keep torchvision's names (``patch_embed``, ``features``, ``norm``), so its weight
    files load with a ``backbone.`` prefix.

    Args:
        size: widths (see :func:`swin_size`).
        in_channels: input channels (3 RGB, 6 with frame differences).
        patch_size: (t, h, w) of the patch embedding (reference: 2, 4, 4).
        window_size: (t, h, w) attention window (reference: 8, 7, 7); clipped to the input.
        drop_path: stochastic depth of the last block, linear from 0 (tiny 0.1, base 0.3).
        mlp_ratio: hidden width of each block's MLP over C (reference: 4).
    """

    def __init__(
        self,
        *,
        size: SwinSize,
        in_channels: int = 3,
        patch_size: tuple[int, int, int] = (2, 4, 4),
        window_size: tuple[int, int, int] = (8, 7, 7),
        drop_path: float = 0.1,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        net = SwinTransformer3d(
            patch_size=list(patch_size),
            embed_dim=size.embed_dim,
            depths=list(size.depths),
            num_heads=list(size.num_heads),
            window_size=list(window_size),
            mlp_ratio=mlp_ratio,
            stochastic_depth_prob=drop_path,
        )
        self.patch_embed = net.patch_embed
        if in_channels != 3:
            old = net.patch_embed.proj
            self.patch_embed.proj = nn.Conv3d(
                in_channels, old.out_channels, kernel_size=old.kernel_size, stride=old.stride
            )
        self.pos_drop = net.pos_drop
        self.features = net.features
        self.norm = net.norm
        self.out_channels = net.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, T, H, W) -> (B, C, T', H', W') after the final LayerNorm."""
        x = self.pos_drop(self.patch_embed(x))  # (B, T', H'', W'', C0)
        x = self.norm(self.features(x))  # (B, T', H', W', C)
        return x.permute(0, 4, 1, 2, 3).contiguous()
