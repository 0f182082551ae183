"""Figures of a test folder (``mgproto test``'s output), drawn from its ``metrics.json`` and
``ids.json``: one confusion matrix per stream and the per-class accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mgproto.fileio.text import read_json
from mgproto.report.plots import plot_confusion, plot_per_class


def write_test_figures(test_dir: str | Path) -> list[Path]:
    """``confusion_<stream>.png`` and ``per_class.png`` in ``test_dir``; none without labels."""
    test_dir = Path(test_dir)
    metrics_path = test_dir / "metrics.json"
    if not metrics_path.is_file():  # an unlabelled split: scores only
        return []
    metrics = read_json(metrics_path, what="test metrics file")
    ids_path = test_dir / "ids.json"
    ids = read_json(ids_path, what="clip id file") if ids_path.is_file() else {}
    names = ids.get("class_names") if isinstance(ids, dict) else None
    streams = {k: v for k, v in metrics.items() if isinstance(v, dict) and "confusion" in v}
    written = [
        plot_confusion(
            np.asarray(r["confusion"], dtype=float),
            test_dir / f"confusion_{name}.png",
            class_names=names,
            title=f"{name}: confusion",
        )
        for name, r in streams.items()
    ]
    recall = {
        n: [np.nan if v is None else v for v in r["per_class_recall"]] for n, r in streams.items()
    }
    written.append(plot_per_class(recall, test_dir / "per_class.png", class_names=names))
    return written
