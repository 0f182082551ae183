"""Classify a long video window by window: the engine behind ``mgproto predict``.

The video is cut into sliding windows (``timeline.make_windows``); each window becomes a record
of the project's interchange format (keypoints of its frames, ``start_frame`` into the video)
and goes through the checkpoint's own *test* pipeline, so a window is prepared exactly like a
test clip of the dataset the model was trained on. RGB frames come from one front-to-back pass
over the video (:class:`StreamingFrames`), which decodes each frame once, converts only the
frames some window samples, scales them down while converting, and forgets them once no later
window can ask for them. Windows in which the person is absent are not classified.

Axis legend: W windows, T frames, K classes, V joints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mgproto.build import next_frames
from mgproto.config import ExperimentConfig
from mgproto.data.annotations import load_annotations, save_annotations
from mgproto.data.dataset import INPUT_KEYS, ClipDataset, collate
from mgproto.data.loader import batch_to_device
from mgproto.data.pipelines import build_pipeline
from mgproto.data.transforms import SampleFrames
from mgproto.data.video import VideoError, iter_frames
from mgproto.infer.options import PredictOptions
from mgproto.infer.timeline import (
    Peak,
    Segment,
    frame_probs,
    make_windows,
    peak_confidence,
    segments_from_probs,
    smooth_probs,
    why_no_segments,
)
from mgproto.models.recognizer import Recognizer


@dataclass
class VideoPrediction:
    """Everything ``predict_video`` found.

    Attributes:
        windows: (W, 2) [start, end) frames.
        window_probs: stream (``rgb`` / ``pose`` / ``fused``) -> (W, K); NaN rows = windows
            not classified (no person).
        probs: (T, K) smoothed per-frame probabilities (NaN = no evidence).
        segments: the timeline.
        person: (T,) bool, frames where a person was detected.
        peak: the most confident frame of ``probs`` (hidden classes left out); None without
            evidence.
        no_segments_reason: why ``segments`` is empty ("" when it is not).
        seconds: wall time of the stages.
    """

    video: str
    fps: float
    num_frames: int
    img_shape: tuple[int, int]
    class_names: list[str]
    windows: np.ndarray
    window_probs: dict[str, np.ndarray]
    probs: np.ndarray
    segments: list[Segment]
    person: np.ndarray
    peak: Peak | None = None
    no_segments_reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """JSON-ready summary (what ``timeline.json`` holds besides the segments)."""
        classified = np.isfinite(self.window_probs["fused"]).all(1)
        return {
            "video": self.video,
            "fps": self.fps,
            "num_frames": self.num_frames,
            "duration_s": round(self.num_frames / self.fps, 3),
            "img_shape": list(self.img_shape),
            "classes": self.class_names,
            "num_windows": len(self.windows),
            "num_windows_classified": int(classified.sum()),
            "person_share": round(float(self.person.mean()) if self.person.size else 0.0, 4),
            "peak": asdict(self.peak) if self.peak else None,
            **({"no_segments_reason": self.no_segments_reason} if not self.segments else {}),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def video_pose(
    video: str | Path,
    *,
    layout: str,
    pose: str | Path | None = None,
    num_frames: int = 0,
    save_to: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """The whole video's pose record, read from ``pose`` or extracted now.

    Args:
        video: the video the pose is of.
        layout: the model's keypoint layout.
        pose: a skeleton file of one record (``mgproto extract-pose``): in ``layout``, from the
            video's first frame; None extracts the pose with MediaPipe (the ``pose`` extra).
        num_frames: the video's frame count, to catch the pose of another video (0: no check).
        save_to: where an extracted pose is saved (never over an existing file unless
            ``force``); None keeps it in memory.
        progress: show the extraction's progress bar.

    Raises:
        ValueError: naming the file, for a pose that does not fit the video or the model.
    """
    source = pose or video
    if pose:
        ann = load_annotations(pose)
        if len(ann.annotations) != 1:
            raise ValueError(
                f"{pose}: expected one record for the whole video, found {len(ann.annotations)}"
            )
        have = ann.meta.get("layout")
        if have and have != layout:
            raise ValueError(f"{pose}: layout {have!r}, but the checkpoint expects {layout!r}")
        record = ann.annotations[0]
        if int(record.get("start_frame", 0)):
            raise ValueError(f"{pose}: the pose must start at the video's first frame")
    else:
        from mgproto.infer.pose import extract_pose

        if save_to is not None and save_to.exists() and not force:
            raise ValueError(
                f"{save_to}: already exists; reuse it with --pose, or pass --force to extract "
                "the pose again"
            )
        ann = extract_pose(video, layout=layout, progress=progress)
        if save_to is not None:
            save_annotations(ann, save_to)
        record = ann.annotations[0]
    if num_frames and abs(int(record["total_frames"]) - num_frames) > 1:
        raise ValueError(
            f"{source}: the pose has {record['total_frames']} frames but the video {video} has "
            f"{num_frames}; is it the pose of another video?"
        )
    if record["keypoint_score"].shape[2] != record["keypoint"].shape[2]:
        raise ValueError(f"{source}: keypoint and keypoint_score disagree on joints")
    return record


def person_frames(record: dict, *, min_score: float = 0.3, min_share: float = 0.3) -> np.ndarray:
    """(T,) bool: frames where at least ``min_share`` of the joints score ``min_score``."""
    score = record["keypoint_score"].max(0)  # (T, V) the best person
    return (score >= min_score).mean(1) >= min_share


def window_records(record: dict, windows: np.ndarray, video: str | Path) -> list[dict]:
    """One interchange record per window of a whole-video pose record (label -1)."""
    name = record.get("frame_dir", Path(video).stem)
    return [
        {
            "frame_dir": f"{name}@{start}",
            "label": -1,
            "keypoint": record["keypoint"][:, start:end],
            "keypoint_score": record["keypoint_score"][:, start:end],
            "total_frames": int(end - start),
            "img_shape": tuple(record["img_shape"]),
            "filename": str(Path(video).resolve()),
            "start_frame": int(start),
        }
        for start, end in windows
    ]


class StreamingFrames:
    """A frame reader over one video for windows that arrive in time order.

    Called like :func:`~mgproto.data.video.read_frames`; decodes forward as far as a request
    needs and keeps only the ``needed`` frames, scaled to ``size``.
    """

    def __init__(self, path: str | Path, needed: set[int], *, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.needed = needed
        self.frames: dict[int, np.ndarray] = {}
        self._frames = iter_frames(path, size=size, select=needed)
        self._last = -1  # the highest frame number decoded so far

    def __call__(self, path: str | Path, indices: np.ndarray, *, start_frame: int = 0):
        wanted = np.asarray(indices).reshape(-1) + start_frame
        top = int(wanted.max())
        while self._last < top:
            try:
                number, image = next(self._frames)
            except StopIteration:
                raise VideoError(
                    f"{self.path}: the video ends before frame {top} (the pose has more frames)"
                ) from None
            self.frames[number] = image
            self._last = number
        return np.stack([self.frames[int(i)] for i in wanted])

    def release_before(self, frame: int) -> None:
        """Forget frames earlier than ``frame`` (no later window needs them)."""
        for number in [n for n in self.frames if n < frame]:
            del self.frames[number]


def _decode_size(img_shape: Sequence[int], short_side: int) -> tuple[int, int]:
    h, w = img_shape
    scale = min(1.0, short_side / min(h, w))
    return (max(2, round(h * scale)), max(2, round(w * scale)))


@torch.no_grad()
def classify_windows(
    model: Recognizer,
    cfg: ExperimentConfig,
    record: dict,
    video: str | Path,
    windows: np.ndarray,
    *,
    options: PredictOptions,
    active: np.ndarray,
    device: torch.device,
    progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Stream -> (W, K) probabilities of the ``active`` windows (other rows NaN)."""
    records = window_records(record, windows, video)
    data = cfg.data
    reader = None
    if "rgb" in data.modalities:
        steps = build_pipeline(data, train=False, num_clips=options.num_clips).transforms
        sampler = next(s for s in steps if isinstance(s, SampleFrames))  # after track steps
        needed: set[int] = set()
        for rec, on in zip(records, active):
            if on:
                inds = sampler({"total_frames": rec["total_frames"]}, None)["rgb_inds"]
                needed.update((inds.reshape(-1) + rec["start_frame"]).tolist())
        short = options.decode_short_side or max(2 * data.rgb.test_size, 128)
        reader = StreamingFrames(video, needed, size=_decode_size(record["img_shape"], short))
    extra = {"frame_reader": reader} if reader is not None else {}
    extra["next_frames"] = next_frames(cfg)  # the motion streams' input
    pipeline = build_pipeline(data, train=False, num_clips=options.num_clips, **extra)
    dataset = ClipDataset(records, pipeline, long_videos=True)
    num_classes = data.num_classes
    out = {s: np.full((len(windows), num_classes), np.nan) for s in (*model.streams, "fused")}
    order = np.flatnonzero(active)
    model.eval()
    for first in range(0, len(order), options.batch_size):
        chunk = order[first : first + options.batch_size]
        batch = collate([dataset[int(i)] for i in chunk])
        moved = batch_to_device(batch, device)
        inputs = {k: moved[k] for k in INPUT_KEYS if k in moved}
        result = model(**inputs)
        for stream, probs in result.probs.items():
            out[stream][chunk] = probs.float().cpu().numpy()
        out["fused"][chunk] = result.scores.float().cpu().numpy()
        if not np.isfinite(out["fused"][chunk]).all():  # NaN rows mean "not classified" here
            start = int(windows[chunk[0], 0])
            raise ValueError(
                f"{video}: the model gave non-finite scores for the window at frame {start}; "
                "its checkpoint or this input is broken"
            )
        if reader is not None and first + options.batch_size < len(order):
            reader.release_before(int(windows[order[first + options.batch_size], 0]))
        if progress is not None:
            progress(len(chunk))
    return out


def predict_video(
    model: Recognizer,
    cfg: ExperimentConfig,
    record: dict,
    video: str | Path,
    *,
    fps: float,
    class_names: Sequence[str],
    options: PredictOptions | None = None,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> VideoPrediction:
    """Windows -> probabilities -> smoothed per-frame probabilities -> segments.

    Args:
        model: a trained recognizer (any modality set).
        cfg: its experiment config (the test pipeline is built from ``cfg.data``).
        record: the whole video's pose record (keypoint (M, T, V, 2), keypoint_score
            (M, T, V), img_shape), extracted or given; its layout must be the model's.
        video: the video file (read only for RGB models).
        fps: frame rate of the video.
        class_names: K names.
        options: windows, smoothing and segment settings.
        progress: called with the number of windows finished after each batch.
    """
    options = options or PredictOptions()
    unknown = [h for h in options.hide if h not in class_names]
    if unknown:
        raise ValueError(f"--hide: unknown class {unknown[0]!r}; classes: {', '.join(class_names)}")
    device = torch.device(device)
    num_frames = int(record["total_frames"])
    windows = make_windows(num_frames, fps, length_s=options.window_s, stride_s=options.stride_s)
    person = person_frames(record)
    share = np.array([person[s:e].mean() for s, e in windows])
    active = share >= options.min_person_share if options.min_person_share > 0 else share >= 0
    start = time.perf_counter()
    window_probs = classify_windows(
        model,
        cfg,
        record,
        video,
        windows,
        options=options,
        active=active,
        device=device,
        progress=progress,
    )
    seconds = {"classify": time.perf_counter() - start}
    probs = smooth_probs(
        frame_probs(window_probs["fused"], windows, num_frames),
        max(1, round(options.smooth_s * fps)),
    )
    hide = [list(class_names).index(h) for h in options.hide]
    thresholds = {
        "min_confidence": options.min_confidence,
        "min_duration_s": options.min_duration_s,
    }
    segments = segments_from_probs(probs, fps, class_names, hide=hide, **thresholds)
    reason = "" if segments else why_no_segments(probs, fps, class_names, hide=hide, **thresholds)
    return VideoPrediction(
        video=str(video),
        fps=fps,
        num_frames=num_frames,
        img_shape=tuple(int(x) for x in record["img_shape"]),
        class_names=list(class_names),
        windows=windows,
        window_probs=window_probs,
        probs=probs,
        segments=segments,
        person=person,
        peak=peak_confidence(probs, fps, class_names, hide=hide),
        no_segments_reason=reason,
        seconds=seconds,
    )
