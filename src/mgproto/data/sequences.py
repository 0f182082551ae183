"""The shared converter core: a long skeleton sequence plus labelled frame ranges -> clips.

Every dataset converter (iMiGUE, MiGA, SMG, UTKinect) reads its files into :class:`Sequence`
objects and :class:`Segment` lists, then calls :func:`cut_clips`. The core applies the class
mapping, cuts the ranges, and records every clip it skips and why in a :class:`ConversionReport`.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationFile, validate_record


class UnknownClassError(ValueError):
    """A raw class id that the dataset's class mapping does not know."""


@dataclass
class Sequence:
    """A long skeleton sequence (one video or recording).

    Attributes:
        video_id: id of the source video (e.g. ``0054``).
        keypoint: (M, T, V, 2) float32 pixel coordinates; missing joints are 0 with score 0.
        keypoint_score: (M, T, V) float32 in [0, 1].
        img_shape: (H, W) of the frames the coordinates refer to.
        layout: layout name of the V joints.
        frame_ids: (T,) the source frame id of each row; None means rows are frames 0..T-1.
        subject_id: the person in the video, if known.
        fps: frame rate of the source, if known.
        source: file the sequence was read from (for messages).
    """

    video_id: str
    keypoint: np.ndarray
    keypoint_score: np.ndarray
    img_shape: tuple[int, int]
    layout: str
    frame_ids: np.ndarray | None = None
    subject_id: str | None = None
    fps: float | None = None
    source: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.keypoint.shape[1])

    def rows_between(self, start: int, end: int) -> np.ndarray:
        """Row indices of frames with id in [start, end] (inclusive)."""
        if self.frame_ids is None:
            lo, hi = max(start, 0), min(end, self.num_frames - 1)
            return np.arange(lo, hi + 1) if hi >= lo else np.zeros(0, np.int64)
        return np.nonzero((self.frame_ids >= start) & (self.frame_ids <= end))[0]


@dataclass(frozen=True)
class Segment:
    """A labelled frame range of a sequence.

    Attributes:
        name: clip id (frame_dir), e.g. ``0054_3``.
        raw_label: the class as the dataset writes it (mapped by the converter's class mapping).
        start: first frame id, inclusive; None if the dataset gives none (the clip is skipped).
        end: last frame id, inclusive.
    """

    name: str
    raw_label: Any
    start: int | None
    end: int | None


@dataclass
class ConversionReport:
    """What a conversion wrote and what it skipped, with reasons."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (clip or file, reason)
    per_class: Counter = field(default_factory=Counter)

    def skip(self, what: str, reason: str) -> None:
        self.skipped.append((what, reason))

    def summary(self, class_names: list[str] | None = None) -> str:
        lines = [f"wrote {self.written} clips, skipped {len(self.skipped)}"]
        for what, reason in self.skipped:
            lines.append(f"  skipped {what}: {reason}")
        if self.per_class:
            lines.append("clips per class:")
            for k in sorted(self.per_class):
                name = class_names[k] if class_names and k < len(class_names) else str(k)
                lines.append(f"  {k:3d} {name}: {self.per_class[k]}")
        return "\n".join(lines)


def cut_clips(
    seq: Sequence,
    segments: Iterable[Segment],
    *,
    label_of: Callable[[Any], int],
    report: ConversionReport,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Cut ``seq`` into one interchange record per segment.

    Args:
        seq: the long sequence.
        segments: labelled ranges in frame ids.
        label_of: raw label -> class index; raises UnknownClassError for an unknown class.
        report: receives one entry per skipped segment.
        extra: fields copied into every record (e.g. ``filename`` templates already filled).

    Returns:
        Records that passed :func:`validate_record`.
    """
    records = []
    for seg in segments:
        where = f"{seg.name} ({seq.source or seq.video_id})"
        try:
            label = label_of(seg.raw_label)
        except UnknownClassError as err:
            report.skip(where, str(err))
            continue
        if seg.start is None or seg.end is None:
            report.skip(where, "segment has no valid frame range (start/end missing or NaN)")
            continue
        if seg.end < seg.start:
            report.skip(where, f"segment ends before it starts ({seg.start} > {seg.end})")
            continue
        rows = seq.rows_between(seg.start, seg.end)
        if rows.size == 0:
            report.skip(
                where,
                f"frames {seg.start}..{seg.end} are outside the sequence "
                f"({seq.num_frames} skeleton frames)",
            )
            continue
        kp = seq.keypoint[:, rows]
        score = seq.keypoint_score[:, rows]
        if not np.any(score > 0):
            report.skip(where, "no valid keypoint in the segment (all scores are 0)")
            continue
        record = {
            "frame_dir": seg.name,
            "label": label,
            "img_shape": tuple(seq.img_shape),
            "original_shape": tuple(seq.img_shape),
            "total_frames": int(rows.size),
            "keypoint": np.ascontiguousarray(kp, np.float32),
            "keypoint_score": np.ascontiguousarray(score, np.float32),
            "video_id": seq.video_id,
            "start_frame": int(seg.start),
            "end_frame": int(seg.end),
            "layout": seq.layout,
        }
        if seq.subject_id is not None:
            record["subject_id"] = seq.subject_id
        if seq.fps is not None:
            record["fps"] = float(seq.fps)
        record.update(extra or {})
        records.append(validate_record(record, index=len(records), source=where))
        report.written += 1
        report.per_class[label] += 1
    return records


def build_file(
    records: list[dict[str, Any]],
    *,
    split_of: Callable[[dict[str, Any]], str | None],
    meta: dict[str, Any],
) -> AnnotationFile:
    """Assemble records into an AnnotationFile; ``split_of(record)`` names its split (or None)."""
    split: dict[str, list[str]] = {}
    for r in records:
        name = split_of(r)
        if name is not None:
            split.setdefault(name, []).append(r["frame_dir"])
    return AnnotationFile(records, split, meta)
