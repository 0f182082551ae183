"""Choosing the main person of a video and following it by box overlap (pure functions).

A person's box is the bounding box of its 33 BlazePose landmarks (MediaPipe places all of them,
also those it only infers), clipped to the frame, as (x0, y0, x1, y1) pixels. Boxes that a user
types are (x, y, w, h) pixels, as image tools show them.

:class:`PersonTracker` compares each frame's box with the last kept one: an intersection over
union below ``min_iou`` means the detection is somebody else (the same person moves far less
between two frames). By default (MediaPipe's own choice of person) such a frame is kept and noted
as a switch; when a subject was chosen (``--person``) it is rejected, so the subject is followed.

Axis legend: P people, S stacked landmarks, 4 = (x0, y0, x1, y1) pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PERSON_RULES = ("largest", "center")
# Same person in consecutive frames: IoU about 0.8-0.95 at 25 fps; a neighbour's box overlaps
# the subject's little or not at all.
SWITCH_IOU = 0.1
# The search region around the followed person, as a fraction of its box's longer side on
# every side: room for a frame's motion and for the head above the eyes (the top landmarks).
REGION_MARGIN = 0.25

Person = str | tuple[float, float, float, float]  # a rule of PERSON_RULES or (x, y, w, h)


def parse_person(text: str) -> Person:
    """``largest``, ``center`` or ``x,y,w,h`` in pixels -> the rule or the (x, y, w, h) box.

    Raises:
        ValueError: anything else, or a box with a side <= 0.
    """
    text = text.strip()
    if text in PERSON_RULES:
        return text
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(
            f"person must be one of {', '.join(PERSON_RULES)} or a box x,y,w,h in pixels, "
            f"got {text!r}"
        ) from None
    if not (w > 0 and h > 0 and np.isfinite([x, y, w, h]).all()):
        raise ValueError(f"person box {text!r}: w and h must be > 0")
    return (x, y, w, h)


def format_box(box: np.ndarray) -> str:
    """(x0, y0, x1, y1) -> ``"x,y,w,h"`` in whole pixels, the form ``--person`` reads."""
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    return f"{x0},{y0},{x1 - x0},{y1 - y0}"


def person_box(xy: np.ndarray, img_shape: tuple[int, int]) -> np.ndarray | None:
    """Box of one person's landmarks, clipped to the frame.

    Args:
        xy: (S, 2) landmarks in pixels.
        img_shape: (H, W) of the frame.

    Returns:
        (4,) float box, or None when it has no area inside the frame.
    """
    h, w = img_shape
    lo = np.clip(xy.min(axis=0), 0, [w, h])
    hi = np.clip(xy.max(axis=0), 0, [w, h])
    if (hi <= lo).any():
        return None
    return np.concatenate([lo, hi]).astype(np.float64)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (4,) boxes (0 when either has no area)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, float(iw)) * max(0.0, float(ih))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def expand_box(box: np.ndarray, margin: float, img_shape: tuple[int, int]) -> np.ndarray:
    """``box`` grown by ``margin`` times its longer side on every side, clipped to the frame."""
    h, w = img_shape
    pad = margin * float(max(box[2] - box[0], box[3] - box[1]))
    out = np.asarray(box, np.float64) + np.array([-pad, -pad, pad, pad])
    return np.clip(out, 0, [w, h, w, h])


def choose_person(
    boxes: list[np.ndarray], person: Person, *, img_shape: tuple[int, int]
) -> int | None:
    """Index of the subject among one frame's people.

    Args:
        boxes: P (4,) boxes.
        person: ``largest`` (box area), ``center`` (box centre nearest the frame centre) or an
            (x, y, w, h) box: the person whose box overlaps it most (IoU).
        img_shape: (H, W) of the frame.

    Returns:
        The index, or None when there is nobody (or nobody overlaps the given box).
    """
    if not boxes:
        return None
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    if person == "largest":
        return int(np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
    if person == "center":
        h, w = img_shape
        centres = (b[:, :2] + b[:, 2:]) / 2
        return int(np.argmin(np.hypot(centres[:, 0] - w / 2, centres[:, 1] - h / 2)))
    if isinstance(person, str):
        raise ValueError(f"unknown person rule {person!r}; use {', '.join(PERSON_RULES)} or a box")
    x, y, bw, bh = person
    target = np.array([x, y, x + bw, y + bh], np.float64)
    iou = [box_iou(box, target) for box in b]
    return int(np.argmax(iou)) if max(iou) > 0 else None


def keep_region(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Copy of an (H, W, 3) frame, black outside ``box`` (what the pose model may look at)."""
    x0, y0 = np.floor(box[:2]).astype(int)
    x1, y1 = np.ceil(box[2:]).astype(int)
    out = np.zeros_like(frame)
    out[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
    return out


def blank_region(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Copy of an (H, W, 3) frame, black inside ``box`` (hides a person already found)."""
    x0, y0 = np.floor(box[:2]).astype(int)
    x1, y1 = np.ceil(box[2:]).astype(int)
    out = frame.copy()
    out[y0:y1, x0:x1] = 0
    return out


@dataclass(kw_only=True)
class PersonTracker:
    """Follows the main person by box overlap and notes the frames where it changes.

    Attributes:
        min_iou: a box overlapping the last kept one less than this is another person.
        follow: True (a subject was chosen): such a detection is rejected and the last box
            kept. False (default): it is kept, becomes the reference, and its frame is noted
            in ``switches``.
        box: (4,) the last kept box (the chosen subject's box before the first update).
        switches: frame numbers where the tracked person changed (``follow=False`` only).
    """

    min_iou: float = SWITCH_IOU
    follow: bool = False
    box: np.ndarray | None = None
    switches: list[int] = field(default_factory=list)

    def update(self, t: int, box: np.ndarray) -> bool:
        """Whether the detection with ``box`` at frame ``t`` is kept; updates the reference."""
        if self.box is not None and box_iou(box, self.box) < self.min_iou:
            if self.follow:
                return False
            self.switches.append(int(t))
        self.box = np.asarray(box, np.float64)
        return True
