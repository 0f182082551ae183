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

import torch
import torch.nn.functional as F
from torch import nn


def pool_time_bins(x: torch.Tensor, num_bins: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C * num_bins): the mean over space and over each of ``num_bins``
    equal spans of time, concatenated bin-major (``num_bins`` 1 is the global average).

    Global average pooling keeps no order in time, so a clip and its reverse (push / pull, sit
    down / stand up) can only be told apart by the backbone's local temporal kernels; the bins
    let the classifier compare the start of the clip with its end (docs/recipes.md).
    """
    if num_bins == 1:
        return x.mean(dim=(2, 3, 4))
    per_frame = x.mean(dim=(3, 4))  # (B, C, T)
    binned = F.adaptive_avg_pool1d(per_frame, num_bins)  # (B, C, num_bins)
    return binned.transpose(1, 2).flatten(1)  # (B, num_bins * C)


class ModalityHead(nn.Module):
    """Pool -> dropout -> linear for one stream, plus the optional prototype branch.

    Args:
        in_channels: C of the backbone feature.
        num_classes: K.
        dropout: dropout before the classifier (reference: 0.5).
        embed_dim: D of the prototype embedding; 0 disables the branch.
        rectify_weight: w of the inference-time rectification; 0 disables it.
        semantic_dim: D of the semantic embedding (``emb_fc``: pooled feature before dropout
            -> class-name vector space, HFUT-VUT MiGA'23); 0 disables it.
        temporal_bins: the pooled feature is the mean over this many equal spans of time,
            concatenated (C * bins wide); 1 = the global average of the reference heads.
        centre_memory: also keep (K, D) buffers ``fn_centres`` / ``fp_centres``, the EMA of
            each class's false-negative / false-positive centres (``prototype.centres=memory``).
    """

    def __init__(
        self,
        *,
        in_channels: int,
        num_classes: int,
        dropout: float = 0.5,
        embed_dim: int = 0,
        rectify_weight: float = 0.0,
        semantic_dim: int = 0,
        temporal_bins: int = 1,
        centre_memory: bool = False,
    ) -> None:
        super().__init__()
        if temporal_bins < 1:
            raise ValueError(f"temporal_bins must be >= 1, got {temporal_bins}")
        self.temporal_bins = temporal_bins
        pooled_dim = in_channels * temporal_bins
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(pooled_dim, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)
        self.rectify_weight = rectify_weight
        self.embed = nn.Linear(pooled_dim, embed_dim) if embed_dim > 0 else None
        if embed_dim > 0:
            # FR-Head initialises its memory with randn; EMA updates replace it quickly
            self.register_buffer("prototypes", torch.randn(num_classes, embed_dim))
            if centre_memory:  # zero rows = no false negative / positive of that class yet
                self.register_buffer("fn_centres", torch.zeros(num_classes, embed_dim))
                self.register_buffer("fp_centres", torch.zeros(num_classes, embed_dim))
        elif rectify_weight:
            raise ValueError("rectification needs the prototype branch (embed_dim > 0)")
        self.emb_fc = nn.Linear(pooled_dim, semantic_dim) if semantic_dim > 0 else None

    def semantic(self, pooled: torch.Tensor) -> torch.Tensor | None:
        """(B, C * bins) pooled feature (before dropout) -> (B, D) semantic embedding, or None."""
        return None if self.emb_fc is None else self.emb_fc(pooled)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """x (B, C, T, H, W) -> logits (B, K), pooled feature (B, C * bins), embedding (B, D) or
        None."""
        pooled = pool_time_bins(x, self.temporal_bins)
        logits = self.fc(self.dropout(pooled))
        if self.embed is None:
            return logits, pooled, None
        embedding = self.embed(pooled)  # the classifier's feature (FR-Head)
        if self.rectify_weight and not self.training:
            cos = F.normalize(embedding, dim=1) @ F.normalize(self.prototypes, dim=1).T
            logits = logits + self.rectify_weight * cos
        return logits, pooled, embedding


def late_fusion(probs: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    """Weighted mean of the streams' class probabilities (reference: 1:1 sum), (B, K)."""
    total = sum(weights[s] for s in probs)
    return sum(weights[s] * p for s, p in probs.items()) / total
