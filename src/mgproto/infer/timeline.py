"""From per-window class probabilities to a timeline of labelled segments (pure functions).

1. ``make_windows``: sliding windows over the video (length and stride in seconds).
2. ``frame_probs``: each frame gets the average of the windows covering it, weighted by a
   triangle that peaks at the window's centre (a window speaks most confidently about its
   middle); frames no classified window covers are NaN.
3. ``smooth_probs``: a centred moving average over time (NaN-aware).
4. ``segments_from_probs``: per-frame arg-max, frames below ``min_confidence`` left unlabelled,
   runs of one label become segments; runs shorter than ``min_duration_s`` are dropped and
   same-label segments that a dropped run separated are merged.
5. ``why_no_segments``: where step 4 finds nothing, the reason in one sentence (the highest
   confidence reached, when and for which class, against the threshold).

Axis legend: W windows, T frames, K classes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mgproto.fileio import atomic_write_text
from mgproto.fileio.text import read_json, read_text


@dataclass(frozen=True)
class Segment:
    """One labelled stretch of video; ``end`` / ``end_frame`` are exclusive.

    Attributes:
        start, end: seconds.
        start_frame, end_frame: frame numbers (``end_frame`` exclusive).
        label: class name.
        label_id: class index.
        confidence: mean (smoothed) probability of ``label`` over the segment's frames.
    """

    start: float
    end: float
    start_frame: int
    end_frame: int
    label: str
    label_id: int
    confidence: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def make_windows(num_frames: int, fps: float, *, length_s: float, stride_s: float) -> np.ndarray:
    """(W, 2) [start, end) frame ranges of sliding windows covering ``num_frames`` frames.

    Windows are ``round(length_s * fps)`` frames long every ``round(stride_s * fps)`` frames; a
    last window is aligned with the end so the tail is covered; a video shorter than one window
    gets a single window over all of it.
    """
    if num_frames <= 0:
        raise ValueError("make_windows: the video has no frames")
    if length_s <= 0 or stride_s <= 0:
        raise ValueError(f"make_windows: length {length_s} s and stride {stride_s} s must be > 0")
    length = max(1, round(length_s * fps))
    stride = max(1, round(stride_s * fps))
    if num_frames <= length:
        return np.array([[0, num_frames]], dtype=np.int64)
    starts = list(range(0, num_frames - length + 1, stride))
    if starts[-1] + length < num_frames:
        starts.append(num_frames - length)
    return np.array([[s, s + length] for s in starts], dtype=np.int64)


def frame_probs(window_probs: np.ndarray, windows: np.ndarray, num_frames: int) -> np.ndarray:
    """(W, K) window probabilities -> (T, K) per-frame probabilities (NaN rows: no window).

    Windows whose row is NaN (not classified, e.g. no person in them) do not vote.
    """
    num_classes = window_probs.shape[1]
    total = np.zeros((num_frames, num_classes))
    weight = np.zeros(num_frames)
    for probs, (start, end) in zip(window_probs, windows):
        if not np.isfinite(probs).all():
            continue
        n = end - start
        t = (np.arange(n) + 0.5) / n  # (n,) position inside the window, 0..1
        w = 1.0 - np.abs(2.0 * t - 1.0) + 1e-3  # triangle; the epsilon keeps the edges voting
        total[start:end] += w[:, None] * probs[None]
        weight[start:end] += w
    out = np.full((num_frames, num_classes), np.nan)
    covered = weight > 0
    out[covered] = total[covered] / weight[covered, None]
    return out


def smooth_probs(probs: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of (T, K) probabilities over ``width`` frames, ignoring NaN rows.

    NaN rows stay NaN (a frame with no evidence does not borrow a label from its neighbours).
    """
    if width <= 1:
        return probs.copy()
    valid = np.isfinite(probs).all(1)
    filled = np.where(valid[:, None], probs, 0.0)
    sums = np.stack([_centred_sum(filled[:, k], width) for k in range(probs.shape[1])])
    counts = _centred_sum(valid.astype(float), width)
    out = np.full_like(probs, np.nan)
    out[valid] = sums.T[valid] / counts[valid, None]
    return out


def _centred_sum(x: np.ndarray, width: int) -> np.ndarray:
    """(T,) sums of ``x`` over a centred window of ``width`` (numpy's "same" mode, but of length
    T also when the signal is shorter than the window)."""
    full = np.convolve(x, np.ones(width), mode="full")
    offset = (width - 1) // 2
    return full[offset : offset + len(x)]


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, start, end) runs of equal values in a (T,) int array."""
    if labels.size == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [labels.size]])
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def frame_labels(
    probs: np.ndarray, *, min_confidence: float = 0.0, hide: Sequence[int] = ()
) -> np.ndarray:
    """(T,) arg-max class of (T, K) per-frame probabilities; -1 where a frame has no evidence
    (NaN row), its top probability is below ``min_confidence``, or its top class is hidden."""
    valid = np.isfinite(probs).all(1)
    safe = np.where(valid[:, None], probs, -1.0)
    labels = safe.argmax(1)
    labels[~valid | (safe.max(1) < min_confidence)] = -1
    labels[np.isin(labels, list(hide))] = -1
    return labels


def segments_from_probs(
    probs: np.ndarray,
    fps: float,
    class_names: Sequence[str],
    *,
    min_confidence: float = 0.0,
    min_duration_s: float = 0.0,
    hide: Sequence[int] = (),
) -> list[Segment]:
    """Labelled segments of (T, K) per-frame probabilities.

    Args:
        probs: (T, K) probabilities; NaN rows are unlabelled frames.
        fps: frame rate (segment times in seconds).
        class_names: K names.
        min_confidence: frames whose top probability is below this stay unlabelled.
        min_duration_s: shorter runs are dropped; same-label neighbours across them merge.
        hide: class indices never reported (e.g. a non-micro-gesture class); their frames
            stay unlabelled.

    Returns:
        Segments in time order.
    """
    labels = frame_labels(probs, min_confidence=min_confidence, hide=hide)
    min_len = round(min_duration_s * fps)
    runs = [r for r in _runs(labels) if r[0] >= 0 and r[2] - r[1] >= max(min_len, 1)]
    merged: list[list[int]] = []
    for label, start, end in runs:
        if merged and merged[-1][0] == label and start - merged[-1][2] <= max(min_len, 1):
            merged[-1][2] = end  # only a dropped short run (or nothing) lay between them
        else:
            merged.append([label, start, end])
    return [
        Segment(
            start=round(start / fps, 3),
            end=round(end / fps, 3),
            start_frame=start,
            end_frame=end,
            label=str(class_names[label]),
            label_id=label,
            confidence=round(float(np.nanmean(probs[start:end, label])), 4),
        )
        for label, start, end in merged
    ]


@dataclass(frozen=True)
class Peak:
    """The most confident frame: where a segment would appear first as the threshold drops."""

    time_s: float
    frame: int
    label: str
    label_id: int
    confidence: float


def peak_confidence(
    probs: np.ndarray, fps: float, class_names: Sequence[str], *, hide: Sequence[int] = ()
) -> Peak | None:
    """The frame of (T, K) probabilities whose top class (not hidden) is most probable; None
    where no frame has evidence or every frame's top class is hidden."""
    labels = frame_labels(probs, hide=hide)
    frames = np.flatnonzero(labels >= 0)
    if frames.size == 0:
        return None
    t = int(frames[np.argmax(probs[frames, labels[frames]])])
    k = int(labels[t])
    return Peak(round(t / fps, 3), t, str(class_names[k]), k, round(float(probs[t, k]), 4))


def why_no_segments(
    probs: np.ndarray,
    fps: float,
    class_names: Sequence[str],
    *,
    min_confidence: float,
    min_duration_s: float,
    hide: Sequence[int] = (),
) -> str:
    """Why :func:`segments_from_probs` with these settings finds no segment, in one sentence
    that names the setting to change."""
    if not np.isfinite(probs).all(1).any():
        return (
            "no window was classified: none shows a person in enough of its frames (--min-person)"
        )
    peak = peak_confidence(probs, fps, class_names, hide=hide)
    if peak is None:
        return "every classified frame's most likely class is a hidden one (--hide)"
    if probs[peak.frame, peak.label_id] < min_confidence:  # not the rounded peak.confidence
        lower = math.floor(100 * peak.confidence) / 100
        return (
            f"no frame reaches --min-confidence {min_confidence:g}: the highest confidence is "
            f"{peak.confidence:.3f} ({peak.label!r} at {peak.time_s:.2f} s); lower "
            f"--min-confidence (e.g. {lower:g}) to see what the model sees"
        )
    labels = frame_labels(probs, min_confidence=min_confidence, hide=hide)
    longest = max(end - start for label, start, end in _runs(labels) if label >= 0)
    return (
        f"frames above --min-confidence {min_confidence:g} (highest {peak.confidence:.3f}, "
        f"{peak.label!r} at {peak.time_s:.2f} s) last at most {longest / fps:.2f} s, shorter "
        f"than --min-duration {min_duration_s:g} s; lower --min-duration"
    )


def segment_iou(a: Segment, b: Segment) -> float:
    """Temporal intersection over union of two segments (in frames)."""
    inter = max(0, min(a.end_frame, b.end_frame) - max(a.start_frame, b.start_frame))
    union = (a.end_frame - a.start_frame) + (b.end_frame - b.start_frame) - inter
    return inter / union if union > 0 else 0.0


def match_segments(truth: Sequence[Segment], predicted: Sequence[Segment]) -> list[float]:
    """For each true segment, the best temporal IoU of a predicted segment with its label."""
    return [
        max((segment_iou(t, p) for p in predicted if p.label_id == t.label_id), default=0.0)
        for t in truth
    ]


# ---------------------------------------------------------------------------------------------
# Files


CSV_FIELDS = ("start", "end", "label", "confidence", "label_id", "start_frame", "end_frame")


def with_class_ids(
    segments: Sequence[Segment], class_names: Sequence[str], *, source: str
) -> list[Segment]:
    """``segments`` (a truth file's) with the class index :func:`match_segments` compares:
    their ``label_id`` where given, else the index of their ``label`` among ``class_names``.

    Raises:
        ValueError: naming ``source`` and the segment, for a label that is no class (without a
            ``label_id``) or a ``label_id`` out of range: it would score 0 whatever was predicted.
    """
    names = list(class_names)
    out = []
    for i, s in enumerate(segments):
        k = s.label_id if s.label_id >= 0 else names.index(s.label) if s.label in names else -1
        if not 0 <= k < len(names):
            shown = ", ".join(repr(n) for n in names[:8]) + (" ..." if len(names) > 8 else "")
            got = f"label_id {s.label_id}" if s.label_id >= 0 else f"label {s.label!r}"
            raise ValueError(f"{source}: segment {i}: {got} is no class of the model "
                             f"({len(names)} classes: {shown})")  # fmt: skip
        out.append(replace(s, label_id=k))
    return out


def write_segments(path: str | Path, segments: Sequence[Segment]) -> Path:
    """Write segments as CSV (``CSV_FIELDS`` columns), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for s in segments:
        writer.writerow({k: getattr(s, k) for k in CSV_FIELDS})
    return atomic_write_text(path, buf.getvalue())


# The files :func:`write_timeline` writes into its folder.
TIMELINE_FILES = ("timeline.json", "timeline.csv")


def write_timeline(
    out_dir: str | Path, segments: Sequence[Segment], info: dict[str, Any]
) -> tuple[Path, Path]:
    """Write ``timeline.json`` (``info`` + segments) and ``timeline.csv`` atomically."""
    json_path, csv_path = (Path(out_dir) / name for name in TIMELINE_FILES)
    doc = {**info, "segments": [asdict(s) for s in segments]}
    atomic_write_text(json_path, json.dumps(doc, indent=2) + "\n")
    return json_path, write_segments(csv_path, segments)


def read_segments(path: str | Path, fps: float | None = None) -> list[Segment]:
    """Segments of a ``timeline.csv`` / ``timeline.json`` (ours, or a ground-truth file).

    A CSV needs ``start``, ``end`` (seconds) and ``label`` columns; ``label_id``,
    ``start_frame``, ``end_frame`` and ``confidence`` are optional (frames are derived from
    ``fps``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: segment file not found")
    if path.suffix == ".json":
        doc = read_json(path, what="segment file")
        if not isinstance(doc, dict) or not isinstance(doc.get("segments"), list):
            raise ValueError(f"{path}: expected a JSON object with a 'segments' list")
        rows, fps = doc["segments"], fps or doc.get("fps")
    else:  # binary content: one error naming the file, not a codec's
        text = read_text(path, what="segment file")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))

    def opt(row: dict, key: str, default: Any) -> Any:
        value = row.get(key)
        return default if value is None or value == "" else value

    out = []
    for i, row in enumerate(rows):
        try:
            start, end = float(row["start"]), float(row["end"])
            if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
                raise ValueError(f"start {start:g} and end {end:g} are not seconds with "
                                 "0 <= start < end")  # fmt: skip
            sf, ef = opt(row, "start_frame", None), opt(row, "end_frame", None)
            if sf is None or ef is None:
                if not fps:
                    raise ValueError("no start_frame/end_frame and no frame rate given")
                sf, ef = round(start * fps), round(end * fps)
            out.append(
                Segment(
                    start=start,
                    end=end,
                    start_frame=int(sf),
                    end_frame=int(ef),
                    label=str(row["label"]),
                    label_id=int(opt(row, "label_id", -1)),
                    confidence=float(opt(row, "confidence", 1.0)),
                )
            )
        except KeyError as err:
            raise ValueError(
                f"{path}: segment {i}: no {err.args[0]!r} (a segment has start, end and label)"
            ) from None
        except (ValueError, TypeError, AttributeError) as err:
            raise ValueError(f"{path}: segment {i}: {err}") from None
    return out
