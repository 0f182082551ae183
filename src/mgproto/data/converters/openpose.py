"""OpenPose output: per-frame JSON files (BODY_25 + face + hands = 137 points) and the
choice of the main subject among several detected people.

Axis legend: P detected persons, T frames, V joints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mgproto.data.sequences import ConversionError

_PARTS = (
    ("pose_keypoints_2d", 25), ("face_keypoints_2d", 70),
    ("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21),
)  # fmt: skip
NUM_POINTS = 137
_ANCHORS = (1, 2, 5)  # BODY_25 neck, right shoulder, left shoulder


class CorruptFrameError(ConversionError):
    """An OpenPose JSON file that cannot be read; the message names the file."""


def split_xyc(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (..., V, 3) x, y, confidence into float32 (..., V, 2) and (..., V) arrays.

    Non-finite points become 0 with score 0; scores are clipped to [0, 1].
    """
    values = np.asarray(values, np.float64)
    bad = ~np.all(np.isfinite(values), axis=-1)
    values = np.where(bad[..., None], 0.0, values)
    score = np.clip(values[..., 2], 0.0, 1.0)
    return values[..., :2].astype(np.float32), score.astype(np.float32)


def read_people(path: Path) -> np.ndarray:
    """(P, 137, 3) x, y, confidence of every person in one OpenPose JSON file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CorruptFrameError(f"{path}: not a readable OpenPose JSON file ({err})") from None
    people = doc.get("people") if isinstance(doc, dict) else None
    if not isinstance(people, list):
        raise CorruptFrameError(f"{path}: expected an object with a 'people' list")
    out = np.zeros((len(people), NUM_POINTS, 3), np.float32)
    for i, person in enumerate(people):
        offset = 0
        for key, n in _PARTS:
            values = person.get(key) if isinstance(person, dict) else None
            try:
                if values:
                    out[i, offset : offset + n] = np.asarray(values, np.float32).reshape(n, 3)
            except (TypeError, ValueError, OverflowError):
                raise CorruptFrameError(
                    f"{path}: person {i}: {key} is not a list of {3 * n} numbers"
                ) from None
            offset += n
    return out


def _anchor_centroids(persons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, 2) mean of the valid neck/shoulder points and (P,) whether any was valid."""
    anchors = persons[:, _ANCHORS]
    valid = anchors[..., 2] > 0
    count = valid.sum(axis=1)
    total = (anchors[..., :2] * valid[..., None]).sum(axis=1)
    return total / np.maximum(count, 1)[:, None], count > 0


def select_main_person(people: list[np.ndarray]) -> np.ndarray:
    """Choose one person per frame, following the same subject through the video.

    Rule: where the person chosen in the previous frame has a valid neck/shoulder centroid
    (BODY_25 joints 1, 2, 5 with confidence > 0), choose the person whose centroid is nearest to
    it (people without a valid centroid are not eligible). Otherwise (first frame with people,
    after a frame without people, or no eligible person) choose the person with the largest sum
    of BODY_25 confidences. Ties go to the lower index.

    Args:
        people: T arrays of shape (P_t, V, 3) (x, y, confidence; BODY_25 first); P_t may be 0.

    Returns:
        (T,) int64 index of the chosen person per frame, -1 where there is none.
    """
    chosen = np.full(len(people), -1, np.int64)
    previous = None
    for t, persons in enumerate(people):
        if len(persons) == 0:
            previous = None
            continue
        centroids, valid = _anchor_centroids(persons)
        if previous is not None and valid.any():
            dist = np.where(valid, np.linalg.norm(centroids - previous, axis=1), np.inf)
            idx = int(np.argmin(dist))
        else:
            idx = int(np.argmax(persons[:, :25, 2].sum(axis=1)))
        chosen[t] = idx
        previous = centroids[idx] if valid[idx] else None
    return chosen
