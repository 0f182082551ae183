"""Run directory, metrics log (JSON lines), TensorBoard events and the environment summary.

Only rank 0 writes. ``metrics.jsonl`` gets one JSON object per line (flushed at once), so a
crashed run keeps everything logged before the crash. A new run starts it afresh (a run killed
before its first checkpoint leaves one behind); a resumed run first drops the records it will
write again, so every step is logged once. A log write that fails (a full disk) stops the run
with one error naming the log, which is left as it was before that line.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from mgproto.fileio import OutputError, append_text, atomic_write_text

log = logging.getLogger("mgproto")


FORMAT = "%(asctime)s %(levelname)s %(message)s"
progress_log = logging.getLogger("mgproto.progress")  # periodic training lines (see below)


def setup_console(is_main: bool) -> None:
    """INFO to stderr on rank 0, warnings only elsewhere.

    The periodic training lines (``progress_log``) go to stderr only when it is not a terminal:
    there, the progress bar shows the same numbers; in a log file, a bar would be a stream of
    carriage returns, so bars are off (``tqdm(disable=None)``) and the lines take their place.
    """
    level = logging.INFO if is_main else logging.WARNING
    logging.basicConfig(level=level, format=FORMAT, datefmt="%H:%M:%S", stream=sys.stderr,
                        force=True)  # fmt: skip
    progress_log.handlers.clear()
    progress_log.propagate = False
    progress_log.setLevel(level)
    if not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        progress_log.addHandler(handler)


class LogFile(logging.Handler):
    """Appends each line to a file (:func:`~mgproto.fileio.append_text`, a line whole or not at
    all). A failed write detaches the handler and raises its one-line
    :class:`~mgproto.fileio.OutputError` naming the file into the code that logged, which stops
    the run there (its checkpoints, written atomically, stay as they were), instead of the
    traceback that ``logging`` prints and goes on after."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:  # a logging call's own mistake: reported by logging, as always
            self.handleError(record)
            return
        try:
            append_text(self.path, line)
        except (OutputError, OSError):  # a full disk: one line naming the log, the run stops
            detach_log_file(self)
            raise


def attach_log_file(path: Path) -> logging.Handler:
    """Append every console line, and the periodic lines, to ``path`` (``train.log``)."""
    handler = LogFile(path)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    logging.getLogger().addHandler(handler)
    progress_log.addHandler(handler)
    return handler


def detach_log_file(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        progress_log.removeHandler(handler)
        handler.close()


def progress_line(record: dict[str, Any], total_steps: int, total_epochs: int) -> str:
    """One periodic training line from a ``metrics.jsonl`` train record (epochs from 1)."""
    shown = [k for k in record if k in ("loss", "top1") or k.startswith(("ce_", "pr_"))]
    extra = " ".join(f"{k} {record[k]:.4g}" for k in shown)
    return (f"epoch {record['epoch']}/{total_epochs} step {record['step']}/{total_steps}: "
            f"{extra} lr {record['lr']:.4g} {record['samples_per_s']:.1f} samples/s")  # fmt: skip


def git_commit() -> str | None:
    """The commit of the mgproto checkout, if it is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment() -> dict[str, Any]:
    """Versions and hardware, saved in every run directory."""
    import numpy as np

    cuda = torch.cuda.is_available()
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.version.cuda if cuda else None,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "git_commit": git_commit(),
        "argv": sys.argv,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunLogger:
    """Writes ``metrics.jsonl`` and TensorBoard events for rank 0; a no-op elsewhere."""

    def __init__(
        self, run_dir: Path, *, enabled: bool, tensorboard: bool = True, fresh: bool = False
    ) -> None:
        """``fresh``: a new run, whose records replace any ``metrics.jsonl`` already there."""
        self.enabled = enabled
        self.path = Path(run_dir) / "metrics.jsonl"
        if enabled and fresh:
            # an earlier run's, killed before its first checkpoint (the run's checks have
            # refused a metrics.jsonl that is an input or not a regular file)
            self.path.unlink(missing_ok=True)
        self.tb = None
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                log.info(
                    "TensorBoard not installed (pip install -e '.[tensorboard]' in the clone) "
                    "for event files; metrics.jsonl is written regardless"
                )
            else:
                self.tb = SummaryWriter(str(Path(run_dir) / "tb"))

    def write(self, record: dict[str, Any], *, step: int) -> None:
        if not self.enabled:
            return
        record = {k: _plain(v) for k, v in record.items()}
        append_text(self.path, json.dumps(record) + "\n")  # a failure: one line naming the file
        if self.tb is not None:
            kind = record.get("kind", "train")
            for key, value in record.items():
                if isinstance(value, int | float) and key not in ("step", "epoch"):
                    self.tb.add_scalar(f"{kind}/{key}", value, step)
            self.tb.flush()

    def drop_after(self, step: int, epoch: int) -> None:
        """Remove records a resumed run will write again: those after ``step`` (and the epoch-end
        records of ``step`` itself when the checkpoint, ``epoch`` epochs done, is from before
        that epoch's end). A step's train record is written before any checkpoint of it."""

        def kept(r: dict[str, Any]) -> bool:
            at, done = r.get("step", 0), r.get("epoch", 0)
            return at < step or (at == step and (r.get("kind") == "train" or done <= epoch))

        if not self.enabled or not self.path.is_file():
            return
        keep = [r for r in read_metrics(self.path.parent) if kept(r)]
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in keep))

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run's metrics.jsonl (a torn last line is ignored)."""
    path = Path(run_dir) / "metrics.jsonl"
    out = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
