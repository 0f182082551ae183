"""RGBPoseConv3D: an RGB SlowOnly pathway and a pose PoseConv3D pathway with bidirectional
lateral connections (reference-spec 1.1-1.4), plus the optional cross-modal fusion modules.

Pose stage i feeds RGB stage i + 2 (a temporal stride-``speed_ratio`` conv, kernel 7x1x1, no
norm: ``rgb_path.layer{i+2}_lateral``); RGB stage i + 1 feeds pose stage i + 1 (a transposed
temporal conv up to T_pose, + BN + ReLU: ``pose_path.layer{i+1}_lateral``), for each lateral
point i in ``lateral_points`` (the reference activates 0 and 1: after RGB layer2 / pose layer1
and after RGB layer3 / pose layer2). Each stream's next stage reads ``cat([own, lateral])``.

Axis legend: B batch, C channels, T frames, H/W rows/columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mgproto.models.fusion import CrossModalFusion
from mgproto.models.resnet3d import ResNet3dPathway, init_pathway, stage_channels


class PoseToRGBLateral(nn.Module):
    """Conv3d (7, 1, 1), temporal stride ``ratio``, no bias, no norm: T_pose -> T_rgb."""

    def __init__(self, in_channels: int, out_channels: int, *, ratio: int, kernel: int = 7):
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels,
            out_channels,
            (kernel, 1, 1),
            stride=(ratio, 1, 1),
            padding=((kernel - 1) // 2, 0, 0),
            bias=False,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T_pose, H, W) -> (B, C_out, T_pose / ratio, H, W)."""
        return self.conv(x)


class RGBToPoseLateral(nn.Module):
    """ConvTranspose3d (7, 1, 1), temporal stride ``ratio`` + BN + ReLU: T_rgb -> T_pose."""

    def __init__(self, in_channels: int, out_channels: int, *, ratio: int, kernel: int = 7):
        super().__init__()
        self.ratio = ratio
        self.conv = nn.ConvTranspose3d(
            in_channels,
            out_channels,
            (kernel, 1, 1),
            stride=(ratio, 1, 1),
            padding=((kernel - 1) // 2, 0, 0),
            bias=False,
        )
        self.bn = nn.BatchNorm3d(out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T_rgb, H, W) -> (B, C_out, ratio * T_rgb, H, W)."""
        n, _, t, h, w = x.shape
        y = self.conv(x, output_size=(n, self.conv.out_channels, t * self.ratio, h, w))
        return self.act(self.bn(y))


class RGBPoseConv3D(nn.Module):
    """The two-stream backbone.

    Args:
        rgb / pose: keyword arguments of the two ``ResNet3dPathway`` (without laterals).
        speed_ratio: T_pose / T_rgb (4).
        rgb_lateral_infl: RGB lateral width = pose channels x this (reference: 1).
        pose_lateral_infl: pose lateral width = RGB channels / this (reference: 16).
        lateral_points: pose stages after which laterals are exchanged (reference: (0, 1)).
        fusion: per lateral point, a CrossModalFusion config dict, or None for no fusion.
        fusion_lateral_source: laterals read the ``unfused`` (PCAN) or ``fused`` features.

    The reference's lateral detach and drop-path arguments are left out: its configs keep them
    at their no-op defaults (False, 0), which is what this module does.
    """

    def __init__(
        self,
        *,
        rgb: dict,
        pose: dict,
        speed_ratio: int = 4,
        rgb_lateral_infl: int = 1,
        pose_lateral_infl: int = 16,
        lateral_points: Sequence[int] = (0, 1),
        fusion: dict | None = None,
        fusion_lateral_source: str = "unfused",
    ) -> None:
        super().__init__()
        if fusion_lateral_source not in ("unfused", "fused"):
            raise ValueError(
                f"fusion_lateral_source: 'unfused' or 'fused', got {fusion_lateral_source!r}"
            )
        self.speed_ratio = speed_ratio
        self.lateral_points = tuple(lateral_points)
        self.fusion_lateral_source = fusion_lateral_source
        # channel counts without laterals, to size the lateral inputs
        rgb_ch = stage_channels(rgb["base_channels"], len(rgb["stage_blocks"]))
        pose_ch = stage_channels(pose["base_channels"], len(pose["stage_blocks"]))
        rgb_extra = [0] * len(rgb_ch)
        pose_extra = [0] * len(pose_ch)
        for i in self.lateral_points:
            rgb_extra[i + 2] = pose_ch[i] * rgb_lateral_infl
            pose_extra[i + 1] = rgb_ch[i + 1] // pose_lateral_infl
        self.rgb_path = ResNet3dPathway(**rgb, lateral_inplanes=rgb_extra)
        self.pose_path = ResNet3dPathway(**pose, lateral_inplanes=pose_extra)
        for i in self.lateral_points:
            self.rgb_path.add_module(
                f"layer{i + 2}_lateral",
                PoseToRGBLateral(pose_ch[i], rgb_extra[i + 2], ratio=speed_ratio),
            )
            self.pose_path.add_module(
                f"layer{i + 1}_lateral",
                RGBToPoseLateral(rgb_ch[i + 1], pose_extra[i + 1], ratio=speed_ratio),
            )
        self.fusions = nn.ModuleDict()
        if fusion is not None:
            for i in self.lateral_points:
                self.fusions[str(i)] = CrossModalFusion(
                    rgb_channels=rgb_ch[i + 1],
                    pose_channels=pose_ch[i],
                    ratio=speed_ratio,
                    **{"hidden": pose_ch[i], **fusion},
                )
        self.init_weights()

    @property
    def out_channels(self) -> tuple[int, int]:
        """(C_rgb, C_pose) of the outputs."""
        return self.rgb_path.out_channels, self.pose_path.out_channels

    def init_weights(self) -> None:
        """MMAction2's init: kaiming convs (laterals included), unit BNs, zero-init residuals;
        transposed convs and fusion linears keep PyTorch's default init."""
        init_pathway(self.rgb_path)
        init_pathway(self.pose_path)
        for fusion in self.fusions.values():
            for m in fusion.modules():
                if isinstance(m, nn.Conv3d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)

    def _exchange(
        self, i: int, x_rgb: torch.Tensor, x_pose: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Lateral point i: optional fusion, then concatenate each stream with its lateral."""
        src_rgb, src_pose = x_rgb, x_pose
        if str(i) in self.fusions:
            x_rgb, x_pose = self.fusions[str(i)](x_rgb, x_pose)
            if self.fusion_lateral_source == "fused":
                src_rgb, src_pose = x_rgb, x_pose
        into_rgb = getattr(self.rgb_path, f"layer{i + 2}_lateral")(src_pose)
        into_pose = getattr(self.pose_path, f"layer{i + 1}_lateral")(src_rgb)
        return torch.cat([x_rgb, into_rgb], dim=1), torch.cat([x_pose, into_pose], dim=1)

    def forward(
        self, imgs: torch.Tensor, heatmaps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """imgs (B, 3, T_rgb, H, W), heatmaps (B, C_pose_in, T_pose, h, w)
        -> (B, C_rgb_out, T_rgb, H/32, W/32), (B, C_pose_out, T_pose, h/8, w/8)."""
        x_rgb = self.rgb_path.stage(0)(self.rgb_path.stem(imgs))
        x_pose = self.pose_path.stem(heatmaps)
        for i in range(self.pose_path.num_stages):
            x_rgb = self.rgb_path.stage(i + 1)(x_rgb)
            x_pose = self.pose_path.stage(i)(x_pose)
            if i in self.lateral_points:
                x_rgb, x_pose = self._exchange(i, x_rgb, x_pose)
        return x_rgb, x_pose
