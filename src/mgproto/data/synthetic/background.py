"""Rooms and light of the synthetic benchmark: background textures and lighting drift.

Each subject sits in front of their own textured wall (like the sponsor boards of iMiGUE's press
conferences): stripes, smooth noise, a grid of logos or wall blocks, in three colours, drawn from
the subject's ``background_seed`` so every clip of a subject shows the same wall. Lighting drifts
over each clip: a global brightness ramp with a slow wobble, a colour tint and a horizontal
gradient, all changing with time.

Axis legend: T frames, H/W rows/columns, C colour channels (RGB).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from mgproto.data.synthetic.subjects import Subject


def _mix(colors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(H, W, 3) blend of (K, 3) colours with (K, H, W) weights that sum to 1."""
    return np.einsum("khw,kc->hwc", weights, colors)


def _stripes(rng: np.random.Generator, size: int, period: float, colors: np.ndarray) -> np.ndarray:
    theta = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    phase = (x * np.cos(theta) + y * np.sin(theta)) / period
    wave = np.clip(0.5 + rng.uniform(0.6, 3.0) * np.sin(2 * np.pi * phase), 0, 1)
    accent = (np.sin(2 * np.pi * phase / rng.integers(3, 6)) > 0.85).astype(np.float32)
    w = np.stack([wave * (1 - accent), (1 - wave) * (1 - accent), accent])
    return _mix(colors, w)


def _noise(rng: np.random.Generator, size: int, period: float, colors: np.ndarray) -> np.ndarray:
    total = np.zeros((size, size), np.float32)
    for octave, weight in ((1.0, 0.65), (0.35, 0.35)):
        cells = max(2, int(size / (period * 2 * octave)) + 2)
        grid = Image.fromarray(rng.uniform(0, 255, (cells, cells)).astype(np.uint8))
        total += weight * np.asarray(grid.resize((size, size), Image.BICUBIC), np.float32) / 255
    lo, hi = np.quantile(total, [0.33, 0.66])
    w0 = np.clip((lo - total) * 12 + 0.5, 0, 1)
    w2 = np.clip((total - hi) * 12 + 0.5, 0, 1)
    w1 = np.clip(1 - w0 - w2, 0, 1)
    return _mix(colors, np.stack([w0, w1, w2]) / (w0 + w1 + w2 + 1e-6))


def _logos(rng: np.random.Generator, size: int, period: float, colors: np.ndarray) -> np.ndarray:
    img = Image.new("RGB", (size, size), tuple(int(c) for c in colors[0]))
    draw = ImageDraw.Draw(img)
    step = period * 2.5
    n = int(size / step) + 2
    for i in range(n):
        for j in range(n):
            x = (j + 0.5 * (i % 2)) * step
            y = i * step * 0.8
            col = tuple(int(c) for c in colors[1 + (i + j) % 2])
            r = step * 0.3
            if (i + j) % 3 == 0:
                draw.ellipse([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=col)
            else:
                draw.rectangle([x - r, y - r * 0.25, x + r, y + r * 0.25], fill=col)
                draw.rectangle([x - r * 0.7, y + r * 0.4, x + r * 0.4, y + r * 0.55], fill=col)
    return np.asarray(img, np.float32)


def _blocks(rng: np.random.Generator, size: int, period: float, colors: np.ndarray) -> np.ndarray:
    img = Image.new("RGB", (size, size), tuple(int(c) for c in colors[0]))
    draw = ImageDraw.Draw(img)
    for _ in range(int(3 * (size / period) ** 2 / 8) + 8):
        x, y = rng.uniform(-period, size, 2)
        w, h = rng.uniform(0.5, 3.0, 2) * period
        col = colors[rng.integers(3)] * rng.uniform(0.7, 1.15)
        draw.rectangle(
            [x, y, x + w, y + h],
            fill=tuple(int(c) for c in np.clip(col, 0, 255)),
            outline=tuple(int(c * 0.5) for c in col),
            width=max(1, int(period / 12)),
        )
    return np.asarray(img, np.float32)


_TEXTURES = {"stripes": _stripes, "noise": _noise, "logos": _logos, "blocks": _blocks}


@lru_cache(maxsize=8)
def background_image(subject: Subject, size: int, pixels_per_unit: float) -> Image.Image:
    """The subject's wall as a (size x size) RGB image.

    Args:
        subject: whose wall (its texture kind, colours, pattern size and seed).
        size: side of the canvas in pixels (the frame padded for camera jitter, supersampled).
        pixels_per_unit: canvas pixels per frame side (frame side x supersampling), so the
            pattern keeps its size relative to the person at every resolution.

    Cached: every clip of a subject reuses the image (callers copy before drawing).
    """
    rng = np.random.default_rng(subject.background_seed)
    period = max(2.0, subject.background_scale * pixels_per_unit)
    colors = np.asarray(subject.background_colors, np.float32)
    tex = _TEXTURES[subject.background](rng, size, period, colors)
    mean = tex.mean(axis=(0, 1))
    tex = mean + rng.uniform(0.5, 1.0) * (tex - mean)  # contrast
    return Image.fromarray(np.clip(tex, 0, 255).astype(np.uint8))


def lighting(num_frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Lighting drift of one clip.

    Returns:
        ``gain`` (T, 3) per-channel multiplier (brightness ramp, wobble and colour tint) and
        ``gradient`` (T,) strength of a left-to-right brightness slope.
    """
    ramp = np.linspace(-1.0, 1.0, num_frames) * rng.choice([-1.0, 1.0])
    t = np.arange(num_frames) / 25.0
    bright = 1.0 + rng.uniform(0.03, 0.2) * ramp
    bright += rng.uniform(0.0, 0.05) * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t
                                              + rng.uniform(0, 2 * np.pi))  # fmt: skip
    tint = rng.normal(0, 1, 3)
    tint = tint / np.linalg.norm(tint) * rng.uniform(0.0, 0.08)
    gain = bright[:, None] * (1.0 + ramp[:, None] * tint[None] + rng.uniform(-0.05, 0.05, 3))
    gradient = rng.uniform(-0.25, 0.25) + rng.uniform(-0.15, 0.15) * ramp
    return {"gain": gain.astype(np.float32), "gradient": gradient.astype(np.float32)}


def apply_lighting(frames: np.ndarray, light: dict[str, np.ndarray]) -> np.ndarray:
    """(T, H, W, 3) uint8 frames lit by ``lighting(...)``; returns uint8 of the same shape."""
    _, _, w, _ = frames.shape
    x = (np.arange(w, dtype=np.float32) / max(w - 1, 1) - 0.5)[None, None, :, None]
    scale = light["gain"][:, None, None, :] * (1.0 + light["gradient"][:, None, None, None] * x)
    return np.clip(frames.astype(np.float32) * scale + 0.5, 0, 255).astype(np.uint8)
