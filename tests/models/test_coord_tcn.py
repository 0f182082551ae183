"""The coordinate TCN baseline: shapes, motion features, config checks, and that it learns."""

import pytest
import torch

from mgproto.build import model_from_config
from mgproto.config import ConfigError, load_config
from mgproto.losses import Objective
from mgproto.models.coord_tcn import CoordTCN, frame_features

TCN = ["data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn"]


def test_frame_features_motion_is_zero_where_a_joint_is_missing():
    coords = torch.zeros(1, 1, 3, 2, 3)
    coords[0, 0, :, 0] = torch.tensor([[0.0, 0.0, 1], [0.1, 0.2, 1], [0.3, 0.2, 1]])
    coords[0, 0, :2, 1] = torch.tensor([[0.5, 0.5, 1], [0.6, 0.5, 1]])  # missing in frame 2
    f = frame_features(coords).reshape(1, 2, 5, 3)  # (N, V, 5 features, T)
    torch.testing.assert_close(f[0, 0, 2], torch.tensor([0.1, 0.2, 0.0]))  # dx of joint 0
    torch.testing.assert_close(f[0, 1, 2], torch.tensor([0.1, 0.0, 0.0]))  # joint 1: none at t=1
    torch.testing.assert_close(f[0, 1, 4], torch.tensor([1.0, 1.0, 0.0]))  # scores


def test_model_shapes_and_clip_averaging():
    model = model_from_config(load_config(None, [*TCN, "data.pose.layout=kinect20"]))
    out = model(coords=torch.randn(2, 3, 1, 32, 20, 3))  # (B, N clips, M, T, V, 3)
    assert out.logits["pose"].shape == (6, 32) and out.scores.shape == (2, 32)
    assert out.num_clips == 3
    with pytest.raises(ValueError, match="20 joints"):
        model(coords=torch.randn(2, 1, 32, 17, 3))


def test_config_must_agree():
    with pytest.raises(ConfigError, match="representation coords"):
        load_config(None, ["model.arch=tcn", "data.modalities=[pose]"])
    with pytest.raises(ConfigError, match="pose-only"):
        load_config(None, ["model.arch=tcn", "data.pose.representation=coords"])
    with pytest.raises(ConfigError, match="conv3d family"):
        load_config(None, ["data.pose.representation=coords", "data.modalities=[pose]"])
    with pytest.raises(ValueError, match="odd"):
        CoordTCN(num_joints=5, num_persons=1, kernel=4)


def test_prototype_branch_works_on_the_tcn():
    cfg = load_config(None, [*TCN, "model.prototype.enabled=true", "data.num_classes=4"])
    objective = Objective(model_from_config(cfg), prototype=cfg.model.prototype)
    batch = {"coords": torch.randn(6, 1, 1, 16, 17, 3), "label": torch.tensor([0, 1, 2, 3, 0, 1])}
    loss, out, terms = objective(batch)
    assert set(terms) == {"ce_pose", "pr_pose", "pr_fn_pose", "pr_fp_pose"}
    assert out.embeddings["pose"].shape == (6, 256)
    loss.backward()


def _direction_task(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0 moves the left wrist right-to-left, class 1 left-to-right; noise elsewhere."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, 16)
    x = torch.randn(n, 1, 1, 16, 17, 3, generator=g) * 0.05
    x[..., 2] = 1
    labels = torch.arange(n) % 2
    x[:, 0, 0, :, 9, 0] += torch.where(labels[:, None] == 1, t, 1 - t)
    return x, labels


def test_tcn_learns_direction_of_motion():
    """Two classes that differ only in the direction of one joint's motion, held-out test."""
    torch.manual_seed(0)
    cfg = load_config(None, [*TCN, "data.num_classes=2", "data.pose.layout=coco17"])
    model = model_from_config(cfg)
    x, labels = _direction_task(64, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(60):  # enough steps for BatchNorm's running statistics to settle
        loss = torch.nn.functional.cross_entropy(model(coords=x).logits["pose"], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x_test, y_test = _direction_task(64, seed=1)
    assert (model(coords=x_test).scores.argmax(1) == y_test).float().mean() > 0.95


def test_3d_frame_features_take_z_as_a_coordinate_and_all_zero_as_missing():
    coords = torch.zeros(1, 1, 3, 2, 3)  # (B, M, T, V, C): joint 1 missing in frame 1
    coords[0, 0, :, 0] = torch.tensor([[0.0, 0.0, -1.0], [1.0, 0.0, -2.0], [1.0, 1.0, -2.0]])
    coords[0, 0, [0, 2], 1] = torch.tensor([[0.5, 0.5, 0.5], [0.6, 0.5, 0.5]])
    f = frame_features(coords, xyz=True).reshape(1, 2, 6, 3)  # (N, V, 6 features, T)
    assert f[0, 0, 3:, 0].tolist() == [1.0, 0.0, -1.0]  # dz counts: z < 0 is not "missing"
    assert f[0, 1, 3:, 0].tolist() == [0.0, 0.0, 0.0]  # the next frame's joint is missing
    assert CoordTCN(num_joints=2, num_persons=1, xyz=True)(coords).shape == (1, 128, 3, 1, 1)
