"""Score-level ensembles (the paper fuses its model with Video Swin-B and a skeleton model)
and challenge submission files.

Weights are searched on the validation split (coordinate ascent over a grid, maximising Top-1)
and applied unchanged to the test split. Submissions are the MiGA track-1 CSV: ``Id,Target``
with a header (Kaggle, 2024/2025) or without (Codalab 2023, ``Submission.csv``), zipped.

Axis legend: M models, N clips, K classes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from mgproto.engine.metrics import topk_accuracy
from mgproto.fileio import atomic_write
from mgproto.fileio.text import read_text

# Weights are relative (only their ratios change the argmax); a larger one is a typo, and
# 1e308 would overflow the float32 fused scores.
MAX_WEIGHT = 1e6
FLOAT32_MAX = float(np.finfo(np.float32).max)


def align(
    ids: list[str], scores: np.ndarray, order: list[str], *, source: str, listed_in: str = ""
) -> np.ndarray:
    """Rows of ``scores`` (ids) in the order of ``order`` (the clip list of the file
    ``listed_in``, where one gives it); raises naming the first mismatch and both files."""
    index = {x: i for i, x in enumerate(ids)}
    the_list = f"the list of {listed_in}" if listed_in else "the list"
    missing = [x for x in order if x not in index]
    if missing:
        raise ValueError(
            f"{source}: no scores for clip {missing[0]!r} of {the_list} "
            f"({len(missing)} of {len(order)} clips missing)"
        )
    extra = set(ids) - set(order)
    if extra:
        raise ValueError(
            f"{source}: scores for clip {sorted(extra)[0]!r}, which is not in {the_list} "
            f"({len(extra)} extra)"
        )
    return scores[[index[x] for x in order]]


def fuse(scores: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Weighted sum of (N, K) score matrices (one weight per matrix, same shapes)."""
    check_weights(weights, len(scores))
    shapes = {s.shape for s in scores}
    if len(shapes) != 1:
        raise ValueError(
            f"score matrices of different shapes {sorted(shapes)}: same clips and classes?"
        )
    fused = sum(w * np.asarray(s, np.float64) for w, s in zip(weights, scores))
    if not (np.abs(fused) <= FLOAT32_MAX).all():  # NaN fails this too
        raise ValueError(
            f"the fused scores overflow float32 with weights {list(weights)}: give weights of a "
            "smaller scale (only their ratios matter)"
        )
    return fused


def check_weights(weights: list[float], num_models: int) -> list[float]:
    """One finite weight in [0, MAX_WEIGHT] per model, not all zero; else ValueError."""
    if len(weights) != num_models:
        raise ValueError(f"{len(weights)} weights for {num_models} models: give one per model")
    if not all(np.isfinite(w) and 0 <= w <= MAX_WEIGHT for w in weights) or not any(weights):
        raise ValueError(
            f"weights must be finite, >= 0 and <= {MAX_WEIGHT:g} (only their ratios matter) "
            f"and not all zero, got {list(weights)}"
        )
    return list(weights)


def labelled_clips(
    ids: list[str], labels: np.ndarray, *, num_classes: int, source: str
) -> np.ndarray:
    """(N,) mask of the clips whose weights can be scored: those with a label (>= 0).

    Raises:
        ValueError: naming ``source``, for a label that is no class of the scores (>= K: labels
            of other data), or when no clip has a label (nothing to search or check weights on).
    """
    labels = np.asarray(labels)
    over = np.flatnonzero(labels >= num_classes)
    if over.size:
        i = over[0]
        raise ValueError(
            f"{source}: clip {ids[i]!r} has label {labels[i]}, but the scores have "
            f"{num_classes} classes ({over.size} clips with such labels); labels of other data?"
        )
    keep = labels >= 0
    if not keep.any():
        raise ValueError(
            f"{source}: none of the {len(ids)} validation clips has a label (all -1); the "
            "ensemble searches and checks its weights on labelled clips: pass --annotations "
            "with the validation labels"
        )
    return keep


def search_weights(
    scores: list[np.ndarray],
    labels: np.ndarray,
    *,
    grid: np.ndarray | None = None,
    rounds: int = 3,
) -> tuple[list[float], float]:
    """Coordinate ascent on validation Top-1 from equal weights.

    Args:
        scores: M (N, K) validation score matrices.
        labels: (N,) labels.
        grid: candidate values of one weight (default 0, 0.1, ..., 2).

    Returns:
        (weights, validation Top-1 with them). Ties keep the current weight (the simpler model).
    """
    grid = np.round(np.linspace(0, 2, 21), 3) if grid is None else np.asarray(grid)
    weights = [1.0] * len(scores)
    best = topk_accuracy(fuse(scores, weights), labels)
    for _ in range(rounds):
        changed = False
        for m in range(len(scores)):
            for value in grid:
                trial = [*weights[:m], float(value), *weights[m + 1 :]]
                if not any(trial):
                    continue
                acc = topk_accuracy(fuse(scores, trial), labels)
                if acc > best + 1e-12:
                    best, weights, changed = acc, trial, True
        if not changed:
            break
    return weights, best


def read_id_list(path: str | Path) -> list[str]:
    """Clip ids from a list file: one id per line, or iMiGUE lines ``0054_0.mp4 31``.

    Raises:
        InputError / ValueError: naming the file: missing, binary, no ids, or an id listed
            twice (a submission has one row per clip).
    """
    text = read_text(path, what="id list")
    ids: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        token = line.strip().split()[0] if line.strip() else ""
        if not token:
            continue
        clip = token.rsplit(".", 1)[0] if token.endswith((".mp4", ".avi")) else token
        if clip in first_line:
            raise ValueError(
                f"{path}: line {number}: clip id {clip!r} is listed twice (first on line "
                f"{first_line[clip]}); a submission has one row per clip"
            )
        first_line[clip] = number
        ids.append(clip)
    if not ids:
        raise ValueError(f"{path}: no clip ids")
    return ids


def write_submission(
    path: str | Path,
    ids: list[str],
    scores: np.ndarray,
    *,
    header: bool = True,
    csv_name: str = "prediction.csv",
) -> Path:
    """``Id,Target`` rows (argmax class) in ``ids`` order, zipped atomically into ``path``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    if header:
        writer.writerow(["Id", "Target"])
    for clip, row in zip(ids, scores):
        writer.writerow([clip, int(np.argmax(row))])

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(csv_name, text.getvalue())

    return atomic_write(path, write)
