"""Helpers shared by the dataset converters: label files, class mappings, CLI plumbing."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from mgproto.data.sequences import Segment, UnknownClassError

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


def read_range_labels(path: Path, *, video_id: str) -> list[Segment]:
    """Read a ``class,start,end`` label CSV (MiGA'23/'25, SMG); clip k is row k.

    A header row, if present, is skipped. Frames are 0-based and inclusive.
    """
    segments = []
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]
    for k, row in enumerate(rows):
        if len(row) < 3:
            raise ValueError(
                f"{path}: row {k + 1} has {len(row)} columns, expected class,start,end"
            )
        segments.append(
            Segment(f"{video_id}_{k}", row[0].strip(), parse_frame(row[1]), parse_frame(row[2]))
        )
    return segments


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_frame(text: str) -> int | None:
    """An integer frame number, or None for an empty / NaN field."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return None if value != value else int(value)


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: .pkl (PYSKL / MMAction2) or .npz (mgproto, pickle-free)",
    )
