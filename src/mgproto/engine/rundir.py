"""The run directory: what it must hold to resume, and what a new run writes first.

On ``--resume`` the checkpoint's config is the truth: the config given now must equal it,
except for the keys in :data:`RESUME_SAFE`, which change nothing already computed. None of the
files a run writes (:data:`RUN_FILES`) may be one of its inputs (the config file, ``--init``,
the annotation file), except that a resumed run keeps its own ``config.yaml`` current. Nothing
in the run directory is written before these checks pass.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mgproto.config import ExperimentConfig, dump_config, load_config_text, to_dict
from mgproto.engine.checkpoint import check_finite
from mgproto.engine.logging import environment
from mgproto.fileio import OutputError, atomic_write_text, check_outputs, same_file

log = logging.getLogger("mgproto")

# Settings that may change on --resume: how long to go on, how often to log / validate /
# checkpoint, and data loading speed. (With a cosine schedule, train.epochs also stretches the
# rest of the learning-rate curve.)
RESUME_SAFE = (
    "train.epochs",
    "train.log_every",
    "train.val_every",
    "train.checkpoint_every",
    "train.num_workers",
    "train.tensorboard",
)


# Every file a run writes into its folder (TensorBoard's event files aside, in tb/).
RUN_FILES = (
    "config.yaml",
    "environment.json",
    "metrics.jsonl",
    "train.log",
    "checkpoints/last.pt",
    "checkpoints/best.pt",
)


class TrainingError(RuntimeError):
    """Training cannot go on (too many unreadable clips, a run directory in the way ...)."""


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(old: ExperimentConfig, new: ExperimentConfig) -> dict[str, tuple[Any, Any]]:
    """``key -> (old, new)`` for every leaf that differs."""
    a, b = _flat(to_dict(old)), _flat(to_dict(new))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def check_resume_config(saved_text: str, cfg: ExperimentConfig, *, source: str) -> None:
    """Refuse a resume whose config differs from the checkpoint's outside RESUME_SAFE."""
    saved = load_config_text(saved_text, source=source)
    diff = config_diff(saved, cfg)
    refused = {k: v for k, v in diff.items() if k not in RESUME_SAFE}
    if refused:
        lines = "; ".join(f"{k}: {a!r} in the run, {b!r} now" for k, (a, b) in refused.items())
        raise TrainingError(
            f"{source}: --resume continues the run with its own settings, but {len(refused)} "
            f"differ: {lines}. Drop these overrides, or start a new run (--run-dir). "
            f"May change on resume: {', '.join(RESUME_SAFE)}"
        )
    for key, (a, b) in diff.items():
        log.info("resume: %s changed from %r to %r", key, a, b)


def check_run_files(
    run_dir: Path, cfg: ExperimentConfig, *, resume: bool, inputs: Sequence[str | Path] = ()
) -> None:
    """Refuse a run whose files (:data:`RUN_FILES`) would replace one of its inputs: ``inputs``
    (the config file and its ``base:`` chain, ``--init``) and the annotation file. A resumed
    run reads and rewrites its own ``config.yaml`` (the settings it continues with)."""
    own = run_dir / "config.yaml"
    read = [p for p in inputs if p and not (resume and same_file(p, own))]
    try:
        check_outputs(
            [run_dir / name for name in RUN_FILES],
            inputs=[*read, cfg.data.annotations],
            hint=f"keep the inputs outside the run folder or choose another --run-dir than "
            f"{run_dir}",
        )
    except OutputError as err:
        raise TrainingError(str(err)) from None


def check_run_dir(
    run_dir: Path,
    cfg: ExperimentConfig,
    *,
    resume: bool,
    saved: dict[str, Any] | None,
    inputs: Sequence[str | Path] = (),
) -> None:
    """Refuse a new run over an old one, a resume with nothing to resume, a resume whose config
    differs (``saved``: the loaded ``last.pt``), or a run folder whose files are ``inputs``
    (:func:`check_run_files`). Writes nothing."""
    last = run_dir / "checkpoints" / "last.pt"
    if resume and not last.is_file():
        raise TrainingError(f"{run_dir}: nothing to resume (no checkpoints/last.pt)")
    if not resume and last.is_file():
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or "
            "choose another --run-dir"
        )
    if resume:
        check_resume_config((saved or {}).get("config", ""), cfg, source=str(last))
        check_finite((saved or {}).get("model") or {}, source=str(last),
                     advice="it cannot be resumed; start a new run, from --init "
                     "checkpoints/best.pt if that one is finite")  # fmt: skip
    check_run_files(run_dir, cfg, resume=resume, inputs=inputs)


def write_run_dir(run_dir: Path, cfg: ExperimentConfig, *, resume: bool) -> None:
    """Rank 0, once every check has passed: the config, and for a new run the environment."""
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    if not resume:
        atomic_write_text(run_dir / "environment.json", json.dumps(environment(), indent=2))
