"""The optimiser of a run: SGD (the paper) or AdamW (the Video Swin recipes), with parameter groups.

Two per-parameter rules, both off by default (the paper's SGD treats every tensor alike):

- ``no_decay_norm``: no weight decay on the weights and biases of normalisation layers
  (LayerNorm, BatchNorm, GroupNorm) and on Swin's relative-position-bias tables. MMAction2's
  Swin recipes give ``decay_mult=0`` to the names containing ``norm`` and
  ``relative_position_bias_table``, which in Video Swin are exactly those tensors.
- ``backbone_lr_mult``: the lr of ``backbone.*`` is scaled (MMAction2 Swin fine-tuning from
  pre-trained weights: 0.1); heads and loss modules keep the base lr.

The schedule multiplies every group's lr by the same factor (``engine/schedule.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from mgproto.config import TrainConfig

NORMS = (
    nn.LayerNorm,
    nn.GroupNorm,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
)
NO_DECAY_NAMES = ("relative_position_bias_table", "absolute_pos_embed")


def _no_decay_names(module: nn.Module) -> set[str]:
    """Names of the parameters that ``no_decay_norm`` exempts from weight decay."""
    names = set()
    for prefix, sub in module.named_modules():
        for name, _ in sub.named_parameters(recurse=False):
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(sub, NORMS) or any(key in name for key in NO_DECAY_NAMES):
                names.add(full)
    return names


def param_groups(module: nn.Module, cfg: TrainConfig) -> list[dict]:
    """The trainable parameters of ``module`` in groups of equal (lr, weight decay).

    Backbone parameters are found by a ``backbone`` component in their name (the objective
    holds the recognizer as ``model``, so theirs read ``model.backbone.*``).
    """
    exempt = _no_decay_names(module) if cfg.no_decay_norm else set()
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        parts = name.split(".")
        lr = cfg.lr * (cfg.backbone_lr_mult if "backbone" in parts else 1.0)
        decay = 0.0 if name in exempt else cfg.weight_decay
        groups.setdefault((lr, decay), []).append(p)
    return [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]


def build_optimizer(module: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, Nesterov) or AdamW (betas) over :func:`param_groups`."""
    groups = param_groups(module, cfg)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; valid: sgd, adamw")
