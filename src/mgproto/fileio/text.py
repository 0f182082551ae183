"""Reading the text files a user names (id lists, truth files, configs, run summaries): one
line naming the file when it is missing, binary or not valid JSON, never a bare codec error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mgproto.fileio import InputError, check_input


def read_text(path: str | Path, *, what: str = "file") -> str:
    """The UTF-8 text of ``path`` (a BOM allowed; may be empty).

    Raises:
        InputError: naming ``path``: missing, a folder, unreadable, or not UTF-8 text (the
            first byte that is not, e.g. a PNG or a skeleton pickle given as an id list).
    """
    path = check_input(path, what=what, allow_empty=True)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read the {what} ({err.strerror or err})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not a text file (byte {data[err.start]:#04x} at offset {err.start} is not "
            f"UTF-8); the {what} is UTF-8 text"
        ) from None


def read_json(path: str | Path, *, what: str = "file") -> Any:
    """The JSON document of ``path``; :class:`InputError` naming the file, line and column of
    a syntax error (and everything :func:`read_text` refuses)."""
    text = read_text(path, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); the "
            f"{what} is JSON"
        ) from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply to read") from None
