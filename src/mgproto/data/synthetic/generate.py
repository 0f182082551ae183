"""Build the synthetic micro-gesture benchmark on disk, and the ``mgproto synth`` verb.

Output folder::

    annotations.pkl         interchange pickle (layout imigue22, pixel keypoints of the frames)
    videos/<clip_id>.mp4    one clip per record, 25 fps (``filename`` = videos/<clip_id>.mp4)
    lists/{train,val,test}.txt
                            "<clip_id>.mp4 <label>" per line (the iMiGUE RGB list format)
    preview.png             with --preview: a contact sheet, one row per class

Clip ids are ``s<subject>_<clip>`` (``s03_0012``). The dataset is a pure function of (size,
seed): the plan (subjects, splits, labels, lengths) comes from ``default_rng([seed, 3])``, each
subject from ``[seed, 1, subject]``, each clip's keypoints from ``[seed, 2, subject, clip]`` and
its rendering from ``[seed, 5, subject, clip]``; no global random state is touched, so the same
seed gives byte-identical annotations and identical frames with any number of workers.
"""

from __future__ import annotations

import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mgproto.data.annotations import AnnotationFile, save_annotations
from mgproto.data.records import class_counts
from mgproto.data.synthetic.classes import (
    CLASS_NAMES,
    CLASSES,
    NUM_CLASSES,
    POSE_IDENTICAL_PAIRS,
    class_probabilities,
)
from mgproto.data.synthetic.keypoints import synthesize_clip
from mgproto.data.synthetic.motion import FPS, LAYOUT
from mgproto.data.synthetic.render import render_clip
from mgproto.data.synthetic.subjects import Subject, sample_subject
from mgproto.data.video import write_video
from mgproto.fileio import atomic_write_text

SPLITS = ("train", "val", "test")
_CLIP_FILE = re.compile(r"^s\d{2,}_\d{4,}\.mp4$")


@dataclass(frozen=True)
class SynthSize:
    """A dataset size preset.

    Attributes:
        name: preset name.
        num_subjects: people (split 60/20/20 by subject).
        clips_per_subject: mean clips per subject.
        clip_spread: clips per subject vary uniformly by +- this fraction.
        frame_size: frame side in pixels (square, even).
        min_frames, max_frames: clip length range (uniform, inclusive).
        supersample: drawing resolution factor (anti-aliasing).
    """

    name: str
    num_subjects: int
    clips_per_subject: int
    clip_spread: float
    frame_size: int
    min_frames: int
    max_frames: int
    supersample: int


SIZES: dict[str, SynthSize] = {
    # tests: 48 clips of 64x64, seconds to build
    "tiny": SynthSize("tiny", 6, 8, 0.0, 64, 16, 32, 2),
    # `make demo`: ~290 clips of 128x128 (the `small` frames, half the clips), every class in
    # every split; the whole method in about ten CPU minutes
    "demo": SynthSize("demo", 10, 30, 0.3, 128, 24, 64, 2),
    # `make demo-full` and the synthetic benchmarks: ~600 clips of 128x128
    "small": SynthSize("small", 14, 44, 0.3, 128, 24, 64, 2),
    # GPU studies: ~4,800 clips of 256x256
    "full": SynthSize("full", 40, 120, 0.3, 256, 32, 96, 1),
}


def get_size(size: str | SynthSize) -> SynthSize:
    """The preset called ``size`` (or ``size`` itself); raises with the valid names."""
    if isinstance(size, SynthSize):
        return size
    try:
        return SIZES[size]
    except KeyError:
        raise KeyError(
            f"unknown synthetic size {size!r}; valid sizes: {', '.join(SIZES)}"
        ) from None


@dataclass(frozen=True)
class ClipPlan:
    """What one clip will be: id, performer, class, length and split."""

    clip_id: str
    subject_id: int
    clip_index: int
    label: int
    num_frames: int
    split: str


def split_counts(num_clips: int, probs: np.ndarray) -> np.ndarray:
    """(K,) clips per class for a split of ``num_clips``: the long tail of ``probs`` rounded by
    largest remainders, with at least one clip per class where the split has >= K clips."""
    k = len(probs)
    base = np.ones(k, np.int64) if num_clips >= k else np.zeros(k, np.int64)
    exact = (num_clips - base.sum()) * probs
    counts = base + np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    counts[order[: num_clips - counts.sum()]] += 1
    return counts


def plan_dataset(size: str | SynthSize, *, seed: int) -> list[ClipPlan]:
    """The clips of a dataset, without drawing anything (cheap; deterministic given the seed).

    Subjects are split 60/20/20 into train/val/test (at least one each); inside each split the
    labels follow the long tail of ``classes.class_probabilities()`` exactly (largest-remainder
    rounding) and are shuffled over that split's clips.
    """
    preset = get_size(size)
    rng = np.random.default_rng([seed, 3])
    n = preset.num_subjects
    if n < 3:
        raise ValueError(f"synthetic size {preset.name!r}: needs >= 3 subjects for 3 splits")
    n_hold = max(1, round(0.2 * n))
    order = rng.permutation(n)
    split_of = {int(s): "test" for s in order[:n_hold]}
    split_of.update({int(s): "val" for s in order[n_hold : 2 * n_hold]})
    lo, hi = 1 - preset.clip_spread, 1 + preset.clip_spread
    per_subject = [max(1, round(preset.clips_per_subject * rng.uniform(lo, hi))) for _ in range(n)]
    probs = class_probabilities()
    plans: list[ClipPlan] = []
    for split in SPLITS:
        slots = [(s, c) for s in range(n) if split_of.get(s, "train") == split
                 for c in range(per_subject[s])]  # fmt: skip
        labels = np.repeat(np.arange(NUM_CLASSES), split_counts(len(slots), probs))
        labels = rng.permutation(labels)
        frames = rng.integers(preset.min_frames, preset.max_frames + 1, len(slots))
        for (s, c), label, t in zip(slots, labels, frames):
            plans.append(ClipPlan(f"s{s:02d}_{c:04d}", s, c, int(label), int(t), split))
    return sorted(plans, key=lambda p: (p.subject_id, p.clip_index))


@lru_cache(maxsize=64)
def _subject(seed: int, subject_id: int) -> Subject:
    return sample_subject(seed=seed, subject_id=subject_id)


def make_clip(seed: int, preset: SynthSize, plan: ClipPlan, out_dir: str
              ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Draw, render and write one clip.

    Returns:
        keypoint (T, V, 2) and keypoint_score (T, V) float32, as the detector reports them.
    """
    subject = _subject(seed, plan.subject_id)
    clip = synthesize_clip(seed=seed, subject=subject, clip_index=plan.clip_index,
                           label=plan.label, num_frames=plan.num_frames,
                           frame_size=preset.frame_size)  # fmt: skip
    frames = render_clip(
        subject=subject, clip=clip, frame_size=preset.frame_size,
        supersample=preset.supersample, rgb_cue=CLASSES[plan.label].rgb_cue,
        rng=np.random.default_rng([seed, 5, plan.subject_id, plan.clip_index]),
    )  # fmt: skip
    write_video(Path(out_dir) / f"videos/{plan.clip_id}.mp4", frames, fps=FPS)
    return clip.keypoint, clip.keypoint_score


def _make_clip_job(job: tuple[int, SynthSize, ClipPlan, str]) -> tuple[np.ndarray, np.ndarray]:
    return make_clip(*job)


def make_record(plan: ClipPlan, preset: SynthSize, keypoint: np.ndarray, score: np.ndarray
                ) -> dict[str, Any]:  # fmt: skip
    """The annotation record of a clip. Built in the main process whatever the number of
    workers, so the pickle's object sharing, and hence its bytes, do not depend on it."""
    shape = (preset.frame_size, preset.frame_size)
    return {
        "frame_dir": plan.clip_id, "label": plan.label, "img_shape": shape,
        "original_shape": shape, "total_frames": plan.num_frames,
        # fresh copies: arrays unpickled from a worker carry their own dtype object, which
        # would change the pickle's memo (bytes, not content) compared with a 1-worker run
        "keypoint": keypoint.astype(np.float32)[None],
        "keypoint_score": score.astype(np.float32)[None],
        "video_id": f"s{plan.subject_id:02d}", "subject_id": str(plan.subject_id),
        "layout": LAYOUT, "fps": FPS, "filename": f"videos/{plan.clip_id}.mp4",
    }  # fmt: skip


def generate_dataset(out_dir: str | Path, *, size: str | SynthSize = "tiny", seed: int = 0,
                     workers: int = 1, progress: bool = False) -> AnnotationFile:  # fmt: skip
    """Generate the benchmark into ``out_dir`` (see the module docstring for the files).

    Any ``annotations.pkl`` already there is removed first and written last, so an interrupted
    run leaves no annotation file that disagrees with the videos; clip videos of an earlier run
    that this plan does not contain are deleted.

    Args:
        out_dir: output folder (created).
        size: preset name (``tiny``, ``demo``, ``small``, ``full``) or a ``SynthSize``.
        seed: dataset seed.
        workers: processes rendering and encoding clips (the output does not depend on it).
        progress: show a progress bar on stderr.

    Returns:
        The annotations as written.
    """
    preset = get_size(size)
    if preset.frame_size % 2:
        raise ValueError(f"synthetic size {preset.name!r}: frame_size must be even")
    out = Path(out_dir)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "annotations.pkl").unlink(missing_ok=True)
    plans = plan_dataset(preset, seed=seed)
    jobs = [(seed, preset, p, str(out)) for p in plans]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=f"synth {preset.name}", unit="clip", disable=None)
    records: list[dict[str, Any]] = []
    if workers > 1:  # spawn: safe whatever the parent imported; results come back in order
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for plan, (kp, score) in zip(plans, pool.map(_make_clip_job, jobs, chunksize=4)):
                records.append(make_record(plan, preset, kp, score))
                if bar is not None:
                    bar.update()
    else:
        for plan, job in zip(plans, jobs):
            records.append(make_record(plan, preset, *_make_clip_job(job)))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    keep = {f"{p.clip_id}.mp4" for p in plans}
    for old in (out / "videos").iterdir():
        if _CLIP_FILE.match(old.name) and old.name not in keep:
            old.unlink()
    split = {s: [p.clip_id for p in plans if p.split == s] for s in SPLITS}
    for s in SPLITS:
        lines = [f"{p.clip_id}.mp4 {p.label}\n" for p in plans if p.split == s]
        atomic_write_text(out / "lists" / f"{s}.txt", "".join(lines))
    meta = {"dataset": "synthetic", "layout": LAYOUT, "classes": list(CLASS_NAMES),
            "size": preset.name, "seed": seed, "fps": FPS, "frame_size": preset.frame_size,
            "pose_identical_pairs": [list(p) for p in POSE_IDENTICAL_PAIRS]}  # fmt: skip
    ann = AnnotationFile(records, split, meta)
    save_annotations(ann, out / "annotations.pkl")
    return ann


def summary(ann: AnnotationFile) -> str:
    """A table of clips per class and split."""
    by_id = {r["frame_dir"]: r for r in ann.annotations}
    counts = {s: class_counts([by_id[c] for c in ids], NUM_CLASSES) for s, ids in ann.split.items()}
    names = list(ann.split)
    lines = [f"{'class':<26}" + "".join(f"{s:>7}" for s in names)]
    for k, name in enumerate(CLASS_NAMES):
        lines.append(f"{k:>2} {name:<23}" + "".join(f"{counts[s][k]:>7}" for s in names))
    lines.append(f"{'total':<26}" + "".join(f"{len(ann.split[s]):>7}" for s in names))
    return "\n".join(lines)
