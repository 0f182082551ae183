"""Queries over validated records (see :mod:`mgproto.data.annotations`): their coordinate
count, that each has a label, how many there are per class, which look mislabelled.

Axis legend: K classes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationError
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
