"""The run directory: what it must hold to resume, and what a new run writes first."""

from __future__ import annotations

import json
from pathlib import Path

from mgproto.config import ExperimentConfig, dump_config
from mgproto.engine.logging import environment


class TrainingError(RuntimeError):
    """Training cannot go on (too many unreadable clips, a run directory in the way ...)."""


def prepare_run_dir(run_dir: Path, cfg: ExperimentConfig, *, resume: bool, is_main: bool) -> None:
    """Check the run directory against ``resume``; rank 0 writes the config and environment."""
    last = run_dir / "checkpoints" / "last.pt"
    if resume and not last.is_file():
        raise TrainingError(f"{run_dir}: nothing to resume (no checkpoints/last.pt)")
    if not resume and last.is_file():
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or "
            "choose another --run-dir"
        )
    if is_main:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(dump_config(cfg))
        (run_dir / "environment.json").write_text(json.dumps(environment(), indent=2))
