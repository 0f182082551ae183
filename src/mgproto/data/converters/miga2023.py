"""MiGA 2023 (Codalab) skeleton package: ``<vid4>_light_hand.csv`` + ``<vid4>_label.csv``.

Files (mikecheninoulu/SMG ``classification/iMiGUE/stgcn_imigue/tools/iMiGUEaccessSample.py``):

* ``<root>/<vid4>/<vid4>_light_hand.csv``: no header, one row per frame: a leading frame-index
  column, then 35 joints x (x, y, confidence) = 106 columns. Joints: the 25 BODY_25 joints in
  OpenPose order, then 5 fingertips (thumb .. pinky) of the subject's LEFT hand, then 5 of the
  subject's RIGHT hand (layout :data:`MIGA35`). Rows are frames 0..T-1 in file order; blank
  lines are ignored.
* ``<root>/<vid4>/<vid4>_label.csv``: rows ``class,start,end``; raw iMiGUE class ids (99 =
  non-MG), start/end are 0-based row indices into the skeleton file, end inclusive.

Hand order: the organisers' reader names every joint by image side (BODY_25 joint 2, the
subject's right shoulder, is "ShoulderLeft") and its drawing code attaches "LeftFinger1-5" to
"HandLeft" (the subject's right wrist). So its first five finger columns ("RightFinger") are the
subject's left hand. This reading is consistent across all their names but was not checked
against real data (see docs/datasets.md).

Rules: clip ``<vid4>_<k>`` = row k of the label file; label = ``imigue_label`` (99 -> 31, else
class - 1). Output layout ``imigue22`` (default) or ``openpose25``, picked by joint name.
``img_shape`` defaults to (1080, 1920), as HFUT-VUT's MiGA'23 ``tools/readlabel.py`` assumed;
fps 25.

Roots and splits: a root is a folder of ``<vid4>`` video folders; its split is guessed from its
name (``*train*`` -> train, ``*val*`` -> val, ``*test*`` -> test, else no split). A root with
no video folders is searched one level down (so the folder holding ``imigue_skeleton_train`` and
``imigue_skeleton_validate`` works). ``--split-root NAME=PATH`` names the split explicitly. A
missing skeleton or label file in a video folder is an error naming the file.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.common import (
    IMIGUE_CLASSES,
    imigue_label,
    read_csv,
    read_range_labels,
)
from mgproto.data.converters.openpose import split_xyc
from mgproto.data.layouts import Layout, get_layout, subset_indices
from mgproto.data.sequences import (
    ConversionError,
    ConversionReport,
    Recording,
    build_file,
    cut_clips,
)

FPS = 25.0
IMG_SHAPE = (1080, 1920)  # VUT-HFUT/MiGA2023_Track1 tools/readlabel.py
LAYOUTS = ("imigue22", "openpose25")
_TIPS = tuple(f"{f}_tip" for f in ("thumb", "index", "middle", "ring", "pinky"))
MIGA35 = Layout(
    "miga35",
    get_layout("openpose25").joints
    + tuple(f"left_{t}" for t in _TIPS)
    + tuple(f"right_{t}" for t in _TIPS),
    (),
)
NUM_COLUMNS = 1 + 3 * MIGA35.num_joints
_SPLIT_WORDS = (("train", "train"), ("val", "val"), ("test", "test"))
_VIDEO = re.compile(r"^\d+$")


def guess_split(folder: Path) -> str | None:
    """``train`` / ``val`` / ``test`` from a folder name such as ``imigue_skeleton_validate``."""
    name = folder.name.lower()
    return next((split for word, split in _SPLIT_WORDS if word in name), None)


def parse_split_root(text: str) -> tuple[str, Path]:
    """``train=PATH`` -> ("train", Path)."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise ValueError(f"--split-root expects NAME=PATH, got {text!r}")
    return name, Path(path)


def video_folders(root: Path) -> list[Path]:
    """The sub-folders of ``root`` named by a video number (``0054``), sorted."""
    return sorted(p for p in root.iterdir() if p.is_dir() and _VIDEO.match(p.name))


def package_roots(
    roots: list[Path], split_roots: list[tuple[str, Path]]
) -> list[tuple[str | None, Path]]:
    """Resolve positional roots (split guessed, searched one level down) and named roots."""
    out: list[tuple[str | None, Path]] = [(name, Path(p)) for name, p in split_roots]
    for root in map(Path, roots):
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: folder not found")
        if video_folders(root):
            out.append((guess_split(root), root))
            continue
        subs = [p for p in sorted(root.iterdir()) if p.is_dir() and video_folders(p)]
        if not subs:
            raise FileNotFoundError(f"{root}: no <vid4> video folders in it or one level down")
        out += [(guess_split(p), p) for p in subs]
    for _, root in out:
        if not root.is_dir() or not video_folders(root):
            raise FileNotFoundError(f"{root}: folder not found or has no <vid4> video folders")
    if not out:
        raise ValueError("no root given: pass a folder or --split-root NAME=PATH")
    return out


def read_light_hand(path: Path) -> np.ndarray:
    """(T, 35, 3) x, y, confidence from a ``<vid4>_light_hand.csv`` file."""
    rows = []
    for line_no, row in read_csv(path):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != NUM_COLUMNS:
            raise ConversionError(
                f"{path}: line {line_no} has {len(row)} columns, expected {NUM_COLUMNS} "
                "(frame index + 35 joints x (x, y, confidence))"
            )
        try:
            rows.append([float(c) if c.strip() else math.nan for c in row[1:]])
        except ValueError:
            raise ConversionError(f"{path}: line {line_no} has a non-numeric value") from None
    if not rows:
        raise ConversionError(f"{path}: no frames")
    return np.asarray(rows, np.float64).reshape(len(rows), MIGA35.num_joints, 3)


def to_sequence(
    values: np.ndarray,
    *,
    src: Layout | str,
    video_id: str,
    layout: str,
    img_shape: tuple[int, int],
    source: str,
) -> Recording:
    """Wrap (T, V_src, 3) x, y, confidence values as a one-person Recording in ``layout``."""
    kp, score = split_xyc(values)
    idx = subset_indices(src, layout)
    return Recording(
        video_id=video_id,
        keypoint=kp[None][:, :, idx],
        keypoint_score=score[None][:, :, idx],
        img_shape=tuple(img_shape),
        layout=layout,
        fps=FPS,
        source=source,
    )


def convert_package(
    roots: list[tuple[str | None, Path]],
    *,
    read_sequence: Callable[[Path, str], Recording],
    dataset: str,
    layout: str,
    progress: bool = False,
) -> tuple[AnnotationFile, ConversionReport]:
    """Cut every video folder of ``roots`` with its ``<vid4>_label.csv`` (MiGA'23 and '25).

    Args:
        roots: (split name or None, folder of video folders) pairs.
        read_sequence: (video folder, vid4) -> Recording of the whole video.
        dataset: name stored in ``meta``.
        layout: output layout name stored in ``meta``.
    """
    report = ConversionReport()
    records: list[dict[str, Any]] = []
    split_of_video: dict[str, str | None] = {}
    seen: dict[str, Path] = {}
    jobs = [(split, folder) for split, root in roots for folder in video_folders(root)]
    for split, folder in tqdm(jobs, desc=f"{dataset} videos", disable=None if progress else True):
        vid4 = f"{int(folder.name):04d}"
        if vid4 in seen:
            raise ConversionError(f"video {vid4} appears twice: {seen[vid4]} and {folder}")
        seen[vid4] = folder
        label_path = folder / f"{folder.name}_label.csv"
        if not label_path.is_file():
            raise FileNotFoundError(f"{label_path}: label file not found")
        segments = read_range_labels(label_path, video_id=vid4)
        seq = read_sequence(folder, vid4)
        records += cut_clips(seq, segments, label_of=imigue_label, report=report)
        split_of_video[vid4] = split
    meta = {"dataset": dataset, "layout": layout, "classes": list(IMIGUE_CLASSES)}
    file = build_file(
        records,
        split_of=lambda r: split_of_video[r["video_id"]],
        meta=meta,
        report=report,
        source=", ".join(str(root) for _, root in roots),
    )
    return file, report


def convert(
    roots: list[Path],
    *,
    split_roots: list[tuple[str, Path]] | None = None,
    layout: str = "imigue22",
    img_shape: tuple[int, int] = IMG_SHAPE,
    progress: bool = False,
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert MiGA 2023 skeleton folders (see the module docstring for roots and splits)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")

    def read_sequence(folder: Path, vid4: str) -> Recording:
        path = folder / f"{folder.name}_light_hand.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: skeleton file not found")
        return to_sequence(
            read_light_hand(path),
            src=MIGA35,
            video_id=vid4,
            layout=layout,
            img_shape=img_shape,
            source=str(path),
        )

    resolved = package_roots(list(roots), list(split_roots or []))
    return convert_package(
        resolved,
        read_sequence=read_sequence,
        dataset="miga2023",
        layout=layout,
        progress=progress,
    )
