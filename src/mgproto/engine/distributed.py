"""Optional distributed execution: the same code runs single-process or under torchrun.

``torchrun --nproc_per_node=N -m mgproto train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK; we
then initialise the process group (NCCL on CUDA, gloo on CPU). Only rank 0 writes and prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from mgproto.build import resolve_device


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device | None = None) -> DistInfo:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistInfo(rank, world, local)


def pick_device(info: DistInfo, requested: str = "auto") -> torch.device:
    """The device of this process (see :func:`resolve_device`); selects it as current GPU."""
    device = resolve_device(requested, local_rank=info.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def all_gather_objects(obj: object) -> list:
    """Every rank's ``obj`` in rank order (a one-element list when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out
