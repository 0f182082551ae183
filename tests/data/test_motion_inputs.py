"""Motion channels: RGB frame differences, and the models they feed."""

import numpy as np
import torch

from mgproto.build import model_from_config
from mgproto.config import load_config
from mgproto.data.frames import FormatRGB, add_frame_differences


def test_frame_differences_known_values():
    clip = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1) ** 2  # (C=1, L=3): 0, 1, 4
    clip = np.repeat(clip, 3, axis=0)  # (3, 3, 1, 1)
    out = add_frame_differences(clip)
    assert out.shape == (6, 3, 1, 1)
    np.testing.assert_array_equal(out[:3], clip)
    np.testing.assert_array_equal(out[3, :, 0, 0], [1, 1, 3])  # 0, 1, 4: diffs 1, 3; t=0 <- t=1


def test_format_rgb_with_differences_and_flip():
    frames = np.random.default_rng(0).integers(0, 255, (2 * 4, 5, 6, 3), dtype=np.uint8)
    t = FormatRGB(mean=(0, 0, 0), std=(1, 1, 1), flip_test=True, frame_diff=True)
    out = t({"imgs": frames, "num_clips": 2}, np.random.default_rng(0))["imgs"]
    assert out.shape == (4, 6, 4, 5, 6)
    np.testing.assert_allclose(out[0, 3:, 1:], out[0, :3, 1:] - out[0, :3, :-1])
    np.testing.assert_allclose(out[2], out[0][..., ::-1])  # flipped view, its own diffs


def test_models_take_the_extra_channels():
    cfg = load_config(None, ["model.preset=tiny", "data.rgb.frame_diff=true",
                             "data.pose.layout=coco17"])  # fmt: skip
    model = model_from_config(cfg)
    out = model(imgs=torch.randn(2, 6, 8, 32, 32), heatmaps=torch.randn(2, 17, 32, 8, 8))
    assert out.scores.shape == (2, 32)


def test_differences_alone_drop_the_frames():
    frames = np.random.default_rng(1).integers(0, 255, (4, 5, 6, 3), dtype=np.uint8)
    both = FormatRGB(mean=(0, 0, 0), std=(1, 1, 1), frame_diff=True)
    alone = FormatRGB(mean=(0, 0, 0), std=(1, 1, 1), frame_diff=True, keep_frames=False)
    a = both({"imgs": frames, "num_clips": 1}, np.random.default_rng(0))["imgs"]
    b = alone({"imgs": frames, "num_clips": 1}, np.random.default_rng(0))["imgs"]
    assert b.shape == (1, 3, 4, 5, 6)
    np.testing.assert_array_equal(b, a[:, 3:])
    sets = ["model.preset=tiny", "data.modalities=[rgb]", "data.rgb.frame_diff=true",
            "data.rgb.keep_frames=false"]  # fmt: skip
    cfg = load_config(None, sets)
    assert model_from_config(cfg).backbone.conv1.conv.in_channels == 3
