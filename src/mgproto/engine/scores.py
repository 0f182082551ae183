"""Score files: per-clip class probabilities, ours and the ecosystem's.

- ours: ``scores.npz`` with ``frame_dirs`` (N,), ``labels`` (N,), ``fused`` (N, K) and one
  ``stream_<name>`` (N, K) per stream; no pickle.
- PYSKL / MMAction2 0.x ``--out result.pkl``: a list of N score arrays (K,) in the order of the
  test annotations; written per stream (``<stream>_result.pkl``) so their ensemble scripts read
  them, and read back given the clip ids of that order.
- MMAction2 1.x ``--dump`` pickles: a list of N dicts with ``pred_score`` (torch tensors, read
  through an allow-list: tensors and numbers, never code; ``mgproto.fileio.safe_pickle``).

Axis legend: N clips, K classes.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from mgproto.engine.evaluate import Scores
from mgproto.fileio import (
    NPZ_ERRORS,
    UnsafeFileError,
    atomic_write_bytes,
    atomic_write_npz,
    check_input,
    read_npz,
    safe_unpickle,
)


def save_scores(scores: Scores, path: str | Path) -> Path:
    """Write ``scores.npz`` (atomically)."""
    arrays = {
        "frame_dirs": np.array(scores.frame_dirs),
        "labels": scores.labels,
        "fused": scores.fused.astype(np.float32),
    }
    arrays.update({f"stream_{s}": v.astype(np.float32) for s, v in scores.streams.items()})
    arrays.update({f"embedding_{s}": v.astype(np.float32) for s, v in scores.embeddings.items()})
    return atomic_write_npz(Path(path), arrays)


def save_pyskl_results(scores: np.ndarray, path: str | Path) -> Path:
    """(N, K) scores -> a pickled list of N float32 arrays (PYSKL / MMAction2 0.x layout)."""
    items = [row.astype(np.float32) for row in scores]
    return atomic_write_bytes(Path(path), pickle.dumps(items, protocol=4))


def load_scores(
    path: str | Path, *, ids: list[str] | None = None, stream: str = "fused"
) -> tuple[list[str], np.ndarray]:
    """Read a score file -> (clip ids, (N, K) scores).

    Args:
        path: our ``.npz`` or a PYSKL / MMAction2 ``.pkl``.
        ids: clip ids in the order of a ``.pkl`` (required for pickles, which carry none).
        stream: which scores of an ``.npz`` (``fused`` or a stream name).
    """
    path = check_input(path, what="score file")
    if path.suffix == ".npz":
        key = "fused" if stream == "fused" else f"stream_{stream}"
        z = read_score_arrays(path)
        if key not in z:
            raise ScoreError(f"{path}: no scores for {stream!r} (has {sorted(z)})")
        if "frame_dirs" not in z:
            raise ScoreError(f"{path}: no 'frame_dirs' (not an mgproto score file)")
        ids, scores = [str(x) for x in z["frame_dirs"]], z[key]
    else:
        obj = safe_unpickle(path.read_bytes(), source=str(path), tensors=True)
        if not isinstance(obj, list) or not obj:
            raise ScoreError(f"{path}: expected a non-empty list of per-clip scores")
        rows = [item.get("pred_score") if isinstance(item, dict) else item for item in obj]
        if any(not isinstance(r, np.ndarray) for r in rows):
            raise ScoreError(
                f"{path}: items must be numpy score arrays (or dicts with a numpy 'pred_score')"
            )
        if ids is None:
            raise ScoreError(f"{path}: a pickle has no clip ids; pass the ids of its order")
        if len({r.size for r in rows}) != 1:
            raise ScoreError(
                f"{path}: score rows of different lengths {sorted({r.size for r in rows})}"
            )
        ids, scores = list(ids), np.stack([r.reshape(-1) for r in rows])
    return ids, check_scores(ids, scores, source=str(path))


class ScoreError(ValueError):
    """A score file that cannot be used as it is; the message names the file."""


def load_labelled_scores(
    path: str | Path, *, stream: str = "fused"
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Our ``scores.npz`` -> (clip ids, (N, K) scores of ``stream``, (N,) labels): one run's
    input to :func:`mgproto.engine.stats.correct_matrix`."""
    ids, scores = load_scores(path, stream=stream)
    z = read_score_arrays(Path(path))
    if "labels" not in z:
        raise ScoreError(f"{path}: no 'labels' (not an mgproto test output)")
    return ids, scores, z["labels"]


def read_score_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of one of our score files (through the shared safe ``.npz`` loader), or
    :class:`ScoreError` naming the file."""
    try:
        return read_npz(path)
    except UnsafeFileError as err:  # a zip bomb, or a member larger than it holds
        raise ScoreError(f"{path}: {err}") from None
    except NPZ_ERRORS as err:  # BadZipFile, EOFError, ValueError, OSError for damaged files
        raise ScoreError(
            f"{path}: not a readable .npz score file (truncated or corrupt: {type(err).__name__})"
        ) from None


def check_scores(ids: list[str], scores: np.ndarray, *, source: str) -> np.ndarray:
    """(N, K) float64 scores, or :class:`ScoreError`: shape, finiteness and unique ids."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] != len(ids) or scores.shape[1] < 1:
        raise ScoreError(
            f"{source}: expected ({len(ids)}, K) scores for {len(ids)} clip ids, "
            f"got shape {scores.shape}"
        )
    if not np.issubdtype(scores.dtype, np.number):
        raise ScoreError(f"{source}: scores are {scores.dtype}, not numbers")
    bad = np.flatnonzero(~np.isfinite(scores).all(axis=1))
    if bad.size:
        raise ScoreError(
            f"{source}: {bad.size} clips have non-finite scores (first: {ids[bad[0]]!r}); "
            "did the model diverge?"
        )
    seen: set[str] = set()
    for x in ids:
        if x in seen:
            raise ScoreError(f"{source}: clip id {x!r} appears twice")
        seen.add(x)
    return scores.astype(np.float64)


def load_labels(path: str | Path) -> dict[str, int]:
    """Clip id -> label from one of our ``.npz`` score files."""
    z = read_score_arrays(check_input(path, what="score file"))
    if "labels" not in z or "frame_dirs" not in z:
        raise ScoreError(f"{path}: no labels in this score file; pass --annotations")
    return dict(zip((str(x) for x in z["frame_dirs"]), z["labels"].tolist()))
