"""Validation during training: the test pipeline on the validation split (and, for learning
curves, on the training clips), summarised into one flat record for ``metrics.jsonl``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mgproto.build import evaluation_loader
from mgproto.config import ExperimentConfig
from mgproto.engine.distributed import DistInfo
from mgproto.engine.evaluate import predict
from mgproto.models import Recognizer


class Validator:
    """Scores ``model`` every ``train.val_every`` epochs; None on the other epochs."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        *,
        val: tuple[list[dict], Path | None],
        train: tuple[list[dict], Path],
        info: DistInfo,
        device: torch.device,
    ) -> None:
        self.cfg, self.info, self.device = cfg, info, device
        self.val, self.train = val, train

    def _report(self, model: Recognizer, records: list[dict], root: Path) -> dict[str, dict]:
        t = self.cfg.train
        loader = evaluation_loader(
            self.cfg, records, root, num_clips=t.val_clips,
            world_size=self.info.world_size, rank=self.info.rank,
        )  # fmt: skip
        scores = predict(
            model, loader, device=self.device, amp=t.amp, amp_dtype=getattr(torch, t.amp_dtype)
        )
        return scores.report(self.cfg.data.num_classes)

    def __call__(self, model: Recognizer, epoch: int) -> dict[str, Any] | None:
        every = self.cfg.train.val_every
        if not self.val[0] or not every or epoch % every:
            return None
        report = self._report(model, *self.val)
        summary = {
            f"{s}_{m}": report[s][m] for s in report for m in ("top1", "top5", "mean_class_acc")
        }
        if self.cfg.train.eval_train:  # the same test pipeline on the training clips
            report = self._report(model, *self.train)
            summary.update({f"train_{s}_top1": report[s]["top1"] for s in report})
        return summary
