"""Pure geometric functions on keypoints and frames (crop boxes, resize, flip).

Keypoint convention: pixel (column x, row y) has coordinate (x, y); a joint with score 0 is
missing, sits at (0, 0) and is never moved. Boxes are (x0, y0, x1, y1) integers, x1/y1
exclusive, and may leave the frame (the outside is zero padding).

Axis legend: M persons, T frames, V joints, H/W rows/columns.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

Box = tuple[int, int, int, int]


def valid_mask(keypoint_score: np.ndarray) -> np.ndarray:
    """(M, T, V) bool: joints that exist (score > 0)."""
    return keypoint_score > 0


def compact_box(
    keypoint: np.ndarray,
    keypoint_score: np.ndarray,
    img_shape: tuple[int, int],
    *,
    padding: float = 0.25,
    threshold: int = 10,
    hw_ratio: float | None = 1.0,
    allow_imgpad: bool = True,
) -> Box:
    """PoseCompact's box: all valid joints of all persons and frames, grown and squared.

    Args:
        keypoint: (M, T, V, 2); keypoint_score: (M, T, V).
        img_shape: (H, W).
        padding: the box grows by this share of its half size on each side.
        threshold: a box narrower or lower than this (pixels) means "no crop".
        hw_ratio: height / width of the box (1 = square), None to keep the joints' ratio.
        allow_imgpad: let the box leave the frame (else it is clipped to the frame).

    Returns:
        (x0, y0, x1, y1); the whole frame if there are no valid joints.
    """
    h, w = img_shape
    valid = valid_mask(keypoint_score)
    if not valid.any():
        return 0, 0, w, h
    pts = keypoint[valid]
    min_x, min_y = pts.min(axis=0)
    max_x, max_y = pts.max(axis=0)
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return 0, 0, w, h
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_h = max(hw_ratio * half_w, half_h)
        half_w = max(half_h / hw_ratio, half_w)
    x0, x1, y0, y1 = cx - half_w, cx + half_w, cy - half_h, cy + half_h
    if not allow_imgpad:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return int(x0), int(y0), int(x1), int(y1)


def random_resized_crop_box(
    img_shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    area_range: tuple[float, float] = (0.56, 1.0),
    aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3),
    max_attempts: int = 10,
) -> Box:
    """A random box of area ~ U(area_range) * H * W and log-uniform aspect ratio (w / h).

    The first of ``max_attempts`` candidates that fits the frame is placed at a uniform random
    offset; if none fits, the centred square of side min(H, W).
    """
    h, w = img_shape
    log_lo, log_hi = math.log(aspect_ratio_range[0]), math.log(aspect_ratio_range[1])
    ratios = np.exp(rng.uniform(log_lo, log_hi, size=max_attempts))
    areas = rng.uniform(*area_range, size=max_attempts) * h * w
    widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
    heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
    for cw, ch in zip(widths, heights):
        if 0 < cw <= w and 0 < ch <= h:
            x0 = int(rng.integers(0, w - cw + 1))
            y0 = int(rng.integers(0, h - ch + 1))
            return x0, y0, x0 + int(cw), y0 + int(ch)
    side = min(h, w)
    x0, y0 = (w - side) // 2, (h - side) // 2
    return x0, y0, x0 + side, y0 + side


def crop_keypoints(keypoint: np.ndarray, keypoint_score: np.ndarray, box: Box) -> np.ndarray:
    """Keypoints in the coordinates of ``box`` (valid joints shifted; missing ones stay 0)."""
    out = keypoint.copy()
    valid = valid_mask(keypoint_score)
    out[valid] -= np.array(box[:2], dtype=out.dtype)
    return out


def resize_keypoints(
    keypoint: np.ndarray, keypoint_score: np.ndarray, src: tuple[int, int], dst: tuple[int, int]
) -> np.ndarray:
    """Scale valid joints from a frame of ``src`` (H, W) to one of ``dst`` (H, W)."""
    out = keypoint.copy()
    scale = np.array([dst[1] / src[1], dst[0] / src[0]], dtype=out.dtype)
    valid = valid_mask(keypoint_score)
    out[valid] *= scale
    return out


def flip_keypoints(
    keypoint: np.ndarray, keypoint_score: np.ndarray, width: int, flip_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror horizontally: x -> W - 1 - x for valid joints, then swap left/right joints.

    Args:
        keypoint: (M, T, V, 2); keypoint_score: (M, T, V).
        width: W of the frame.
        flip_index: (V,) permutation from the layout (``Layout.flip_index``).

    Returns:
        The flipped (keypoint, keypoint_score); flipping twice gives the input back.
    """
    out = keypoint.copy()
    valid = valid_mask(keypoint_score)
    out[..., 0] = np.where(valid, (width - 1) - out[..., 0], out[..., 0])
    return out[..., flip_index, :], keypoint_score[..., flip_index].copy()


def resized_shape(img_shape: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """Target (H, W) for ``size``: (h, w) exactly, or (-1, s) = short side s, keeping the ratio."""
    h, w = img_shape
    if size[0] == -1:
        scale = size[1] / min(h, w)
        return int(h * scale + 0.5), int(w * scale + 0.5)
    return int(size[0]), int(size[1])


# ---- frames: (T, H, W, 3) uint8 -------------------------------------------------------------


def crop_frames(frames: np.ndarray, box: Box) -> np.ndarray:
    """Crop (T, H, W, C) frames to ``box``, zero-padding where the box leaves the frame."""
    t, h, w, c = frames.shape
    x0, y0, x1, y1 = box
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        return frames[:, y0:y1, x0:x1]
    out = np.zeros((t, y1 - y0, x1 - x0, c), frames.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[:, sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = frames[:, sy0:sy1, sx0:sx1]
    return out


def resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (T, H, W, C) uint8 frames to (h, w) = ``size`` (half-pixel centres)."""
    if frames.shape[1:3] == tuple(size):
        return frames
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    y = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    return y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def flip_frames(frames: np.ndarray) -> np.ndarray:
    """Mirror (T, H, W, C) frames horizontally (column j -> W - 1 - j)."""
    return np.ascontiguousarray(frames[:, :, ::-1])
