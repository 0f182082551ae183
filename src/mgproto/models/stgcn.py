"""ST-GCN++ (PYSKL's improved ST-GCN): graph convolutions over joints, multi-scale temporal
convolutions over frames, on normalised joint coordinates.

One block is a graph convolution (a 1x1 convolution to K x C_out channels, mixed over joints by
the K adjacency subsets of :mod:`mgproto.models.graph`, which are learnable from their
initialisation: ``gcn_adaptive='init'``; BN, a residual, ReLU), then a multi-scale temporal
convolution (``mstcn``: four dilated 3-tap branches, a max-pool branch and a 1x1 branch,
concatenated, BN-ReLU-1x1, BN), plus the block's residual and a ReLU. Ten blocks: 64 channels,
doubled with temporal stride 2 at blocks 5 and 8 (PYSKL ``stgcn++`` configs). The module and
parameter names follow MMAction2 1.x's ``STGCN`` so its checkpoints import by name.

The input streams of PYSKL (joint, bone, joint motion, bone motion) are computed here from the
coordinates, by :func:`skeleton_features`, exactly as the reference's ``GenSkeFeat`` computes
them: the bone of joint v is v minus its bone parent (:func:`mgproto.models.graph.bone_parents`,
the reference's table), motion is the difference to the next frame; a 2-D score channel keeps
the mean score of the two joints or frames.

Axis legend: B batch (B * N rows with N test clips), M persons, T frames, V joints,
C channels, K adjacency subsets.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

Feature = Literal["joint", "bone", "joint_motion", "bone_motion"]


def skeleton_features(
    coords: torch.Tensor, parent: torch.Tensor, feature: Feature, *, xyz: bool = False
) -> torch.Tensor:
    """(B, M, T, V, 3 | 6) coordinates -> (B, M, T, V, 3) joint / bone / their motion.

    Args:
        coords: (B, M, T, V, 3) x, y, score (or x, y, z) of the sampled frames; or
            (B, M, T, V, 6) with the channels of each frame's next frame in the record after
            them (``PoseCoords(next_frames=True)``), which the motion streams difference against.
        parent: (V,) each joint's bone parent (itself for a root, whose bone is 0).
        feature: which stream.
        xyz: channel 3 is z, not a score.

    A bone is the joint minus its parent; motion is the difference to the next frame (reference
    ``JointToBone`` / ``ToMotion``, computed on the whole record before frame sampling). Given
    only the sampled frames (C = 3), motion is differenced along the clip, zero at its last
    frame: the same thing for a clip of consecutive frames. With a 2-D score channel the score
    is not differenced: a bone keeps the mean score of its two joints, motion the mean score of
    its two frames. With ``xyz`` all three channels are differenced.
    """
    bones = feature in ("bone", "bone_motion")
    now = _bones(coords[..., :3], parent, xyz) if bones else coords[..., :3]
    if feature in ("joint", "bone"):
        return now
    if coords.shape[-1] == 6:
        later = _bones(coords[..., 3:], parent, xyz) if bones else coords[..., 3:]
        return _difference(now, later, xyz)
    motion = torch.zeros_like(now)
    motion[:, :, :-1] = _difference(now[:, :, :-1], now[:, :, 1:], xyz)
    return motion


def _bones(x: torch.Tensor, parent: torch.Tensor, xyz: bool) -> torch.Tensor:
    """(..., V, 3) -> each joint minus its parent (2-D: the score is the pair's mean)."""
    other = x[..., parent, :]
    if xyz:
        return x - other
    return torch.cat([x[..., :2] - other[..., :2], (x[..., 2:] + other[..., 2:]) / 2], -1)


def _difference(now: torch.Tensor, later: torch.Tensor, xyz: bool) -> torch.Tensor:
    """later - now (2-D: the score is the mean of the two)."""
    if xyz:
        return later - now
    return torch.cat([later[..., :2] - now[..., :2], (later[..., 2:] + now[..., 2:]) / 2], -1)


class GraphConv(nn.Module):
    """1x1 conv to K x C_out, sum over the K adjacency subsets, BN + residual, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor) -> None:
        super().__init__()
        self.num_subsets = adjacency.shape[0]
        self.A = nn.Parameter(adjacency.clone())  # gcn_adaptive='init': learnt from the graph
        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.down = (
            nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B', C_in, T, V) -> (B', C_out, T, V), B' = B * M."""
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.num_subsets, -1, t, v)
        y = torch.einsum("nkctv,kvw->nctw", y, self.A)  # joint v's feature sent to w
        return torch.relu(self.bn(y) + self.down(x))


class TemporalConv(nn.Module):
    """A (k, 1) convolution over frames (+ BN unless ``norm=False``): ``unit_tcn``."""

    def __init__(
        self, in_channels: int, out_channels: int, *, kernel: int, stride: int = 1,
        dilation: int = 1, norm: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        pad = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel, 1), padding=(pad, 0),
                              stride=(stride, 1), dilation=(dilation, 1))  # fmt: skip
        self.bn = nn.BatchNorm2d(out_channels) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B', C_in, T, V) -> (B', C_out, T / stride, V)."""
        return self.bn(self.conv(x))


class MultiScaleTCN(nn.Module):
    """Six parallel branches over time (dilations 1-4, max-pool, 1x1), concatenated, mixed."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1) -> None:
        super().__init__()
        mid = out_channels // 6
        first = out_channels - 5 * mid  # branch 0 takes the remainder

        def entry(c: int) -> list[nn.Module]:
            return [nn.Conv2d(in_channels, c, 1), nn.BatchNorm2d(c), nn.ReLU()]

        branches: list[nn.Module] = [
            nn.Sequential(*entry(c), TemporalConv(c, c, kernel=3, stride=stride, dilation=d,
                                                  norm=False))
            for d, c in zip((1, 2, 3, 4), (first, mid, mid, mid))
        ]  # fmt: skip
        branches.append(
            nn.Sequential(*entry(mid), nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)))
        )
        branches.append(nn.Conv2d(in_channels, mid, 1, stride=(stride, 1)))
        self.branches = nn.ModuleList(branches)
        self.transform = nn.Sequential(
            nn.BatchNorm2d(out_channels), nn.ReLU(), nn.Conv2d(out_channels, out_channels, 1)
        )
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B', C_in, T, V) -> (B', C_out, T / stride, V)."""
        return self.bn(self.transform(torch.cat([b(x) for b in self.branches], dim=1)))


class STGCNBlock(nn.Module):
    """GraphConv -> MultiScaleTCN, plus a residual (identity or a strided 1x1), ReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, adjacency: torch.Tensor, *, stride: int = 1,
        residual: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, adjacency)
        self.tcn = MultiScaleTCN(out_channels, out_channels, stride=stride)
        self.use_residual = residual
        same = in_channels == out_channels and stride == 1
        self.residual = (
            nn.Identity() if same or not residual
            else TemporalConv(in_channels, out_channels, kernel=1, stride=stride)
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B', C_in, T, V) -> (B', C_out, T / stride, V)."""
        y = self.tcn(self.gcn(x))
        return torch.relu(y + self.residual(x) if self.use_residual else y)


class STGCN(nn.Module):
    """The ST-GCN++ backbone on (B, M, T, V, C) coordinates.

    Args:
        adjacency: (K, V, V) subsets of the layout's graph.
        parent: (V,) each joint's bone parent (:func:`mgproto.models.graph.bone_parents`).
        feature: which of the four input streams to compute from the coordinates.
        in_channels: C of the input (x, y, score, or x, y, z).
        xyz: the input is 3-D (x, y, z), not 2-D with a score (bones subtract all three).
        base_channels: width of the first blocks (PYSKL: 64).
        num_stages: blocks (PYSKL: 10).
        inflate_stages / down_stages: 1-based blocks that double the width / halve T.
    """

    def __init__(
        self, *, adjacency: np.ndarray, parent: np.ndarray, feature: Feature = "joint",
        in_channels: int = 3, xyz: bool = False, base_channels: int = 64, num_stages: int = 10,
        inflate_stages: tuple[int, ...] = (5, 8), down_stages: tuple[int, ...] = (5, 8),
    ) -> None:  # fmt: skip
        super().__init__()
        a = torch.as_tensor(adjacency, dtype=torch.float32)
        self.register_buffer("parent", torch.as_tensor(parent, dtype=torch.long), persistent=False)
        self.feature, self.xyz = feature, xyz
        self.data_bn = nn.BatchNorm1d(in_channels * a.shape[1])  # per joint and channel ('VC')
        blocks = [STGCNBlock(in_channels, base_channels, a, residual=False)]
        width = base_channels
        for i in range(2, num_stages + 1):
            out = width * 2 if i in inflate_stages else width
            blocks.append(STGCNBlock(width, out, a, stride=2 if i in down_stages else 1))
            width = out
        self.gcn = nn.ModuleList(blocks)
        self.out_channels = width

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """coords (B, M, T, V, C) -> features (B, C_out, T', V, M), a 5-D map the standard
        heads pool (their global mean = PYSKL's mean over T, V, then persons). C may be twice
        ``in_channels``: the next frames after the sampled ones (:func:`skeleton_features`)."""
        x = skeleton_features(coords, self.parent, self.feature, xyz=self.xyz)
        n, m, t, v, c = x.shape
        x = x.permute(0, 1, 3, 4, 2).reshape(n * m, v * c, t)  # (B', V * C, T)
        x = self.data_bn(x).view(n * m, v, c, t).permute(0, 2, 3, 1)  # (B', C, T, V)
        for block in self.gcn:
            x = block(x)
        return x.view(n, m, *x.shape[1:]).permute(0, 2, 3, 4, 1)  # (B, C_out, T', V, M)
