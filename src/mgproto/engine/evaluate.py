"""Evaluation: multi-clip (and flip) inference over a split, gathered across ranks.

Axis legend: N clips, K classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from mgproto.data.dataset import INPUT_KEYS
from mgproto.data.loader import batch_to_device
from mgproto.engine.distributed import all_gather_objects
from mgproto.engine.metrics import classification_report
from mgproto.models.recognizer import Recognizer, average_clips


@dataclass
class Scores:
    """Per-sample class probabilities of one split.

    Attributes:
        frame_dirs: N clip ids, in split order.
        labels: (N,) int64 (-1 = unlabelled).
        streams: stream -> (N, K) probabilities averaged over clips / views.
        fused: (N, K) late fusion of the streams.
    """

    frame_dirs: list[str]
    labels: np.ndarray
    streams: dict[str, np.ndarray] = field(default_factory=dict)
    fused: np.ndarray | None = None
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)  # stream -> (N, D)

    def report(self, num_classes: int) -> dict[str, dict]:
        """Metrics of each stream and of the fused prediction (labelled samples only)."""
        keep = self.labels >= 0
        out = {}
        for name, scores in {**self.streams, "fused": self.fused}.items():
            out[name] = classification_report(scores[keep], self.labels[keep], num_classes)
        return out


@torch.no_grad()
def predict(
    model: Recognizer,
    loader: DataLoader,
    *,
    device: torch.device,
    amp: bool = False,
    amp_dtype: torch.dtype = torch.bfloat16,
    progress=None,
) -> Scores:
    """Run ``model`` over ``loader`` (this rank's share) and gather every rank's results."""
    model.eval()
    rows: list[tuple] = []
    autocast = torch.autocast("cuda", dtype=amp_dtype, enabled=amp and device.type == "cuda")
    for batch in loader:
        moved = batch_to_device(batch, device)
        inputs = {k: moved[k] for k in INPUT_KEYS if k in moved}
        with autocast:
            out = model(**inputs)
        probs = {s: p.float().cpu().numpy() for s, p in out.probs.items()}
        fused = out.scores.float().cpu().numpy()
        emb = {
            s: average_clips(e.float(), out.num_clips).cpu().numpy()
            for s, e in out.embeddings.items()
        }
        for i, name in enumerate(batch["frame_dir"]):
            rows.append(
                (
                    name,
                    int(batch["label"][i]),
                    {s: p[i] for s, p in probs.items()},
                    fused[i],
                    {s: e[i] for s, e in emb.items()},
                )
            )
        if progress is not None:
            progress.update(len(batch["frame_dir"]))
    merged = [r for part in all_gather_objects(rows) for r in part]
    order = {
        name: i
        for i, name in enumerate(
            loader.dataset.records[j]["frame_dir"] for j in range(len(loader.dataset))
        )
    }
    merged.sort(key=lambda r: order[r[0]])
    streams = model.streams
    return Scores(
        frame_dirs=[r[0] for r in merged],
        labels=np.array([r[1] for r in merged], np.int64),
        streams={s: np.stack([r[2][s] for r in merged]) for s in streams},
        fused=np.stack([r[3] for r in merged]),
        embeddings={s: np.stack([r[4][s] for r in merged]) for s in merged[0][4]},
    )
