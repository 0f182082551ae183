"""Queries over validated records (see :mod:`mgproto.data.annotations`): their coordinate
count, that each has a label, how many there are per class.

Axis legend: K classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationError


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
