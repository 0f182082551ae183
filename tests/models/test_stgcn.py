import torch

from mgproto.build import model_from_config
from mgproto.config import load_config
from mgproto.data.layouts import get_layout
from mgproto.models.graph import bone_parents
from mgproto.models.stgcn import skeleton_features

TINY = [
    "data.modalities=[pose]", "data.pose.representation=coords", "model.arch=stgcn",
    "data.pose.layout=coco17", "data.num_classes=5", "model.gcn.base_channels=8",
    "model.gcn.num_stages=4", "model.gcn.inflate_stages=[3]", "model.gcn.down_stages=[3]",
]  # fmt: skip


def test_features_bone_and_motion():
    layout = get_layout("coco17")
    parent = torch.as_tensor(bone_parents(layout))
    x = torch.randn(2, 1, 4, 17, 3)
    bone = skeleton_features(x, parent, "bone")
    elbow, shoulder = layout.index("left_elbow"), layout.index("left_shoulder")
    torch.testing.assert_close(bone[..., elbow, :2], x[..., elbow, :2] - x[..., shoulder, :2])
    torch.testing.assert_close(bone[..., elbow, 2], (x[..., elbow, 2] + x[..., shoulder, 2]) / 2)
    hip, nose = layout.index("left_hip"), layout.index("nose")  # the reference hangs hips on it
    torch.testing.assert_close(bone[..., hip, :2], x[..., hip, :2] - x[..., nose, :2])
    assert torch.equal(bone[..., 0, :2], torch.zeros_like(bone[..., 0, :2]))  # the root
    motion = skeleton_features(x, parent, "joint_motion")
    torch.testing.assert_close(motion[:, :, :-1, :, :2], x[:, :, 1:, :, :2] - x[:, :, :-1, :, :2])
    assert not motion[:, :, -1].any()
    bm = skeleton_features(x, parent, "bone_motion")
    torch.testing.assert_close(bm[:, :, 0, :, :2], bone[:, :, 1, :, :2] - bone[:, :, 0, :, :2])


def test_motion_keeps_the_mean_score_of_its_two_frames():
    x = torch.zeros(1, 1, 3, 2, 3)  # (B, M, T, V, C): scores 0.2, 0.6, 1.0 on joint 1
    x[0, 0, :, 1] = torch.tensor([[1.0, 2.0, 0.2], [4.0, 0.0, 0.6], [4.0, 1.0, 1.0]])
    parent = torch.tensor([0, 0])
    motion = skeleton_features(x, parent, "joint_motion")[0, 0, :, 1]
    torch.testing.assert_close(motion, torch.tensor([[3.0, -2.0, 0.4], [0.0, 1.0, 0.8], [0, 0, 0]]))
    xyz = skeleton_features(x, parent, "joint_motion", xyz=True)[0, 0, :, 1]  # z is differenced
    torch.testing.assert_close(xyz[:, 2], torch.tensor([0.4, 0.4, 0.0]))


def test_tiny_stgcn_shapes_and_multi_clip_test():
    model = model_from_config(load_config(None, TINY)).eval()
    coords = torch.randn(3, 2, 1, 16, 17, 3)  # (B, N clips, M, T, V, 3)
    out = model(coords=coords)
    assert out.probs["pose"].shape == (3, 5) and out.logits["pose"].shape == (6, 5)
    feats = model.forward_features(None, coords.flatten(0, 1))["pose"]
    assert feats.shape == (6, 16, 8, 17, 1)  # (B * N, C, T / 2, V, M)
    assert "backbone.parent" not in model.state_dict()  # derived from the layout, not weights


def test_paper_size_stgcnpp_builds_and_runs():
    cfg = load_config(None, [*TINY[:5]])  # PYSKL's sizes: 64 channels, 10 blocks, strides at 5, 8
    model = model_from_config(cfg).eval()
    assert model.backbone.out_channels == 256 and len(model.backbone.gcn) == 10
    params = sum(p.numel() for p in model.parameters())
    assert 1.3e6 < params < 1.45e6  # ST-GCN++ on COCO-17: ~1.39 M
    with torch.no_grad():
        out = model(coords=torch.randn(1, 1, 1, 100, 17, 3))
    assert out.probs["pose"].shape == (1, 5)


def test_mmaction2_stgcn_checkpoints_import_by_name(tmp_path):
    from mgproto.cli import main
    from mgproto.engine.checkpoint import load_model

    src = model_from_config(load_config(None, TINY))
    state = {k.replace("head.pose.fc.", "cls_head.fc."): v for k, v in src.state_dict().items()}
    torch.save({"state_dict": state, "meta": {}}, tmp_path / "stgcnpp.pth")  # MMAction2's names
    sets = [x for s in TINY for x in ("--set", s)]
    argv = ["import-checkpoint", str(tmp_path / "stgcnpp.pth"), "-o", str(tmp_path / "o.pt")]
    assert main([*argv, *sets]) == 0
    model, _ = load_model(tmp_path / "o.pt")
    for key, value in src.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_3d_bones_subtract_all_three_coordinates():
    x = torch.tensor([[0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]).view(1, 1, 1, 2, 3)  # (B, M, T, V, C)
    parent = torch.tensor([0, 0])
    assert skeleton_features(x, parent, "bone", xyz=True)[0, 0, 0, 1].tolist() == [1.0, 2.0, 2.0]
    assert skeleton_features(x, parent, "bone")[0, 0, 0, 1].tolist() == [1.0, 2.0, 2.0]  # mean
    x[..., 2] = torch.tensor([4.0, 1.0])  # z of the two joints: the 2-D path averages, 3-D not
    assert skeleton_features(x, parent, "bone", xyz=True)[0, 0, 0, 1, 2].item() == -3.0
    assert skeleton_features(x, parent, "bone")[0, 0, 0, 1, 2].item() == 2.5


def test_a_bone_model_saved_by_version_1_warns_that_its_inputs_changed(tmp_path, caplog):
    from mgproto.engine.checkpoint import load_model, save_checkpoint

    cfg = load_config(None, [*TINY, "model.gcn.feature=bone"])
    path = save_checkpoint(tmp_path / "new.pt", cfg=cfg, model=model_from_config(cfg))
    with caplog.at_level("WARNING", logger="mgproto"):
        load_model(path)
    assert "earlier mgproto" not in caplog.text
    state = torch.load(path, weights_only=True)
    torch.save({**state, "version": 1}, tmp_path / "old.pt")
    with caplog.at_level("WARNING", logger="mgproto"):
        load_model(tmp_path / "old.pt")
    assert "earlier mgproto whose bone stream differs" in caplog.text


def test_motion_from_next_frames_equals_the_whole_records_motion():
    """Sampled frames + their next frames in the record (C = 6) give the motion the reference
    computes on the whole record before sampling, even where the sampled frames skip or
    repeat; the record's last frame (next = itself, score negated) gives 0."""
    layout = get_layout("coco17")
    parent = torch.as_tensor(bone_parents(layout))
    record = torch.rand(1, 2, 30, 17, 3, dtype=torch.float64)  # (B, M, T_all, V, 3)
    inds = torch.tensor([0, 0, 3, 7, 8, 20, 29, 29])
    later = record[:, :, torch.clamp(inds + 1, max=29)].clone()
    last = inds == 29
    later[:, :, last, :, 2] *= -1
    pairs = torch.cat([record[:, :, inds], later], -1)  # (B, M, T, V, 6)
    for feature in ("joint_motion", "bone_motion"):
        whole = skeleton_features(record, parent, feature)[:, :, inds]
        torch.testing.assert_close(skeleton_features(pairs, parent, feature), whole)
        along_clip = skeleton_features(record[:, :, inds], parent, feature)
        assert not torch.allclose(along_clip, whole)  # the gaps of the clip are not motion
    joint = skeleton_features(pairs, parent, "joint")
    torch.testing.assert_close(joint, record[:, :, inds])
