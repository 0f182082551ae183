"""SMG (Chen et al., IJCV 2023): Kinect v2 skeletons with fine micro-gesture labels.

Files (mikecheninoulu/SMG ``classification/SMG/1_st-gcn_smg/tools/smg_gendata.py`` and
``tools/utils/mg_read_skeleton.py``):

* ``<root>/SampleXXXX/SampleXXXX_skeleton.csv``: no header, one row per frame, 25 Kinect v2
  joints (layout ``kinect25``: SpineBase, SpineMid, Neck, Head, ..., HandTipRight, ThumbRight) x
  11 values: x, y, z, depthX, depthY, colorX, colorY, orientationW, orientationX, orientationY,
  orientationZ = 275 columns. The organisers' ST-GCN code reads x, y, z at columns 11 j .. 11 j + 2.
* ``<root>/SampleXXXX/SampleXXXX_finelabels.csv``: rows ``label,start,end``, labels 1..17,
  0-based frame rows, taken as inclusive (the organisers' ST-GCN reader starts at ``start`` and
  reads ``end - start`` frames, so it drops the end frame).
* ``<root>/SampleXXXX/SampleXXXX_data.csv`` (optional): ``numFrames,fps,maxDepth``; fps is
  stored when the file is there.

Rules:

* 2-D coordinates: colorX, colorY in the Kinect v2 colour image, ``img_shape`` (1080, 1920);
  ``coords="depth"`` uses depthX, depthY with (424, 512) instead. The value order above is that
  of the Kinect SDK / NTU RGB+D readers the organisers copied; it is not checked against data.
* Score 1 where the 2-D point is finite and the joint's 11 values are not all zero, else 0 (the
  files carry no confidences; the SDK maps unmappable points to -inf).
* Clip ``SampleXXXX_<k>`` = label row k; class = label - 1 (17 classes). The class names were
  not found in public code or the README, so ``meta['classes']`` is None.
* Split: cross-subject, subject = sample number; test subjects 36-40 (``smg_gendata.py``), the
  others train.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.common import read_csv, read_range_labels
from mgproto.data.sequences import (
    ConversionError,
    ConversionReport,
    Recording,
    UnknownClassError,
    build_file,
    cut_clips,
)

NUM_CLASSES = 17
NUM_JOINTS = 25
VALUES_PER_JOINT = 11
NUM_COLUMNS = NUM_JOINTS * VALUES_PER_JOINT
# (columns of x and y within a joint's 11 values, img_shape) per coordinate system
COORDS = {"color": ((5, 6), (1080, 1920)), "depth": ((3, 4), (424, 512))}
TEST_SUBJECTS = (36, 37, 38, 39, 40)  # mikecheninoulu/SMG smg_gendata.py subject_test
_SAMPLE = re.compile(r"^Sample(\d+)$")


def read_skeleton(path: Path) -> np.ndarray:
    """(T, 25, 11) float64 values of a ``SampleXXXX_skeleton.csv`` (empty fields are NaN)."""
    rows = []
    for line_no, row in read_csv(path):
        while row and not row[-1].strip():
            row = row[:-1]  # a trailing comma
        if not row:
            continue
        if len(row) != NUM_COLUMNS:
            raise ConversionError(
                f"{path}: line {line_no} has {len(row)} columns, expected {NUM_COLUMNS} "
                f"({NUM_JOINTS} joints x {VALUES_PER_JOINT} values)"
            )
        try:
            rows.append([float(c) if c.strip() else math.nan for c in row])
        except ValueError:
            raise ConversionError(f"{path}: line {line_no} has a non-numeric value") from None
    if not rows:
        raise ConversionError(f"{path}: no frames")
    return np.asarray(rows, np.float64).reshape(len(rows), NUM_JOINTS, VALUES_PER_JOINT)


def joints_2d(values: np.ndarray, *, coords: str = "color") -> tuple[np.ndarray, np.ndarray]:
    """Pick 2-D points out of Kinect v2 joint records.

    Args:
        values: (..., 11) per-joint values in file order.
        coords: ``color`` (colorX, colorY) or ``depth`` (depthX, depthY).

    Returns:
        float32 (..., 2) coordinates and (...,) scores (1 valid, 0 missing; missing points are 0).
    """
    (cx, cy), _ = COORDS[coords]
    xy = values[..., [cx, cy]]
    valid = np.all(np.isfinite(xy), axis=-1) & np.any(np.nan_to_num(values) != 0, axis=-1)
    xy = np.where(valid[..., None], xy, 0.0)
    return xy.astype(np.float32), valid.astype(np.float32)


def read_fps(path: Path) -> float | None:
    """The fps field of ``SampleXXXX_data.csv`` (``numFrames,fps,maxDepth``), None if absent."""
    if not path.is_file():
        return None
    rows = [r for _, r in read_csv(path) if r]
    try:
        return float(rows[-1][1])
    except (IndexError, ValueError):
        raise ConversionError(f"{path}: expected a row numFrames,fps,maxDepth") from None


def read_sample(folder: Path, *, coords: str = "color") -> Recording:
    """Read ``SampleXXXX_skeleton.csv`` of ``folder`` into a Recording (M=1, V=25)."""
    name = folder.name
    path = folder / f"{name}_skeleton.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: skeleton file not found")
    xy, score = joints_2d(read_skeleton(path), coords=coords)
    return Recording(
        video_id=name,
        keypoint=xy[None],
        keypoint_score=score[None],
        img_shape=COORDS[coords][1],
        layout="kinect25",
        subject_id=str(int(_SAMPLE.match(name).group(1))),
        fps=read_fps(folder / f"{name}_data.csv"),
        source=str(path),
    )


def label_of(raw: Any) -> int:
    """Class index of an SMG fine label: 1..17 -> 0..16."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise UnknownClassError(f"class {raw!r} is not an integer id") from None
    if not 1 <= value <= NUM_CLASSES:
        raise UnknownClassError(f"unknown SMG class id {value} (valid: 1..{NUM_CLASSES})")
    return value - 1


def convert(
    root: Path, *, coords: str = "color", test_subjects: tuple[int, ...] | None = None
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert the SMG folder ``root`` (every ``SampleXXXX`` sub-folder)."""
    root = Path(root)
    if coords not in COORDS:
        raise ValueError(f"unknown coords {coords!r}; valid: {', '.join(COORDS)}")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: folder not found")
    samples = sorted(p for p in root.iterdir() if p.is_dir() and _SAMPLE.match(p.name))
    if not samples:
        raise FileNotFoundError(f"{root}: no SampleXXXX folders")
    report = ConversionReport()
    records: list[dict[str, Any]] = []
    for folder in samples:
        label_path = folder / f"{folder.name}_finelabels.csv"
        if not label_path.is_file():
            raise FileNotFoundError(f"{label_path}: label file not found")
        segments = read_range_labels(label_path, video_id=folder.name)
        seq = read_sample(folder, coords=coords)
        records += cut_clips(seq, segments, label_of=label_of, report=report)
    test = set(test_subjects if test_subjects else TEST_SUBJECTS)

    def split_of(r: dict[str, Any]) -> str:
        return "test" if int(r["subject_id"]) in test else "train"

    meta = {"dataset": "smg", "layout": "kinect25", "classes": None}
    file = build_file(records, split_of=split_of, meta=meta, report=report, source=str(root))
    return file, report
