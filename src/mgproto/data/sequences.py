"""The shared converter core: a long skeleton sequence plus labelled frame ranges -> clips.

Every dataset converter (iMiGUE, MiGA, SMG, UTKinect, UTD-MHAD) reads its files into
:class:`Recording` objects and :class:`ClipRange` lists, then calls :func:`cut_clips`. The core
applies the class mapping, cuts the ranges, and records every clip it skips and why in a
:class:`ConversionReport`, with a warning for each pair of ranges of one sequence that share
more than a boundary frame (a typo in a label file, or actions that really co-occur: the clips
are written either way).

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationError, AnnotationFile, validate_record

# Largest frame number a converter accepts: 10 million frames are 4.6 days at 25 fps. Checked
# before anything sized by frame numbers is allocated.
MAX_FRAME = 10_000_000
# Frames a sequence may lack (files or rows missing between its first and last frame) beyond as
# many as it has: more means a frame number is wrong, and the gap would be allocated as frames.
MAX_GAP_FRAMES = 1000
MAX_WARNINGS_SHOWN = 20  # warnings a conversion summary lists one by one (the rest are counted)
MAX_SKIPS_SHOWN = 5  # skipped entries a conversion summary lists (all go to a sidecar file)


class UnknownClassError(ValueError):
    """A raw class id that the dataset's class mapping does not know."""


class ConversionError(AnnotationError):
    """Converter input that cannot be converted; the message names the file and the row."""


def check_frame_span(first: int, last: int, num_present: int, *, source: str) -> None:
    """Refuse frame numbers ``first..last`` that span far more frames than the ``num_present``
    the file has (before the span is allocated as a dense sequence)."""
    span = last - first + 1
    if last > MAX_FRAME:
        raise ConversionError(
            f"{source}: frame number {last} is beyond the largest supported ({MAX_FRAME})"
        )
    if span > 2 * num_present + MAX_GAP_FRAMES:
        raise ConversionError(
            f"{source}: frame numbers run from {first} to {last} ({span} frames) but only "
            f"{num_present} frames are present; a frame number is probably wrong"
        )


@dataclass
class Recording:
    """A long skeleton sequence (one video or recording).

    Attributes:
        video_id: id of the source video (e.g. ``0054``).
        keypoint: (M, T, V, 2) float32 pixel coordinates, or (M, T, V, 3) x, y, z (3-D
            skeletons); missing joints are 0 with score 0.
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
class ClipRange:
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
    """What a conversion wrote and what it skipped, with reasons.

    A skipped entry is a clip, or a larger or smaller unit (a video without skeletons, a corrupt
    frame file kept with score 0); each entry says how many labelled clips it cost, so the
    summary counts clips as clips and videos as videos.
    """

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (clip or file, reason)
    per_class: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)  # short reason -> number of skips
    units: dict[str, str] = field(default_factory=dict)  # short reason -> what one skip is
    lost: Counter = field(default_factory=Counter)  # short reason -> labelled clips not written
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (clip, concern): written

    def warn(self, what: str, concern: str) -> None:
        """Record a doubt about a clip that was written all the same."""
        self.warnings.append((what, concern))

    def skip(
        self, what: str, reason: str, *, kind: str | None = None, unit: str = "clip",
        clips: int | None = None,
    ) -> None:  # fmt: skip
        """Record a skipped clip, video or file.

        Args:
            what: the clip id, video or file.
            reason: why, for the user.
            kind: a short reason that groups skips differing only in numbers.
            unit: what ``what`` is: ``clip``, ``video``, ``frame file``, ...
            clips: labelled clips this skip leaves unwritten (default: 1 for a clip, else 0).
        """
        kind = kind or reason
        self.skipped.append((what, reason))
        self.kinds[kind] += 1
        self.units.setdefault(kind, unit)
        self.lost[kind] += (1 if unit == "clip" else 0) if clips is None else clips

    @property
    def skipped_clips(self) -> int:
        """Labelled clips that were not written."""
        return sum(self.lost.values())

    def nothing_written(self, source: str) -> str:
        """The message for a conversion of ``source`` that wrote no clip: skips by reason."""
        if not self.skipped:
            return f"{source}: nothing was converted: the label files list no clips"
        kinds = ", ".join(f"{n} x {kind}" for kind, n in self.kinds.most_common())
        what, reason = self.skipped[0]
        return (
            f"{source}: nothing was converted: 0 clips written, {len(self.skipped)} skipped "
            f"({kinds}); first skipped: {what}: {reason}"
        )

    def skip_list(self) -> str:
        """Every skip, one ``what: reason`` line each (the sidecar file of a conversion)."""
        return "".join(f"{what}: {reason}\n" for what, reason in self.skipped)

    def summary(self, class_names: list[str] | None = None, *, full_list: str | None = None) -> str:
        """What was written, the skips by reason with the first few, the warnings and the clips
        per class; ``full_list`` names the file that lists every skip."""
        lines = [f"wrote {self.written} clips, skipped {self.skipped_clips} labelled clips"]
        if self.skipped:
            lines.append(f"skipped entries by reason ({len(self.skipped)} in all):")
            for kind, n in self.kinds.most_common():
                unit, lost = self.units.get(kind, "clip"), self.lost[kind]
                cost = f" ({lost} clip{'s' * (lost != 1)})" if lost else " (no clip lost)"
                cost = "" if unit == "clip" else cost
                lines.append(f"  {n} {unit}{'s' * (n != 1)}: {kind}{cost}")
            shown = self.skipped[:MAX_SKIPS_SHOWN]
            more = len(shown) < len(self.skipped)
            lines.append(f"first {len(shown)} of {len(self.skipped)} skipped:" if more
                         else "skipped:")  # fmt: skip
            lines += [f"  {what}: {reason}" for what, reason in shown]
            if full_list:
                lines.append(f"all {len(self.skipped)} skipped entries: {full_list}")
        if self.warnings:
            lines.append(f"warnings ({len(self.warnings)}; the clips were written):")
            shown = self.warnings[:MAX_WARNINGS_SHOWN]
            lines += [f"  {what}: {concern}" for what, concern in shown]
            if len(self.warnings) > len(shown):
                lines.append(f"  ... and {len(self.warnings) - len(shown)} more")
        if self.per_class:
            lines.append("clips per class:")
            for k in sorted(self.per_class):
                name = class_names[k] if class_names and k < len(class_names) else str(k)
                lines.append(f"  {k:3d} {name}: {self.per_class[k]}")
        return "\n".join(lines)


def overlapping(
    segments: list[ClipRange], *, boundary: int = 1
) -> list[tuple[ClipRange, ClipRange, int]]:
    """Pairs of one sequence's ranges that share more than ``boundary`` frame ids.

    Consecutive actions often share their boundary frame (one ends where the next starts); more
    than that means one range runs into another. Ranges without a start or end are ignored.

    Returns:
        (earlier range, later range, frame ids shared), in the order of the earlier's start.
    """
    ranged = sorted(
        (s for s in segments if s.start is not None and s.end is not None and s.end >= s.start),
        key=lambda s: (s.start, s.end),
    )
    pairs = []
    for i, a in enumerate(ranged):
        for b in ranged[i + 1 :]:
            if b.start > a.end:
                break
            shared = min(a.end, b.end) - b.start + 1
            if shared > boundary:
                pairs.append((a, b, shared))
    return pairs


def cut_clips(
    seq: Recording,
    segments: Iterable[ClipRange],
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
    segments = list(segments)
    for a, b, shared in overlapping(segments):
        report.warn(
            f"{a.name} ({seq.source or seq.video_id})",
            f"frames {a.start}..{a.end} share {shared} frames with {b.name} "
            f"({b.start}..{b.end}): a wrong range in the label file, or co-occurring actions",
        )
    records = []
    for seg in segments:
        where = f"{seg.name} ({seq.source or seq.video_id})"
        try:
            label = label_of(seg.raw_label)
        except UnknownClassError as err:
            report.skip(where, str(err), kind="unknown class")
            continue
        if seg.start is None or seg.end is None:
            report.skip(
                where,
                "segment has no valid frame range (start/end missing or NaN)",
                kind="no frame range",
            )
            continue
        if seg.start < 0:
            report.skip(where, f"start frame {seg.start} is negative", kind="negative start")
            continue
        if seg.end < seg.start:
            report.skip(
                where,
                f"segment ends before it starts ({seg.start} > {seg.end})",
                kind="ends before it starts",
            )
            continue
        rows = seq.rows_between(seg.start, seg.end)
        if rows.size == 0:
            report.skip(
                where,
                f"frames {seg.start}..{seg.end} are outside the sequence "
                f"({seq.num_frames} skeleton frames)",
                kind="outside the sequence",
            )
            continue
        kp = seq.keypoint[:, rows]
        score = seq.keypoint_score[:, rows]
        if not np.any(score > 0):
            report.skip(
                where,
                "no valid keypoint in the segment (all scores are 0)",
                kind="no valid keypoint",
            )
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
    report: ConversionReport | None = None,
    source: str = "",
) -> AnnotationFile:
    """Assemble records into an AnnotationFile; ``split_of(record)`` names its split (or None).

    With a ``report``, no record at all raises ConversionError naming ``source`` (the input)
    and counting the skips by reason, rather than writing an empty file.
    """
    if report is not None and not records:
        raise ConversionError(report.nothing_written(source or "input"))
    split: dict[str, list[str]] = {}
    for r in records:
        name = split_of(r)
        if name is not None:
            split.setdefault(name, []).append(r["frame_dir"])
    return AnnotationFile(records, split, meta)
