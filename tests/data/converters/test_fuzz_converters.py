"""Property-based fuzzing of the converters' label and sheet readers: every input gives a
result that keeps the readers' promises or one ConversionError (an AnnotationError) naming the
file, never another exception type."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgproto.data.annotations import AnnotationError
from mgproto.data.converters import imigue, miga2025, utkinect
from mgproto.data.converters.common import read_range_labels
from mgproto.data.sequences import MAX_FRAME

# MGPROTO_FUZZ_EXAMPLES=2000 explores further than the few seconds the suite allows.
FUZZ = settings(
    max_examples=int(os.environ.get("MGPROTO_FUZZ_EXAMPLES", 100)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

FIELDS = st.one_of(
    st.integers(-5, 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "NaN", "12.0", "12.7", "-0", "1e3", "class", "start", '"']),
    st.text(max_size=6),
)
CSV_TEXT = st.lists(st.lists(FIELDS, max_size=5).map(",".join), max_size=6).map("\n".join)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def outcome(read: Callable[[Path], Any], path: Path) -> Any:
    """``read(path)``, or None after an AnnotationError whose message names ``path``."""
    try:
        return read(path)
    except AnnotationError as err:
        assert str(path) in str(err) and "\n" not in str(err), err
        return None


def _frames_ok(segments: list) -> bool:
    return all(
        f is None or (isinstance(f, int) and 0 <= f <= MAX_FRAME)
        for s in segments
        for f in (s.start, s.end)
    )


@FUZZ
@given(text=CSV_TEXT, raw=st.binary(max_size=60), use_raw=st.booleans())
def test_range_label_csv(folder: Path, text: str, raw: bytes, use_raw: bool) -> None:
    path = folder / "0054_label.csv"
    path.write_bytes(raw if use_raw else text.encode("utf-8"))
    segments = outcome(lambda p: read_range_labels(p, video_id="0054"), path)
    if segments is not None:
        assert [s.name for s in segments] == [f"0054_{k}" for k in range(len(segments))]
        assert _frames_ok(segments)


@FUZZ
@given(rows=st.lists(st.lists(FIELDS, min_size=8, max_size=8), max_size=5))
def test_imigue_label_csv(folder: Path, rows: list[list[str]]) -> None:
    path = folder / "labels.csv"
    lines = [",".join((*imigue.LABEL_COLUMNS, "label_id", "start_time", "end_time"))]
    path.write_text("\n".join(lines + [",".join(r) for r in rows]) + "\n")
    videos = outcome(imigue.read_label_csv, path)
    if videos is not None:
        assert all(_frames_ok(v.segments) for v in videos.values())


UTKINECT_LINES = st.one_of(
    st.from_regex(r"s\d{2}_e\d{2}", fullmatch=True),
    st.builds("{}: {} {}".format, st.sampled_from(["walk", "fly"]), FIELDS, FIELDS),
    st.text(max_size=8),
)


@FUZZ
@given(lines=st.lists(UTKINECT_LINES, max_size=5))
def test_utkinect_action_labels(folder: Path, lines: list[str]) -> None:
    path = folder / "actionLabel.txt"
    path.write_text("\n".join(lines) + "\n")
    labels = outcome(utkinect.read_labels, path)
    if labels is not None:
        assert all(_frames_ok(segments) for segments in labels.values())


CELLS = st.one_of(st.none(), st.integers(-3, 3).map(str), st.floats(width=32).map(repr), FIELDS)


@FUZZ
@given(
    width=st.sampled_from([410, 411, 412]),
    rows=st.lists(st.dictionaries(st.integers(0, 411), CELLS, max_size=4), max_size=4),
    header=st.sampled_from([None, "words", "numbers"]),
)
def test_openpose_sheet_values(width: int, rows: list[dict[int, Any]], header: str | None):
    """Rows of ``width`` numeric cells with a few fuzzed cells, after an optional header."""
    headers = {"words": [f"v{c}" for c in range(width)], "numbers": [str(c) for c in range(width)]}
    body: list[list[Any]] = [headers[header]] if header else []
    for changes in rows:
        row: list[Any] = ["1.5"] * width
        for col, cell in changes.items():
            if col < width:
                row[col] = cell
        body.append(row)
    values = outcome(lambda p: miga2025.sheet_values(body, source=str(p)), Path("s.xlsx"))
    if values is not None:
        assert values.shape[1:] == (137, 3) and len(values) <= len(rows)


REFS = st.one_of(
    st.none(),
    st.from_regex(r"[A-Z]{1,3}[0-9]{1,7}", fullmatch=True),
    st.from_regex(r"[A-Za-z$]{0,12}[0-9]{0,14}", fullmatch=True),
)
CELL_XML = st.builds(
    lambda ref, kind, value: (
        f"<c{'' if ref is None else f' r={ref!r}'}"
        f"{'' if kind is None else f' t={kind!r}'}><v>{value}</v></c>"
    ),
    REFS,
    st.sampled_from([None, "n", "s", "e", "str"]),
    st.sampled_from(["1", "0", "-1", "2.5", "x", "99999999999"]),
)
ROW_XML = st.builds(
    lambda r, cells: f"<row{'' if r is None else f' r={str(r)!r}'}>{''.join(cells)}</row>",
    st.one_of(st.none(), st.integers(-2, 2_000_000), st.integers(10**10, 10**12)),
    st.lists(CELL_XML, max_size=4),
)


@FUZZ
@given(rows=st.lists(ROW_XML, max_size=4), raw=st.binary(max_size=40), use_raw=st.booleans())
def test_xlsx_reader(folder: Path, rows: list[str], raw: bytes, use_raw: bool) -> None:
    (folder / "0054").mkdir(exist_ok=True)
    path = folder / "0054" / "0054_openpose.xlsx"
    if use_raw:
        path.write_bytes(raw)
    else:
        with zipfile.ZipFile(path, "w") as z:
            sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{"".join(rows)}</sheetData>'
            z.writestr("xl/worksheets/sheet1.xml", sheet + "</worksheet>")
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}"><si><t>a</t></si></sst>')
    read = outcome(miga2025.read_xlsx, path)
    if read is not None:
        assert len(read) <= miga2025.MAX_ROWS
        assert all(len(r) <= miga2025.MAX_COLUMNS for r in read)
    values = outcome(lambda p: miga2025.read_openpose_sheet(p.parent), path)
    assert values is None or isinstance(values[0], np.ndarray)
