"""Timing of training steps, shared by our benchmark and the MMAction2 oracle script.

Depends on torch only, so both interpreters (ours and the oracle's venv) import it from this
folder: ``steps/s`` after warm-up, with a minimum number of steps and a time budget, plus peak
memory (the RSS growth on CPU, ``max_memory_allocated`` on CUDA).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import torch


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_steps(step: Callable[[], None], *, device: torch.device, spec: dict, clips: int) -> dict:
    """Run ``step`` ``spec['warmup']`` times, then time it.

    Timing stops after ``spec['max_steps']`` steps, or once at least ``spec['min_steps']`` ran
    and ``spec['seconds']`` passed. ``clips`` is the batch size of one step.
    """
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    baseline = rss_mb() if device.type == "cpu" else torch.cuda.memory_allocated(device) / 2**20
    for _ in range(spec["warmup"]):
        step()
    sync(device)
    start, steps = time.perf_counter(), 0
    while steps < spec["max_steps"] and (
        steps < spec["min_steps"] or time.perf_counter() - start < spec["seconds"]
    ):
        step()
        steps += 1
        sync(device)
    elapsed = time.perf_counter() - start
    if device.type == "cpu":
        peak, memory = rss_mb() - baseline, "rss_delta"
    else:
        peak, memory = torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_allocated"
    return {
        "clips_per_s": steps * clips / elapsed,
        "steps": steps,
        "seconds": elapsed,
        "peak_mb": peak,
        "baseline_mb": baseline,
        "memory": memory,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
