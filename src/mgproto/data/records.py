"""Queries over validated records (see :mod:`mgproto.data.annotations`): their coordinate
count, that each has a label, how many there are per class, which look mislabelled, which layout
their joint count means, which keypoints fall outside the frame.

Axis legend: M persons, T frames, V joints, K classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationError
from mgproto.data.layouts import LAYOUTS
from mgproto.data.sequences import ClipRange, overlapping

LENGTH_RATIO = 4.0  # a clip this many times longer than its class's median frame count is
# suspect (UTKinect's two wrong ranges are 18x and 4.9x their class median; no correct clip of
# UTKinect or of the synthetic set is over 4x)


def keypoint_dims(records: Iterable[dict[str, Any]]) -> int:
    """Coordinates per joint of validated records: 2 (x, y pixels) or 3 (x, y, z); 2 if none."""
    for r in records:
        return int(r["keypoint"].shape[-1])
    return 2


def require_labels(
    records: list[dict[str, Any]], *, split: str, source: str
) -> list[dict[str, Any]]:
    """``records`` if each has a class label, else AnnotationError naming the first unlabelled
    one (label -1); for the training split, whose loss needs every label."""
    unlabelled = [r for r in records if r["label"] < 0]
    if unlabelled:
        raise AnnotationError(
            f"{source}: split {split!r}: record {unlabelled[0]['frame_dir']!r} has no label (-1), "
            f"nor do {len(unlabelled) - 1} others of its {len(records)}; training needs labels"
        )
    return records


def class_counts(records: Iterable[dict[str, Any]], num_classes: int) -> np.ndarray:
    """(K,) number of records per label (unlabelled records are not counted)."""
    counts = np.zeros(num_classes, np.int64)
    for r in records:
        if r["label"] >= 0:
            counts[r["label"]] += 1
    return counts


def label_doubts(records: list[dict[str, Any]], *, length_ratio: float = LENGTH_RATIO) -> list[str]:
    """Clips whose label ranges look wrong, one line each (empty when none).

    Two signs, both of a range typed wrong in a label file: two clips of one video (records with
    ``video_id``, ``start_frame`` and ``end_frame``) that share more than a boundary frame, and a
    clip more than ``length_ratio`` times longer than the median of its class (classes with at
    least three clips). Doubts, not errors: actions can co-occur, and some are long.
    """
    lines = []
    by_video: dict[str, list[ClipRange]] = defaultdict(list)
    for r in records:
        if all(r.get(k) is not None for k in ("video_id", "start_frame", "end_frame")):
            by_video[str(r["video_id"])].append(
                ClipRange(r["frame_dir"], r["label"], int(r["start_frame"]), int(r["end_frame"]))
            )
    for ranges in by_video.values():
        lines += [f"{a.name} (frames {a.start}..{a.end}) shares {n} frames with {b.name} "
                  f"({b.start}..{b.end})" for a, b, n in overlapping(ranges)]  # fmt: skip
    lengths: dict[int, list[int]] = defaultdict(list)
    for r in records:
        lengths[r["label"]].append(int(r["total_frames"]))
    median = {k: float(np.median(v)) for k, v in lengths.items() if len(v) >= 3 and k >= 0}
    for r in records:
        m = median.get(r["label"])
        if m and r["total_frames"] > length_ratio * m:
            lines.append(f"{r['frame_dir']}: {r['total_frames']} frames, "
                         f"{r['total_frames'] / m:.1f} x its class's median {m:g}")  # fmt: skip
    return lines


def layouts_with_joints(num_joints: int) -> list[str]:
    """Names of the layouts with ``num_joints`` joints (one: the count says which; several or
    none: it does not)."""
    return [name for name, layout in LAYOUTS.items() if layout.num_joints == num_joints]


def file_layout(meta: dict[str, Any], records: list[dict[str, Any]]) -> tuple[str | None, str]:
    """The layout of a skeleton file and how it is known: ``(name, "")`` when the file records
    it (``meta`` or every record), ``(name, "inferred from V joints")`` when the joint count
    fits one layout only, else ``(None, why)`` (the candidates, or the joint counts)."""
    if meta.get("layout"):
        return str(meta["layout"]), ""
    named = {r.get("layout") for r in records}
    if records and len(named) == 1 and None not in named:
        return str(named.pop()), ""
    counts = sorted({int(r["keypoint"].shape[2]) for r in records})
    if len(counts) != 1:
        return None, f"joint counts {counts}" if counts else "no records"
    fits = layouts_with_joints(counts[0])
    if len(fits) == 1:
        return fits[0], f"inferred from {counts[0]} joints"
    if fits:
        return None, f"{counts[0]} joints: {' or '.join(fits)}"
    return None, f"{counts[0]} joints: no known layout"


@dataclass(frozen=True)
class OutsideFrame:
    """Valid keypoints of one record that lie outside its ``img_shape``.

    Attributes:
        index: the record's position in the file.
        frame_dir: its clip id.
        num_frames: frames with at least one such keypoint.
        num_points: such keypoints in all.
        axis: ``x`` or ``y``, of the coordinate furthest outside.
        value: that coordinate, in pixels.
        size: the frame's width (x) or height (y).
        frame: the clip frame where it is.
    """

    index: int
    frame_dir: str
    num_frames: int
    num_points: int
    axis: str
    value: float
    size: int
    frame: int

    @property
    def beyond(self) -> float:
        """How far the worst coordinate lies outside the frame, in pixels."""
        return self.value - self.size if self.value > self.size else -self.value

    @property
    def worst(self) -> str:
        """``y = 781 (frame height 720)`` or ``x = -12 (the frame starts at 0)``."""
        edge = f"frame {'width' if self.axis == 'x' else 'height'} {self.size}"
        where = edge if self.value > 0 else "the frame starts at 0"
        return f"{self.axis} = {self.value:g} ({where})"

    def describe(self) -> str:
        frames, points = self.num_frames, self.num_points
        return (f"record {self.index} ({self.frame_dir!r}): {frames} frame{'s' * (frames != 1)}, "
                f"{points} keypoint{'s' * (points != 1)}; worst {self.worst} at frame "
                f"{self.frame}")  # fmt: skip


def keypoints_outside(records: list[dict[str, Any]]) -> list[OutsideFrame]:
    """Records of 2-D pixel keypoints with valid joints (score > 0) outside ``[0, W] x [0, H]``
    of their ``img_shape``: a wrong ``img_shape``, or a pose estimator's guess past the edge.
    3-D records (no image plane) and records without ``img_shape`` are not checked."""
    found = []
    for i, r in enumerate(records):
        kp = r["keypoint"]  # (M, T, V, 2)
        if kp.shape[-1] != 2 or r.get("img_shape") is None:
            continue
        h, w = r["img_shape"]
        # how far each valid coordinate lies beyond the frame: (M, T, V, 2), 0 inside
        excess = np.maximum(-kp, kp - np.array([w, h], np.float32)).clip(min=0)
        excess = np.where(r["keypoint_score"][..., None] > 0, excess, 0)
        outside = (excess > 0).any(-1)  # (M, T, V)
        if not outside.any():
            continue
        m, t, v, c = np.unravel_index(int(np.argmax(excess)), excess.shape)
        found.append(OutsideFrame(
            index=i, frame_dir=str(r["frame_dir"]), num_frames=int(outside.any((0, 2)).sum()),
            num_points=int(outside.sum()), axis="xy"[c], value=float(kp[m, t, v, c]),
            size=int((w, h)[c]), frame=int(t),
        ))  # fmt: skip
    return found
