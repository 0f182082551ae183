"""Helpers shared by the dataset converters: label files, class mappings, CLI plumbing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from mgproto.data.sequences import MAX_FRAME, ClipRange, ConversionError, UnknownClassError

# iMiGUE / MiGA class names in MiGA label order (VUT-HFUT english_label.txt; two sources agree).
IMIGUE_CLASSES = (
    "turtle neck", "deep breath", "touch hat", "touch face", "touch forehead", "cover face",
    "rub eyes", "touch other face part", "touch ears", "bite nails", "touch chin", "touch neck",
    "play hair", "adjust tie", "touch chest", "scratch back", "fold arm", "tidy sleeve",
    "put arm back", "move torso", "sit straight", "scratch arm", "rub hand", "cross finger",
    "minaret hand", "play things", "withdraw arms", "head up", "bite lip", "arms akimbo",
    "shake shoulder", "illustrative",
)  # fmt: skip


def imigue_label(raw: object) -> int:
    """MiGA label of a raw iMiGUE class id: 99 (non-MG, "illustrative") -> 31, else id - 1."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise UnknownClassError(f"class {raw!r} is not an integer id") from None
    if value == 99:
        return 31
    if 1 <= value <= 31:
        return value - 1
    raise UnknownClassError(f"unknown iMiGUE class id {value} (valid: 1..31 and 99)")


def read_csv(path: Path, *, encoding: str = "utf-8-sig") -> Iterator[tuple[int, list[str]]]:
    """(row number from 1, cells) of each row of a CSV file; a file that is not readable text
    (not UTF-8, NUL bytes, a field over csv's size limit) raises ConversionError naming it."""
    try:
        with open(path, newline="", encoding=encoding) as f:
            yield from enumerate(csv.reader(f), 1)
    except UnicodeDecodeError as err:
        raise _not_text(path, err, "CSV file") from None
    except csv.Error as err:
        raise ConversionError(f"{path}: not a readable CSV file ({err})") from None


def _not_text(path: Path, err: UnicodeDecodeError, what: str) -> ConversionError:
    """The error for binary content where a text file belongs (as ``fileio.text`` words it)."""
    byte = err.object[err.start : err.start + 1].hex()
    return ConversionError(f"{path}: not a text file (byte 0x{byte} is not UTF-8); the {what} "
                           "is UTF-8 text")  # fmt: skip


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number from 1, text) of each line of a UTF-8 text file; undecodable text raises
    ConversionError naming the file."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            yield from enumerate(f, 1)
    except UnicodeDecodeError as err:
        raise _not_text(path, err, "file") from None


def read_range_labels(path: Path, *, video_id: str) -> list[ClipRange]:
    """Read a ``class,start,end`` label CSV (MiGA'23/'25, SMG); clip k is data row k.

    Frames are 0-based and inclusive. A first row whose start and end cells are both words
    (``class,start,end``) is a header and skipped; every other row is data, and a frame cell
    that is not a whole number in 0..MAX_FRAME raises ConversionError naming the file and row.
    """
    segments: list[ClipRange] = []
    first = True
    for row_no, row in read_csv(path):
        if not any(c.strip() for c in row):
            continue
        if first and _is_header(row):
            first = False
            continue
        first = False
        where = f"{path}: row {row_no}"
        if len(row) < 3:
            raise ConversionError(f"{where}: {len(row)} columns, expected class,start,end")
        start = parse_frame(row[1], what="start frame", where=where)
        end = parse_frame(row[2], what="end frame", where=where)
        segments.append(ClipRange(f"{video_id}_{len(segments)}", row[0].strip(), start, end))
    return segments


def _is_header(row: list[str]) -> bool:
    """Whether a ``class,start,end`` row is a header: its start and end cells are words."""
    return len(row) >= 3 and all(c.strip() and not _is_number(c) for c in row[1:3])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_frame(text: object, *, what: str = "frame", where: str) -> int | None:
    """A frame number in 0..MAX_FRAME, or None for an empty or NaN field (the clip is skipped).

    ``12`` and ``12.0`` are frame 12. Text that is not a number, a fraction (``12.7``), a
    negative number or one beyond MAX_FRAME raises ConversionError: ``where`` (the file and
    row) and ``what`` (e.g. ``start frame``) begin the message.
    """
    raw = "" if text is None else str(text).strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConversionError(f"{where}: {what} {raw!r} is not a number") from None
    if value != value:
        return None
    if not value.is_integer():
        raise ConversionError(f"{where}: {what} {raw} is not a whole frame number")
    if value < 0:
        raise ConversionError(f"{where}: {what} {int(value)} is negative")
    if value > MAX_FRAME:
        raise ConversionError(
            f"{where}: {what} {int(value)} is beyond the largest supported frame ({MAX_FRAME})"
        )
    return int(value)
