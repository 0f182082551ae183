"""A temporal CNN on normalised joint coordinates: the baseline a user tries first.

Every frame's joints (positions, their frame-to-frame motion and the scores of all persons) are
one feature vector; a 1x1 embedding and ``num_layers`` residual temporal convolutions (dilation
1, 2, 4, ...) follow. It trains in about a minute on a CPU, is the floor the heatmap recipes must
beat on real data, and is a cheap ensemble member. Its output keeps the 5-D layout of the 3D
pathways, (B, D, T, 1, 1), so the same heads (and the prototype branch) apply.

Axis legend: B batch (B * N rows with N test clips), M persons, T frames, V joints,
C channels (x, y, score; or x, y, z for 3-D skeletons), F per-frame features, D width.
"""

from __future__ import annotations

import torch
from torch import nn


def frame_features(coords: torch.Tensor, *, xyz: bool = False) -> torch.Tensor:
    """(B, M, T, V, 3) -> (B, F, T): per joint x, y, dx, dy, score (F = M * V * 5), or with
    ``xyz`` (3-D skeletons) x, y, z, dx, dy, dz (F = M * V * 6).

    The motion is the forward difference, zero where either frame's joint is missing (score 0;
    in 3-D all three coordinates 0) and at the last frame.
    """
    if xyz:
        pos = coords
        valid = coords.ne(0).any(-1, keepdim=True).to(coords.dtype)
    else:
        pos, score = coords[..., :2], coords[..., 2:]
        valid = (score > 0).to(pos.dtype)
    motion = torch.zeros_like(pos)
    both = valid[:, :, 1:] * valid[:, :, :-1]
    motion[:, :, :-1] = (pos[:, :, 1:] - pos[:, :, :-1]) * both
    feats = torch.cat([pos, motion] if xyz else [pos, motion, score], dim=-1)  # (B, M, T, V, F')
    n, m, t, v, c = feats.shape
    return feats.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t)  # (B, F, T)


class TemporalBlock(nn.Module):
    """Conv1d(k, dilation) -> BN -> ReLU -> dropout, with a residual connection."""

    def __init__(self, *, width: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            width, width, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation
        )
        self.bn = nn.BatchNorm1d(width)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D, T) -> (B, D, T)."""
        return x + self.drop(torch.relu(self.bn(self.conv(x))))


class CoordTCN(nn.Module):
    """Temporal CNN backbone on normalised coordinates.

    Args:
        num_joints: V of the layout.
        num_persons: M kept by the pipeline.
        width: D, channels of every temporal layer.
        num_layers: residual temporal blocks (dilations 1, 2, 4, ...).
        kernel: temporal kernel size (odd).
        dropout: dropout inside the blocks.
        xyz: 3-D input (x, y, z) instead of x, y, score.
    """

    def __init__(
        self,
        *,
        num_joints: int,
        num_persons: int,
        xyz: bool = False,
        width: int = 128,
        num_layers: int = 3,
        kernel: int = 5,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"the TCN kernel must be odd, got {kernel}")
        in_features = num_persons * num_joints * (6 if xyz else 5)
        self.num_joints, self.num_persons, self.xyz = num_joints, num_persons, xyz
        self.embed = nn.Sequential(
            nn.Conv1d(in_features, width, 1), nn.BatchNorm1d(width), nn.ReLU(inplace=True)
        )
        self.blocks = nn.Sequential(
            *(
                TemporalBlock(width=width, kernel=kernel, dilation=2**i, dropout=dropout)
                for i in range(num_layers)
            )
        )
        self.out_channels = width

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """coords (B, M, T, V, 3) -> features (B, D, T, 1, 1)."""
        if coords.shape[1] != self.num_persons or coords.shape[3] != self.num_joints:
            raise ValueError(
                f"coords of shape {tuple(coords.shape)}: this model expects "
                f"{self.num_persons} persons and {self.num_joints} joints"
            )
        x = self.blocks(self.embed(frame_features(coords, xyz=self.xyz)))  # (B, D, T)
        return x[..., None, None]
