"""Optional distributed execution: the same code runs single-process or under torchrun.

``torchrun --nproc_per_node=N -m mgproto train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK; we
then initialise the process group (NCCL on CUDA, gloo on CPU). Only rank 0 writes and prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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


class DeviceError(ValueError):
    """A requested device this machine does not have; the message says what it has."""


def resolve_device(requested: str = "auto", *, local_rank: int = 0) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a device that exists here, else DeviceError.

    ``auto`` and ``cuda`` take the local rank's GPU (torchrun), ``cuda:N`` that one.
    """
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    have = "cpu" + "".join(f", cuda:{i}" for i in range(count))
    if requested == "cpu" or (requested == "auto" and not count):
        return torch.device("cpu")
    try:
        device = torch.device(requested if requested != "auto" else "cuda")
    except RuntimeError:
        raise DeviceError(f"--device {requested}: not a device name (available: {have})") from None
    if device.type != "cuda":
        raise DeviceError(f"--device {requested}: not supported (available: {have})")
    index = device.index if device.index is not None else local_rank
    if not count:
        raise DeviceError(
            f"--device {requested}: this torch {torch.__version__} sees no CUDA GPU "
            f"(available: {have})"
        )
    if index >= count:
        raise DeviceError(f"--device {requested}: no GPU {index} (available: {have})")
    return torch.device("cuda", index)


def pick_device(info: DistInfo, requested: str = "auto") -> torch.device:
    """The device of this process (see :func:`resolve_device`); selects it as current GPU."""
    device = resolve_device(requested, local_rank=info.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum over ranks (in place; identity when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(x)
    return x


def all_gather_objects(obj: object) -> list:
    """Every rank's ``obj`` in rank order (a one-element list when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
