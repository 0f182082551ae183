"""Contact sheet of a clip's pose input: skeleton over the heatmaps, a few frames per row.

Lets a user check a converted dataset by eye: the layout's limbs are drawn on top of the sum of
the joint heatmaps that the model would see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from mgproto.data.heatmaps import pose_heatmaps
from mgproto.data.layouts import get_layout
from mgproto.data.transforms import Compose, PoseCompact, Resize
from mgproto.report.plots import save_figure


def render_pose_preview(
    records: list[dict[str, Any]],
    path: str | Path,
    *,
    layout: str,
    num_frames: int = 6,
    size: int = 64,
    sigma: float = 0.6,
    class_names: list[str] | None = None,
) -> Path:
    """Write a PNG with one row per record and ``num_frames`` evenly spaced frames per row."""
    lay = get_layout(layout)
    rows = len(records)
    fig, axes = plt.subplots(
        rows, num_frames, figsize=(1.6 * num_frames, 1.8 * rows), squeeze=False
    )
    prep = Compose([PoseCompact(), Resize(size=(size, size))])
    rng = np.random.default_rng(0)
    for r, rec in enumerate(records):
        t_idx = np.linspace(0, rec["total_frames"] - 1, num_frames).round().astype(int)
        sample = prep(
            {
                "keypoint": rec["keypoint"][:, t_idx],
                "keypoint_score": rec["keypoint_score"][:, t_idx],
                "img_shape": tuple(rec["img_shape"]),
            },
            rng,
        )
        maps = pose_heatmaps(
            sample["keypoint"], sample["keypoint_score"], img_shape=(size, size), sigma=sigma
        )  # (V, T, H, W)
        for c, ax in enumerate(axes[r]):
            ax.imshow(maps[:, c].max(axis=0), cmap="magma", vmin=0, vmax=1)
            kp, sc = sample["keypoint"][0, c], sample["keypoint_score"][0, c]
            for a, b in lay.limbs:
                if sc[a] > 0 and sc[b] > 0:
                    ax.plot(kp[[a, b], 0], kp[[a, b], 1], color="cyan", linewidth=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(0, size - 1)
            ax.set_ylim(size - 1, 0)
            if c == 0:
                label = rec["label"]
                name = (
                    class_names[label] if class_names and 0 <= label < len(class_names) else label
                )
                ax.set_ylabel(f"{rec['frame_dir']}\n{name}", fontsize=7)
            ax.set_title(f"t={t_idx[c]}", fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
