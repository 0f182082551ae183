"""The annotated video of ``mgproto predict``: skeleton overlay, current label, timeline strip.

Each output frame is the input frame (scaled so its longer side is at most ``max_side``) with

- the skeleton of the pose record drawn over the person (joints with score >= 0.3),
- a banner with the current segment's label and the frame's confidence,
- a strip along the bottom with every segment in its class colour and a play-head.

Output size: the input's, scaled down to ``max_side`` or up to ``MIN_SIDE`` (longer side).

Frames are decoded, drawn and encoded one at a time, so memory does not grow with the video.
Axis legend: T frames, V joints, K classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mgproto.data.layouts import get_layout
from mgproto.data.video import VideoWriter, iter_frames
from mgproto.infer.timeline import Segment

MIN_SIDE = 384  # tiny videos (synthetic clips are 64-128 px) are drawn at least this large


def class_colors(num_classes: int) -> list[tuple[int, int, int]]:
    """K distinct RGB colours (matplotlib's tab20, cycled)."""
    cmap = matplotlib.colormaps["tab20"]
    return [tuple(int(255 * c) for c in cmap(k % 20)[:3]) for k in range(num_classes)]


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def _frame_labels(segments: Sequence[Segment], num_frames: int) -> np.ndarray:
    """(T,) segment index of each frame, -1 outside segments."""
    out = np.full(num_frames, -1, dtype=np.int64)
    for i, s in enumerate(segments):
        out[s.start_frame : s.end_frame] = i
    return out


def _strip(
    segments: Sequence[Segment], num_frames: int, width: int, height: int, colors
) -> Image.Image:
    strip = Image.new("RGB", (width, height), (40, 40, 40))
    draw = ImageDraw.Draw(strip)
    for s in segments:
        x0 = s.start_frame / num_frames * width
        x1 = max(x0 + 1, s.end_frame / num_frames * width)
        draw.rectangle([x0, 0, x1, height], fill=colors[s.label_id])
    return strip


def render_annotated_video(
    path: str | Path,
    video: str | Path,
    record: dict,
    segments: Sequence[Segment],
    probs: np.ndarray,
    *,
    fps: float,
    layout: str,
    num_classes: int,
    max_side: int = 640,
) -> Path:
    """Write the annotated mp4 (atomically).

    Args:
        path: output mp4.
        video: the input video.
        record: its pose record (keypoint (M, T, V, 2) in the video's pixels, keypoint_score).
        segments: the timeline.
        probs: (T, K) per-frame probabilities (the banner's confidence).
        fps: frame rate of the output.
        layout: the record's keypoint layout (limbs to draw).
        num_classes: K (colours).
        max_side: the output's longer side at most (larger videos are scaled down; smaller
            ones are scaled up to ``MIN_SIDE`` so the labels stay legible).
    """
    h, w = (int(x) for x in record["img_shape"])
    scale = min(max(1.0, MIN_SIDE / max(h, w)), max_side / max(h, w))
    out_h, out_w = _even(h * scale), _even(w * scale)
    sx, sy = out_w / w, out_h / h
    num_frames = int(record["total_frames"])
    colors = class_colors(num_classes)
    strip_h = max(8, out_h // 24)
    strip = _strip(segments, num_frames, out_w, strip_h, colors)
    font = ImageFont.load_default(size=max(10, out_h // 22))
    limbs = get_layout(layout).limbs
    seg_of = _frame_labels(segments, num_frames)
    kps, scores = record["keypoint"], record["keypoint_score"]
    with VideoWriter(path, fps=fps, crf=23) as writer:
        for t, image in iter_frames(video, size=(out_h, out_w)):
            if t >= num_frames:
                break
            canvas = Image.fromarray(image)
            draw = ImageDraw.Draw(canvas)
            for person in range(kps.shape[0]):
                pts = kps[person, t] * (sx, sy)
                ok = scores[person, t] >= 0.3
                for a, b in limbs:
                    if ok[a] and ok[b]:
                        draw.line([tuple(pts[a]), tuple(pts[b])], fill=(0, 255, 120), width=2)
                for (x, y), good in zip(pts, ok):
                    if good:
                        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(255, 255, 255))
            seg = seg_of[t]
            if seg >= 0:
                s = segments[seg]
                conf = probs[t, s.label_id]
                text = f"{s.label}  {conf:.2f}" if np.isfinite(conf) else s.label
                box = draw.textbbox((6, 4), text, font=font)
                draw.rectangle([0, 0, box[2] + 6, box[3] + 4], fill=colors[s.label_id])
                draw.text((6, 4), text, fill=(0, 0, 0), font=font)
            canvas.paste(strip, (0, out_h - strip_h))
            x = t / num_frames * out_w
            draw.line([(x, out_h - strip_h), (x, out_h)], fill=(255, 255, 255), width=2)
            writer.write(np.asarray(canvas))
    return Path(path)
