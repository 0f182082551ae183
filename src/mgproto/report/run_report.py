"""``mgproto report RUN_DIR``: one HTML page (self-contained) and a Markdown twin per run.

Sections: the configuration summary, training curves, the metrics table of each stream and the
fused prediction, the confusion matrix, per-class accuracy, and a 2-D projection of the
prototype embeddings with the class prototypes marked.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from mgproto.engine.checkpoint import load_checkpoint
from mgproto.engine.logging import read_metrics
from mgproto.engine.scores import read_score_arrays
from mgproto.fileio import atomic_write_text
from mgproto.fileio.text import read_json
from mgproto.models import STREAMS
from mgproto.report.plots import plot_curves, plot_embeddings


def _img_tag(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _metrics_table(metrics: dict) -> list[list[str]]:
    rows = [["prediction", "top-1", "top-1 95 % interval", "top-5", "mean class acc", "samples"]]
    for name in [k for k in (*STREAMS, "fused") if k in metrics]:
        m = metrics[name]
        low, high = m.get("top1_interval95") or (None, None)  # absent in older metrics files
        rows.append(
            [
                name,
                f"{m['top1']:.4f}",
                "-" if low is None else f"{low:.4f} - {high:.4f}",
                f"{m['top5']:.4f}",
                f"{m['mean_class_acc']:.4f}",
                str(m["num_samples"]),
            ]
        )
    return rows


def build_report(
    run_dir: str | Path,
    *,
    test_dir: str | Path,
    out_dir: str | Path | None = None,
    checkpoint: str | Path | None = None,
) -> Path:
    """Write ``index.html`` and ``report.md`` for a run whose evaluation lives in ``test_dir``."""
    run_dir, test_dir = Path(run_dir), Path(test_dir)
    out = Path(out_dir) if out_dir else run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, Path]] = []
    records = read_metrics(run_dir)
    if records:
        figures.append(("Training curves", plot_curves(records, out / "curves.png")))
    metrics = read_json(test_dir / "metrics.json", what="test metrics file")
    for name in ("fused", "rgb", "pose"):
        if (test_dir / f"confusion_{name}.png").is_file():
            figures.append((f"Confusion matrix ({name})", test_dir / f"confusion_{name}.png"))
            break
    if (test_dir / "per_class.png").is_file():
        figures.append(("Per-class accuracy", test_dir / "per_class.png"))
    ckpt = load_checkpoint(checkpoint or run_dir / "checkpoints" / "best.pt")
    ids = read_json(test_dir / "ids.json", what="clip id file")
    class_names = ids.get("class_names") if isinstance(ids, dict) else None
    z = read_score_arrays(test_dir / "scores.npz")
    if "labels" in z:
        labels = z["labels"]
        for stream in STREAMS:
            key, proto_key = f"embedding_{stream}", f"head.{stream}.prototypes"
            if key in z and proto_key in ckpt["model"]:
                path = plot_embeddings(
                    z[key],
                    labels,
                    ckpt["model"][proto_key].numpy(),
                    out / f"embeddings_{stream}.png",
                    class_names=class_names,
                    title=f"{stream}: embeddings and prototypes (PCA)",
                )
                figures.append((f"Prototype embeddings ({stream})", path))
    table = _metrics_table(metrics)
    title = f"mgproto report: {run_dir.name} ({metrics.get('split', '?')} split)"
    md = [f"# {title}", "", f"checkpoint: `{metrics.get('checkpoint', '')}`", ""]
    md += ["| " + " | ".join(r) + " |" for r in table[:1]]
    md += ["|" + "---|" * len(table[0])]
    md += ["| " + " | ".join(r) + " |" for r in table[1:]]
    for caption, path in figures:
        md += ["", f"## {caption}", "", f"![{caption}]({os.path.relpath(path, out)})"]
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")

    def row_html(row: list[str], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row) + "</tr>"

    cells = row_html(table[0], "th") + "".join(row_html(r, "td") for r in table[1:])
    body = [f"<h1>{html.escape(title)}</h1>", f"<table border=1 cellpadding=4>{cells}</table>"]
    for caption, path in figures:
        body += [f"<h2>{html.escape(caption)}</h2>", _img_tag(path)]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title></head><body style='font-family:sans-serif;max-width:1100px;margin:auto'>"
        + "\n".join(body)
        + "</body></html>"
    )
    atomic_write_text(out / "index.html", page)
    return out
