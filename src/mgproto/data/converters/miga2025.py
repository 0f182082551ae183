"""MiGA 2025 (Kaggle) skeleton package: ``<vid4>_openpose.xlsx`` + ``<vid4>_label.csv``.

Files (datasets-and-sota 1.3; momiji-bit/MM-Gesture ``dataset/tools/processing_Skeleton.ipynb``):

* ``<root>/<vid4>/<vid4>_openpose.xlsx``: first worksheet, one row per frame (frame 0 = first
  row), 137 OpenPose keypoints (BODY_25, face 70, left hand 21, right hand 21) x (x, y,
  confidence) = 411 numeric columns. MM-Gesture reads it without header or index column; a
  header row (every filled cell a word, or the column numbers 0..410 / 1..411) and a leading
  index column (412 columns) are detected and dropped; any other row is a frame, and a frame
  with a non-numeric cell is an error naming its row and column. Empty cells are missing
  points (score 0). The same sheet exported as ``<vid4>_openpose.csv`` is read instead when
  present (much faster).
* ``<root>/<vid4>/<vid4>_label.csv``: rows ``class,start,end`` as in MiGA 2023 (0-based frame
  rows, end inclusive, raw class ids with 99 = non-MG).

The .xlsx is read with the standard library (zipfile + ElementTree): workbook relationships
locate the first sheet, shared strings are resolved, and cell references (``AB12``) place each
cell, so skipped empty cells and rows keep their positions. References are checked against
Excel's limits (and the sheet's 412 columns) before anything is laid out for them, and blank
rows may not outnumber the frames (see ``check_frame_span``).

Rules: as MiGA 2023 (clip ``<vid4>_<k>`` = label row k, label 99 -> 31 else class - 1, roots and
split names, missing files are errors). Output layout ``openpose137``, ``imigue22`` or
``imigue36`` (default, MM-Gesture's 36 points). ``img_shape`` defaults to (720, 1280) as in
MM-Gesture. fps 25.

Axis legend: T frames, V joints.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile
import zlib
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

import numpy as np

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.common import read_csv
from mgproto.data.converters.miga2023 import (
    convert_package,
    package_roots,
    to_sequence,
)
from mgproto.data.sequences import ConversionError, ConversionReport, Recording, check_frame_span

IMG_SHAPE = (720, 1280)  # MM-Gesture processing_Skeleton.ipynb
LAYOUTS = ("openpose137", "imigue22", "imigue36")
NUM_VALUES = 137 * 3
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # Excel's sheet limits (last cell XFD1048576)
# What a damaged .xlsx raises from zipfile, its decompressor or ElementTree.
_XLSX_ERRORS = (
    zipfile.BadZipFile, zlib.error, KeyError, ValueError, IndexError, EOFError, OSError,
    NotImplementedError, RuntimeError, ET.ParseError,
)  # fmt: skip

Cell = str | None


@functools.cache
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def column_index(letters: str) -> int:
    """0-based column of Excel letters: ``A`` -> 0, ``AB`` -> 27 (at most ``XFD``, 16383)."""
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        raise ValueError(f"{letters!r} is not an Excel column (A .. XFD)")
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - ord("A") + 1
    return value - 1


def column_name(index: int) -> str:
    """Excel letters of a 0-based column: 27 -> ``AB``."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(ord("A") + rem) + name
    return name


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    out = []
    for si in ET.fromstring(z.read("xl/sharedStrings.xml")):
        parts = [el.text or "" for el in si if _local(el.tag) == "t"]
        for run in (el for el in si if _local(el.tag) == "r"):
            parts += [t.text or "" for t in run if _local(t.tag) == "t"]
        out.append("".join(parts))
    return out


def _first_sheet(z: zipfile.ZipFile) -> str:
    """Zip member of the workbook's first worksheet."""
    names = set(z.namelist())
    try:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        sheet = next(el for el in book.iter() if _local(el.tag) == "sheet")
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(el.get("Target", "") for el in rels if el.get("Id") == sheet.get(_REL_ID))
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if member in names:
            return member
    except (KeyError, StopIteration, ET.ParseError):
        pass
    sheets = sorted(n for n in names if re.match(r"^xl/worksheets/[^/]+\.xml$", n))
    if not sheets:
        raise KeyError("no worksheet in the workbook")
    return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else sheets[0]


def _cell_value(cell: ET.Element, shared: list[str]) -> Cell:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter() if _local(t.tag) == "t")
    value = next((el.text for el in cell if _local(el.tag) == "v"), None)
    if value is None or kind == "e":
        return None
    if kind != "s":
        return value
    index = int(value)
    if not 0 <= index < len(shared):
        raise ValueError(f"shared string {index} does not exist ({len(shared)} in the workbook)")
    return shared[index]


def _column(ref: str, columns: dict[str, int], *, max_columns: int) -> int:
    """0-based column of cell reference ``ref`` (``AB12``); -1 for a reference without letters.

    ``columns`` caches letters -> column; a column at or beyond ``max_columns`` is refused
    before anything is allocated for it.
    """
    letters = ref.rstrip("0123456789")
    if letters not in columns:
        try:
            col = column_index(letters) if letters else -1
        except ValueError:
            col = max_columns
        if col >= max_columns:
            raise ConversionError(
                f"cell reference {ref[:40]!r} is not in columns A .. {column_name(max_columns - 1)}"
            )
        columns[letters] = col
    return columns[letters]


def _sheet_rows(f: IO[bytes], shared: list[str], *, max_columns: int) -> list[list[Cell]]:
    rows: dict[int, list[Cell]] = {}
    values: list[Cell] = []
    row_no = 0
    columns: dict[str, int] = {}  # cache: column letters -> index
    for _, el in ET.iterparse(f, events=("end",)):  # attributes are still there at "end"
        name = _local(el.tag)
        if name == "c":
            col = _column(el.get("r") or "", columns, max_columns=max_columns)
            if col < 0:
                col = len(values)
            if col >= len(values):
                values += [None] * (col + 1 - len(values))
            if len(el) == 1 and el.get("t") in (None, "n") and _local(el[0].tag) == "v":
                values[col] = el[0].text  # the common case: a plain number
            else:
                values[col] = _cell_value(el, shared)
        elif name == "row":
            row_no = int(el.get("r") or row_no + 1)
            if not 1 <= row_no <= MAX_ROWS or row_no in rows:
                what = "repeats an earlier row" if row_no in rows else "is not a sheet row"
                raise ConversionError(f"row number {row_no} {what} (1 .. {MAX_ROWS})")
            rows[row_no] = values
            values = []
            el.clear()
    if not rows:
        return []
    return [rows.get(r, []) for r in range(min(rows), max(rows) + 1)]


def read_xlsx(path: Path, *, max_columns: int = MAX_COLUMNS) -> list[list[Cell]]:
    """Cell texts of the first worksheet, row by row (None = empty cell, gaps kept).

    Cell references are checked against Excel's limits (``max_columns`` columns, MAX_ROWS
    rows) before the rows are laid out, so a reference such as ``ZZZZZZZZZZ99`` is an error.
    """
    try:
        with zipfile.ZipFile(path) as z:
            shared = _shared_strings(z)
            with z.open(_first_sheet(z)) as f:
                return _sheet_rows(f, shared, max_columns=max_columns)
    except ConversionError as err:
        raise ConversionError(f"{path}: {err}") from None
    except _XLSX_ERRORS as err:
        raise ConversionError(f"{path}: not a readable .xlsx workbook ({err})") from None


def read_csv_rows(path: Path) -> list[list[Cell]]:
    """Rows of a CSV export of the sheet (empty fields become None; blank lines are kept)."""
    return [[c if c.strip() else None for c in row] for _, row in read_csv(path)]


def _number(cell: Cell) -> float | None:
    """The float value of a cell, NaN for an empty one, None if it is not a number."""
    if cell is None or not str(cell).strip():
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


def _is_header(row: list[Cell]) -> bool:
    """Whether a first row is a header: every filled cell is a word, or the cells number the
    columns (0..410 or 1..411, after an optional index-column label). A data row with one bad
    cell is not a header: :func:`sheet_values` refuses it, naming the row and column."""
    values = [_number(c) for c in row if c is not None]
    if values and all(v is None for v in values):
        return True
    numbers = (list(range(NUM_VALUES)), list(range(1, NUM_VALUES + 1)))
    return len(values) in (NUM_VALUES, NUM_VALUES + 1) and values[-NUM_VALUES:] in numbers


def sheet_values(rows: list[list[Cell]], *, source: str) -> np.ndarray:
    """(T, 137, 3) float64 keypoint values of a sheet; drops a header row and an index column."""
    rows = [r[: max((i + 1 for i, c in enumerate(r) if c is not None), default=0)] for r in rows]
    while rows and not rows[-1]:
        rows.pop()  # trailing blank lines
    start = 1 if rows and _is_header(rows[0]) else 0
    body = rows[start:]
    width = max((len(r) for r in body), default=0)
    if width not in (NUM_VALUES, NUM_VALUES + 1):
        raise ConversionError(
            f"{source}: {width} columns, expected {NUM_VALUES} (137 keypoints x (x, y, "
            f"confidence)) or {NUM_VALUES + 1} with a leading index column"
        )
    offset = width - NUM_VALUES
    check_frame_span(0, len(body) - 1, sum(1 for r in body if r), source=source)  # blank rows
    out = np.full((len(body), NUM_VALUES), np.nan)
    for t, row in enumerate(body):
        for j, cell in enumerate(row[offset:]):
            value = _number(cell)
            if value is None:
                raise ConversionError(
                    f"{source}: row {start + t + 1}, column {column_name(offset + j)}: "
                    f"{cell!r} is not a number"
                )
            out[t, j] = value
    return out.reshape(len(body), 137, 3)


def read_openpose_sheet(folder: Path) -> tuple[np.ndarray, Path]:
    """(T, 137, 3) values of ``<vid4>_openpose.csv`` if present, else ``<vid4>_openpose.xlsx``."""
    csv_path = folder / f"{folder.name}_openpose.csv"
    xlsx_path = folder / f"{folder.name}_openpose.xlsx"
    if csv_path.is_file():
        path, rows = csv_path, read_csv_rows(csv_path)
    elif xlsx_path.is_file():
        path, rows = xlsx_path, read_xlsx(xlsx_path, max_columns=NUM_VALUES + 1)
    else:
        raise FileNotFoundError(f"{xlsx_path}: skeleton file not found (nor {csv_path.name})")
    values = sheet_values(rows, source=str(path))
    if len(values) == 0:
        raise ConversionError(f"{path}: no frames")
    return values, path


def convert(
    roots: list[Path],
    *,
    split_roots: list[tuple[str, Path]] | None = None,
    layout: str = "imigue36",
    img_shape: tuple[int, int] = IMG_SHAPE,
    progress: bool = False,
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert MiGA 2025 skeleton folders (roots and splits as in MiGA 2023)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")

    def read_sequence(folder: Path, vid4: str) -> Recording:
        values, path = read_openpose_sheet(folder)
        return to_sequence(
            values,
            src="openpose137",
            video_id=vid4,
            layout=layout,
            img_shape=img_shape,
            source=str(path),
        )

    resolved = package_roots(list(roots), list(split_roots or []))
    return convert_package(
        resolved,
        read_sequence=read_sequence,
        dataset="miga2025",
        layout=layout,
        progress=progress,
    )
