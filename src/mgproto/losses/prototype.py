"""Prototypical refinement loss (paper section 2.3), exactly as FR-Head's RenovateNet (V0)
computes it (reference-spec 4.3).

For a batch of embeddings z (B, D), classifier logits (B, K) and labels y (N,):

1. Predictions and masks: TP = right predictions at their class; FN = a misclassified sample
   at its true class; FP = a misclassified sample at its predicted class.
2. Batch centres: c_FN[k] = mean z of class k's false negatives; c_FP[k] = mean z of samples
   wrongly predicted as k; c_TP[k] = mean z of k's true positives.
3. EMA: a class with true positives in the batch gets P[k] <- rho P[k] + (1 - rho) c_TP[k]
   (old P detached); the new P is stored *and* used in this step's loss, so gradients flow
   through the (1 - rho) c_TP term.
4. With unit vectors and m[i] = alpha (1 - p[i, y_i]), only the true-class logit is corrected:
   s_FN[i, k] = (cos(P_k, z_i) + m[i] [k = y_i] [has FN_k] (cos(c_FN_k, z_i) - 1)) / tau
   s_FP[i, k] = (cos(P_k, z_i) + m[i] [k = y_i] [has FP_k] (-cos(c_FP_k, z_i) - 1)) / tau
5. loss = mean_i CE(s_FN[i], y_i) + CE(s_FP[i], y_i).

Minimising it pulls an ambiguous sample towards the false negatives of its own class (the hard
positives) and away from the samples wrongly assigned to its class, strongest when the
classifier is unsure (small p).

Under DDP the true-positive sums and counts are all-reduced before the EMA, so the prototypes
stay identical on every rank (each rank's gradient flows through its own samples only).

Centre memory (ours, ``prototype.centres=memory``): a correction needs a false negative (or a
false positive) of the sample's class *in the same batch*; at batch 8 with 15 classes that is
rare, so the loss is mostly the plain prototype term. With memory buffers the FN / FP centres
are EMA'd across batches like the prototypes (a class's first centre is taken as it is; sums
all-reduced under DDP), so a class keeps its centre between batches. ``activity`` holds the
fraction of the last batch's samples whose FN / FP correction was not zero.

Axis legend: B batch, K classes, D embedding.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

_EPS = 1e-12


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit L2 norm as FR-Head does: x / (|x| + 1e-12)."""
    return x / (x.norm(dim=-1, keepdim=True) + _EPS)


def _all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum over ranks (identity outside torch.distributed); no gradient through other ranks."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        total = x.detach().clone()
        dist.all_reduce(total)
        return x + (total - x.detach())
    return x


class PrototypeRefinementLoss(nn.Module):
    """The PR loss for one stream; the prototypes are a (K, D) buffer owned by the model head.

    Args:
        alpha: strength of the FN / FP correction (FR-Head: 0.125).
        tau: temperature of the cosine logits (FR-Head: 0.125).
        momentum: EMA momentum rho (FR-Head: 0.9).
        detach_logits: use detached logits for predictions and p (FR-Head: True; PCAN: False).
    """

    def __init__(
        self,
        *,
        alpha: float = 0.125,
        tau: float = 0.125,
        momentum: float = 0.9,
        detach_logits: bool = True,
    ) -> None:
        super().__init__()
        self.alpha, self.tau, self.momentum = alpha, tau, momentum
        self.detach_logits = detach_logits
        self.activity: dict[str, torch.Tensor] = {}

    def forward(
        self,
        embeddings: torch.Tensor,
        logits: torch.Tensor,
        labels: torch.Tensor,
        prototypes: torch.Tensor,
        *,
        update: bool = True,
        fn_memory: torch.Tensor | None = None,
        fp_memory: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """embeddings (B, D), logits (B, K), labels (N,) in [0, K), prototypes (K, D) buffer
        (updated in place when ``update``) -> scalar loss. ``fn_memory`` / ``fp_memory``: (K, D)
        centre memories (updated in place when ``update``), or None for batch centres."""
        if self.detach_logits:
            logits = logits.detach()
        num_classes = logits.shape[1]
        z = embeddings
        lab = F.one_hot(labels, num_classes).to(z.dtype)  # (B, K)
        pred = F.one_hot(logits.argmax(1), num_classes).to(z.dtype)
        p = logits.float().softmax(1).to(z.dtype)
        tp = lab * pred
        fn = lab - tp
        fp = pred - tp
        if fn_memory is None or fp_memory is None:
            has_fn = (fn.sum(0) > 1e-8).to(z.dtype)  # (K,) batch-local, as the FN/FP centres
            has_fp = (fp.sum(0) > 1e-8).to(z.dtype)
            c_fn = F.normalize(fn, p=1, dim=0, eps=_EPS).T @ z  # (K, D)
            c_fp = F.normalize(fp, p=1, dim=0, eps=_EPS).T @ z
        else:
            c_fn, has_fn = self._remembered(fn, z, fn_memory, update)
            c_fp, has_fp = self._remembered(fp, z, fp_memory, update)
        protos, _ = self._remembered(tp, z, prototypes, update)  # the EMA of step 3
        z_u, p_u = _unit(z), _unit(protos)
        cos = z_u @ p_u.T  # (B, K)
        m = self.alpha * (1 - p) * lab
        pull = lab * has_fn * (z_u @ _unit(c_fn).T - 1)  # (B, K), non-zero at y_i only
        push = lab * has_fp * (-(z_u @ _unit(c_fp).T) - 1)
        self.activity = {  # samples whose correction is non-zero (a lone FN is its own centre)
            "fn": (pull.detach().abs().sum(1) > 1e-6).float().mean(),
            "fp": (push.detach().abs().sum(1) > 1e-6).float().mean(),
        }
        s_fn = (cos + m * pull) / self.tau
        s_fp = (cos + m * push) / self.tau
        return F.cross_entropy(s_fn, labels) + F.cross_entropy(s_fp, labels)

    def _remembered(
        self, mask: torch.Tensor, z: torch.Tensor, memory: torch.Tensor, update: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """mask (B, K) of TP, FN or FP samples, z (B, D), memory (K, D) -> the EMA centres
        (K, D), with gradient through this batch's term, and which classes have one (K,).

        Sums and counts are all-reduced under DDP. A class absent from the batch keeps its row;
        an all-zero row (an empty centre memory; never the randn prototypes) takes the batch
        centre as it is."""
        total = _all_reduce_sum(mask.T @ z)  # (K, D)
        count = _all_reduce_sum(mask.sum(0))  # (K,)
        batch = total / (count[:, None] + _EPS)
        old = memory.detach().to(z.dtype)
        known = (old.abs().sum(1) > 0)[:, None]
        fresh = torch.where(known, self.momentum * old + (1 - self.momentum) * batch, batch)
        centres = torch.where((count > 0)[:, None], fresh, old)
        if update:
            with torch.no_grad():
                memory.copy_(centres.detach().to(memory.dtype))
        return centres, (centres.detach().abs().sum(1) > 0).to(z.dtype)
