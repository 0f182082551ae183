"""3D ResNet pathways (SlowOnly / PoseConv3D family), with room for lateral inputs.

One :class:`ResNet3dPathway` is a stem (conv + BN + ReLU, max-pool) and stages of
:class:`Bottleneck3d` blocks. A stage may be *inflated* (its blocks' first conv is 3x1x1, i.e.
temporal), and may receive extra input channels from the other pathway (lateral connections of
the two-stream model are built by ``rgbpose.py``; their channel counts come in as
``lateral_inplanes``). Module names follow MMAction2's (``conv1.conv``, ``layer1.0.conv2.bn``
...) so their checkpoints map onto ours key for key.

Axis legend: B batch, C channels, T frames, H/W rows/columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ConvBN(nn.Module):
    """Conv3d (no bias) + BatchNorm3d (+ ReLU). Children ``conv`` and ``bn`` as in MMCV."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel: tuple[int, int, int],
        stride: tuple[int, int, int] = (1, 1, 1),
        padding: tuple[int, int, int] = (0, 0, 0),
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm3d(out_channels)
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, H, W) -> (B, C_out, T', H', W')."""
        return self.act(self.bn(self.conv(x)))


class Bottleneck3d(nn.Module):
    """1x1x1 (or 3x1x1 if inflated) -> 1x3x3 (strided) -> 1x1x1 (x4 channels), plus identity."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        *,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        inflate: bool = False,
    ) -> None:
        super().__init__()
        out = planes * self.expansion
        k1, p1 = ((3, 1, 1), (1, 0, 0)) if inflate else ((1, 1, 1), (0, 0, 0))
        stride = (temporal_stride, spatial_stride, spatial_stride)
        self.conv1 = ConvBN(inplanes, planes, kernel=k1, padding=p1)
        self.conv2 = ConvBN(planes, planes, kernel=(1, 3, 3), stride=stride, padding=(0, 1, 1))
        self.conv3 = ConvBN(planes, out, kernel=(1, 1, 1), act=False)
        # MMAction2's rule: a downsample exists if the spatial stride or the width changes
        needs_down = spatial_stride != 1 or inplanes != out
        self.downsample = (
            ConvBN(inplanes, out, kernel=(1, 1, 1), stride=stride, act=False)
            if needs_down
            else None
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, H, W) -> (B, 4 * planes, T / t_stride, H / s_stride, W / s_stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)


class ResNet3dPathway(nn.Module):
    """A SlowOnly-style 3D ResNet-50 pathway.

    Args:
        in_channels: input channels (3 for RGB, V or V + L for heatmaps).
        base_channels: width of the stem; stage i has ``base * 2^i`` planes (x4 out).
        stage_blocks: blocks per stage (its length is the number of stages).
        spatial_strides / temporal_strides: stride of each stage's first block.
        inflate: per stage, whether its blocks use 3x1x1 first convs.
        conv1_kernel: stem kernel (T, H, W); conv1_stride / pool1_stride: (t, s) strides.
        lateral_inplanes: extra input channels of each stage's first block (from laterals).
        out_indices: stages whose outputs ``forward`` returns (last one if a single index).
    """

    def __init__(
        self,
        *,
        in_channels: int,
        base_channels: int,
        stage_blocks: Sequence[int],
        spatial_strides: Sequence[int],
        temporal_strides: Sequence[int],
        inflate: Sequence[int],
        conv1_kernel: tuple[int, int, int] = (1, 7, 7),
        conv1_stride: tuple[int, int] = (1, 2),
        pool1_stride: tuple[int, int] = (1, 2),
        lateral_inplanes: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        num_stages = len(stage_blocks)
        for name, seq in (
            ("spatial_strides", spatial_strides),
            ("inflate", inflate),
            ("temporal_strides", temporal_strides),
        ):
            if len(seq) != num_stages:
                raise ValueError(f"{name} has {len(seq)} entries for {num_stages} stages")
        lateral_inplanes = tuple(lateral_inplanes or (0,) * num_stages)
        self.num_stages = num_stages
        self.lateral_inplanes = lateral_inplanes
        pad = tuple((k - 1) // 2 for k in conv1_kernel)
        self.conv1 = ConvBN(
            in_channels,
            base_channels,
            kernel=conv1_kernel,
            stride=(conv1_stride[0], conv1_stride[1], conv1_stride[1]),
            padding=pad,
        )
        self.maxpool = nn.MaxPool3d(
            (1, 3, 3),
            stride=(pool1_stride[0], pool1_stride[1], pool1_stride[1]),
            padding=(0, 1, 1),
        )
        inplanes = base_channels
        self.stage_channels: list[int] = []
        for i, blocks in enumerate(stage_blocks):
            planes = base_channels * 2**i
            layers = []
            for b in range(blocks):
                layers.append(
                    Bottleneck3d(
                        inplanes + (lateral_inplanes[i] if b == 0 else 0),
                        planes,
                        spatial_stride=spatial_strides[i] if b == 0 else 1,
                        temporal_stride=temporal_strides[i] if b == 0 else 1,
                        inflate=bool(inflate[i]),
                    )
                )
                inplanes = planes * Bottleneck3d.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
            self.stage_channels.append(inplanes)

    @property
    def out_channels(self) -> int:
        return self.stage_channels[-1]

    def stage(self, i: int) -> nn.Sequential:
        """Stage i (0-based), i.e. ``layer{i + 1}``."""
        return getattr(self, f"layer{i + 1}")

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, H, W) -> (B, base, T / t, H / (s_conv * s_pool), W / ...)."""
        return self.maxpool(self.conv1(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Single-pathway forward (no laterals): (B, C_in, T, H, W) -> (B, C_out, T', H', W')."""
        if any(self.lateral_inplanes):
            raise RuntimeError("this pathway expects lateral inputs; run it inside RGBPoseConv3D")
        x = self.stem(x)
        for i in range(self.num_stages):
            x = self.stage(i)(x)
        return x


def stage_channels(base_channels: int, num_stages: int) -> list[int]:
    """Output channels of each stage of a bottleneck pathway: 4 * base * 2^i."""
    return [Bottleneck3d.expansion * base_channels * 2**i for i in range(num_stages)]


def init_pathway(module: nn.Module, *, zero_init_residual: bool = True) -> None:
    """MMAction2's init: Conv3d kaiming-normal (fan_out, relu), BN weight 1 / bias 0, and the
    last BN of every bottleneck zeroed so each block starts as identity."""
    for m in module.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in module.modules():
            if isinstance(m, Bottleneck3d):
                nn.init.zeros_(m.conv3.bn.weight)
