"""Divergence guard: a run whose loss or gradients stop being finite ends with an error.

A step with a NaN / inf loss or gradient norm is never applied to the weights. Without loss
scaling, ``limit`` such steps in a row stop training. With float16 loss scaling, the scaler
skips those steps itself and lowers its scale; the guard counts only once the scale is below 1,
i.e. once even unscaled gradients overflow and the scaler has given up.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from mgproto.engine.checkpoint import non_finite_tensors
from mgproto.engine.rundir import TrainingError


class DivergenceError(TrainingError):
    """The loss or the gradients were not finite for too many steps in a row."""


@dataclass
class DivergenceGuard:
    limit: int  # consecutive non-finite steps tolerated (train.max_nonfinite_steps)
    in_a_row: int = 0
    skipped: int = 0  # all steps not applied because of non-finite values

    def observe(
        self,
        *,
        finite: bool,
        loss: float,
        grad_norm: float,
        scale: float | None,
        step: int,
        epoch: int,
    ) -> None:
        """Record one optimiser step (after the scaler's update); raise past the limit.

        Args:
            finite: whether the loss and the gradient norm were finite (the step was applied).
            loss: the step's mean loss; grad_norm: total L2 norm of the unscaled gradients.
            scale: the loss scaler's scale after this step, None without loss scaling.
        """
        if finite:
            self.in_a_row = 0
            return
        self.skipped += 1
        if scale is None or scale < 1.0:
            self.in_a_row += 1
        if self.in_a_row >= self.limit:
            raise DivergenceError(
                f"training diverged: loss {loss:g}, gradient norm {grad_norm:g} at step {step} "
                f"(epoch {epoch}), non-finite for {self.in_a_row} steps in a row "
                f"(train.max_nonfinite_steps = {self.limit}); none of these steps was applied, "
                "and no checkpoint is ever written with NaN or inf weights (checkpoints/last.pt, "
                "if there is one, holds those of its last save). Lower train.lr or check the data"
            )


def check_finite_weights(model: nn.Module, *, step: int, name: str) -> None:
    """Raise instead of replacing a good checkpoint ``name`` with non-finite weights."""
    bad = non_finite_tensors(model.state_dict())
    if bad:
        raise DivergenceError(
            f"weights became non-finite ({bad[0]}, {len(bad)} tensors) at step {step}; "
            f"{name} not written. Lower train.lr or check the data"
        )
