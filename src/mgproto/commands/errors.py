"""The errors a verb reports as the user's mistake (one line on stderr, exit code 2).

The loaders name the file and say what they expected (``mgproto.fileio``, the config, checkpoint,
score and skeleton readers); :func:`user_message` only keeps whatever reaches the entry point to
one line.
"""

from __future__ import annotations

import re

from mgproto.config import ConfigError
from mgproto.data.annotations import AnnotationError

# Bad input, bad settings, missing or unreadable files. BrokenPipeError is an OSError too: the
# entry point handles it before these (a closed pipe is not the user's mistake).
USER_ERRORS = (ConfigError, AnnotationError, ValueError, KeyError, RuntimeError, OSError,
               MemoryError)  # fmt: skip

# An allocation that failed: numpy's MemoryError, torch's CPU allocator (a RuntimeError) and
# CUDA's OutOfMemoryError (a RuntimeError too); the size asked for, where the message says it.
_NO_MEMORY = re.compile(r"can't allocate memory|out of memory|Unable to allocate", re.IGNORECASE)
_ASKED = re.compile(r"(?:allocate|Tried to allocate) (\d+) bytes|allocate ([\d.]+ ?[KMGT]i?B)")


def _no_memory(err: BaseException) -> str | None:
    """The one line for an allocation that failed (settings too large for this machine)."""
    text = str(err)
    if not (isinstance(err, MemoryError) or _NO_MEMORY.search(text)):
        return None
    asked = _ASKED.search(text)
    size = ""
    if asked and asked[1]:
        size = f" ({int(asked[1]) / 2**30:.1f} GiB asked for)"
    elif asked:
        size = f" ({asked[2]} asked for)"
    return (f"not enough memory{size}: lower train.batch_size or the input sizes "
            "(data.*.train_size / test_size / clip_len, data.sampling.num_clips_test), or "
            "use a machine with more")  # fmt: skip


def user_message(err: BaseException) -> str:
    """One line for the user: the file and the reason for OS errors, the message otherwise
    (a library's message of several lines joined into one)."""
    no_memory = _no_memory(err)
    if no_memory is not None:
        return no_memory
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    if isinstance(err, UnicodeDecodeError):  # a loader without its own check read binary data
        return (
            f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start}): a binary "
            "file where a text file belongs"
        )
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines) or type(err).__name__
