"""Where a run is: the position in training, the best validation so far, the skip counts and
the random generators, saved in every checkpoint as one ``train_state`` and restored as one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class TrainState:
    epoch: int = 0  # epochs finished
    step_in_epoch: int = 0  # optimiser steps done in the current epoch
    global_step: int = 0  # optimiser steps done in all
    best: dict[str, Any] | None = None  # the best validation record ({"epoch", "fused_top1", ...})
    bad: int = 0  # training clips skipped because they could not be read
    seen: int = 0  # training clips drawn (read or skipped)

    def improves(self, val: dict[str, Any]) -> bool:
        """Record ``val`` as the best if its fused top-1 beats the best so far."""
        if self.best is not None and val["fused_top1"] <= self.best["fused_top1"]:
            return False
        self.best = {"epoch": self.epoch, **val}
        return True

    def to_checkpoint(self) -> dict[str, Any]:
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {"train_state": dataclasses.asdict(self), "rng": rng}

    @classmethod
    def from_checkpoint(cls, ckpt: dict[str, Any]) -> TrainState:
        """The state of a checkpoint (also of one written before ``train_state`` existed, which
        kept these fields at its top level), restoring its random generators."""
        names = [f.name for f in dataclasses.fields(cls)]
        saved = ckpt.get("train_state") or {k: ckpt[k] for k in names if k in ckpt}
        torch.set_rng_state(ckpt["rng"]["torch"])
        if "cuda" in ckpt["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(ckpt["rng"]["cuda"])
        return cls(**{k: v for k, v in saved.items() if k in names})
