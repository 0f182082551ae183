"""Contact sheet of a video dataset: one row per class, a few frames with the skeleton on top.

Written for the synthetic benchmark (``mgproto synth --preview``) but reads any folder with an
interchange file whose records name their clip in ``filename`` (relative to the folder). Lets a
user check by eye that the frames show the gesture and that the keypoints sit on the drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mgproto.data.annotations import load_annotations
from mgproto.data.layouts import get_layout
from mgproto.data.video import read_frames
from mgproto.report.plots import save_figure, subplots


def render_synthetic_preview(
    root: str | Path,
    path: str | Path,
    *,
    annotations: str = "annotations.pkl",
    num_frames: int = 5,
    split: str | None = None,
) -> Path:
    """Write a PNG with one clip of each class: ``num_frames`` evenly spaced frames per row,
    limbs drawn between joints with score > 0 and joints coloured by score.

    Args:
        root: dataset folder (holds ``annotations`` and the videos its records name).
        path: PNG to write (atomically).
        annotations: interchange file inside ``root``.
        num_frames: frames per row.
        split: take clips from this split only (all clips if None).

    Returns:
        ``path``.
    """
    root = Path(root)
    ann = load_annotations(root / annotations)
    layout = get_layout(str(ann.meta.get("layout") or ann.annotations[0].get("layout")))
    names = list(ann.meta.get("classes") or [])
    by_class: dict[int, list[dict]] = {}
    for rec in ann.select(split):
        by_class.setdefault(rec["label"], []).append(rec)
    # the k-th clip of class k (cyclically), so that rows tend to show different people
    records = [by_class[k][k % len(by_class[k])] for k in sorted(by_class)]
    if not records:
        raise ValueError(f"{root / annotations}: no clips to preview")
    fig, axes = subplots(len(records), num_frames, squeeze=False,
                             figsize=(1.5 * num_frames + 0.6, 1.55 * len(records)))  # fmt: skip
    for row, rec in zip(axes, records):
        if not rec.get("filename"):
            raise ValueError(f"{root / annotations}: clip {rec['frame_dir']!r} names no video")
        t_idx = np.linspace(0, rec["total_frames"] - 1, num_frames).round().astype(int)
        frames = read_frames(root / rec["filename"], t_idx)  # (F, H, W, 3)
        for c, ax in enumerate(row):
            kp, sc = rec["keypoint"][0, t_idx[c]], rec["keypoint_score"][0, t_idx[c]]
            ax.imshow(frames[c])
            for a, b in layout.limbs:
                if sc[a] > 0 and sc[b] > 0:
                    ax.plot(kp[[a, b], 0], kp[[a, b], 1], color="cyan", linewidth=0.5)
            ok = sc > 0
            ax.scatter(kp[ok, 0], kp[ok, 1], c=sc[ok], cmap="autumn", vmin=0, vmax=1, s=2,
                       linewidths=0)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(-0.5, frames.shape[2] - 0.5)
            ax.set_ylim(frames.shape[1] - 0.5, -0.5)
            ax.set_title(f"t={t_idx[c]}", fontsize=6)
            if c == 0:
                label = rec["label"]
                name = names[label] if 0 <= label < len(names) else str(label)
                ax.set_ylabel(f"{label} {name}\n{rec['frame_dir']}", fontsize=6)
    fig.tight_layout()
    return save_figure(fig, path)
