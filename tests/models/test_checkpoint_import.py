import torch

from mgproto.cli import main
from mgproto.config import ModelConfig
from mgproto.engine.checkpoint import load_model
from mgproto.models import build_model
from mgproto.models.checkpoint_import import load_mmaction_weights, rename_mmaction_keys


def _to_mmaction(state, streams):
    """Our key names -> MMAction2's (the inverse of the import mapping)."""
    out = {}
    for key, value in state.items():
        if key.startswith("head."):
            _, stream, rest = key.split(".", 2)
            rest = rest.removeprefix("fc.")
            key = f"cls_head.fc_{stream}.{rest}" if len(streams) == 2 else f"cls_head.fc_cls.{rest}"
        out[key] = value
    return out


def _model(modalities, seed):
    torch.manual_seed(seed)
    return build_model(
        ModelConfig(preset="tiny"), modalities=modalities, num_classes=4, pose_channels=17
    ).eval()


def test_two_stream_round_trip_through_mmaction_names():
    src, dst = _model(("rgb", "pose"), 0), _model(("rgb", "pose"), 1)
    mm = _to_mmaction(src.state_dict(), ("rgb", "pose"))
    assert "cls_head.fc_rgb.weight" in mm and "backbone.rgb_path.layer2_lateral.conv.weight" in mm
    report = load_mmaction_weights(dst, mm, modalities=dst.streams)
    assert report.missing == [] and report.unexpected == [] and report.shape_mismatch == []
    x, h = torch.randn(1, 3, 8, 64, 64), torch.randn(1, 17, 32, 16, 16)
    torch.testing.assert_close(dst(x, h).scores, src(x, h).scores)


def test_single_stream_head_and_reports():
    src, dst = _model(("pose",), 0), _model(("pose",), 1)
    mm = _to_mmaction(src.state_dict(), ("pose",))
    mm["cls_head.extra.weight"] = torch.zeros(3)
    mm["backbone.conv1.conv.weight"] = torch.zeros(1, 2, 3)
    report = load_mmaction_weights(dst, mm, modalities=("pose",))
    assert report.unexpected == ["cls_head.extra.weight"]
    assert report.shape_mismatch[0].startswith("backbone.conv1.conv.weight")
    assert "backbone.conv1.conv.weight" in report.missing
    assert "unexpected (ignored): 1" in report.summary()


def test_pcan_fusion_names():
    renamed = rename_mmaction_keys(
        {
            "backbone.featuredifference3.skt_cross_attn.q_proj.weight": torch.zeros(1),
            "module.backbone.featuredifference2.conv5.bias": torch.zeros(1),
        },
        modalities=("rgb", "pose"),
    )
    assert set(renamed) == {
        "backbone.fusions.1.pose_cross_attn.q_proj.weight",
        "backbone.fusions.0.conv5.bias",
    }


def test_cli_import(tmp_path, capsys):
    src = _model(("rgb", "pose"), 0)
    path = tmp_path / "rgbpose.pth"
    torch.save({"state_dict": _to_mmaction(src.state_dict(), ("rgb", "pose")), "meta": {}}, path)
    out = tmp_path / "ours.pt"
    args = [
        "import-checkpoint",
        str(path),
        "-o",
        str(out),
        "--set",
        "model.preset=tiny",
        "--set",
        "data.num_classes=4",
    ]
    assert main(args) == 0
    model, cfg = load_model(out)
    assert cfg.model.preset == "tiny"
    torch.testing.assert_close(
        model.state_dict()["head.rgb.fc.weight"], src.state_dict()["head.rgb.fc.weight"]
    )
    capsys.readouterr()
    assert main([*args[:-2], "--set", "data.num_classes=9"]) == 2  # an existing output
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main([*args[:-2], "--set", "data.num_classes=9", "--force"]) == 2
    assert "do not fit" in capsys.readouterr().err


def test_cli_import_of_a_pose_checkpoint_into_a_model_with_a_coordinate_stream(tmp_path, capsys):
    """A PoseConv3D checkpoint fills the pathway and the pose head; the coords stream has no
    counterpart in MMAction2, so the import says so and needs --allow-partial."""
    src = _model(("pose",), 0)
    path = tmp_path / "posec3d.pth"
    torch.save({"state_dict": _to_mmaction(src.state_dict(), ("pose",))}, path)
    sets = ["model.preset=tiny", "data.num_classes=4", "data.modalities=[pose]",
            "data.pose.representation=both"]  # fmt: skip
    out = tmp_path / "ours.pt"
    argv = ["import-checkpoint", str(path), "-o", str(out)]
    argv += [a for s in sets for a in ("--set", s)]
    assert main(argv) == 2 and "e.g. coord_backbone" in capsys.readouterr().err
    assert main([*argv, "--allow-partial"]) == 0
    model, _ = load_model(out)
    assert model.streams == ("pose", "coords")
    for key in ("head.pose.fc.weight", "backbone.conv1.conv.weight"):
        torch.testing.assert_close(model.state_dict()[key], src.state_dict()[key])
