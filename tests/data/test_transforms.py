import numpy as np
import pytest
import torch

from mgproto.config import DataConfig, PoseInputConfig, SamplingConfig
from mgproto.data.dataset import ClipDataset
from mgproto.data.layouts import get_layout
from mgproto.data.pipelines import build_pipeline, channel_flip_index, num_pose_channels
from mgproto.data.transforms import Compose, Flip, PoseCompact, PoseHeatmaps, Resize, SampleFrames


def _sample(rec):
    return {
        k: rec[k]
        for k in ("frame_dir", "label", "keypoint", "keypoint_score", "img_shape", "total_frames")
    }


def test_train_pipeline_shapes(make_rec):
    pipe = build_pipeline(DataConfig(modalities=("pose",)), train=True)
    out = pipe(_sample(make_rec(num_frames=50)), np.random.default_rng(0))
    assert out["heatmaps"].shape == (1, 17, 32, 56, 56) and out["heatmaps"].dtype == np.float32
    assert out["img_shape"] == (56, 56) and isinstance(out["flipped"], bool)
    assert out["heatmaps"].max() > 0.25


def test_test_pipeline_clips_and_flip_view(make_rec):
    cfg = PoseInputConfig(with_limbs=True)
    pipe = build_pipeline(
        DataConfig(modalities=("pose",), pose=cfg, sampling=SamplingConfig(num_clips_test=3)),
        train=False,
    )
    a = pipe(_sample(make_rec(num_frames=50)), np.random.default_rng(0))
    b = pipe(_sample(make_rec(num_frames=50)), np.random.default_rng(1))
    c = num_pose_channels(cfg)
    assert c == 34 and a["heatmaps"].shape == (6, c, 32, 64, 64)
    np.testing.assert_array_equal(a["heatmaps"], b["heatmaps"])  # test mode is deterministic
    idx = channel_flip_index(get_layout("coco17"), with_joints=True, with_limbs=True)
    np.testing.assert_array_equal(a["heatmaps"][3], a["heatmaps"][0][idx][..., ::-1])


def test_geometric_transforms_move_frames_with_keypoints():
    """A bright pixel at each joint stays under that joint through compact, resize and flip."""
    h, w, t = 120, 160, 4
    kp = np.array([[[[40, 30], [100, 90]]] * t], np.float32)  # (1, T, 2, 2)
    score = np.ones((1, t, 2), np.float32)
    imgs = np.zeros((t, h, w, 3), np.uint8)
    imgs[:, 30, 40] = 255
    imgs[:, 90, 100] = 255
    sample = {"keypoint": kp, "keypoint_score": score, "img_shape": (h, w), "imgs": imgs}
    pipe = Compose(
        [
            PoseCompact(padding=0.25),
            Resize(size=(64, 64)),
            Flip(flip_index=np.array([0, 1]), flip_ratio=1.0),
        ]
    )
    out = pipe(sample, np.random.default_rng(0))
    assert out["imgs"].shape == (t, 64, 64, 3) and out["img_shape"] == (64, 64)
    for j in range(2):
        x, y = np.round(out["keypoint"][0, 0, j]).astype(int)
        assert out["imgs"][0, y - 1 : y + 2, x - 1 : x + 2].max() > 40, (j, x, y)


def test_compose_names_missing_key():
    pipe = Compose([PoseHeatmaps(sigma=0.6)])
    with pytest.raises(KeyError, match="PoseHeatmaps needs sample key 'keypoint'"):
        pipe({"frame_dir": "x"}, np.random.default_rng(0))
    assert "PoseHeatmaps" in repr(pipe)


def test_sample_frames_declares_modalities():
    t = SampleFrames(clip_lens={"pose": 32, "rgb": 8})
    assert t.adds == ("num_clips", "pose_inds", "rgb_inds")
    out = t({"total_frames": 100}, np.random.default_rng(0))
    assert out["pose_inds"].shape == (1, 32) and out["rgb_inds"].shape == (1, 8)


def test_dataset_is_deterministic_per_index_epoch_seed(make_rec):
    recs = [make_rec(f"c{i}", label=i, num_frames=40, seed=i) for i in range(3)]
    pipe = build_pipeline(DataConfig(modalities=("pose",)), train=True)
    ds = ClipDataset(recs, pipe, seed=5)
    first = ds[1]
    assert isinstance(first["heatmaps"], torch.Tensor) and first["label"] == 1
    assert torch.equal(ds[1]["heatmaps"], first["heatmaps"])
    ds.set_epoch(1)
    assert not torch.equal(ds[1]["heatmaps"], first["heatmaps"])
    ds.set_epoch(0)
    assert torch.equal(ClipDataset(recs, pipe, seed=5)[1]["heatmaps"], first["heatmaps"])
    assert len(ds) == 3 and ds[0]["frame_dir"] == "c0"
