"""Raw video -> skeleton record with MediaPipe 0.10.21's bundled models (no download).

``coco17`` runs BlazePose (``solutions.pose.Pose``, model_complexity=1, the only complexity
whose model ships in the wheel); ``imigue22`` / ``imigue36`` run ``solutions.holistic``,
which adds both hands (cropped around the pose's wrists, hence already assigned to the body's
left and right) and the face mesh, in one pass. Both run in video mode: the person found by
the detector is then *tracked* from frame to frame (its landmarks set the next frame's region
of interest), with MediaPipe's landmark smoothing. :class:`SubjectGate` drops detections that
jump to a smaller person. The mapping to layouts is in :mod:`mgproto.infer.landmarks`.

Which person (:mod:`mgproto.infer.person`): by default MediaPipe's own choice, the person its
detector finds when it (re)detects, followed by its tracker; a jump of the person's box to a place
that does not overlap the last one is noted as a switch (``meta['switch_frames']``). With
``person`` the subject is chosen in the first frame that has people (MediaPipe finds one person
per pass, so each one found is blanked out and the frame searched again); after that the model
sees only a region around the subject's last box, and a detection that does not overlap that box
is rejected.

MediaPipe is imported inside :func:`load_mediapipe` only; importing mgproto never loads it.

Axis legend: M persons (1), T frames, V joints, H/W rows/columns.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from mgproto.data.annotations import AnnotationFile, validate_record
from mgproto.data.video import VideoError, iter_frames, open_video
from mgproto.infer.landmarks import (
    SUPPORTED_LAYOUTS,
    FrameLandmarks,
    SubjectGate,
    assign_hands,
    body_centre_and_size,
    stack_landmarks,
    to_layout,
)
from mgproto.infer.person import (
    REGION_MARGIN,
    SWITCH_IOU,
    Person,
    PersonTracker,
    blank_region,
    choose_person,
    expand_box,
    format_box,
    keep_region,
    person_box,
)

MEDIAPIPE_VERSION = "0.10.21"
_INSTALL_HINT = (
    f'pose extraction needs MediaPipe {MEDIAPIPE_VERSION}: pip install -e ".[pose]" in the '
    "clone (it needs Python < 3.13 and numpy < 2; newer MediaPipe releases ship no models)"
)


class PoseBackendError(RuntimeError):
    """MediaPipe is missing or is a release without the bundled ``solutions`` models."""


def load_mediapipe() -> Any:
    """Import ``mediapipe.solutions``; raise :class:`PoseBackendError` saying how to install it."""
    try:
        import mediapipe
        from mediapipe.python import solutions
    except ImportError as err:
        raise PoseBackendError(f"{_INSTALL_HINT} ({err})") from None
    if not hasattr(solutions, "holistic"):
        found = getattr(mediapipe, "__version__", "?")
        raise PoseBackendError(f"{_INSTALL_HINT}; found mediapipe {found}")
    return solutions


def frame_window(
    fps: float, *, start: float = 0.0, end: float | None = None, max_frames: int | None = None
) -> range:
    """Frame numbers whose time ``number / fps`` lies in [start, end), at most ``max_frames``."""
    first = math.ceil(start * fps - 1e-6)
    stop = sys.maxsize if end is None else max(first, math.ceil(end * fps - 1e-6))
    if max_frames is not None:
        stop = min(stop, first + max_frames)
    return range(first, stop)


def _video_facts(path: str | Path) -> tuple[float, int]:
    """(fps, frame count the container claims, 0 if unknown)."""
    with open_video(path) as container:
        stream = container.streams.video[0]
        return float(stream.average_rate or stream.guessed_rate or 25), int(stream.frames or 0)


def _as_array(landmarks: Any, *, visibility: bool = False) -> np.ndarray | None:
    """A MediaPipe NormalizedLandmarkList -> (N, 2) or (N, 3) float32 array (None if absent)."""
    if landmarks is None:
        return None
    if visibility:
        return np.array([(p.x, p.y, p.visibility) for p in landmarks.landmark], np.float32)
    return np.array([(p.x, p.y) for p in landmarks.landmark], np.float32)


class MediaPipePose:
    """One MediaPipe graph in video mode; use one instance per video (it tracks the person).

    Args:
        layout: target layout; ``coco17`` runs Pose, the iMiGUE layouts run Holistic.
        min_detection_confidence: MediaPipe's person-detector threshold.
        min_tracking_confidence: below this MediaPipe drops the track and re-detects.
    """

    def __init__(
        self,
        *,
        layout: str = "imigue22",
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        if layout not in SUPPORTED_LAYOUTS:
            raise KeyError(f"unknown layout {layout!r}; extract-pose supports {SUPPORTED_LAYOUTS}")
        solutions = load_mediapipe()
        self._solutions, self._min_detection = solutions, min_detection_confidence
        self._finder: Any = None  # a static-image Pose graph, built by find_people
        self.version = str(getattr(sys.modules["mediapipe"], "__version__", "?"))
        self.holistic = layout != "coco17"
        kwargs = {
            "static_image_mode": False,
            "model_complexity": 1,  # 0 and 2 are not in the 0.10.21 wheel
            "smooth_landmarks": True,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
        }
        module = solutions.holistic.Holistic if self.holistic else solutions.pose.Pose
        self._graph = module(**kwargs)

    def process(self, frame: np.ndarray) -> FrameLandmarks:
        """Landmarks of one (H, W, 3) uint8 RGB frame (the next one of the video)."""
        result = self._graph.process(np.ascontiguousarray(frame))
        pose = _as_array(result.pose_landmarks, visibility=True)
        if pose is None or not self.holistic:
            return FrameLandmarks(pose=pose)
        left, right = assign_hands(
            _as_array(result.left_hand_landmarks),
            _as_array(result.right_hand_landmarks),
            pose[15, :2],  # BlazePose LEFT_WRIST
            pose[16, :2],  # RIGHT_WRIST
        )
        return FrameLandmarks(
            pose=pose, left_hand=left, right_hand=right, face=_as_array(result.face_landmarks)
        )

    def find_people(self, frame: np.ndarray, *, max_people: int = 6) -> list[np.ndarray]:
        """Boxes (x0, y0, x1, y1) of up to ``max_people`` people in one (H, W, 3) frame.

        MediaPipe's Pose finds one person per call, so each person found is blanked out and the
        frame searched again, in static-image mode (no tracking; the video graph is untouched).
        """
        if self._finder is None:
            self._finder = self._solutions.pose.Pose(
                static_image_mode=True,
                model_complexity=1,
                min_detection_confidence=self._min_detection,
            )
        shape = (frame.shape[0], frame.shape[1])
        scale = np.array([shape[1], shape[0]], np.float32)
        image, boxes = np.ascontiguousarray(frame), []
        for _ in range(max_people):
            pose = _as_array(self._finder.process(image).pose_landmarks)
            box = None if pose is None else person_box(pose * scale, shape)
            if box is None:
                break
            boxes.append(box)
            image = blank_region(image, expand_box(box, 0.1, shape))
        return boxes

    def close(self) -> None:
        self._graph.close()
        if self._finder is not None:
            self._finder.close()

    def __enter__(self) -> MediaPipePose:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _person_text(person: Person) -> str:
    return person if isinstance(person, str) else ",".join(f"{v:g}" for v in person)


def _choose_subject(
    model: MediaPipePose, frame: np.ndarray, person: Person, *, where: str
) -> np.ndarray | None:
    """Box of the subject in ``frame`` (None if it has nobody); raises if a box overlaps nobody."""
    boxes = model.find_people(frame)
    k = choose_person(boxes, person, img_shape=(frame.shape[0], frame.shape[1]))
    if boxes and k is None:
        found = "; ".join(format_box(b) for b in boxes)
        raise ValueError(
            f"{where}: no person overlaps the person box {_person_text(person)} "
            f"(people found there, as x,y,w,h: {found})"
        )
    return None if k is None else boxes[k]


def extract_pose(
    video: str | Path,
    *,
    layout: str = "imigue22",
    max_frames: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    min_score: float = 0.05,
    gate: SubjectGate | None = None,
    person: Person | None = None,
    switch_iou: float = SWITCH_IOU,
    progress: bool = False,
) -> AnnotationFile:
    """Run MediaPipe over a video and return one unlabelled record for it (nothing is written).

    Args:
        video: video file.
        layout: ``coco17``, ``imigue22`` or ``imigue36``.
        max_frames: stop after this many frames.
        start, end: time window in seconds.
        min_score: joints scoring below this are stored as missing ((0, 0), score 0).
        gate: main-subject safeguard; default ``SubjectGate()``.
        person: None (default): MediaPipe's choice, followed by its tracker. ``"largest"``,
            ``"center"`` or an (x, y, w, h) pixel box: the subject chosen by
            :func:`~mgproto.infer.person.choose_person` in the first frame with people, then
            followed by box overlap.
        switch_iou: a box overlapping the last one less than this is another person.
        progress: show a tqdm bar on stderr.

    Returns:
        An AnnotationFile with one record (``frame_dir`` = video stem, ``label`` -1, ``keypoint``
        (1, T, V, 2), ``keypoint_score`` (1, T, V), ``fps``, ``layout``, ``start_frame``,
        ``end_frame``) and ``meta`` with the layout, source video, extractor and
        ``frames_with_person`` / ``frames_rejected`` counts, ``person`` (the rule, or
        ``mediapipe``), ``person_switches`` and ``switch_frames`` (video frame numbers where the
        tracked person changed; default rule only) and, with ``person``, ``person_frame`` and
        ``person_box`` (x, y, w, h) where the subject was chosen.

    Raises:
        VideoError: missing, empty or corrupt video, or no frame in the window.
        ValueError: ``person`` is a box that overlaps nobody in the first frame with people.
        PoseBackendError: MediaPipe is not installed.
    """
    path = Path(video)
    fps, claimed = _video_facts(path)
    gate = gate if gate is not None else SubjectGate()
    tracker = PersonTracker(min_iou=switch_iou, follow=person is not None)
    chosen: tuple[int, np.ndarray] | None = None
    window = frame_window(fps, start=start, end=end, max_frames=max_frames)
    total = max(0, min(claimed, window.stop) - window.start) if claimed else None
    keypoints, scores, indices = [], [], []
    rejected = 0
    shape: tuple[int, int] | None = None
    t0 = time.perf_counter()
    with (
        MediaPipePose(layout=layout) as model,
        tqdm(total=total, disable=not progress, unit="frame", desc=path.name) as bar,
    ):
        version = model.version
        for index, frame in iter_frames(path, select=window):  # yields window frames only
            shape = (frame.shape[0], frame.shape[1])
            if person is not None and chosen is None:
                box = _choose_subject(model, frame, person, where=f"{path}: frame {index}")
                chosen = None if box is None else (index, box)
                tracker.box = box
            if person is None:
                found = model.process(frame)
            elif chosen is None:  # nobody yet: no subject to follow
                found = FrameLandmarks()
            else:  # the model sees only the region around the subject's last box
                found = model.process(
                    keep_region(frame, expand_box(tracker.box, REGION_MARGIN, shape))
                )
            xy, sc = stack_landmarks(found, img_shape=shape)
            body = body_centre_and_size(xy, sc)
            box = None if found.pose is None else person_box(xy[:33], shape)
            diagonal = float(np.hypot(*shape))
            if body is not None and not gate.accept(index, body[0], body[1], diagonal=diagonal):
                sc = np.zeros_like(sc)  # a different person: this frame has no main subject
                rejected += 1
            elif box is not None and not tracker.update(index, box):
                sc = np.zeros_like(sc)  # does not overlap the followed subject
                rejected += 1
            kp, ks = to_layout(xy, sc, layout=layout, img_shape=shape, min_score=min_score)
            keypoints.append(kp)
            scores.append(ks)
            indices.append(index)
            bar.update()
            if index == window.stop - 1:
                break  # the window's last frame: decode no further
    if shape is None:
        until = "the end" if end is None else f"{end:g} s"
        raise VideoError(f"{path}: no frames decoded between {start:g} s and {until}")
    keypoint = np.stack(keypoints)[None]  # (1, T, V, 2)
    keypoint_score = np.stack(scores)[None]  # (1, T, V)
    with_person = int((keypoint_score[0] > 0).any(axis=-1).sum())
    record = {
        "frame_dir": path.stem,
        "label": -1,
        "img_shape": shape,
        "original_shape": shape,
        "total_frames": len(indices),
        "keypoint": keypoint,
        "keypoint_score": keypoint_score,
        "layout": layout,
        "fps": fps,
        "start_frame": indices[0],
        "end_frame": indices[-1],
    }
    graph = "Holistic (pose + hands + face mesh)" if layout != "coco17" else "Pose"
    meta = {
        "layout": layout,
        "dataset": "extracted",
        "source_video": str(path),
        "fps": fps,
        "extractor": f"mediapipe {version} {graph}, model_complexity=1",
        "frames_with_person": with_person,
        "frames_rejected": rejected,
        "person": "mediapipe" if person is None else _person_text(person),
        "person_switches": len(tracker.switches),
        "switch_frames": list(tracker.switches),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if chosen is not None:
        meta["person_frame"] = chosen[0]
        meta["person_box"] = [int(v) for v in format_box(chosen[1]).split(",")]
    return AnnotationFile([validate_record(record, source=str(path))], {}, meta)
