"""The training objective: the model plus its losses, in the one module that DDP wraps.

loss = sum over streams of w_s CE(logits_s, y) + weight * PR_s (paper: CE_rgb + CE_pose +
alpha (PR_rgb + PR_pose)). The prototype memories are buffers of the model's heads, so they
are saved with the model and the PR loss keeps them identical across ranks.

Axis legend: B batch, K classes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mgproto.config import PrototypeConfig
from mgproto.losses.prototype import PrototypeRefinementLoss
from mgproto.models.recognizer import ModelOutput, Recognizer


class Objective(nn.Module):
    """Model + losses. ``forward(batch)`` returns (loss, ModelOutput, named loss terms); with
    PR the terms also log ``pr_fn_<s>`` / ``pr_fp_<s>``, the fraction of the batch whose class
    had a false-negative / false-positive centre (not part of the loss).

    Args:
        model: the recognizer.
        prototype: PR settings (ignored unless ``enabled``).
        modality_weights: CE weight per modality (reference: 1 each).
        class_vectors: (K, D) class-name vectors of the semantic embedding loss (JSE), or None.
        semantic_weight: its weight (HFUT-VUT MiGA'23: 20).
    """

    def __init__(
        self,
        model: Recognizer,
        *,
        prototype: PrototypeConfig | None = None,
        modality_weights: dict[str, float] | None = None,
        class_vectors: torch.Tensor | None = None,
        semantic_weight: float = 20.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.modality_weights = modality_weights or {s: 1.0 for s in model.streams}
        self.pr_weight = 0.0
        self.pr = None
        self.semantic_weight = semantic_weight
        self.register_buffer("class_vectors", class_vectors, persistent=False)
        if prototype is not None and prototype.enabled:
            self.pr_weight = prototype.weight
            self.pr = PrototypeRefinementLoss(
                alpha=prototype.alpha,
                tau=prototype.tau,
                momentum=prototype.momentum,
                detach_logits=prototype.detach_logits,
            )

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, ModelOutput, dict]:
        """batch with ``label`` (B,) and ``imgs`` / ``heatmaps`` / ``coords`` -> loss, output,
        terms."""
        out = self.model(**{k: batch.get(k) for k in ("imgs", "heatmaps", "coords")})
        labels = batch["label"].repeat_interleave(out.num_clips)
        terms: dict[str, torch.Tensor] = {}
        activity: dict[str, torch.Tensor] = {}  # logged, not part of the loss
        for s in self.model.streams:
            ce = F.cross_entropy(out.logits[s], labels)
            terms[f"ce_{s}"] = self.modality_weights[s] * ce
            if self.pr is not None and self.training:
                head = self.model.head[s]
                terms[f"pr_{s}"] = self.pr_weight * self.pr(
                    out.embeddings[s], out.logits[s], labels, head.prototypes,
                    fn_memory=getattr(head, "fn_centres", None),
                    fp_memory=getattr(head, "fp_centres", None),
                )  # fmt: skip
                activity.update({f"pr_{k}_{s}": v for k, v in self.pr.activity.items()})
            if self.class_vectors is not None and s in out.semantic:
                # MSE over all B x D elements (the reference's mse_loss, weight 20)
                target = self.class_vectors[labels]
                terms[f"jse_{s}"] = self.semantic_weight * F.mse_loss(out.semantic[s], target)
        loss = torch.stack(list(terms.values())).sum()
        return loss, out, {**{k: v.detach() for k, v in terms.items()}, **activity}
