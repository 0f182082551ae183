"""Learning-rate schedules as a multiplier of the base lr at a fractional epoch."""

from __future__ import annotations

import math

from mgproto.config import TrainConfig


def lr_factor(epoch: float, cfg: TrainConfig) -> float:
    """Multiplier of the base lr at fractional ``epoch``: warm-up x gamma^(milestones passed)
    (or x the cosine). The warm-up rises linearly from ``warmup_start`` to 1."""
    warm = 1.0
    if cfg.warmup_epochs > 0:
        share = min(1.0, (epoch + 1e-9) / cfg.warmup_epochs)
        warm = cfg.warmup_start + (1.0 - cfg.warmup_start) * share
    if cfg.schedule == "cosine":
        return warm * 0.5 * (1 + math.cos(math.pi * min(epoch / cfg.epochs, 1.0)))
    return warm * cfg.gamma ** sum(epoch >= m for m in cfg.milestones)
