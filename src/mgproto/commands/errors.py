"""The errors a verb reports as the user's mistake (one line on stderr, exit code 2)."""

from __future__ import annotations

from mgproto.config import ConfigError
from mgproto.data.annotations import AnnotationError

# Bad input, bad settings, missing or unreadable files. BrokenPipeError is an OSError too: the
# entry point handles it before these (a closed pipe is not the user's mistake).
USER_ERRORS = (ConfigError, AnnotationError, ValueError, KeyError, RuntimeError, OSError)


def user_message(err: BaseException) -> str:
    """One line for the user: the file and the reason for OS errors, the message otherwise."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    return str(err).strip() or type(err).__name__
