"""Video Swin (``model.arch = swin``): sizes, shapes, and torchvision / MMAction2 weight files.

Parity with MMAction2's SwinTransformer3D is in test_parity_mmaction.py (opt-in oracle); here
torchvision's own classifier is the reference for the weight-file import.
"""

from __future__ import annotations

import pytest
import torch
from torchvision.models.video import SwinTransformer3d, swin3d_b

from mgproto.build import model_from_config
from mgproto.config import ConfigError, load_config
from mgproto.models.checkpoint_import import load_mmaction_weights, rename_swin_keys
from mgproto.models.swin import VideoSwin, swin_size

WIDTHS = {"embed_dim": 24, "depths": (2, 2, 2, 2), "num_heads": (1, 2, 4, 8)}
TINY = ["data.modalities=[rgb]", "model.arch=swin", "data.num_classes=5", "model.swin.arch=tiny",
        "model.swin.embed_dim=24", "model.swin.depths=[2,2,2,2]",
        "model.swin.num_heads=[1,2,4,8]", "model.swin.window_size=[4,4,4]"]  # fmt: skip


def _torchvision_net(num_classes: int = 5) -> SwinTransformer3d:
    torch.manual_seed(0)
    return SwinTransformer3d(patch_size=[2, 4, 4], embed_dim=24, depths=[2, 2, 2, 2],
                             num_heads=[1, 2, 4, 8], window_size=[4, 4, 4],
                             num_classes=num_classes)  # fmt: skip


def test_backbone_shapes_follow_the_patches_and_merges():
    net = VideoSwin(size=swin_size("tiny", **WIDTHS), window_size=(4, 4, 4))
    out = net(torch.randn(2, 3, 8, 64, 64))
    assert out.shape == (2, 192, 4, 2, 2)  # C = 24 * 2^3; T/2, H/32, W/32
    assert net.out_channels == 192


def test_frame_differences_widen_only_the_patch_embedding():
    cfg = load_config(None, [*TINY, "data.rgb.frame_diff=true"])
    model = model_from_config(cfg).eval()
    assert model.backbone.patch_embed.proj.in_channels == 6
    with torch.no_grad():
        out = model(imgs=torch.randn(1, 2, 6, 8, 64, 64))  # (B, N, C, T, H, W): 2 clips
    assert out.probs["rgb"].shape == (1, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"arch": "huge"}, "unknown Video Swin arch"),
     ({"arch": "tiny", "num_heads": (3, 6)}, "4 depths but 2 heads"),
     ({"arch": "tiny", "embed_dim": 20}, "not divisible")],
)  # fmt: skip
def test_bad_sizes_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        swin_size(**kwargs)


def test_swin_is_rgb_only():
    with pytest.raises(ConfigError, match="RGB-only Video Swin"):
        load_config(None, ["model.arch=swin"])


def test_torchvision_weight_files_load_and_give_torchvision_s_outputs(tmp_path):
    net = _torchvision_net().eval()
    torch.save(net.state_dict(), tmp_path / "swin3d.pth")  # the layout of torchvision's files
    model = model_from_config(load_config(None, TINY)).eval()
    report = load_mmaction_weights(
        model, torch.load(tmp_path / "swin3d.pth"), modalities=model.streams
    )
    assert report.missing == [] and report.unexpected == [] and report.shape_mismatch == []
    x = torch.randn(2, 3, 8, 64, 64)
    with torch.no_grad():
        ours, theirs = model(imgs=x).logits["rgb"], net(x)
    assert torch.allclose(ours, theirs, atol=1e-5)
    fresh = model_from_config(load_config(None, TINY)).eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(imgs=x).logits["rgb"], theirs, atol=1e-3)  # import mattered


def test_mmaction2_swin_names_map_onto_torchvision_s():
    mm = {
        "backbone.patch_embed.proj.weight": 0, "backbone.layers.2.blocks.1.mlp.fc2.bias": 1,
        "backbone.layers.1.downsample.reduction.weight": 2, "backbone.norm3.weight": 3,
        "backbone.layers.0.blocks.0.attn.relative_position_bias_table": 4,
        "cls_head.fc_cls.weight": 5,
    }  # fmt: skip
    renamed = rename_swin_keys({k: torch.tensor(v) for k, v in mm.items()})
    assert sorted(renamed) == sorted([
        "backbone.patch_embed.proj.weight", "backbone.features.4.1.mlp.3.bias",
        "backbone.features.3.reduction.weight", "backbone.norm.weight",
        "backbone.features.0.0.attn.relative_position_bias_table", "head.rgb.fc.weight",
    ])  # fmt: skip


def test_import_checkpoint_cli_reads_a_torchvision_file_and_refuses_a_foreign_head(tmp_path):
    from mgproto.cli import main
    from mgproto.engine.checkpoint import load_model

    net = _torchvision_net(num_classes=400)  # Kinetics-400 classifier: does not fit 5 classes
    torch.save(net.state_dict(), tmp_path / "k400.pth")
    sets = [x for s in TINY for x in ("--set", s)]
    argv = ["import-checkpoint", str(tmp_path / "k400.pth"), "-o", str(tmp_path / "o.pt"), *sets]
    assert main(argv) == 2  # the head is a shape mismatch: refused without --allow-mismatch
    assert not (tmp_path / "o.pt").exists()
    assert main([*argv, "--allow-mismatch"]) == 0
    model, _ = load_model(tmp_path / "o.pt")
    for key, value in net.state_dict().items():
        if not key.startswith("head."):
            assert torch.equal(model.state_dict()[f"backbone.{key}"], value), key


def test_paper_size_swin_b_builds_and_runs():
    """Swin-B at its real widths (88 M parameters), forward on a small clip."""
    cfg = load_config(None, ["data.modalities=[rgb]", "model.arch=swin", "data.num_classes=32"])
    model = model_from_config(cfg).eval()
    ref = sum(p.numel() for n, p in swin3d_b().named_parameters() if not n.startswith("head."))
    assert sum(p.numel() for p in model.backbone.parameters()) == ref
    assert model.backbone.out_channels == 1024
    with torch.no_grad():
        out = model(imgs=torch.randn(1, 3, 4, 64, 64))
    assert out.probs["rgb"].shape == (1, 32)
