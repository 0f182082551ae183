"""Timing of training steps, shared by our benchmark and the MMAction2 oracle script.

Depends on torch only, so both interpreters (ours and the oracle's venv) import it from this
folder: ``steps/s`` after warm-up, with a minimum number of steps and a time budget, plus peak
memory (the RSS growth on CPU, ``max_memory_allocated`` on CUDA). With
``spec["cpu_memory"] = "step_peak"`` the CPU figure is instead the peak RSS of the steps alone
over the RSS before them (Linux: the high-water mark is reset through ``/proc/self/clear_refs``
before the warm-up, so a higher transient peak while importing or building cannot hide them).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path

import torch


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(key: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc/self/status (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def reset_peak_rss() -> float | None:
    """Reset this process's RSS high-water mark (Linux >= 4.0); the current RSS, or None."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_mb("VmRSS")


def time_steps(step: Callable[[], None], *, device: torch.device, spec: dict, clips: int) -> dict:
    """Run ``step`` ``spec['warmup']`` times, then time it.

    Timing stops after ``spec['max_steps']`` steps, or once at least ``spec['min_steps']`` ran
    and ``spec['seconds']`` passed. ``clips`` is the batch size of one step.
    """
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    baseline = rss_mb() if device.type == "cpu" else torch.cuda.memory_allocated(device) / 2**20
    step_peak = device.type == "cpu" and spec.get("cpu_memory") == "step_peak"
    rss_before = reset_peak_rss() if step_peak else None
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
    hwm = _status_mb("VmHWM") if rss_before is not None else None
    if hwm is not None:
        peak, memory = hwm - rss_before, "rss_step_peak"
    elif device.type == "cpu":
        peak, memory = rss_mb() - baseline, "rss_delta"
    else:
        peak, memory = torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_allocated"
    extra = {}
    if device.type == "cpu":  # the whole process's peak RSS (the build's or the steps')
        extra["process_peak_mb"] = max(baseline, rss_mb())
    if hwm is not None:
        extra["rss_before_mb"] = rss_before
    return {
        "clips_per_s": steps * clips / elapsed,
        "steps": steps,
        "seconds": elapsed,
        "peak_mb": peak,
        "baseline_mb": baseline,
        "memory": memory,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        **extra,
    }
