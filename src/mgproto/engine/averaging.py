"""An exponential moving average (EMA) of the weights, the model that is evaluated and saved.

``train.ema_epochs`` sets the average's time constant in epochs, so one setting means the same
on a dataset of 100 clips and one of 10,000: the per-step decay is
``exp(-1 / (ema_epochs * steps_per_epoch))``, and for the first steps it is
``min(decay, (1 + n) / (10 + n))`` (``n`` updates so far), so that the start of training, not
the random init, dominates the early average. Every floating-point tensor of the state dict is
averaged: parameters, BatchNorm running statistics and the prototype memories; integer buffers
(BatchNorm's ``num_batches_tracked``) are copied. ``torch.optim.swa_utils.AveragedModel`` is
not used because, with its buffers averaged, it interpolates integer buffers too.
"""

from __future__ import annotations

import copy
import math

import torch


def ema_decay(*, epochs: float, steps_per_epoch: int) -> float:
    """Per-step decay of an average whose time constant is ``epochs`` epochs."""
    return math.exp(-1.0 / (epochs * max(steps_per_epoch, 1)))


@torch.no_grad()
def ema_update(average: dict[str, torch.Tensor], current: dict[str, torch.Tensor], decay: float):
    """``average <- decay * average + (1 - decay) * current`` in place, for float tensors;
    other tensors are copied. Both are state dicts of the same model."""
    for key, avg in average.items():
        cur = current[key].detach()
        if avg.is_floating_point():
            avg.lerp_(cur.to(avg.dtype), 1.0 - decay)
        else:
            avg.copy_(cur)


class WeightAverage:
    """A copy of ``model`` that follows its weights by EMA (see the module docstring).

    Args:
        model: the trained model; the average starts as a copy of it.
        decay: the per-step decay once warmed up (:func:`ema_decay`).
    """

    def __init__(self, model: torch.nn.Module, *, decay: float) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.updates = decay, 0

    def update(self, model: torch.nn.Module) -> None:
        """Fold the current weights of ``model`` into the average (once per optimiser step)."""
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        ema_update(self.module.state_dict(), model.state_dict(), decay)
        self.updates += 1

    def state(self) -> dict:
        return {"updates": self.updates}

    def load(self, weights: dict[str, torch.Tensor], state: dict) -> None:
        self.module.load_state_dict(weights)
        self.updates = int(state["updates"])
