"""Stitch clips of a dataset into one long video with known segments (``mgproto stitch``).

A test bed for timeline prediction: the clips of one subject, played back to back, make an
"interview" whose true segments are known. Writes::

    OUT/video.mp4    the clips' frames, concatenated (clips must share frame size and rate)
    OUT/pose.pkl     one record for the whole video (label -1, ``fps``), the project's format
    OUT/truth.csv    start,end,label,label_id,start_frame,end_frame of each clip

None of them may be an input (the annotation file, a clip's video): all three are checked
before the first is written.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.frames import clip_path
from mgproto.data.video import VideoWriter, iter_frames, probe_video
from mgproto.fileio import check_outputs
from mgproto.infer.timeline import Segment, write_segments

# The files of the output folder.
STITCH_FILES = ("video.mp4", "pose.pkl", "truth.csv")


def pick_clips(
    ann: AnnotationFile,
    *,
    split: str | None,
    num_clips: int,
    subject: str | None = None,
    classes: Sequence[int] | None = None,
    seed: int = 0,
) -> list[dict]:
    """Up to ``num_clips`` clips of one subject, distinct classes first, in a random order.

    Without ``subject``, the subject with the most distinct classes (among ``classes`` if
    given) is used.
    """
    records = [r for r in ann.select(split) if classes is None or r["label"] in classes]
    if not records:
        raise ValueError(f"no clips in split {split!r} with classes {classes}")
    by_subject: dict[str, list[dict]] = {}
    for r in records:
        by_subject.setdefault(str(r.get("subject_id", r.get("video_id", "?"))), []).append(r)
    if subject is None:
        subject = max(by_subject, key=lambda s: (len({r["label"] for r in by_subject[s]}), s))
    if subject not in by_subject:
        raise KeyError(
            f"no clips of subject {subject!r}; subjects: {', '.join(sorted(by_subject))}"
        )
    rng = np.random.default_rng(seed)
    pool = list(by_subject[subject])
    order = rng.permutation(len(pool))
    picked, seen = [], set()
    for i in order:  # one clip per class first
        if pool[i]["label"] not in seen:
            picked.append(pool[i])
            seen.add(pool[i]["label"])
    picked += [pool[i] for i in order if pool[i] not in picked]
    picked = picked[:num_clips]
    return [picked[i] for i in rng.permutation(len(picked))]


def stitch_clips(
    records: Sequence[dict],
    out_dir: str | Path,
    *,
    video_root: str | Path,
    class_names: Sequence[str],
    layout: str,
    inputs: Sequence[str | Path] = (),
) -> tuple[Path, list[Segment]]:
    """Concatenate ``records``' videos and keypoints; returns the folder and the true segments.

    Args:
        inputs: other files the caller read (the annotation file): like the clips' videos,
            never overwritten (:class:`~mgproto.fileio.OutputError` before anything is written).
    """
    out_dir = Path(out_dir)
    paths = [clip_path(r, video_root)[0] for r in records]
    video_out, pose_out, truth_out = check_outputs(
        [out_dir / name for name in STITCH_FILES],
        inputs=[*inputs, *paths],
        hint="choose another output folder (-o)",
    )
    infos = [probe_video(p, count=True) for p in paths]
    shapes = {(i.height, i.width) for i in infos}
    rates = {round(i.fps, 3) for i in infos}
    if len(shapes) > 1 or len(rates) > 1:
        raise ValueError(f"clips differ in frame size {shapes} or rate {rates}; cannot stitch")
    fps = infos[0].fps
    segments, keypoints, scores, start = [], [], [], 0
    with VideoWriter(video_out, fps=fps) as writer:
        for rec, path in zip(records, paths):
            n = 0
            for _, image in iter_frames(path):
                writer.write(image)
                n += 1
            kp, sc = rec["keypoint"][:1], rec["keypoint_score"][:1]  # the main subject
            if kp.shape[1] < n:  # pad a pose shorter than its video with "missing" frames
                kp = np.concatenate(
                    [kp, np.zeros((1, n - kp.shape[1], *kp.shape[2:]), kp.dtype)], 1
                )
                sc = np.concatenate([sc, np.zeros((1, n - sc.shape[1], sc.shape[2]), sc.dtype)], 1)
            keypoints.append(kp[:, :n])
            scores.append(sc[:, :n])
            label = int(rec["label"])
            segments.append(
                Segment(
                    start=round(start / fps, 3),
                    end=round((start + n) / fps, 3),
                    start_frame=start,
                    end_frame=start + n,
                    label=str(class_names[label]),
                    label_id=label,
                    confidence=1.0,
                )
            )
            start += n
    record = {
        "frame_dir": "video",
        "label": -1,
        "keypoint": np.concatenate(keypoints, 1).astype(np.float32),
        "keypoint_score": np.concatenate(scores, 1).astype(np.float32),
        "total_frames": start,
        "img_shape": (infos[0].height, infos[0].width),
        "original_shape": (infos[0].height, infos[0].width),
        "fps": fps,
    }
    meta = {
        "layout": layout,
        "dataset": "stitched",
        "fps": fps,
        "source_clips": [r["frame_dir"] for r in records],
    }
    save_annotations(AnnotationFile([record], {}, meta), pose_out)
    write_segments(truth_out, segments)
    return out_dir, segments


def stitch_dataset(
    annotations: str | Path,
    out_dir: str | Path,
    *,
    split: str | None = "test",
    num_clips: int = 6,
    subject: str | None = None,
    classes: Sequence[int] | None = None,
    seed: int = 0,
    video_root: str | Path | None = None,
) -> tuple[Path, list[Segment]]:
    """Pick clips of one subject from an annotation file and stitch them (see the module)."""
    ann = load_annotations(annotations)
    picked = pick_clips(
        ann, split=split, num_clips=num_clips, subject=subject, classes=classes, seed=seed
    )
    names = ann.meta.get("classes") or [str(k) for k in range(max(r["label"] for r in picked) + 1)]
    return stitch_clips(
        picked,
        out_dir,
        video_root=video_root or Path(annotations).parent,
        class_names=names,
        layout=ann.meta.get("layout", "coco17"),
        inputs=[annotations],
    )
