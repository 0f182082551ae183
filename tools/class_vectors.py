"""Class-name vectors for the JSE loss (``model.semantic.vectors``) from a model that needs no
download: WordLlama's ``l2_supercat`` 256-d token embeddings, which ship inside its wheel (MIT).

Run it in an environment of its own (WordLlama needs numpy >= 2, mgproto's MediaPipe extra
numpy < 2):

    python3 -m venv /tmp/wl && /tmp/wl/bin/pip install wordllama
    /tmp/wl/bin/python tools/class_vectors.py --names walk "sit down" ... -o vectors.npy

Each row is the embedding of one class name, in label order, rescaled so that its per-element
RMS equals the reference GloVe table's (``imigue32_glove300``): the reference's JSE weight of 20
was set for vectors of that size. CamelCase and snake_case names are split into words first
(``sitDown`` -> "sit down").
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "src" / "mgproto" / "data" / "vectors" / "imigue32_glove300.npy"


def words(name: str) -> str:
    """``sitDown`` / ``sit_down`` / ``Sit down`` -> ``sit down``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ")
    return " ".join(spaced.lower().split())


def class_vectors(names: list[str]) -> np.ndarray:
    """(K, 256) float32: WordLlama embeddings of the names at the reference table's RMS."""
    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent)  # the wheel's own files
    table = np.asarray(model.embed([words(n) for n in names], norm=True), np.float64)
    reference = np.load(REFERENCE)
    scale = np.sqrt((reference**2).mean()) / np.sqrt((table**2).mean())
    return (table * scale).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", required=True, help="class names in label order")
    parser.add_argument("-o", "--output", type=Path, required=True, help=".npy file to write")
    args = parser.parse_args()
    table = class_vectors(args.names)
    np.save(args.output, table)
    sims = table @ table.T / np.outer(*(2 * [np.linalg.norm(table, axis=1)]))
    np.fill_diagonal(sims, -1)
    for i, name in enumerate(args.names):
        j = int(sims[i].argmax())
        print(f"{i:3d} {words(name):<24} nearest: {words(args.names[j])} ({sims[i, j]:.2f})")
    print(f"wrote {args.output} {table.shape}")


if __name__ == "__main__":
    main()
