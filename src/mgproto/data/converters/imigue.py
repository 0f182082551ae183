"""iMiGUE raw release: OpenPose 1.3 JSON files, one per frame, plus one label CSV.

Files:

* ``<root>/<video>/<prefix>_<frame:012d>_keypoints.json``: one folder per video, named by the
  video number with or without zero padding (``298`` or ``0298``; the trailing digits of the
  name are matched to the CSV's integer ``video_id``). The frame number is the 12 digits before
  ``_keypoints.json``; the prefix may be any string. Each file holds ``{"people": [person, ...]}``
  with ``pose_keypoints_2d`` (BODY_25, 25 x (x, y, confidence)), ``face_keypoints_2d`` (70 x 3),
  ``hand_left_keypoints_2d`` and ``hand_right_keypoints_2d`` (21 x 3 each), in pixels. A missing
  or empty list means those points were not detected (zeros). Together: layout ``openpose137``.
* The label CSV (one for the whole dataset) with header columns ``video_id, label_id,
  start_time, start_frame, end_time, end_frame, class, subject_id, ...``; ``start_frame`` and
  ``end_frame`` are taken to be the frame numbers of the JSON file names, end inclusive.

Rules:

* Clip ``<video:04d>_<k>``: k is the 0-based position of the row among that video's rows sorted
  by ``start_frame`` (a stable sort; in the real file this is the CSV order). Label =
  :func:`~mgproto.data.converters.common.imigue_label` (99 -> 31, else class - 1).
* Main subject: :func:`select_main_person` (nearest neck/shoulder centroid to the previous
  frame's choice; at the first frame with people or after a gap, the person with the largest
  sum of BODY_25 confidences). A frame with no person gets zeros with score 0.
* The sequence spans the first to the last frame file of the folder. A frame file missing in
  between gets score 0 and one report entry per video counts them. A frame number beyond
  ``MAX_FRAME``, or more missing files than present ones (plus ``MAX_GAP_FRAMES``), is an error
  naming the folder, raised before the span is allocated. A corrupt JSON file (not JSON, no
  ``people`` list, a keypoint list of the wrong length) raises ``CorruptFrameError`` naming the
  file, unless ``skip_corrupt`` is set: then the frame gets score 0 and the file gets a report
  entry.
* Label frames must be whole numbers >= 0: an empty or NaN one skips the clip (reported),
  anything else is an error naming the line.
* ``img_shape``: teams disagree (HFUT'23 assumed 1080 x 1920, MM-Gesture'25 720 x 1280;
  datasets-and-sota 1.3), so it is an option, default (720, 1280). fps 25.
* Splits (default): the MiGA track-1 split (datasets-and-sota 1.1, constants below): val = the
  ten ``VAL_VIDEOS``; test = videos whose subject is not in ``TRAIN_SUBJECTS``; train = the rest
  except ``EXCLUDED_VIDEOS``, whose clips are written but belong to no split. ``split_file``
  replaces this: a JSON object ``{"train": [video ids], "val": [...], ...}``.

Axis legend: M persons, P detected persons, T frames, V joints.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.common import (
    IMIGUE_CLASSES,
    imigue_label,
    parse_frame,
)
from mgproto.data.converters.openpose import (
    NUM_POINTS,
    CorruptFrameError,
    read_people,
    select_main_person,
    split_xyc,
)
from mgproto.data.layouts import select_layout
from mgproto.data.sequences import (
    MAX_FRAME,
    ClipRange,
    ConversionError,
    ConversionReport,
    Recording,
    build_file,
    check_frame_span,
    cut_clips,
)

FPS = 25.0
IMG_SHAPE = (720, 1280)
LAYOUTS = ("openpose137", "imigue22", "imigue36")
# Official cross-subject protocol, training subjects (linuxsino/iMiGUE "evaluation protocol.pdf",
# datasets-and-sota 1.1); the other 35 subjects form the test set.
TRAIN_SUBJECTS = frozenset({
    2, 4, 5, 6, 9, 10, 12, 13, 14, 15, 17, 18, 20, 21, 22, 23, 25, 28, 29, 30, 31, 35, 36, 38,
    39, 41, 42, 43, 44, 46, 47, 48, 52, 53, 59, 61, 62,
})  # fmt: skip
# MiGA track-1 validation videos (momiji-bit/MM-Gesture dataset/iMiGUE_val_clips_list.txt).
VAL_VIDEOS = frozenset({1, 2, 3, 4, 6, 7, 8, 9, 10, 11})
# Official training videos that MiGA leaves out of train (datasets-and-sota 1.1).
EXCLUDED_VIDEOS = frozenset({218, 319, 347, 348})
LABEL_COLUMNS = ("video_id", "start_frame", "end_frame", "class", "subject_id")
_FRAME = re.compile(r"_(\d{12})_keypoints\.json$")
_NO_PERSON = np.zeros((0, NUM_POINTS, 3), np.float32)


@dataclass
class VideoLabels:
    """The label rows of one video: its subject and its segments in clip order."""

    subject_id: str
    segments: list[ClipRange]


def read_label_csv(path: Path) -> dict[int, VideoLabels]:
    """Read the dataset label CSV into ``{video_id: VideoLabels}``."""
    try:
        rows = _read_label_rows(path)
    except (csv.Error, UnicodeDecodeError) as err:
        raise ConversionError(f"{path}: not a readable CSV file ({err})") from None
    out = {}
    for video, entries in rows.items():
        subjects = {e[4] for e in entries}
        if len(subjects) > 1:
            raise ConversionError(
                f"{path}: video {video} has several subject ids {sorted(subjects)}"
            )
        entries.sort(key=lambda e: e[0])  # stable: CSV order among equal starts
        segments = [
            ClipRange(f"{video:04d}_{k}", raw, start, end)
            for k, (_, raw, start, end, _) in enumerate(entries)
        ]
        out[video] = VideoLabels(subjects.pop(), segments)
    return out


_Row = tuple[float, str, int | None, int | None, str]  # sort key, class, start, end, subject


def _read_label_rows(path: Path) -> dict[int, list[_Row]]:
    """The rows of the label CSV by video, in file order."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConversionError(
                f"{path}: missing columns {missing}; needs {', '.join(LABEL_COLUMNS)}"
            )
        rows: dict[int, list[_Row]] = {}
        for line_no, row in enumerate(reader, 2):
            try:
                video, subject = int(row["video_id"]), str(int(row["subject_id"]))
            except (TypeError, ValueError):
                raise ConversionError(
                    f"{path}: line {line_no}: video_id and subject_id must be integers, got "
                    f"{row['video_id']!r}, {row['subject_id']!r}"
                ) from None
            where = f"{path}: line {line_no}"
            start = parse_frame(row["start_frame"], what="start_frame", where=where)
            end = parse_frame(row["end_frame"], what="end_frame", where=where)
            key = float("inf") if start is None else float(start)
            rows.setdefault(video, []).append((key, row["class"], start, end, subject))
    return rows


def frame_files(folder: Path) -> dict[int, Path]:
    """``{frame number: path}`` of the ``*_<12 digits>_keypoints.json`` files in ``folder``."""
    out: dict[int, Path] = {}
    for path in folder.iterdir():
        match = _FRAME.search(path.name)
        if match is None:
            continue
        frame = int(match.group(1))
        if frame > MAX_FRAME:
            raise ConversionError(
                f"{path}: frame number {frame} is beyond the largest supported ({MAX_FRAME})"
            )
        if frame in out:
            raise ConversionError(
                f"{folder}: frame {frame} is in {out[frame].name} and {path.name}"
            )
        out[frame] = path
    return out


def read_video(
    folder: Path,
    *,
    video_id: int,
    subject_id: str | None,
    layout: str,
    img_shape: tuple[int, int],
    report: ConversionReport,
    skip_corrupt: bool = False,
    num_clips: int = 0,
) -> Recording | None:
    """Read one video folder into a Recording (M=1, V of ``layout``); None if it has no frames
    (reported as a skipped video costing its ``num_clips`` labelled clips)."""
    files = frame_files(folder)
    if not files:
        report.skip(str(folder), "no *_<frame>_keypoints.json files", kind="no frame files",
                    unit="video", clips=num_clips)  # fmt: skip
        return None
    check_frame_span(min(files), max(files), len(files), source=str(folder))
    frame_ids = np.arange(min(files), max(files) + 1)
    people, missing = [], []
    for frame in frame_ids.tolist():
        path = files.get(frame)
        if path is None:
            missing.append(frame)
            people.append(_NO_PERSON)
            continue
        try:
            people.append(read_people(path))
        except CorruptFrameError as err:
            if not skip_corrupt:
                raise
            report.skip(
                str(path),
                f"corrupt frame file, frame kept with score 0: {err}",
                kind="corrupt frame file, kept with score 0",
                unit="frame file",
            )
            people.append(_NO_PERSON)
    if missing:
        report.skip(
            str(folder),
            f"{len(missing)} missing frame files (first: frame {missing[0]}); "
            "those frames get score 0",
            kind="missing frame files, those frames get score 0",
            unit="video",
        )
    chosen = select_main_person(people)
    full = np.zeros((len(frame_ids), NUM_POINTS, 3), np.float32)
    for t, idx in enumerate(chosen.tolist()):
        if idx >= 0:
            full[t] = people[t][idx]
    kp, score = split_xyc(full[None])
    kp, score = select_layout(kp, score, "openpose137", layout)
    return Recording(
        video_id=f"{video_id:04d}",
        keypoint=kp,
        keypoint_score=score,
        img_shape=img_shape,
        layout=layout,
        frame_ids=frame_ids,
        subject_id=subject_id,
        fps=FPS,
        source=str(folder),
    )


def video_folders(root: Path) -> dict[int, Path]:
    """``{video id: folder}`` for the sub-folders of ``root`` whose names end in digits."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: skeleton folder not found")
    out: dict[int, Path] = {}
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        match = re.search(r"(\d+)$", path.name)
        if match is None:
            continue
        video = int(match.group(1))
        if video in out:
            raise ConversionError(
                f"{root}: {out[video].name} and {path.name} are both video {video}"
            )
        out[video] = path
    return out


def miga_split(video_id: int, subject_id: int) -> str | None:
    """The MiGA track-1 split of a video: ``val``, ``test``, ``train`` or None (left out)."""
    if video_id in VAL_VIDEOS:
        return "val"
    if subject_id not in TRAIN_SUBJECTS:
        return "test"
    return None if video_id in EXCLUDED_VIDEOS else "train"


def read_split_file(path: Path) -> dict[int, str]:
    """``{video id: split}`` from a JSON object ``{split name: [video ids]}``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ConversionError(f"{path}: not a readable JSON split file ({err})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, list) for v in doc.values()):
        raise ConversionError(f"{path}: expected a JSON object {{split name: [video ids]}}")
    out: dict[int, str] = {}
    for name, videos in doc.items():
        for video in videos:
            if isinstance(video, bool) or not isinstance(video, int | str):
                raise ConversionError(f"{path}: split {name!r}: {video!r} is not a video id")
            try:
                vid = int(video)
            except ValueError:
                raise ConversionError(
                    f"{path}: split {name!r}: {video!r} is not a video id"
                ) from None
            if vid in out:
                raise ConversionError(f"{path}: video {vid} is in splits {out[vid]!r} and {name!r}")
            out[vid] = str(name)
    return out


def convert(
    root: Path,
    *,
    labels: Path,
    layout: str = "imigue22",
    img_shape: tuple[int, int] = IMG_SHAPE,
    split_file: Path | None = None,
    skip_corrupt: bool = False,
    progress: bool = False,
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert the iMiGUE skeleton folder ``root`` with the dataset label CSV ``labels``."""
    root, labels = Path(root), Path(labels)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    if not labels.is_file():
        raise FileNotFoundError(f"{labels}: label file not found")
    videos = read_label_csv(labels)
    folders = video_folders(root)
    report = ConversionReport()
    records: list[dict[str, Any]] = []
    for video in tqdm(sorted(videos), desc="iMiGUE videos", disable=None if progress else True):
        info = videos[video]
        if video not in folders:
            report.skip(
                f"video {video:04d}",
                f"no skeleton folder under {root}; its {len(info.segments)} clips are skipped",
                kind="no skeleton folder",
                unit="video",
                clips=len(info.segments),
            )
            continue
        seq = read_video(
            folders[video],
            video_id=video,
            subject_id=info.subject_id,
            layout=layout,
            img_shape=tuple(img_shape),
            report=report,
            skip_corrupt=skip_corrupt,
            num_clips=len(info.segments),
        )
        if seq is not None:
            records += cut_clips(seq, info.segments, label_of=imigue_label, report=report)
    for video in sorted(set(folders) - set(videos)):
        report.skip(str(folders[video]), f"video {video} has no rows in {labels}",
                    kind="no label rows", unit="video")  # fmt: skip
    by_video = read_split_file(split_file) if split_file else None

    def split_of(r: dict[str, Any]) -> str | None:
        video = int(r["video_id"])
        if by_video is not None:
            return by_video.get(video)
        return miga_split(video, int(r["subject_id"]))

    meta = {"dataset": "imigue", "layout": layout, "classes": list(IMIGUE_CLASSES)}
    file = build_file(records, split_of=split_of, meta=meta, report=report, source=str(root))
    return file, report
