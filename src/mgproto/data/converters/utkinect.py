"""UTKinect-Action3D (Kinect v1, 20 joints): ``joints_sSS_eEE.txt`` + ``actionLabel.txt``.

Each joints line is a frame id then 20 joints x (x, y, z) in metres, camera coordinates
(x right, y up, z away from the camera). Frame ids are sparse and some repeat (the first
occurrence is kept). ``actionLabel.txt`` lists, per ``sSS_eEE``, ``name: start end`` in frame
ids; clip ``sSS_eEE_<name>`` covers the ids in [start, end].

2-D projection (a pinhole model of the Kinect v1 depth camera at 640x480):
``u = cx + f * x / z``, ``v = cy - f * y / z`` with f = 571.26 px (2 x the SDK's 285.63 at
320x240), cx = 320, cy = 240. Joints with z <= 0 or non-finite values get score 0; every other
joint has score 1 (the files carry no confidences).

With ``coords="3d"`` (``mgproto convert utkinect --coords 3d``) the native joints are written
instead: keypoint (M, T, 20, 3) x, y, z in metres, camera coordinates, with the same scores
(invalid joints 0); ``img_shape`` stays the 640x480 frame of the depth camera.

``actionLabel.txt`` has three ranges that run into another action of the same recording
(the core warns: :func:`mgproto.data.sequences.overlapping`); ``actionLabel_modified.txt``, found
beside it, corrects them and four more (``labels=LABELS_CORRECTED``; docs/datasets.md).

Split: cross-subject, odd subjects train and even subjects test (the common protocol), unless
``--test-subjects`` says otherwise.

Two options make a *different* dataset from the same people, to check that a recipe chosen on
UTKinect carries over to another camera and another frame rate (the study is indexed in
docs/experiments/README.md): ``yaw`` turns each recording's joints about the vertical axis
through their mean position before the projection, as if the camera stood ``yaw`` degrees to
the side (:func:`rotate_view`); ``frame_step`` keeps every ``frame_step``-th frame of each
recording (30 fps -> 30 / ``frame_step``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.common import parse_frame, read_lines
from mgproto.data.sequences import (
    ClipRange,
    ConversionError,
    ConversionReport,
    Recording,
    UnknownClassError,
    build_file,
    cut_clips,
)

CLASSES = (
    "walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands",
    "clapHands",
)  # fmt: skip
FOCAL = 571.26  # Kinect v1 depth camera at 640x480 (SDK: 285.63 at 320x240)
IMG_SHAPE = (480, 640)
_SEQ = re.compile(r"^s(\d+)_e(\d+)$")
LABELS = "actionLabel.txt"  # the dataset's label file
LABELS_CORRECTED = "actionLabel_modified.txt"  # found beside it: seven ranges corrected
COORDS = ("2d", "3d")  # pixel projection (default) or the native camera-space joints
Coords = Literal["2d", "3d"]


def project(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole projection of camera-space joints.

    Args:
        xyz: (..., 3) metres.

    Returns:
        (..., 2) pixel coordinates and (...,) scores (1 for a valid joint, 0 otherwise).
    """
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    valid = np.all(np.isfinite(xyz), axis=-1) & (z > 1e-6)
    safe_z = np.where(valid, z, 1.0)
    u = IMG_SHAPE[1] / 2 + FOCAL * x / safe_z
    v = IMG_SHAPE[0] / 2 - FOCAL * y / safe_z
    uv = np.stack([u, v], axis=-1)
    uv[~valid] = 0
    return uv.astype(np.float32), valid.astype(np.float32)


def rotate_view(xyz: np.ndarray, yaw: float) -> np.ndarray:
    """Turn camera-space joints about the vertical axis through their mean valid position.

    Args:
        xyz: (T, V, 3) metres, camera coordinates (x right, y up, z away from the camera).
        yaw: degrees of the turn (either sign; x turns towards z for a positive one).

    Returns:
        (T, V, 3) float64 rotated joints; joints invalid before the turn (non-finite or z <= 0)
        come back NaN, so they stay invalid however the turn moves them.
    """
    valid = np.all(np.isfinite(xyz), axis=-1) & (xyz[..., 2] > 1e-6)
    if not valid.any():
        return np.full(xyz.shape, np.nan)
    centre = xyz[valid].mean(axis=0)
    theta = np.deg2rad(yaw)
    c, s = np.cos(theta), np.sin(theta)
    dx, dz = xyz[..., 0] - centre[0], xyz[..., 2] - centre[2]
    out = np.stack([centre[0] + c * dx + s * dz, xyz[..., 1], centre[2] - s * dx + c * dz], -1)
    out[~valid] = np.nan
    return out


def camera_joints(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Native camera-space joints and their scores, with the validity rule of :func:`project`.

    Args:
        xyz: (..., 3) metres.

    Returns:
        (..., 3) float32 metres (invalid joints 0) and (...,) scores (1 valid, 0 otherwise).
    """
    valid = np.all(np.isfinite(xyz), axis=-1) & (xyz[..., 2] > 1e-6)
    out = np.where(valid[..., None], xyz, 0.0)
    return out.astype(np.float32), valid.astype(np.float32)


def read_joints(
    path: Path, *, coords: Coords = "2d", yaw: float = 0.0, frame_step: int = 1
) -> Recording:
    """Read one ``joints_sSS_eEE.txt`` into a Recording (M=1, V=20): pixels, or metres with
    ``coords="3d"``; ``yaw`` (degrees) turns the view, ``frame_step`` keeps every n-th frame."""
    if frame_step < 1:
        raise ValueError(f"frame_step must be >= 1, got {frame_step}")
    ids, rows = [], []
    seen = set()
    for line_no, line in read_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 61:
            raise ConversionError(f"{path}: line {line_no} has {len(parts)} values, expected 61")
        where = f"{path}: line {line_no}"
        frame_id = parse_frame(parts[0], what="frame id", where=where)
        if frame_id is None:
            raise ConversionError(f"{where}: frame id {parts[0]!r} is not a frame number")
        if frame_id in seen:
            continue
        seen.add(frame_id)
        ids.append(frame_id)
        try:
            rows.append([float(p) for p in parts[1:]])
        except ValueError:
            raise ConversionError(f"{where}: a joint coordinate is not a number") from None
    if not rows:
        raise ConversionError(f"{path}: no frames")
    xyz = np.asarray(rows, np.float64).reshape(len(rows), 20, 3)[::frame_step]
    ids = ids[::frame_step]
    if yaw:
        xyz = rotate_view(xyz, yaw)
    kp, score = camera_joints(xyz) if coords == "3d" else project(xyz)
    name = path.stem.removeprefix("joints_")
    match = _SEQ.match(name)
    if match is None:
        raise ConversionError(f"{path}: name must look like joints_sSS_eEE.txt")
    return Recording(
        video_id=name,
        keypoint=kp[None],
        keypoint_score=score[None],
        img_shape=IMG_SHAPE,
        layout="kinect20",
        frame_ids=np.asarray(ids),
        subject_id=str(int(match.group(1))),
        fps=30.0 / frame_step,
        source=str(path),
    )


def read_labels(path: Path) -> dict[str, list[ClipRange]]:
    """``actionLabel.txt`` -> {sequence name: segments}; NaN ranges give start/end None."""
    out: dict[str, list[ClipRange]] = {}
    current = None
    for line_no, line in read_lines(path):
        text = line.strip()
        if not text:
            continue
        where = f"{path}: line {line_no}"
        if _SEQ.match(text):
            if text in out:
                raise ConversionError(f"{where}: sequence {text} is listed twice")
            current = text
            out[current] = []
            continue
        if current is None or ":" not in text:
            raise ConversionError(f"{where} ({text[:80]!r}) is not 'name: start end'")
        name, rng = text.split(":", 1)
        values = rng.split()
        if len(values) != 2:
            raise ConversionError(f"{where} needs a start and an end frame")
        start = parse_frame(values[0], what="start frame", where=where)
        end = parse_frame(values[1], what="end frame", where=where)
        out[current].append(ClipRange(f"{current}_{name.strip()}", name.strip(), start, end))
    return out


def label_of(raw: str) -> int:
    if raw not in CLASSES:
        raise UnknownClassError(f"unknown UTKinect action {raw!r}; valid: {', '.join(CLASSES)}")
    return CLASSES.index(raw)


def convert(
    root: Path,
    *,
    labels: str = LABELS,
    test_subjects: tuple[int, ...] | None = None,
    coords: Coords = "2d",
    yaw: float = 0.0,
    frame_step: int = 1,
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert the UTKinect folder ``root`` (all sequences listed in the label file); ``coords``
    picks 2-D pixels (projected) or the native 3-D joints; ``yaw`` and ``frame_step`` make the
    view and frame-rate variants of the module docstring."""
    if coords not in COORDS:
        raise ValueError(f"coords must be one of {', '.join(COORDS)}, got {coords!r}")
    root = Path(root)
    label_path = root / labels
    if not label_path.is_file():
        raise FileNotFoundError(f"{label_path}: label file not found")
    report = ConversionReport()
    records = []
    for name, segments in read_labels(label_path).items():
        path = root / f"joints_{name}.txt"
        if not path.is_file():
            report.skip(str(path), "joints file not found", kind="joints file not found",
                        unit="recording", clips=len(segments))  # fmt: skip
            continue
        recording = read_joints(path, coords=coords, yaw=yaw, frame_step=frame_step)
        records += cut_clips(recording, segments, label_of=label_of, report=report)
    test = set(test_subjects) if test_subjects else {s for s in range(1, 11) if s % 2 == 0}

    def split_of(r: dict) -> str:
        return "test" if int(r["subject_id"]) in test else "train"

    meta = {"dataset": "utkinect", "layout": "kinect20", "classes": list(CLASSES)}
    if yaw or frame_step != 1:
        meta["variant"] = {"yaw": float(yaw), "frame_step": int(frame_step)}
    file = build_file(records, split_of=split_of, meta=meta, report=report, source=str(root))
    return file, report
