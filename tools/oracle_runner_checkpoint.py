"""Write real MMEngine runner checkpoints (executed by the oracle's Python).

Usage: ORACLE_PYTHON tools/oracle_runner_checkpoint.py OUT_DIR

Trains a toy model (a 1-D conv, a batch norm and a linear head: float and int64 tensors) for
two epochs with MMEngine's ``Runner``, with what MMAction2 1.x ``tools/train.py`` configures
around a model: SGD with momentum and weight decay in an ``OptimWrapper`` with gradient
clipping, a linear warm-up and a cosine schedule, validation each epoch and the
``CheckpointHook`` keeping the best checkpoint. The runner writes ``OUT_DIR/epoch_1.pth``,
``epoch_2.pth`` and ``best_top1_epoch_*.pth``; this script adds ``OUT_DIR/weights.npz``, the
final state dict as numpy arrays, for the reader's test to compare against.
Used by ``tests/models/test_foreign_checkpoint.py``; imports MMEngine only, never mgproto.
"""

import sys
from typing import ClassVar

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyRecognizer(BaseModel):
    """x (N, 2, 4) -> logits (N, 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv1d(2, 3, 1), nn.BatchNorm1d(3))
        self.cls_head = nn.Linear(3, 2)

    def forward(self, x, y, mode="tensor"):
        logits = self.cls_head(self.backbone(torch.stack(list(x))).mean(-1))
        if mode == "loss":
            return {"loss": nn.functional.cross_entropy(logits, torch.stack(list(y)))}
        return [(p.argmax(), t) for p, t in zip(logits, y)]


class ToyClips(Dataset):
    """Eight seeded random clips of two classes."""

    metainfo: ClassVar[dict] = {"classes": ("a", "b")}

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        g = torch.Generator().manual_seed(i)
        return {"x": torch.randn(2, 4, generator=g), "y": torch.tensor(i % 2)}


class Top1(BaseMetric):
    def process(self, data_batch, data_samples) -> None:
        self.results += [float(p == t) for p, t in data_samples]

    def compute_metrics(self, results) -> dict:
        return {"top1": float(np.mean(results))}


def main(out_dir: str) -> None:
    epoch_1 = {"by_epoch": True, "begin": 0, "end": 1}
    checkpoint_hook = {"type": "CheckpointHook", "interval": 1, "save_best": "auto",
                       "max_keep_ckpts": 3}  # fmt: skip
    loader = {"dataset": ToyClips(), "batch_size": 4, "collate_fn": {"type": "default_collate"}}
    runner = Runner(
        model=ToyRecognizer(),
        work_dir=out_dir,
        train_dataloader={**loader, "sampler": {"type": "DefaultSampler", "shuffle": True}},
        train_cfg={"by_epoch": True, "max_epochs": 2, "val_interval": 1},
        val_dataloader={**loader, "sampler": {"type": "DefaultSampler", "shuffle": False}},
        val_cfg={},
        val_evaluator=[Top1()],
        optim_wrapper={
            "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4},
            "clip_grad": {"max_norm": 40, "norm_type": 2},
        },
        param_scheduler=[
            {"type": "LinearLR", "start_factor": 0.1, **epoch_1, "convert_to_iter_based": True},
            {"type": "CosineAnnealingLR", "T_max": 2, "by_epoch": True, "begin": 0, "end": 2},
        ],
        default_hooks={"checkpoint": checkpoint_hook},
        randomness={"seed": 0},
        default_scope="mmengine",
    )
    runner.train()
    state = runner.model.state_dict()
    np.savez(f"{out_dir}/weights.npz", **{k: v.cpu().numpy() for k, v in state.items()})


if __name__ == "__main__":
    main(sys.argv[1])
