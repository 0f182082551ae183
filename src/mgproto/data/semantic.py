"""Class-name vectors for the semantic embedding (JSE) loss: one D-dim row per class.

``data.semantic``-style specs name a bundled table (``imigue32_glove300``: the reference's GloVe
vectors of the 32 iMiGUE class names, see ``data/vectors/NOTICE.md``) or a ``.npy`` file of
shape (K, D). A bundled table serves any class list whose names it has (the synthetic
benchmark's 15 iMiGUE-named classes): rows are picked by name.

Axis legend: K classes, D vector width.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "vectors"
BUNDLED = {"imigue32_glove300": ("imigue32_glove300.npy", "imigue32_names.txt")}
# spellings of the same class in different lists (the reference's file has "bit lip")
ALIASES = {"bit lip": "bite lip", "arm akimbo": "arms akimbo"}


def _key(name: str) -> str:
    key = re.sub(r"[\s_]+", " ", str(name).strip().lower())
    return ALIASES.get(key, key)


def _bundled(name: str) -> tuple[np.ndarray, list[str]]:
    vectors, names = BUNDLED[name]
    lines = (HERE / names).read_text().splitlines()
    return np.load(HERE / vectors, allow_pickle=False), [x.split(" ", 1)[1] for x in lines if x]


def load_class_vectors(
    spec: str, *, num_classes: int, class_names: list[str] | None = None
) -> np.ndarray:
    """(K, D) float32 class vectors for labels 0..K-1; ValueError naming what does not fit."""
    if spec in BUNDLED:
        table, names = _bundled(spec)
        if class_names is not None and [_key(n) for n in class_names] != [_key(n) for n in names]:
            index = {_key(n): i for i, n in enumerate(names)}
            missing = [n for n in class_names if _key(n) not in index]
            if missing:
                raise ValueError(
                    f"class vectors {spec!r} have no row for class {missing[0]!r} "
                    f"({len(missing)} of {len(class_names)} missing); give a .npy of your own"
                )
            table = table[[index[_key(n)] for n in class_names]]
        source = spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"{path}: class-vector file not found (or name a bundled table: "
                             f"{', '.join(BUNDLED)})")  # fmt: skip
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: not a readable .npy ({err})") from None
        source = str(path)
    if table.ndim != 2 or table.shape[0] != num_classes or not np.isfinite(table).all():
        raise ValueError(
            f"{source}: class vectors must be a finite ({num_classes}, D) array (one row per "
            f"class), got {table.shape}"
        )
    return table.astype(np.float32)


def vector_width(spec: str) -> int:
    """D of a vector table (read from the file header only where possible)."""
    if spec in BUNDLED:
        return int(_bundled(spec)[0].shape[1])
    return int(np.load(spec, mmap_mode="r", allow_pickle=False).shape[1])
