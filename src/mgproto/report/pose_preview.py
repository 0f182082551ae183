"""Contact sheet of a clip's pose: skeleton over the heatmaps or the video, a few frames per row.

Lets a user check a converted dataset or an extracted pose by eye: the layout's limbs are drawn
on top of the sum of the joint heatmaps that the model would see, or, given the video, on the
video's own frames (record frame t is video frame ``start_frame + t``). The subject's left side
is drawn in cyan, the right side in orange, joints in the middle in white; the side of a joint is
read from its name in the layout. Missing joints (score 0) and limbs touching them are not drawn.

Axis legend: M persons, T frames, V joints, H/W rows/columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mgproto.data.heatmaps import pose_heatmaps
from mgproto.data.layouts import Layout, get_layout
from mgproto.data.transforms import Compose, PoseCompact, Resize
from mgproto.data.video import VideoError, probe_video, read_frames
from mgproto.report.plots import save_figure, subplots

# Paul Tol's "vibrant" cyan and orange: told apart with every kind of colour blindness.
SIDE_COLOURS = {"left": "#33bbee", "right": "#ee7733", "centre": "#ffffff"}
# A side is a whole word of the name (left_elbow, mouth_left) or an l_ / r_ prefix (l_hip).
_SIDE_WORD = {
    "left": re.compile(r"(?<![a-z])left(?![a-z])|^l_"),
    "right": re.compile(r"(?<![a-z])right(?![a-z])|^r_"),
}


def joint_sides(layout: Layout) -> tuple[str, ...]:
    """``'left'``, ``'right'`` or ``'centre'`` for each of the V joints, from its name."""
    sides = []
    for name in layout.joints:
        found = [side for side, word in _SIDE_WORD.items() if word.search(name.lower())]
        sides.append(found[0] if len(found) == 1 else "centre")
    return tuple(sides)


def limb_sides(layout: Layout) -> tuple[str, ...]:
    """Side of each of the L limbs: that of its joints, ignoring a middle joint (nose to left
    eye is left); a limb joining the two sides (hip to hip) is in the middle."""
    joints = joint_sides(layout)
    out = []
    for a, b in layout.limbs:
        ends = {joints[a], joints[b]} - {"centre"}
        out.append(ends.pop() if len(ends) == 1 else "centre")
    return tuple(out)


def draw_skeleton(
    ax: Axes, kp: np.ndarray, score: np.ndarray, layout: Layout, *, linewidth: float = 0.6
) -> None:
    """Draw one person's limbs and joints, coloured by side; joints with score 0 are skipped.

    Args:
        ax: matplotlib axes in pixel coordinates.
        kp: (V, 2) x, y.
        score: (V,) confidences.
        layout: the keypoint layout.
        linewidth: limb width in points (joint dots scale with it).
    """
    for (a, b), side in zip(layout.limbs, limb_sides(layout), strict=True):
        if score[a] > 0 and score[b] > 0:
            ax.plot(kp[[a, b], 0], kp[[a, b], 1], color=SIDE_COLOURS[side], linewidth=linewidth)
    sides = np.array(joint_sides(layout))
    for side, colour in SIDE_COLOURS.items():
        seen = (score > 0) & (sides == side)
        if seen.any():
            ax.scatter(
                kp[seen, 0],
                kp[seen, 1],
                s=(2.5 * linewidth) ** 2,
                c=colour,
                edgecolors="black",
                linewidths=0.2,
                zorder=3,
            )


def video_frames(
    record: dict[str, Any], video: str | Path, t_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the video frames of a record's frames ``t_idx``, and scale its keypoints to them.

    Args:
        record: a record; its frame t is video frame ``start_frame + t`` (``start_frame`` 0 or
            absent for a clip that is a whole video).
        video: the video the keypoints were taken from.
        t_idx: (K,) frame indices into the record.

    Returns:
        (K, H, W, 3) uint8 frames and (M, K, V, 2) keypoints in their pixels (keypoints refer to
        the record's ``img_shape``, which may differ from the video's size).

    Raises:
        VideoError: the video is missing or unreadable, or shorter than the record.
    """
    start = int(record.get("start_frame") or 0)
    last = start + int(record["total_frames"]) - 1
    try:
        frames = read_frames(video, t_idx, start_frame=start)
    except VideoError as err:
        raise VideoError(
            f"{err}; clip {record['frame_dir']!r} covers video frames {start}..{last} "
            f"(start_frame {start}): is this the video its pose was taken from?"
        ) from None
    h, w = record["img_shape"]
    scale = np.array([frames.shape[2] / w, frames.shape[1] / h], np.float32)
    return frames, record["keypoint"][:, t_idx] * scale


def _legend(fig: Figure) -> None:
    handles = [
        Line2D([], [], color=SIDE_COLOURS[s], marker="o", markeredgecolor="black", label=label)
        for s, label in (("left", "subject's left"), ("right", "right"), ("centre", "middle"))
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        fontsize=7,
        frameon=False,
        facecolor="none",
    )


def render_pose_preview(
    records: list[dict[str, Any]],
    path: str | Path,
    *,
    layout: str,
    num_frames: int = 6,
    size: int = 64,
    sigma: float = 0.6,
    class_names: list[str] | None = None,
    video: str | Path | None = None,
) -> Path:
    """Write a PNG with one row per record and ``num_frames`` evenly spaced frames per row.

    The skeleton is drawn over the heatmaps (``size`` x ``size``, ``sigma``), or with ``video``
    over that video's frames (see :func:`pose_preview_figure`).
    """
    fig = pose_preview_figure(
        records,
        layout=layout,
        num_frames=num_frames,
        size=size,
        sigma=sigma,
        class_names=class_names,
        video=video,
    )
    return save_figure(fig, path)


def pose_preview_figure(
    records: list[dict[str, Any]],
    *,
    layout: str,
    num_frames: int = 6,
    size: int = 64,
    sigma: float = 0.6,
    class_names: list[str] | None = None,
    video: str | Path | None = None,
) -> Figure:
    """The contact sheet: one row per record, ``num_frames`` evenly spaced frames per row.

    Args:
        records: records to draw (all persons of each).
        layout: their keypoint layout.
        num_frames: frames per row, at most the clip's (a shorter clip shows each of its own
            frames once, the rest of its row empty).
        size, sigma: heatmap size and Gaussian width (heatmap sheet only).
        class_names: labels for the row titles.
        video: draw over this video's frames instead of the heatmaps; every record is read
            from it, record frame t at video frame ``start_frame + t``.

    Raises:
        VideoError: ``video`` is missing or unreadable, or shorter than a record.
    """
    lay = get_layout(layout)
    rows = len(records)
    # no more columns than the longest clip has frames (a 12-frame clip gives at most 12)
    num_frames = max(1, min(num_frames, max(int(r["total_frames"]) for r in records)))
    cell = (1.6, 1.6)
    if video is not None:
        info = probe_video(video)  # fails early, naming the file, if it is missing or unreadable
        cell = (2.4, 2.4 * info.height / max(info.width, 1))
    fig, axes = subplots(
        rows,
        num_frames,
        figsize=(cell[0] * num_frames, (cell[1] + 0.2) * rows),
        squeeze=False,
    )
    for r, rec in enumerate(records):
        shown = min(num_frames, int(rec["total_frames"]))  # each frame of a shorter clip once
        t_idx = np.linspace(0, rec["total_frames"] - 1, shown).round().astype(int)
        for ax in axes[r][shown:]:
            ax.axis("off")
        if video is None:
            _draw_heatmap_row(axes[r][:shown], rec, t_idx, lay, size=size, sigma=sigma)
        else:
            _draw_video_row(axes[r][:shown], rec, t_idx, lay, video)
        label = rec["label"]
        name = class_names[label] if class_names and 0 <= label < len(class_names) else label
        axes[r][0].set_ylabel(f"{rec['frame_dir']}\n{name}", fontsize=7)
        start = int(rec.get("start_frame") or 0)
        for c, ax in enumerate(axes[r][:shown]):
            ax.set_xticks([])
            ax.set_yticks([])
            title = f"t={t_idx[c]}" if video is None else f"frame {start + t_idx[c]}"
            ax.set_title(title, fontsize=7)
    fig.tight_layout()
    _legend(fig)
    return fig


def _draw_video_row(
    axes: np.ndarray, rec: dict[str, Any], t_idx: np.ndarray, lay: Layout, video: str | Path
) -> None:
    frames, kp = video_frames(rec, video, t_idx)  # (K, H, W, 3), (M, K, V, 2)
    score = rec["keypoint_score"][:, t_idx]
    h, w = frames.shape[1:3]
    for c, ax in enumerate(axes):
        ax.imshow(frames[c])
        for m in range(kp.shape[0]):
            draw_skeleton(ax, kp[m, c], score[m, c], lay, linewidth=0.9)
        ax.set_xlim(0, w - 1)
        ax.set_ylim(h - 1, 0)


def _draw_heatmap_row(
    axes: np.ndarray,
    rec: dict[str, Any],
    t_idx: np.ndarray,
    lay: Layout,
    *,
    size: int,
    sigma: float,
) -> None:
    prep = Compose([PoseCompact(), Resize(size=(size, size))])
    sample = prep(
        {
            "keypoint": rec["keypoint"][:, t_idx],
            "keypoint_score": rec["keypoint_score"][:, t_idx],
            "img_shape": tuple(rec["img_shape"]),
        },
        np.random.default_rng(0),
    )
    maps = pose_heatmaps(
        sample["keypoint"], sample["keypoint_score"], img_shape=(size, size), sigma=sigma
    )  # (V, T, H, W)
    for c, ax in enumerate(axes):
        ax.imshow(maps[:, c].max(axis=0), cmap="magma", vmin=0, vmax=1)
        for m in range(sample["keypoint"].shape[0]):
            draw_skeleton(ax, sample["keypoint"][m, c], sample["keypoint_score"][m, c], lay)
        ax.set_xlim(0, size - 1)
        ax.set_ylim(size - 1, 0)
