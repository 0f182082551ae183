"""The errors a verb reports as the user's mistake (one line on stderr, exit code 2).

The loaders name the file and say what they expected (``mgproto.fileio``, the config, checkpoint,
score and skeleton readers); :func:`user_message` only keeps whatever reaches the entry point to
one line.
"""

from __future__ import annotations

from mgproto.config import ConfigError
from mgproto.data.annotations import AnnotationError

# Bad input, bad settings, missing or unreadable files. BrokenPipeError is an OSError too: the
# entry point handles it before these (a closed pipe is not the user's mistake).
USER_ERRORS = (ConfigError, AnnotationError, ValueError, KeyError, RuntimeError, OSError)


def user_message(err: BaseException) -> str:
    """One line for the user: the file and the reason for OS errors, the message otherwise
    (a library's message of several lines joined into one)."""
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
