"""MiGA 2025 (Kaggle) skeleton package: ``<vid4>_openpose.xlsx`` + ``<vid4>_label.csv``.

Files (datasets-and-sota 1.3; momiji-bit/MM-Gesture ``dataset/tools/processing_Skeleton.ipynb``):

* ``<root>/<vid4>/<vid4>_openpose.xlsx``: first worksheet, one row per frame (frame 0 = first
  row), 137 OpenPose keypoints (BODY_25, face 70, left hand 21, right hand 21) x (x, y,
  confidence) = 411 numeric columns. MM-Gesture reads it without header or index column; a
  header row (any non-numeric cell, or the column numbers 0..410 / 1..411) and a leading index
  column (412 columns) are detected and dropped. Empty cells are missing points (score 0).
  The same sheet exported as ``<vid4>_openpose.csv`` is read instead when present (much faster).
* ``<root>/<vid4>/<vid4>_label.csv``: rows ``class,start,end`` as in MiGA 2023 (0-based frame
  rows, end inclusive, raw class ids with 99 = non-MG).

The .xlsx is read with the standard library (zipfile + ElementTree): workbook relationships
locate the first sheet, shared strings are resolved, and cell references (``AB12``) place each
cell, so skipped empty cells and rows keep their positions.

Rules: as MiGA 2023 (clip ``<vid4>_<k>`` = label row k, label 99 -> 31 else class - 1, roots and
split names, missing files are errors). Output layout ``openpose137``, ``imigue22`` or
``imigue36`` (default, MM-Gesture's 36 points). ``img_shape`` defaults to (720, 1280) as in
MM-Gesture. fps 25.

Axis legend: T frames, V joints.
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import re
import zipfile
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

import numpy as np

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.miga2023 import (
    add_package_arguments,
    convert_package,
    package_roots,
    to_sequence,
)
from mgproto.data.sequences import ConversionReport, Sequence

HELP = "MiGA 2025 skeleton package (<vid4>_openpose.xlsx or .csv + <vid4>_label.csv per video)"
IMG_SHAPE = (720, 1280)  # MM-Gesture processing_Skeleton.ipynb
LAYOUTS = ("openpose137", "imigue22", "imigue36")
NUM_VALUES = 137 * 3
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

Cell = str | None


@functools.cache
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def column_index(letters: str) -> int:
    """0-based column of Excel letters: ``A`` -> 0, ``AB`` -> 27."""
    value = 0
    for ch in letters:
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
    return shared[int(value)] if kind == "s" else value


def _sheet_rows(f: IO[bytes], shared: list[str]) -> list[list[Cell]]:
    rows: dict[int, list[Cell]] = {}
    values: list[Cell] = []
    row_no = 0
    columns: dict[str, int] = {}  # cache: column letters -> index
    for _, el in ET.iterparse(f, events=("end",)):  # attributes are still there at "end"
        name = _local(el.tag)
        if name == "c":
            letters = (el.get("r") or "").rstrip("0123456789")
            if letters not in columns:
                columns[letters] = column_index(letters.upper()) if letters.isalpha() else -1
            col = columns[letters] if columns[letters] >= 0 else len(values)
            if col >= len(values):
                values += [None] * (col + 1 - len(values))
            if len(el) == 1 and el.get("t") in (None, "n") and _local(el[0].tag) == "v":
                values[col] = el[0].text  # the common case: a plain number
            else:
                values[col] = _cell_value(el, shared)
        elif name == "row":
            row_no = int(el.get("r") or row_no + 1)
            rows[row_no] = values
            values = []
            el.clear()
    if not rows:
        return []
    return [rows.get(r, []) for r in range(min(rows), max(rows) + 1)]


def read_xlsx(path: Path) -> list[list[Cell]]:
    """Cell texts of the first worksheet, row by row (None = empty cell, gaps kept)."""
    try:
        with zipfile.ZipFile(path) as z:
            shared = _shared_strings(z)
            with z.open(_first_sheet(z)) as f:
                return _sheet_rows(f, shared)
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, ET.ParseError) as err:
        raise ValueError(f"{path}: not a readable .xlsx workbook ({err})") from None


def read_csv_rows(path: Path) -> list[list[Cell]]:
    """Rows of a CSV export of the sheet (empty fields become None; blank lines are kept)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [[c if c.strip() else None for c in row] for row in csv.reader(f)]


def _number(cell: Cell) -> float | None:
    """The float value of a cell, NaN for an empty one, None if it is not a number."""
    if cell is None or not str(cell).strip():
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


def _is_header(row: list[Cell]) -> bool:
    values = [_number(c) for c in row if c is not None]
    if any(v is None for v in values):
        return True
    n = len(values)
    return n >= NUM_VALUES and values in (list(range(n)), list(range(1, n + 1)))


def sheet_values(rows: list[list[Cell]], *, source: str) -> np.ndarray:
    """(T, 137, 3) float64 keypoint values of a sheet; drops a header row and an index column."""
    rows = [r[: max((i + 1 for i, c in enumerate(r) if c is not None), default=0)] for r in rows]
    while rows and not rows[-1]:
        rows.pop()  # trailing blank lines
    start = 1 if rows and _is_header(rows[0]) else 0
    body = rows[start:]
    width = max((len(r) for r in body), default=0)
    if width not in (NUM_VALUES, NUM_VALUES + 1):
        raise ValueError(
            f"{source}: {width} columns, expected {NUM_VALUES} (137 keypoints x (x, y, "
            f"confidence)) or {NUM_VALUES + 1} with a leading index column"
        )
    offset = width - NUM_VALUES
    out = np.full((len(body), NUM_VALUES), np.nan)
    for t, row in enumerate(body):
        for j, cell in enumerate(row[offset:]):
            value = _number(cell)
            if value is None:
                raise ValueError(
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
        path, rows = xlsx_path, read_xlsx(xlsx_path)
    else:
        raise FileNotFoundError(f"{xlsx_path}: skeleton file not found (nor {csv_path.name})")
    values = sheet_values(rows, source=str(path))
    if len(values) == 0:
        raise ValueError(f"{path}: no frames")
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

    def read_sequence(folder: Path, vid4: str) -> Sequence:
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_package_arguments(
        parser,
        layouts=LAYOUTS,
        layout="imigue36",
        img_shape=IMG_SHAPE,
        why="as MM-Gesture used",
    )


def run(args: argparse.Namespace) -> tuple[AnnotationFile, ConversionReport]:
    return convert(
        list(args.roots),
        split_roots=list(args.split_root),
        layout=args.layout,
        img_shape=(int(args.img_shape[0]), int(args.img_shape[1])),
        progress=True,
    )
