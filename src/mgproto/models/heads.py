"""Per-modality classification heads, prototype memories, and the late fusion of the modalities.

A :class:`ModalityHead` pools the backbone feature (global average), applies dropout and a linear
classifier (RGBPoseHead / I3DHead: std-0.01 init). With ``embed_dim > 0`` it also projects the
feature for the prototypical refinement module and keeps that modality's class prototypes as a
buffer (saved in checkpoints, updated by the loss, identical on every rank); at inference the
prototypes can rectify the logits (PCAN: ``logits + w * cos(embedding, prototypes)``).

Axis legend: B batch (B * N rows with N test clips), C channels, T frames, H/W rows/columns,
K classes, D embedding.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

FeaturePool = Literal["avg", "tmean_smax"]


def pool_feature(x: torch.Tensor, how: FeaturePool) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C): global average, or PCAN's mean over T then max over space."""
    if how == "avg":
        return x.mean(dim=(2, 3, 4))
    if how == "tmean_smax":
        return x.mean(dim=2).amax(dim=(2, 3))
    raise ValueError(f"feature pool must be 'avg' or 'tmean_smax', got {how!r}")


class ModalityHead(nn.Module):
    """Pool -> dropout -> linear for one stream, plus the optional prototype branch.

    Args:
        in_channels: C of the backbone feature.
        num_classes: K.
        dropout: dropout before the classifier (reference: 0.5).
        embed_dim: D of the prototype embedding; 0 disables the branch.
        embed_pool: how the embedding's input is pooled (``avg`` = the classifier's feature).
        rectify_weight: w of the inference-time rectification; 0 disables it.
        semantic_dim: D of the semantic embedding (``emb_fc``: pooled feature before dropout
            -> class-name vector space, HFUT-VUT MiGA'23); 0 disables it.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        num_classes: int,
        dropout: float = 0.5,
        embed_dim: int = 0,
        embed_pool: FeaturePool = "avg",
        rectify_weight: float = 0.0,
        semantic_dim: int = 0,
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)
        self.embed_pool = embed_pool
        self.rectify_weight = rectify_weight
        self.embed = nn.Linear(in_channels, embed_dim) if embed_dim > 0 else None
        if embed_dim > 0:
            # FR-Head initialises its memory with randn; EMA updates replace it quickly
            self.register_buffer("prototypes", torch.randn(num_classes, embed_dim))
        elif rectify_weight:
            raise ValueError("rectification needs the prototype branch (embed_dim > 0)")
        self.emb_fc = nn.Linear(in_channels, semantic_dim) if semantic_dim > 0 else None

    def semantic(self, pooled: torch.Tensor) -> torch.Tensor | None:
        """(B, C) pooled feature (before dropout) -> (B, D) semantic embedding, or None."""
        return None if self.emb_fc is None else self.emb_fc(pooled)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x (B, C, T, H, W) -> logits (B, K), pooled feature (B, C), embedding (B, D) or None."""
        pooled = pool_feature(x, "avg")
        logits = self.fc(self.dropout(pooled))
        if self.embed is None:
            return logits, pooled, None
        source = pooled if self.embed_pool == "avg" else pool_feature(x, self.embed_pool)
        embedding = self.embed(source)
        if self.rectify_weight and not self.training:
            cos = F.normalize(embedding, dim=1) @ F.normalize(self.prototypes, dim=1).T
            logits = logits + self.rectify_weight * cos
        return logits, pooled, embedding


def late_fusion(probs: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    """Weighted mean of the streams' class probabilities (reference: 1:1 sum), (B, K)."""
    total = sum(weights[s] for s in probs)
    return sum(weights[s] * p for s, p in probs.items()) / total
