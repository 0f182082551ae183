"""Losses: prototypical refinement and the training objective (what DDP wraps)."""

from mgproto.losses.objective import Objective
from mgproto.losses.prototype import PrototypeRefinementLoss

__all__ = ["Objective", "PrototypeRefinementLoss"]
