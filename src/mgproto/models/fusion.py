"""Cross-modal fusion (paper section 2.2): cross-attention between the RGB and pose features at
a lateral point, turned into a gate on each stream's own features.

Per stream: project to ``hidden`` channels (1x1x1 conv for RGB; a temporal stride-``ratio``
conv for pose, so both have T_rgb steps), max-pool space away, and run multi-head
cross-attention both ways (RGB queries pose; pose queries the *updated* RGB tokens). Map back
(1x1x1 conv for RGB; transposed temporal conv to T_pose for pose) and gate:
``x + g(a) * x`` with g the identity (``raw``, as PCAN) or a sigmoid.

``attend_over`` chooses the tokens:
- ``time``: T_rgb tokens of ``hidden`` features (PCAN, the closest public code);
- ``channel``: ``hidden`` tokens of T_rgb features (the paper's wording, "attention over
  channels").

Axis legend: B batch, C channels, T frames, H/W rows/columns, D token features, S tokens.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

AttendOver = Literal["time", "channel"]
Gate = Literal["raw", "sigmoid"]


class MultiHeadCrossAttention(nn.Module):
    """softmax(q k^T / sqrt(d)) v with q from ``x`` and k, v from ``y``; no residual or norm."""

    def __init__(self, dim: int, *, heads: int, dropout: float = 0.1) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.fc = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x (B, S_x, D) queries, y (B, S_y, D) keys/values -> (B, S_x, D)."""
        n, s_x, d = x.shape
        h = self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(n, -1, h, d // h).transpose(1, 2)  # (B, h, S, D / h)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(y)), split(self.v_proj(y))
        attn = torch.softmax(q @ k.transpose(-2, -1) * (d // h) ** -0.5, dim=-1)
        out = self.dropout(attn) @ v  # (B, h, S_x, D / h)
        return self.fc(out.transpose(1, 2).reshape(n, s_x, d))


class CrossModalFusion(nn.Module):
    """Gate each stream by cross-attention with the other (one lateral point).

    Args:
        rgb_channels: C_rgb of the RGB feature.
        pose_channels: C_pose of the pose feature.
        hidden: projection width (PCAN: C_pose).
        rgb_frames: T_rgb (the number of time tokens).
        ratio: T_pose / T_rgb (speed ratio, 4).
        heads: attention heads.
        attend_over: ``time`` or ``channel`` tokens.
        gate: ``raw`` (x + a x) or ``sigmoid`` (x + sigmoid(a) x).
        dropout: dropout on the attention matrix (PCAN: 0.1).
    """

    def __init__(
        self,
        *,
        rgb_channels: int,
        pose_channels: int,
        hidden: int,
        rgb_frames: int,
        ratio: int = 4,
        heads: int = 8,
        attend_over: AttendOver = "time",
        gate: Gate = "raw",
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if attend_over not in ("time", "channel"):
            raise ValueError(f"attend_over must be 'time' or 'channel', got {attend_over!r}")
        if gate not in ("raw", "sigmoid"):
            raise ValueError(f"gate must be 'raw' or 'sigmoid', got {gate!r}")
        self.attend_over, self.gate = attend_over, gate
        self.conv1 = nn.Conv3d(rgb_channels, hidden, 1)
        self.conv2 = nn.Conv3d(pose_channels, hidden, (ratio, 1, 1), stride=(ratio, 1, 1))
        self.pool = nn.AdaptiveMaxPool3d((rgb_frames, 1, 1))
        dim = hidden if attend_over == "time" else rgb_frames
        self.rgb_cross_attn = MultiHeadCrossAttention(dim, heads=heads, dropout=dropout)
        self.pose_cross_attn = MultiHeadCrossAttention(dim, heads=heads, dropout=dropout)
        self.conv4 = nn.Conv3d(hidden, rgb_channels, 1)
        self.conv5 = nn.ConvTranspose3d(hidden, pose_channels, (ratio, 1, 1), stride=(ratio, 1, 1))

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D_h, T, H, W) -> (B, S, D): T tokens of hidden features, or the transpose."""
        t = self.pool(x).flatten(2)  # (B, hidden, T_rgb)
        return t.transpose(1, 2) if self.attend_over == "time" else t

    def _untokens(self, t: torch.Tensor) -> torch.Tensor:
        """Inverse of ``_tokens`` without the pooling: -> (B, hidden, T_rgb, 1, 1)."""
        t = t.transpose(1, 2) if self.attend_over == "time" else t
        return t[..., None, None]

    def forward(
        self, x_rgb: torch.Tensor, x_pose: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x_rgb (B, C_rgb, T_rgb, H, W), x_pose (B, C_pose, T_pose, H', W') -> gated copies."""
        r = self._tokens(self.conv1(x_rgb))
        s = self._tokens(self.conv2(x_pose))
        r = self.rgb_cross_attn(r, s)
        s = self.pose_cross_attn(s, r)  # pose queries the updated RGB tokens (PCAN)
        a_rgb = self.conv4(self._untokens(r))  # (B, C_rgb, T_rgb, 1, 1)
        a_pose = self.conv5(self._untokens(s))  # (B, C_pose, T_pose, 1, 1)
        if self.gate == "sigmoid":
            a_rgb, a_pose = torch.sigmoid(a_rgb), torch.sigmoid(a_pose)
        return x_rgb + a_rgb * x_rgb, x_pose + a_pose * x_pose
