"""RGB side of a sample: decode the sampled frames, and format them for the model.

``DecodeFrames`` reads ``rgb_inds`` from the clip's video (PyAV, sequential decode) and adds
``imgs`` (N * T, H, W, 3) uint8; the geometric transforms of ``transforms`` then crop, resize and
flip frames and keypoints together. ``FormatRGB`` turns them into (N, 3, T, H, W) float32,
normalised with the configured mean and std.

Axis legend: N clips, T frames per clip (clip_len), H/W rows/columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mgproto.data import geometry as G
from mgproto.data.transforms import Sample, Transform
from mgproto.data.video import read_frames

FrameReader = Callable[..., np.ndarray]


def clip_path(
    record: dict, video_root: str | Path, *, long_videos: bool = False
) -> tuple[Path, int]:
    """The video of a record and the frame of it where the clip starts.

    Pre-cut clips (default): ``filename`` if given, else ``<frame_dir>.mp4`` (MMAction2's
    convention), offset 0 (or the record's ``frame_offset``). Long videos: ``filename`` if
    given, else ``<video_id>.mp4``, offset = the record's ``start_frame``. Relative paths are
    taken from ``video_root``.
    """
    if long_videos:
        if "start_frame" not in record:
            raise ValueError(
                f"record {record['frame_dir']!r} has no start_frame to cut it from a long video"
            )
        name = record.get("filename") or f"{record.get('video_id', record['frame_dir'])}.mp4"
        offset = int(record["start_frame"])
    else:
        name = record.get("filename") or f"{record['frame_dir']}.mp4"
        offset = int(record.get("frame_offset", 0))
    path = Path(name)
    return (path if path.is_absolute() else Path(video_root) / path), offset


def normalize_frames(
    frames: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]
) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float32, (x - mean) / std per channel."""
    scale = (1.0 / np.asarray(std, np.float32))[:, None, None, None]
    shift = np.asarray(mean, np.float32)[:, None, None, None]
    return (frames.transpose(3, 0, 1, 2).astype(np.float32) - shift) * scale


class DecodeFrames(Transform):
    """Decode the sampled RGB frames of the sample's video.

    If the video's frame size differs from the annotation's ``img_shape`` (e.g. a re-encoded
    copy, or frames a ``reader`` keeps downscaled), the keypoints are rescaled to the decoded
    size, as MMAction2's MMDecode does.

    Args:
        reader: ``reader(path, indices, start_frame=...) -> (K, H, W, 3) uint8``;
            :func:`read_frames` by default (inference over a long video passes a cache that
            decodes the video once).
    """

    requires = ("video_path", "rgb_inds", "img_shape")
    adds = ("imgs",)

    def __init__(self, *, reader: FrameReader = read_frames) -> None:
        self.reader = reader

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        inds = sample["rgb_inds"].reshape(-1)
        frames = self.reader(sample["video_path"], inds, start_frame=sample.get("frame_offset", 0))
        shape = frames.shape[1:3]
        if tuple(shape) != tuple(sample["img_shape"]) and "keypoint" in sample:
            sample["keypoint"] = G.resize_keypoints(
                sample["keypoint"], sample["keypoint_score"], sample["img_shape"], shape
            )
        sample["img_shape"] = tuple(shape)
        sample["imgs"] = frames
        return sample


def add_frame_differences(clip: np.ndarray) -> np.ndarray:
    """(3, T, H, W) -> (6, T, H, W): the frames, then x_t - x_(t-1) (frame 0 repeats t = 1's).

    Differences of the normalised frames cancel what does not move (background, clothes,
    lighting that changes slowly), so a network trained from scratch on few clips sees the
    moving hands instead of memorising each subject's appearance (docs/recipes.md).
    """
    diff = np.zeros_like(clip)
    if clip.shape[1] > 1:
        diff[:, 1:] = clip[:, 1:] - clip[:, :-1]
        diff[:, 0] = diff[:, 1]
    return np.concatenate([clip, diff])


class FormatRGB(Transform):
    """``imgs`` (N * T, H, W, 3) uint8 -> (N', C, T, H, W) float32 normalised (C = 3, or 6
    with ``frame_diff``: the frames and their temporal differences; 3 again with
    ``keep_frames=False``: the differences alone).

    With ``flip_test`` the mirrored frames are appended as N more clips (N' = 2N), in the same
    order as ``PoseHeatmaps`` appends its flipped view.
    """

    requires = ("imgs", "num_clips")

    def __init__(
        self,
        *,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        flip_test: bool = False,
        frame_diff: bool = False,
        keep_frames: bool = True,
    ) -> None:
        self.mean, self.std, self.flip_test = tuple(mean), tuple(std), flip_test
        self.frame_diff, self.keep_frames = frame_diff, keep_frames

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        frames = sample["imgs"]
        n = sample["num_clips"]
        clips = np.stack([normalize_frames(c, self.mean, self.std) for c in np.split(frames, n)])
        if self.frame_diff:
            clips = np.stack([add_frame_differences(c) for c in clips])
            if not self.keep_frames:  # the differences alone: (N, 3, T, H, W)
                clips = np.ascontiguousarray(clips[:, 3:])
        if self.flip_test:
            clips = np.concatenate([clips, np.ascontiguousarray(clips[..., ::-1])])
        sample["imgs"] = clips
        return sample
