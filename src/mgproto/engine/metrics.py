"""Classification metrics on score matrices (pure numpy).

Axis legend: N clips, K classes.
"""

from __future__ import annotations

import numpy as np


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Share of samples whose label is among the k highest scores. scores (N, K), labels (N,)."""
    if len(labels) == 0:
        return float("nan")
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class recall (= accuracy), precision and support; NaN where undefined."""
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(1)
    predicted = cm.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, tp / support, np.nan)
        precision = np.where(predicted > 0, tp / predicted, np.nan)
    return {"recall": recall, "precision": precision, "support": support}


def classification_report(scores: np.ndarray, labels: np.ndarray, num_classes: int) -> dict:
    """Top-1, Top-5, mean class accuracy (over classes present), per-class P/R, confusion."""
    pred = scores.argmax(1)
    cm = confusion_matrix(pred, labels, num_classes)
    pc = per_class(cm)
    present = pc["support"] > 0
    return {
        "top1": topk_accuracy(scores, labels, 1),
        "top5": topk_accuracy(scores, labels, 5),
        "mean_class_acc": float(np.mean(pc["recall"][present])) if present.any() else float("nan"),
        "num_samples": len(labels),
        "per_class_recall": pc["recall"].tolist(),
        "per_class_precision": pc["precision"].tolist(),
        "support": pc["support"].tolist(),
        "confusion": cm.tolist(),
    }
