"""Uniform temporal sampling (PoseConv3D's UniformSampleFrames, reference-spec section 2).

A clip of n frames is cut into T equal segments and one frame is taken from each: a random one
in training, and in test mode a deterministic draw from a generator seeded with ``test_seed``
(the reference reseeds with 255 on every call, so test clips are reproducible). Clips shorter
than T loop from a random start as the reference does (``short_clips="loop"``), or repeat each
frame in order (``"stretch"``); clips between T and 2T frames insert n - T single-frame skips at
random positions.

``dense_sample`` is the other classic: ``clip_len`` frames ``frame_interval`` apart from a random
offset in training, evenly spaced offsets at test time (MMAction2's SampleFrames, the Video
Swin recipes' 32x2). It is what ``data.rgb.frame_interval > 0`` selects for the RGB frames.

One call gives the indices of every modality of a sample (e.g. pose 32 frames and RGB 8
frames). Two alignments are offered:

- ``independent``: each modality is sampled on its own, as the reference does
  (MMUniformSampleFrames).
- ``nested``: RGB frames are a subset of the pose frames (every ``ratio``-th pose index, at the
  centre of each group), so each RGB frame coincides with a pose frame.

Axis legend: N clips, T frames per clip (clip_len).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Alignment = Literal["independent", "nested"]
ShortClips = Literal["loop", "stretch"]


def _stretch(
    n: int, clip_len: int, rng: np.random.Generator, clip_index: int, num_clips: int, test: bool
) -> np.ndarray:
    """(T,) increasing indices of a clip of n < T frames: each frame repeated ~T/n times.

    Index j is floor((j + u_j) n / T) with u_j uniform in [0, 1) in training, and the centre
    of the clip's share, (clip_index + 0.5) / num_clips, at test time. Unlike looping, the
    motion never jumps back to its start, so an action and its reverse stay distinct.
    """
    u = np.full(clip_len, (clip_index + 0.5) / num_clips) if test else rng.random(clip_len)
    return np.floor((np.arange(clip_len) + u) * n / clip_len).astype(np.int64)


def _one_clip(
    n: int,
    clip_len: int,
    rng: np.random.Generator,
    clip_index: int,
    num_clips: int,
    test_mode: bool,
    short_clips: ShortClips = "loop",
) -> np.ndarray:
    """(T,) frame indices of one clip (not yet wrapped modulo n)."""
    if n < clip_len and short_clips == "stretch":
        return _stretch(n, clip_len, rng, clip_index, num_clips, test_mode)
    if n < clip_len:
        if test_mode:
            start = clip_index if n < num_clips else clip_index * n // num_clips
        else:
            start = int(rng.integers(0, n))
        return np.arange(start, start + clip_len)
    if n < 2 * clip_len:
        offset = np.zeros(clip_len + 1, np.int64)
        offset[rng.choice(clip_len + 1, n - clip_len, replace=False)] = 1
        return np.arange(clip_len) + np.cumsum(offset)[:-1]
    bounds = np.arange(clip_len + 1) * n // clip_len
    return bounds[:-1] + rng.integers(0, bounds[1:] - bounds[:-1])


def uniform_sample(
    num_frames: int,
    clip_len: int,
    *,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
    test_seed: int = 255,
    short_clips: ShortClips = "loop",
) -> np.ndarray:
    """Frame indices of ``num_clips`` clips of ``clip_len`` frames each.

    Args:
        num_frames: n, frames in the sample (>= 1).
        clip_len: T, frames per clip.
        num_clips: N, clips (test time uses several).
        test_mode: deterministic sampling seeded with ``test_seed``.
        rng: generator for training mode (a fresh unseeded one if None).
        short_clips: n < T: ``loop`` from a random start (reference) or ``stretch`` (repeat
            frames in order, see :func:`_stretch`).

    Returns:
        (N, T) int64 indices in [0, num_frames).
    """
    if num_frames < 1:
        raise ValueError(f"cannot sample from an empty clip (num_frames={num_frames})")
    if clip_len < 1 or num_clips < 1:
        raise ValueError(f"clip_len and num_clips must be >= 1, got {clip_len}, {num_clips}")
    if test_mode:
        rng = np.random.default_rng(test_seed)
    elif rng is None:
        rng = np.random.default_rng()
    clips = [
        _one_clip(num_frames, clip_len, rng, i, num_clips, test_mode, short_clips)
        for i in range(num_clips)
    ]
    return np.mod(np.stack(clips), num_frames).astype(np.int64)


def dense_sample(
    num_frames: int,
    clip_len: int,
    frame_interval: int,
    *,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Indices of ``num_clips`` windows of ``clip_len`` frames, ``frame_interval`` apart.

    A window spans ``clip_len * frame_interval`` frames. Training: window k of N starts at a
    random offset in its share of the n - span + 1 possible starts (all at 0 when the clip is
    shorter than the span). Test: starts evenly spaced from 0 to n - span (one window: the
    middle). Indices past the end wrap around (the reference's ``out_of_bound_opt='loop'``).

    Returns:
        (N, T) int64 indices in [0, num_frames).
    """
    if num_frames < 1:
        raise ValueError(f"cannot sample from an empty clip (num_frames={num_frames})")
    if min(clip_len, frame_interval, num_clips) < 1:
        raise ValueError(
            "clip_len, frame_interval and num_clips must be >= 1, got "
            f"{clip_len}, {frame_interval}, {num_clips}"
        )
    span = clip_len * frame_interval
    room = max(num_frames - span, 0)  # the last possible start
    if test_mode:
        starts = (
            np.array([room // 2])
            if num_clips == 1
            else np.round(np.arange(num_clips) * room / (num_clips - 1)).astype(np.int64)
        )
    else:
        rng = rng if rng is not None else np.random.default_rng()
        share = (room + 1) / num_clips
        starts = np.floor(np.arange(num_clips) * share + rng.random(num_clips) * share)
        starts = np.minimum(starts.astype(np.int64), room)
    inds = starts[:, None] + np.arange(clip_len) * frame_interval
    return np.mod(inds, num_frames).astype(np.int64)


def sample_modalities(
    num_frames: int,
    clip_lens: dict[str, int],
    *,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
    test_seed: int = 255,
    alignment: Alignment = "independent",
    short_clips: ShortClips = "loop",
    rgb_interval: int = 0,
) -> dict[str, np.ndarray]:
    """Indices for each modality of one sample, from the same clip.

    Args:
        num_frames: frames in the sample.
        clip_lens: modality -> frames per clip, e.g. ``{"pose": 32, "rgb": 8}``.
        alignment: ``independent`` (reference) or ``nested`` (RGB frames are pose frames;
            needs ``pose`` and ``rgb`` with a pose length that is a multiple of the RGB one).
        rgb_interval: > 0: the RGB frames are a dense window, this many frames apart
            (:func:`dense_sample`, independent of the pose frames); 0: uniform.

    Returns:
        modality -> (N, L_modality) int64 indices.
    """
    if rgb_interval > 0 and "rgb" in clip_lens:
        if alignment == "nested":
            raise ValueError("nested alignment needs uniform RGB sampling (frame_interval 0)")
        rest = {k: v for k, v in clip_lens.items() if k != "rgb"}
        out = sample_modalities(num_frames, rest, num_clips=num_clips, test_mode=test_mode,
                                rng=rng, test_seed=test_seed, short_clips=short_clips)  # fmt: skip
        if test_mode:
            rng = np.random.default_rng(test_seed)
        out["rgb"] = dense_sample(num_frames, clip_lens["rgb"], rgb_interval,
                                  num_clips=num_clips, test_mode=test_mode, rng=rng)  # fmt: skip
        return out
    if alignment == "independent" or not {"pose", "rgb"} <= set(clip_lens):
        return {
            name: uniform_sample(
                num_frames,
                length,
                num_clips=num_clips,
                test_mode=test_mode,
                rng=rng,
                test_seed=test_seed,
                short_clips=short_clips,
            )
            for name, length in clip_lens.items()
        }
    if alignment != "nested":
        raise ValueError(f"unknown alignment {alignment!r}; valid: independent, nested")
    pose_len, rgb_len = clip_lens["pose"], clip_lens["rgb"]
    if pose_len % rgb_len:
        raise ValueError(
            f"nested alignment needs pose clip_len ({pose_len}) to be a multiple "
            f"of the RGB clip_len ({rgb_len})"
        )
    out = sample_modalities(
        num_frames,
        {k: v for k, v in clip_lens.items() if k != "rgb"},
        num_clips=num_clips,
        test_mode=test_mode,
        rng=rng,
        test_seed=test_seed,
        short_clips=short_clips,
    )
    ratio = pose_len // rgb_len
    out["rgb"] = out["pose"][:, ratio // 2 :: ratio].copy()
    return out
