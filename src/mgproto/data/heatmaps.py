"""Keypoint and limb pseudo-heatmaps (PoseConv3D, reference-spec section 3).

Pixel (column x, row y) has coordinate exactly (x, y). A joint draws
``v * exp(-((x - mu_x)^2 + (y - mu_y)^2) / (2 sigma^2))`` inside the window
``[trunc(mu - 3 sigma), trunc(mu + 3 sigma) + 1)`` clipped to the grid (nothing outside), where
v is its score (or 1). A limb (a, b) draws the same profile of the distance to the segment, with
``v = min(v_a, v_b)`` inside the endpoints' box grown by 3 sigma; a limb shorter than 1 pixel
draws the Gaussian of its first joint with value v_a. Persons combine by maximum. Values below
``eps`` draw nothing. The result matches MMAction2's GeneratePoseTarget to float precision, but
is computed for all frames and joints of a person at once, only inside each window, and joints and
limbs may be stacked in one output (channels [joints..., limbs...]).

Axis legend: M persons, T frames, V joints, L limbs, C channels, H/W heatmap rows/columns.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-4  # MMAction2's threshold (PYSKL uses 1e-3)


def _window(lo: np.ndarray, hi: np.ndarray, sigma: float, size: int) -> tuple[np.ndarray, ...]:
    """Integer window [trunc(lo - 3 sigma), trunc(hi + 3 sigma) + 1) clipped to [0, size)."""
    start = np.maximum(np.trunc(lo - 3 * sigma), 0).astype(np.int64)
    stop = np.minimum(np.trunc(hi + 3 * sigma) + 1, size).astype(np.int64)
    return start, stop


def _gaussian(p: dict, item: np.ndarray, rx: np.ndarray, ry: np.ndarray, sigma: float):
    """Joint Gaussian at pixel offsets (rx, ry) from the joint; ``item`` indexes ``p``."""
    d2 = rx * rx + ry * ry
    d2 *= np.float32(-1 / (2 * sigma**2))
    return np.exp(d2, out=d2) * p["amp"][item]


def _segment(p: dict, item: np.ndarray, rx: np.ndarray, ry: np.ndarray, sigma: float):
    """Gaussian of the distance to segment a-b, at pixel offsets (rx, ry) from a.

    The projection parameter t = <p - a, b - a> / |b - a|^2 is clipped to [0, 1]: t <= 0 gives
    the distance to a, t >= 1 to b, else to the line (reference-spec 3.3).
    """
    dx, dy = p["dx"][item], p["dy"][item]
    t = (rx * dx + ry * dy) * p["inv_d2ab"][item]
    np.clip(t, 0, 1, out=t)
    ex = rx - t * dx
    ey = ry - t * dy
    d2 = ex * ex
    d2 += ey * ey
    d2 *= np.float32(-1 / (2 * sigma**2))
    return np.exp(d2, out=d2) * p["amp"][item]


def _draw(out: np.ndarray, items: dict, value_fn, sigma: float, *, fresh: bool) -> None:
    """Max-draw each item's window into ``out`` (C, T, H, W), in place.

    ``items`` holds 1-D arrays of equal length: channel ``c``, frame ``t``, window ``x0, x1,
    y0, y1``, anchor ``ax, ay``, amplitude ``amp`` and whatever ``value_fn`` reads. The windows
    are flattened into one ragged list of pixels (no padding), evaluated in one vectorised call
    and scattered. (c, t) must be unique among the items so that no two pixels collide (callers
    draw one person at a time); ``fresh`` says the target pixels are still zero (first person),
    so values are written without reading them back.
    """
    _, num_t, h, w = out.shape
    kx, ky = items["x1"] - items["x0"], items["y1"] - items["y0"]
    keep = (kx > 0) & (ky > 0) & (items["amp"] > 0)
    if not keep.any():
        return
    items = {k: v[keep] for k, v in items.items()}
    kx, ky = kx[keep], ky[keep]
    area = kx * ky
    item = np.repeat(np.arange(area.size), area)  # item of each pixel
    offset = np.arange(item.size) - np.repeat(np.cumsum(area) - area, area)
    row_len = kx[item]
    local_y = offset // row_len
    local_x = offset - local_y * row_len
    rx = (items["x0"] - items["ax"]).astype(np.float32)[item] + local_x.astype(np.float32)
    ry = (items["y0"] - items["ay"]).astype(np.float32)[item] + local_y.astype(np.float32)
    values = value_fn(items, item, rx, ry, sigma)
    base = ((items["c"] * num_t + items["t"]) * h + items["y0"]) * w + items["x0"]
    idx = base[item] + local_y * w + local_x
    flat = out.reshape(-1)
    flat[idx] = values if fresh else np.maximum(flat[idx], values)


def _joint_items(
    kp: np.ndarray,
    value: np.ndarray,
    chan: np.ndarray,
    sigma: float,
    size: tuple[int, int],
    eps: float,
) -> dict:
    """Draw items of joint Gaussians for one person: kp (T, P, 2), value (T, P)."""
    h, w = size
    num_t, num_p = value.shape
    ax, ay = kp[..., 0].reshape(-1), kp[..., 1].reshape(-1)
    x0, x1 = _window(ax, ax, sigma, w)
    y0, y1 = _window(ay, ay, sigma, h)
    amp = value.reshape(-1).astype(np.float32)
    return {
        "c": np.tile(chan, num_t),
        "t": np.repeat(np.arange(num_t), num_p),
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": y1,
        "ax": ax,
        "ay": ay,
        "amp": np.where(amp >= eps, amp, 0).astype(np.float32),
    }


def joint_heatmaps(
    keypoint: np.ndarray,
    value: np.ndarray,
    *,
    size: tuple[int, int],
    sigma: float,
    eps: float = EPS,
) -> np.ndarray:
    """Gaussian maps of every joint, max over persons.

    Args:
        keypoint: (M, T, V, 2) heatmap-pixel coordinates.
        value: (M, T, V) amplitudes (scores, or ones).
        size: (H, W) of the grid.
        sigma: Gaussian width in pixels.

    Returns:
        (V, T, H, W) float32.
    """
    num_m, num_t, num_v, _ = keypoint.shape
    out = np.zeros((num_v, num_t, *size), np.float32)
    kp = keypoint.astype(np.float32)
    for m in range(num_m):
        items = _joint_items(kp[m], value[m], np.arange(num_v), sigma, size, eps)
        _draw(out, items, _gaussian, sigma, fresh=m == 0)
    return out


def limb_heatmaps(
    keypoint: np.ndarray,
    value: np.ndarray,
    limbs: np.ndarray | list[tuple[int, int]],
    *,
    size: tuple[int, int],
    sigma: float,
    eps: float = EPS,
) -> np.ndarray:
    """Maps of the distance to each limb segment, max over persons.

    Args:
        keypoint: (M, T, V, 2) heatmap-pixel coordinates.
        value: (M, T, V) amplitudes.
        limbs: (L, 2) joint-index pairs.
        size: (H, W) of the grid.
        sigma: Gaussian width in pixels.

    Returns:
        (L, T, H, W) float32.
    """
    h, w = size
    limbs = np.asarray(limbs, dtype=np.int64).reshape(-1, 2)
    num_m, num_t = keypoint.shape[:2]
    num_l = len(limbs)
    out = np.zeros((num_l, num_t, h, w), np.float32)
    kp = keypoint.astype(np.float32)
    chan = np.arange(num_l)
    for m in range(num_m):
        a, b = kp[m][:, limbs[:, 0]], kp[m][:, limbs[:, 1]]  # (T, L, 2)
        va, vb = value[m][:, limbs[:, 0]], value[m][:, limbs[:, 1]]  # (T, L)
        both = np.minimum(va, vb) >= eps  # a limb draws only if both ends do
        short = (((a - b) ** 2).sum(-1) < 1).reshape(-1)
        # a limb shorter than 1 px draws the Gaussian of its first joint, amplitude v_a
        joints = _joint_items(a, np.where(both, va, 0), chan, sigma, size, eps)
        _draw(out, {k: v[short] for k, v in joints.items()}, _gaussian, sigma, fresh=m == 0)
        ax, ay, bx, by = (arr.reshape(-1) for arr in (a[..., 0], a[..., 1], b[..., 0], b[..., 1]))
        x0, x1 = _window(np.minimum(ax, bx), np.maximum(ax, bx), sigma, w)
        y0, y1 = _window(np.minimum(ay, by), np.maximum(ay, by), sigma, h)
        amp = np.where(both, np.minimum(va, vb), 0).reshape(-1).astype(np.float32)
        dx, dy = bx - ax, by - ay
        segs = {
            "c": np.tile(chan, num_t),
            "t": np.repeat(np.arange(num_t), num_l),
            "x0": x0,
            "x1": x1,
            "y0": y0,
            "y1": y1,
            "ax": ax,
            "ay": ay,
            "dx": dx,
            "dy": dy,
            "inv_d2ab": 1 / np.maximum(dx * dx + dy * dy, 1),
            "amp": amp,
        }
        _draw(out, {k: v[~short] for k, v in segs.items()}, _segment, sigma, fresh=m == 0)
    return out


def pose_heatmaps(
    keypoint: np.ndarray,
    keypoint_score: np.ndarray | None,
    *,
    img_shape: tuple[int, int],
    sigma: float,
    scaling: float = 1.0,
    with_joints: bool = True,
    limbs: np.ndarray | list[tuple[int, int]] | None = None,
    use_score: bool = True,
    eps: float = EPS,
) -> np.ndarray:
    """The model's pose input: joint and/or limb heatmaps, channels first.

    Args:
        keypoint: (M, T, V, 2) image-pixel coordinates.
        keypoint_score: (M, T, V) confidences, or None (all ones).
        img_shape: (H, W) of the image frame the coordinates refer to.
        sigma: Gaussian width in heatmap pixels.
        scaling: heatmap size = int(img_shape * scaling + 0.5); coordinates scale with it.
        with_joints: include one channel per joint.
        limbs: include one channel per limb (None or empty = no limb channels).
        use_score: amplitude = score (else 1 for every joint).

    Returns:
        (C, T, H, W) float32 with C = V * with_joints + L.
    """
    if not with_joints and (limbs is None or len(limbs) == 0):
        raise ValueError("pose_heatmaps: ask for joints, limbs or both")
    h = int(img_shape[0] * scaling + 0.5)
    w = int(img_shape[1] * scaling + 0.5)
    kp = keypoint.astype(np.float32) * np.float32(scaling)
    if keypoint_score is None or not use_score:
        value = np.ones(kp.shape[:-1], np.float32)
    else:
        value = keypoint_score.astype(np.float32)
    parts = []
    if with_joints:
        parts.append(joint_heatmaps(kp, value, size=(h, w), sigma=sigma, eps=eps))
    if limbs is not None and len(limbs):
        parts.append(limb_heatmaps(kp, value, limbs, size=(h, w), sigma=sigma, eps=eps))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def flip_heatmaps(heatmaps: np.ndarray, channel_flip_index: np.ndarray) -> np.ndarray:
    """The horizontally mirrored view of (C, T, H, W) heatmaps (test-time flip).

    Reverses the width axis and swaps left/right channels; equals the heatmaps of keypoints
    flipped with x -> W - 1 - x (the exact mirror of the pixel grid).
    """
    return np.ascontiguousarray(heatmaps[np.asarray(channel_flip_index), :, :, ::-1])
