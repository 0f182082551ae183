"""Figures of a run: training curves, confusion matrix, per-class accuracy, embedding map; and
of a predicted timeline: the model's confidence over time.

Every function writes one PNG atomically and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from mgproto.fileio import atomic_write


def subplots(*args, figsize: tuple[float, float], **kwargs):
    """``(figure, axes)`` without pyplot: no global figure state and no backend to choose."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG atomically (temporary file, then rename)."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))


def _names(num: int, class_names: list[str] | None) -> list[str]:
    return list(class_names) if class_names else [str(k) for k in range(num)]


def confusion_cells(cm: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """(K, K) row shares of a confusion matrix of counts, and the text of each cell: the share
    in percent (empty for 0, so the eye finds the errors); a class with no clips has shares 0."""
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(1, keepdims=True)
    shares = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    texts = [[f"{100 * x:.0f}" if c else "" for c, x in zip(row_c, row_s)]
             for row_c, row_s in zip(cm, shares)]  # fmt: skip
    return shares, texts


def plot_confusion(
    cm: np.ndarray,
    path: str | Path,
    *,
    class_names: list[str] | None = None,
    title: str = "confusion matrix",
) -> Path:
    """(K, K) confusion matrix of counts, drawn row-normalised: colour and number are the share
    (%) of the true class's clips given each prediction; each row's name carries its clip count.
    ``title`` gets the ``(% of each true class)`` note appended."""
    cm = np.asarray(cm, dtype=float)
    k = cm.shape[0]
    shares, texts = confusion_cells(cm)
    size = max(5.0, 0.35 * k + 2)
    fig, ax = subplots(figsize=(size, size))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = _names(k, class_names)
    totals = cm.sum(1).astype(int)
    ax.set_xticks(range(k), names, rotation=90, fontsize=7)
    ax.set_yticks(range(k), [f"{n} ({t})" for n, t in zip(names, totals)], fontsize=7)
    for i in range(k):
        for j in range(k):
            if texts[i][j]:
                color = "white" if shares[i, j] > 0.5 else "black"
                ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=6, color=color)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (clips)")
    ax.set_title(f"{title} (% of each true class)")
    return save_figure(fig, path)


def plot_curves(records: list[dict], path: str | Path) -> Path:
    """Training loss terms and validation Top-1 per stream over optimiser steps."""
    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val"]
    fig, (ax1, ax2) = subplots(1, 2, figsize=(11, 4))
    keys = sorted({k for r in train for k in r if k == "loss" or k.startswith(("ce_", "pr_"))})
    for key in keys:
        pts = [(r["step"], r[key]) for r in train if r.get(key) is not None]
        if pts:
            ax1.plot(*zip(*pts), label=key)
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    if ax1.get_lines():
        ax1.legend(fontsize=8)
    for key in sorted({k for r in val for k in r if k.endswith("_top1")}):
        pts = [(r["step"], r[key]) for r in val if r.get(key) is not None]
        if pts:
            ax2.plot(*zip(*pts), marker="o", label=key)
    ax2.set_xlabel("step")
    ax2.set_ylabel("validation top-1")
    if val:
        ax2.legend(fontsize=8)
    return save_figure(fig, path)


def plot_per_class(
    recall: dict[str, list[float]], path: str | Path, *, class_names: list[str] | None = None
) -> Path:
    """Grouped bars: per-class accuracy (recall) of each stream / the fused prediction."""
    streams = list(recall)
    k = len(next(iter(recall.values())))
    names = _names(k, class_names)
    fig, ax = subplots(figsize=(max(6.0, 0.45 * k + 2), 4))
    width = 0.8 / len(streams)
    for i, s in enumerate(streams):
        values = np.nan_to_num(np.asarray(recall[s], np.float64))
        ax.bar(np.arange(k) + i * width, values, width, label=s)
    ax.set_xticks(np.arange(k) + 0.4 - width / 2, names, rotation=90, fontsize=7)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and top-2 principal axes of (N, D) rows; returns (mean, axes (2, D), (N, 2))."""
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = vt[:2]
    return mean, axes, (x - mean) @ axes.T


def plot_embeddings(
    emb: np.ndarray,
    labels: np.ndarray,
    prototypes: np.ndarray,
    path: str | Path,
    *,
    class_names: list[str] | None = None,
    title: str = "",
) -> Path:
    """2-D PCA of unit embeddings (N, D), coloured by class, with the (K, D) prototypes as stars."""
    unit = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12)
    protos = prototypes / (np.linalg.norm(prototypes, axis=1, keepdims=True) + 1e-12)
    mean, axes, pts = pca_2d(unit)
    p2 = (protos - mean) @ axes.T
    k = len(protos)
    cmap = matplotlib.colormaps["tab20"].resampled(max(k, 2))
    fig, ax = subplots(figsize=(7, 6))
    names = _names(k, class_names)
    for c in range(k):
        sel = labels == c
        if sel.any():
            ax.scatter(pts[sel, 0], pts[sel, 1], s=8, color=cmap(c), alpha=0.6, label=names[c])
        ax.scatter(p2[c, 0], p2[c, 1], s=180, marker="*", color=cmap(c), edgecolor="black")
    ax.set_title(title or "embeddings (PCA), prototypes as stars")
    ax.legend(fontsize=6, ncol=2, markerscale=2, loc="best")
    return save_figure(fig, path)


def plot_confidence(
    probs: np.ndarray,
    windows: np.ndarray,
    window_probs: np.ndarray,
    path: str | Path,
    *,
    fps: float,
    min_confidence: float,
) -> Path:
    """What the model sees in a video: the top class's probability over time, per frame
    (smoothed: what ``--min-confidence`` is compared with) and per window (at its centre), with
    the threshold line and the highest value marked. Gaps are frames / windows not classified.

    Args:
        probs: (T, K) per-frame probabilities, NaN rows without evidence.
        windows: (W, 2) [start, end) frames.
        window_probs: (W, K) window probabilities, NaN rows not classified.
    """
    valid = np.isfinite(probs).all(1)
    top = np.where(valid, np.where(valid[:, None], probs, 0.0).max(1), np.nan)  # (T,)
    seconds = np.arange(len(probs)) / fps
    fig, ax = subplots(figsize=(10, 2.8))
    ax.plot(seconds, top, color="#333", lw=1.2, label="per frame (smoothed)")
    done = np.isfinite(window_probs).all(1)
    if done.any():
        centres = windows[done].mean(1) / fps
        ax.scatter(centres, window_probs[done].max(1), s=10, color="#1f77b4", label="per window")
    ax.axhline(min_confidence, color="#d62728", ls="--", lw=1,
               label=f"--min-confidence {min_confidence:g}")  # fmt: skip
    if valid.any():
        t = int(np.nanargmax(top))
        ax.annotate(f"max {top[t]:.3f}", (seconds[t], top[t]), xytext=(4, 4),
                    textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_xlim(0, max(len(probs) / fps, 1e-3))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("top-class probability")
    ax.legend(fontsize=7, loc="upper right")
    return save_figure(fig, path)
