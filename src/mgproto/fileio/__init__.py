"""File I/O policy: atomic writes, output checks, and one-line errors for unreadable inputs.

Every output of the project goes through here (or through ``VideoWriter`` / ``save_checkpoint``,
which follow the same rule): write to a temporary file in the target folder, then rename. The
policy a verb applies to its outputs (docs/cli.md):

- an output never is one of the same command's inputs (not even with ``--force``): compared by
  resolved path and by file identity (a symlink or hard link to an input is that input), and a
  file found under an input folder (which the command scans) is an input too;
- a verb checks every file it will write, those inside its output folder too, before it writes
  the first one (:func:`check_outputs`);
- an existing output that is not a regular file (a folder, ``/dev/null``, a fifo) is refused;
- a verb that writes one result file refuses to replace an existing one without ``--force``;
- temporary files (``.NAME.pidPID.RANDOM.tmp``) left by a killed writer are removed by the next
  write of the same target, or by :func:`clean_stale_temps_in` for a whole folder;
- an output path that ends with ``/`` names a folder: it is never written as a file;
- a write that fails (a full disk, the file size limit) is one error naming the file and the
  cause (:func:`write_failure`), and leaves the target as it was and no temporary file;
- a log is appended, not replaced (:func:`append_text`): a line is added whole or not at all,
  and a failed append is the same one error naming the log.

Untrusted pickles and ``.npz`` files are read through :mod:`mgproto.fileio.safe_pickle`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from mgproto.fileio.safe_pickle import (
    NPZ_ERRORS,
    UnsafeFileError,
    check_npz,
    read_npz,
    restricted_loads,
    safe_unpickle,
)

__all__ = [
    "NPZ_ERRORS", "InputError", "OutputError", "UnsafeFileError", "append_text", "atomic_write",
    "atomic_write_bytes", "atomic_write_npz", "atomic_write_text", "check_input", "check_npz",
    "check_output", "check_outputs", "clean_stale_temps", "clean_stale_temps_in", "file_mode",
    "read_npz", "restricted_loads", "safe_unpickle", "same_file", "temp_file",
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


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names, symlinks followed; None if it is not there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same resolved path, or the same (device, inode)."""
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a symlink loop
        pass
    ident = _identity(a)
    return ident is not None and ident == _identity(b)


def _found_under(folder: Path, path: Path) -> bool:
    """Whether the existing file ``path`` is one of the files found under ``folder`` (walked
    with symlinks followed, each folder once): what a command that scans ``folder`` may read."""
    target = _identity(path)
    if target is None or not folder.is_dir():
        return False
    try:
        if path.resolve().is_relative_to(folder.resolve()):
            return True
    except (OSError, RuntimeError):
        pass
    stack, seen = [folder], set()
    while stack:
        here = stack.pop()
        key = _identity(here)
        if key is None or key in seen:
            continue
        seen.add(key)
        try:
            entries = list(os.scandir(here))
        except OSError:  # unreadable: the command cannot read it either
            continue
        for entry in entries:
            try:
                if entry.is_dir():  # symlinks followed
                    stack.append(Path(entry.path))
                elif (entry.is_symlink() or entry.inode() == target[1]) and _identity(
                    Path(entry.path)
                ) == target:
                    return True
            except OSError:
                continue
    return False


def check_output(
    path: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    input_folders: Iterable[str | Path] = (),
    force: bool | None = None,
    hint: str = "choose another output",
) -> Path:
    """Refuse an output path the policy above forbids; returns it as a Path.

    Args:
        path: the file a command is about to write.
        inputs: the files that command reads (None and empty entries are ignored).
        input_folders: folders the command scans: every file found under one is an input.
        force: ``False`` refuses an existing file (the verb's ``--force`` was not given);
            ``None`` lets the verb replace its own outputs (folder verbs such as ``test``).
        hint: what the user can do about an output that is an input (the message's end).
    """
    if isinstance(path, str) and path.endswith(("/", os.sep)):  # Path() would drop the slash
        raise OutputError(f"{path}: names a folder (it ends with /); give the file's path")
    path = Path(path)
    for source in inputs:
        if source is not None and str(source) and same_file(path, source):
            raise OutputError(f"{path}: is also an input of this command ({source}); {hint}")
    exists = path.exists() or path.is_symlink()
    for folder in input_folders if exists else ():
        if _found_under(Path(folder), path):
            raise OutputError(
                f"{path}: is also an input of this command (a file under the input folder "
                f"{folder}); {hint}"
            )
    if exists:
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


def check_outputs(
    paths: Iterable[str | Path],
    *,
    inputs: Iterable[str | Path | None] = (),
    input_folders: Iterable[str | Path] = (),
    force: bool | None = None,
    hint: str = "choose another output",
) -> list[Path]:
    """:func:`check_output` for every file a command will write, before it writes the first.

    A verb that writes several files (an output folder, a result and its summary) calls this
    once, before any work, so a refusal leaves every file as it was.

    Raises:
        OutputError: for the first path the policy forbids, naming it (and the input).
    """
    inputs, folders = list(inputs), list(input_folders)
    return [
        check_output(p, inputs=inputs, input_folders=folders, force=force, hint=hint) for p in paths
    ]


# A writer's temporary file: ``.<target name>.pid<writer's pid>.<random>.tmp[<suffix>]``.
_TEMP = re.compile(r"^\.(?P<name>.+)\.pid(?P<pid>\d+)\.[a-z0-9_]+\.tmp(\.[A-Za-z0-9]+)?$")


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.pid"


def clean_stale_temps_in(
    folder: str | Path, *, targets: Callable[[str], object] = lambda name: True
) -> list[Path]:
    """Remove the temporary files in ``folder`` whose writing process no longer runs.

    Only files named as :func:`temp_file` names them are candidates, and of those only the
    ones whose target's name passes ``targets`` (e.g. a verb's own output names).
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or not targets(match["name"]) or _alive(int(match["pid"])):
            continue
        Path(entry.path).unlink(missing_ok=True)
        removed.append(Path(entry.path))
    return removed


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temporary files of ``path`` whose writing process no longer runs."""
    path = Path(path)
    return clean_stale_temps_in(path.parent, targets=lambda name: name == path.name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such pid at all)
        return False
    except PermissionError:  # another user's process
        return True
    return True


def temp_file(path: str | Path, *, suffix: str = ".tmp") -> Path:
    """A new empty temporary file beside ``path`` (its folder made), named for this process;
    stale ones of ``path`` are removed first. ``suffix`` (``.tmp`` then an extension, e.g.
    ``.tmp.mp4``) keeps a format that writers guess from the name.

    Raises:
        OutputError: naming ``path``, when its folder cannot be made or written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f"{_tmp_prefix(path)}{os.getpid()}.", suffix=suffix
        )
    except OSError as err:
        raise OutputError(f"{path}: cannot write here ({err.strerror})") from None
    os.close(fd)
    return Path(tmp)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a binary temporary file next to ``path``, then rename it there.

    Raises :class:`OutputError` (one line naming ``path``) when the target is not a regular file
    or its folder cannot be created or written.
    """
    path = check_output(path)
    tmp = temp_file(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.chmod(tmp, file_mode())
        if path.exists() and not stat.S_ISREG(os.stat(path).st_mode):  # appeared meanwhile
            raise OutputError(f"{path}: exists and is not a regular file")
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        failure = write_failure(path, err, tmp=tmp)
        if failure is not None:
            raise failure from None
        raise
    return path


# What the user reads for the OS errors of a failed write (the rest: the OS's own words).
_WRITE_ERRNOS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (over the file size limit)",
}


def write_failure(path: Path, err: BaseException, *, tmp: str | Path) -> OutputError | None:
    """The one-line error for a write of ``path`` (through ``tmp``) that failed with ``err``,
    or with the OSError behind it (``torch.save`` reports a full disk as a RuntimeError "unexpected
    pos" whose context is the OSError); None where no OS error about these files is behind it."""
    cause: BaseException | None = err
    for _ in range(8):  # the chain of causes is short; a cycle is not followed
        if cause is None or isinstance(cause, OSError):
            break
        cause = cause.__cause__ or cause.__context__
    if not isinstance(cause, OSError) or cause.filename not in (None, str(tmp), str(path)):
        return None  # no OS error, or one about another file (an input the writer read)
    reason = _WRITE_ERRNOS.get(cause.errno, cause.strerror or str(cause))
    return OutputError(f"{path}: not written: {reason}")


def atomic_write_npz(path: str | Path, arrays: dict[str, Any], *, compressed: bool = False) -> Path:
    """Write ``arrays`` as an ``.npz`` atomically: built in memory first, so that a failed
    write leaves no half-written zip behind (nor a ZipFile that tries again when collected)."""
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(data))


def append_text(path: str | Path, text: str) -> None:
    """Append UTF-8 ``text`` to ``path`` (a log), all of it or none: a failed write (a full disk,
    the file size limit) cuts the file back to its length before and raises
    :class:`OutputError` naming it (:func:`write_failure`)."""
    path, data = Path(path), memoryview(text.encode("utf-8"))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as err:
        raise OutputError(f"{path}: cannot write it ({err.strerror})") from None
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError as err:
            with contextlib.suppress(OSError):  # else a torn last line, which readers skip
                os.ftruncate(fd, start)
            raise (write_failure(path, err, tmp=path) or err) from None
    finally:
        os.close(fd)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))
