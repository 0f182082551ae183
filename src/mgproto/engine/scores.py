"""Score files: per-clip class probabilities, ours and the ecosystem's.

- ours: ``scores.npz`` with ``frame_dirs`` (N,), ``labels`` (N,), ``fused`` (N, K) and one
  ``stream_<name>`` (N, K) per stream; no pickle.
- PYSKL / MMAction2 0.x ``--out result.pkl``: a list of N score arrays (K,) in the order of the
  test annotations; written per stream (``<stream>_result.pkl``) so their ensemble scripts read
  them, and read back given the clip ids of that order.
- MMAction2 1.x ``--dump`` pickles: a list of N dicts with ``pred_score``; read when the scores
  are numpy arrays (dumps holding torch tensors need full unpickling, which we refuse).

Axis legend: N clips, K classes.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from mgproto.data.annotations import safe_unpickle
from mgproto.engine.evaluate import Scores
from mgproto.fileio import atomic_write_bytes


def save_scores(scores: Scores, path: str | Path) -> Path:
    """Write ``scores.npz`` (atomically)."""
    buf = io.BytesIO()
    arrays = {f"stream_{s}": v.astype(np.float32) for s, v in scores.streams.items()}
    arrays.update({f"embedding_{s}": v.astype(np.float32) for s, v in scores.embeddings.items()})
    np.savez(
        buf,
        frame_dirs=np.array(scores.frame_dirs),
        labels=scores.labels,
        fused=scores.fused.astype(np.float32),
        **arrays,
    )
    return atomic_write_bytes(Path(path), buf.getvalue())


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
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: score file not found")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            key = "fused" if stream == "fused" else f"stream_{stream}"
            if key not in z:
                raise ValueError(f"{path}: no scores for {stream!r} (has {sorted(z.files)})")
            return [str(x) for x in z["frame_dirs"]], z[key].astype(np.float64)
    obj = safe_unpickle(path.read_bytes(), source=str(path))
    if not isinstance(obj, list) or not obj:
        raise ValueError(f"{path}: expected a non-empty list of per-clip scores")
    rows = [item.get("pred_score") if isinstance(item, dict) else item for item in obj]
    if any(not isinstance(r, np.ndarray) for r in rows):
        raise ValueError(
            f"{path}: items must be numpy score arrays (or dicts with a numpy "
            "'pred_score'); tensors in MMAction2 1.x dumps are not read"
        )
    if ids is None:
        raise ValueError(f"{path}: a pickle has no clip ids; pass the ids of its order")
    if len(ids) != len(rows):
        raise ValueError(f"{path}: {len(rows)} score rows for {len(ids)} clip ids")
    return list(ids), np.stack([r.reshape(-1) for r in rows]).astype(np.float64)


def load_labels(path: str | Path) -> dict[str, int]:
    """Clip id -> label from one of our ``.npz`` score files."""
    with np.load(path, allow_pickle=False) as z:
        return dict(zip((str(x) for x in z["frame_dirs"]), z["labels"].tolist()))
