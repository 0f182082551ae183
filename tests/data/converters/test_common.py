"""Shared converter helpers: frame numbers and ``class,start,end`` label files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mgproto.data.converters.common import parse_frame, read_range_labels
from mgproto.data.sequences import MAX_FRAME, ClipRange, ConversionError


@pytest.mark.parametrize(
    ("text", "frame"), [("12", 12), (" 12.0 ", 12), ("1e3", 1000), ("", None), ("NaN", None)]
)
def test_parse_frame_accepts_whole_numbers(text: str, frame: int | None) -> None:
    assert parse_frame(text, where="x.csv: row 1") == frame


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-3", r"labels.csv: row 7: start frame -3 is negative"),
        ("12.7", r"labels.csv: row 7: start frame 12.7 is not a whole frame number"),
        ("inf", r"start frame inf is not a whole frame number"),
        ("abc", r"labels.csv: row 7: start frame 'abc' is not a number"),
        (str(MAX_FRAME + 1), r"start frame 10000001 is beyond the largest supported frame"),
    ],
)
def test_parse_frame_refuses_bad_numbers(text: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        parse_frame(text, what="start frame", where="labels.csv: row 7")


def _labels(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    return path


def test_negative_and_fractional_frames_name_file_and_row(tmp_path: Path) -> None:
    path = _labels(tmp_path, "5,0,2\n\n3,4,9\n7,-3,5\n")
    with pytest.raises(ConversionError, match=r"labels.csv: row 4: start frame -3 is negative"):
        read_range_labels(path, video_id="0054")
    path = _labels(tmp_path, "5,0,12.7\n")
    with pytest.raises(ConversionError, match=r"row 1: end frame 12.7 is not a whole frame"):
        read_range_labels(path, video_id="0054")


def test_header_is_detected_by_its_words_only(tmp_path: Path) -> None:
    segs = read_range_labels(_labels(tmp_path, "class,start,end\n5,0,2.0\n7,3,4\n"), video_id="v")
    assert segs == [ClipRange("v_0", "5", 0, 2), ClipRange("v_1", "7", 3, 4)]
    # a first data row with an unknown (non-numeric) class is a clip, not a header
    segs = read_range_labels(_labels(tmp_path, "x,0,2\n7,3,4\n"), video_id="v")
    assert [s.name for s in segs] == ["v_0", "v_1"] and segs[0].raw_label == "x"
    # a first row with a bad frame cell is a bad data row, named
    with pytest.raises(ConversionError, match=r"labels.csv: row 1: end frame 'end' is not"):
        read_range_labels(_labels(tmp_path, "5,0,end\n7,3,4\n"), video_id="v")


def test_unreadable_text_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes(b"5,0,2\n\xff\xfe,1,2\n")
    with pytest.raises(ConversionError, match=r"labels.csv: not a text file \(byte 0xff is not"):
        read_range_labels(path, video_id="v")
