"""RGB frame i and pose frame i come from the same moment after sampling, cropping and flipping.

A generated video draws, in frame t, a bright dot at a position unique to t; the nose keypoint of
frame t sits on that dot. After the two-stream pipeline, the dot in each RGB frame must be where
the nose heatmap of the pose frame with the same source index peaks.
"""

import numpy as np
import pytest
import torch

from mgproto.config import DataConfig, PoseInputConfig, RGBInputConfig, SamplingConfig
from mgproto.data.dataset import ClipDataset, collate
from mgproto.data.pipelines import build_pipeline
from mgproto.data.video import write_video

T, H, W = 64, 96, 128


def _dot(t: int) -> tuple[int, int]:
    return 24 + (t % 8) * 10, 20 + (t // 8) * 8


@pytest.fixture(scope="module")
def indexed_clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("aligned")
    frames = np.zeros((T, H, W, 3), np.uint8)
    kp = np.zeros((1, T, 17, 2), np.float32)
    corners = np.array([[8, 8], [120, 8], [8, 88], [120, 88]], np.float32)
    for t in range(T):
        x, y = _dot(t)
        frames[t, y - 1 : y + 2, x - 1 : x + 2] = 255
        kp[0, t, 0] = (x, y)
        kp[0, t, 1:] = corners[np.arange(16) % 4]  # fixed joints keep the compact box steady
    write_video(root / "clip.mp4", frames, fps=25, crf=10)
    record = {
        "frame_dir": "clip",
        "label": 0,
        "img_shape": (H, W),
        "original_shape": (H, W),
        "total_frames": T,
        "keypoint": kp,
        "keypoint_score": np.ones((1, T, 17), np.float32),
        "filename": "clip.mp4",
    }
    return root, record


def _config(**sampling) -> DataConfig:
    return DataConfig(
        modalities=("rgb", "pose"),
        alignment="nested",
        rgb=RGBInputConfig(
            pre_crop_size=80, train_size=64, test_size=64, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)
        ),
        pose=PoseInputConfig(train_size=64, test_size=64, sigma=1.0),
        sampling=SamplingConfig(**sampling),
    )


def _peak(image: np.ndarray) -> np.ndarray:
    y, x = np.unravel_index(np.argmax(image), image.shape)
    return np.array([x, y])


def _check_views(imgs: torch.Tensor, heatmaps: torch.Tensor) -> None:
    """imgs (N, 3, 8, H, W), heatmaps (N, 17, 32, H, W) with nested indices (rgb j = pose 4j+2)."""
    for n in range(imgs.shape[0]):
        for j in range(imgs.shape[2]):
            rgb_peak = _peak(imgs[n, :, j].mean(0).numpy())
            pose_peak = _peak(heatmaps[n, 0, 4 * j + 2].numpy())
            assert np.abs(rgb_peak - pose_peak).max() <= 1, (n, j, rgb_peak, pose_peak)


@pytest.mark.parametrize("seed", range(6))
def test_training_views_aligned(indexed_clip, seed):
    root, record = indexed_clip
    ds = ClipDataset([record], build_pipeline(_config(), train=True), seed=seed, video_root=root)
    item = ds[0]
    assert item["imgs"].shape == (1, 3, 8, 64, 64)
    assert item["heatmaps"].shape == (1, 17, 32, 64, 64)
    _check_views(item["imgs"], item["heatmaps"])


def test_test_views_aligned_including_flip(indexed_clip):
    root, record = indexed_clip
    cfg = _config(num_clips_test=2, flip_test=True)
    item = ClipDataset([record], build_pipeline(cfg, train=False), video_root=root)[0]
    assert item["imgs"].shape[0] == 4 and item["heatmaps"].shape[0] == 4  # 2 clips x 2 views
    _check_views(item["imgs"], item["heatmaps"])


def test_flip_decisions_vary_and_content_moves(indexed_clip):
    root, record = indexed_clip
    pipe = build_pipeline(_config(), train=True)
    flips = set()
    for seed in range(12):
        sample = dict(record, video_path=root / "clip.mp4", img_shape=(H, W))
        out = pipe(sample, np.random.default_rng(seed))
        flips.add(out["flipped"])
    assert flips == {True, False}


def test_single_modality_pipelines_load_only_what_they_need(indexed_clip, tmp_path):
    root, record = indexed_clip
    pose_only = build_pipeline(DataConfig(modalities=("pose",)), train=True)
    assert "DecodeFrames" not in repr(pose_only)
    item = ClipDataset([record], pose_only, video_root=tmp_path)[0]  # no video there: not read
    assert "imgs" not in item and item["heatmaps"].shape == (1, 17, 32, 56, 56)
    rgb_only = build_pipeline(DataConfig(modalities=("rgb",)), train=True)
    assert "PoseHeatmaps" not in repr(rgb_only)
    item = ClipDataset([record], rgb_only, video_root=root)[0]
    assert "heatmaps" not in item and item["imgs"].shape == (1, 3, 8, 224, 224)


def test_unreadable_clip_error_and_skip(indexed_clip, tmp_path):
    _, record = indexed_clip
    pipe = build_pipeline(_config(), train=True)
    with pytest.raises(Exception, match=r"record 0 \('clip'\): .*clip\.mp4: video file not found"):
        ClipDataset([record], pipe, video_root=tmp_path)[0]
    ds = ClipDataset([record, record], pipe, video_root=tmp_path, skip_errors=True)
    batch = collate([ds[0], ds[1]])
    assert batch == {"num_skipped": 2}


def test_clips_cut_from_a_long_video(tmp_path):
    """video_mode=long reads frames start_frame.. of <video_id>.mp4."""
    frames = np.zeros((120, 32, 32, 3), np.uint8)
    for t in range(120):
        frames[t, ..., 0] = 2 * t
    write_video(tmp_path / "0054.mp4", frames, fps=25, crf=4)
    kp = np.full((1, 10, 17, 2), 16, np.float32)
    record = {
        "frame_dir": "0054_3",
        "label": 0,
        "img_shape": (32, 32),
        "total_frames": 10,
        "keypoint": kp,
        "keypoint_score": np.ones((1, 10, 17), np.float32),
        "video_id": "0054",
        "start_frame": 40,
        "end_frame": 49,
    }
    cfg = DataConfig(
        modalities=("rgb",),
        video_mode="long",
        rgb=RGBInputConfig(
            clip_len=10, test_size=32, compact=False, mean=(0.0,) * 3, std=(1.0,) * 3
        ),
    )
    pipe = build_pipeline(cfg, train=False, num_clips=1)
    item = ClipDataset([record], pipe, video_root=tmp_path, long_videos=True)[0]
    red = item["imgs"][0, 0, :, 16, 16].numpy()
    np.testing.assert_allclose(red, 2 * np.arange(40, 50), atol=3)
