"""File I/O policy: atomic writes, output checks, and one-line errors for unreadable inputs.

Every output of the project goes through here (or through ``VideoWriter`` / ``save_checkpoint``,
which follow the same rule): write to a temporary file in the target folder, then rename. The
policy a verb applies to its outputs (docs/cli.md):

- an output never resolves to one of the same command's inputs (not even with ``--force``);
- an existing output that is not a regular file (a folder, ``/dev/null``, a fifo) is refused;
- a verb that writes one result file refuses to replace an existing one without ``--force``;
- temporary files left by a killed writer are removed by the next write of the same target.

Untrusted pickles and ``.npz`` files are read through :mod:`mgproto.fileio.safe_pickle`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from mgproto.fileio.safe_pickle import (
    NPZ_ERRORS,
    UnsafeFileError,
    check_npz,
    restricted_loads,
    safe_unpickle,
)

__all__ = [
    "NPZ_ERRORS", "InputError", "OutputError", "UnsafeFileError", "atomic_write",
    "atomic_write_bytes", "atomic_write_text", "check_input", "check_npz", "check_output",
    "clean_stale_temps", "file_mode", "restricted_loads", "safe_unpickle",
]  # fmt: skip


class OutputError(ValueError):
    """An output path that must not be written; the message names it and says why."""


class InputError(ValueError):
    """An input file that is missing, unreadable, empty or not a file; the message names it."""


def file_mode() -> int:
    """Permission bits for a new file under the current umask (``mkstemp`` makes 0600 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_input(path: str | Path, *, what: str = "file", allow_empty: bool = False) -> Path:
    """``path`` if it is a readable regular file, else :class:`InputError` in one line."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what}")
    try:
        with open(path, "rb") as f:
            empty = not f.read(1)
    except OSError as err:
        raise InputError(f"{path}: cannot read the {what} ({err.strerror})") from None
    if empty and not allow_empty:
        raise InputError(f"{path}: the {what} is empty (0 bytes)")
    return path


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_output(
    path: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool | None = None,
) -> Path:
    """Refuse an output path the policy above forbids; returns it as a Path.

    Args:
        path: the file a command is about to write.
        inputs: the files that command reads (None entries are ignored).
        force: ``False`` refuses an existing file (the verb's ``--force`` was not given);
            ``None`` lets the verb replace its own outputs (folder verbs such as ``test``).
    """
    path = Path(path)
    for source in inputs:
        if source is not None and _same(path, Path(source)):
            raise OutputError(
                f"{path}: is also an input of this command ({source}); choose another output"
            )
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise OutputError(f"{path}: exists and is not a regular file; choose a file path")
        if force is False:
            raise OutputError(f"{path}: already exists; pass --force to replace it")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot create it, {parent} is a file, not a folder")
    return path


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.pid"


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temporary files of ``path`` whose writing process no longer runs."""
    removed = []
    prefix = _tmp_prefix(path)
    for tmp in path.parent.glob(f"{prefix}*.tmp"):
        pid = tmp.name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a binary temporary file next to ``path``, then rename it there.

    Raises :class:`OutputError` (one line naming ``path``) when the target is not a regular file
    or its folder cannot be created or written.
    """
    path = check_output(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f"{_tmp_prefix(path)}{os.getpid()}.", suffix=".tmp"
        )
    except OSError as err:
        raise OutputError(f"{path}: cannot write here ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, file_mode())
        if path.exists() and not stat.S_ISREG(os.stat(path).st_mode):  # appeared meanwhile
            raise OutputError(f"{path}: exists and is not a regular file")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
