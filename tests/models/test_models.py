import pytest
import torch

from mgproto.config import FusionConfig, ModelConfig, PrototypeConfig
from mgproto.losses import Objective
from mgproto.models import build_model
from mgproto.models.fusion import CrossModalFusion

TINY = {"rgb": (2, 3, 8, 64, 64), "pose": (2, 17, 32, 16, 16)}


def _model(modalities=("rgb", "pose"), **kw):
    torch.manual_seed(0)
    return build_model(
        ModelConfig(preset="tiny", **kw), modalities=modalities, num_classes=5, pose_channels=17
    )


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*TINY["rgb"], generator=g), torch.randn(*TINY["pose"], generator=g)


@pytest.mark.parametrize("preset", ["tiny", "small"])
@pytest.mark.parametrize("modalities", [("rgb", "pose"), ("rgb",), ("pose",)])
def test_shapes_per_preset(preset, modalities):
    model = build_model(
        ModelConfig(preset=preset), modalities=modalities, num_classes=7, pose_channels=17
    )
    imgs, maps = _inputs()
    out = model(
        imgs=imgs if "rgb" in modalities else None, heatmaps=maps if "pose" in modalities else None
    )
    assert set(out.logits) == set(modalities)
    for s in modalities:
        assert out.logits[s].shape == (2, 7) and out.probs[s].shape == (2, 7)
    assert out.scores.shape == (2, 7)
    torch.testing.assert_close(out.scores.sum(1), torch.ones(2))


def test_paper_preset_matches_reference_and_runs_batch_one():
    model = build_model(
        ModelConfig(preset="paper"), modalities=("rgb", "pose"), num_classes=60, pose_channels=17
    )
    n_backbone = sum(p.numel() for p in model.backbone.parameters())
    assert round(n_backbone / 1e6, 1) == 36.0  # reference: 36.0 M
    sd = model.state_dict()
    for key, shape in {  # reference-spec 1.7
        "backbone.rgb_path.conv1.conv.weight": (64, 3, 1, 7, 7),
        "backbone.rgb_path.layer3.0.conv1.conv.weight": (256, 640, 3, 1, 1),
        "backbone.rgb_path.layer4.0.downsample.conv.weight": (2048, 1280, 1, 1, 1),
        "backbone.rgb_path.layer2_lateral.conv.weight": (128, 128, 7, 1, 1),
        "backbone.rgb_path.layer3_lateral.conv.weight": (256, 256, 7, 1, 1),
        "backbone.pose_path.conv1.conv.weight": (32, 17, 1, 7, 7),
        "backbone.pose_path.layer2.0.conv1.conv.weight": (64, 160, 3, 1, 1),
        "backbone.pose_path.layer3.0.downsample.conv.weight": (512, 320, 1, 1, 1),
        "backbone.pose_path.layer1_lateral.conv.weight": (512, 32, 7, 1, 1),
        "backbone.pose_path.layer2_lateral.conv.weight": (1024, 64, 7, 1, 1),
        "backbone.rgb_path.layer3.1.conv1.conv.weight": (256, 1024, 3, 1, 1),
    }.items():
        assert tuple(sd[key].shape) == shape, key
    model.eval()
    with torch.no_grad():
        feats = model.forward_features(
            torch.randn(1, 3, 8, 224, 224), torch.randn(1, 17, 32, 56, 56)
        )
    assert feats["rgb"].shape == (1, 2048, 8, 7, 7)
    assert feats["pose"].shape == (1, 512, 32, 7, 7)


def test_multi_clip_averages_probabilities():
    model = _model().eval()
    imgs, maps = _inputs()
    with torch.no_grad():
        out = model(imgs[:, None].repeat(1, 3, 1, 1, 1, 1), maps[:, None].repeat(1, 3, 1, 1, 1, 1))
        single = model(imgs, maps)
    assert out.num_clips == 3 and out.logits["rgb"].shape == (6, 5)
    torch.testing.assert_close(out.scores, single.scores)


def test_late_fusion_weights():
    imgs, maps = _inputs()
    model = _model(late_fusion=(2.0, 1.0)).eval()
    out = model(imgs, maps)
    expected = (2 * out.probs["rgb"] + out.probs["pose"]) / 3
    torch.testing.assert_close(out.scores, expected)


def test_fusion_options_change_outputs_as_designed():
    imgs, maps = _inputs()
    outs = {}
    for name, fusion in {
        "off": FusionConfig(),
        "time": FusionConfig(enabled=True),
        "channel": FusionConfig(enabled=True, attend_over="channel"),
        "sigmoid": FusionConfig(enabled=True, gate="sigmoid"),
        "fused_laterals": FusionConfig(enabled=True, lateral_source="fused"),
    }.items():
        model = _model(fusion=fusion).eval()
        with torch.no_grad():
            outs[name] = model.forward_features(imgs, maps)["rgb"]
    for a in outs:
        for b in outs:
            if a < b:
                assert not torch.allclose(outs[a], outs[b]), (a, b)


def test_fusion_gate_is_identity_when_attention_output_is_zero():
    fusion = CrossModalFusion(rgb_channels=16, pose_channels=8, hidden=8, rgb_frames=4, heads=2)
    for conv in (fusion.conv4, fusion.conv5):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x_rgb, x_pose = torch.randn(2, 16, 4, 5, 5), torch.randn(2, 8, 16, 5, 5)
    out_rgb, out_pose = fusion(x_rgb, x_pose)
    torch.testing.assert_close(out_rgb, x_rgb)
    torch.testing.assert_close(out_pose, x_pose)
    fusion.gate = "sigmoid"  # sigmoid(0) = 0.5: x + 0.5 x
    torch.testing.assert_close(fusion(x_rgb, x_pose)[0], 1.5 * x_rgb)


def test_objective_gradients_reach_projection_and_backbone():
    pr = PrototypeConfig(enabled=True, embed_dim=16)
    model = _model(fusion=FusionConfig(enabled=True), prototype=pr)
    objective = Objective(model, prototype=pr).train()
    imgs, maps = _inputs()
    before = model.head["rgb"].prototypes.clone()
    loss, out, terms = objective({"imgs": imgs, "heatmaps": maps, "label": torch.tensor([1, 3])})
    losses = {"ce_rgb", "ce_pose", "pr_rgb", "pr_pose"}
    assert set(terms) == losses | {f"pr_{c}_{s}" for c in ("fn", "fp") for s in ("rgb", "pose")}
    torch.testing.assert_close(loss.detach(), sum(terms[k] for k in losses))  # activity not summed
    assert "head.rgb.fn_centres" not in model.state_dict()  # FR-Head's batch centres by default
    loss.backward()
    for name in (
        "head.rgb.embed.weight",
        "head.pose.embed.weight",
        "backbone.rgb_path.conv1.conv.weight",
        "backbone.pose_path.conv1.conv.weight",
        "backbone.fusions.0.rgb_cross_attn.q_proj.weight",
    ):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert "head.rgb.prototypes" in model.state_dict()
    # the EMA moved the prototypes of the classes that had a true positive (if any)
    pred = out.logits["rgb"].argmax(1)
    if (pred == torch.tensor([1, 3])).any():
        assert not torch.equal(before, model.head["rgb"].prototypes)


def test_centre_memory_lives_in_the_heads_and_fills_from_errors():
    pr = PrototypeConfig(enabled=True, embed_dim=16, centres="memory")
    model = _model(prototype=pr)
    objective = Objective(model, prototype=pr).train()
    imgs, maps = _inputs()
    labels = torch.tensor([1, 3])
    _, out, terms = objective({"imgs": imgs, "heatmaps": maps, "label": labels})
    for s in ("rgb", "pose"):
        memory = model.state_dict()[f"head.{s}.fn_centres"]
        wrong = out.logits[s].argmax(1) != labels
        assert memory.shape == (5, 16)
        assert set(memory.abs().sum(1).nonzero().flatten().tolist()) == set(labels[wrong].tolist())
        assert terms[f"pr_fn_{s}"].item() == 0.0  # one sample a class: a lone FN pulls nothing


def test_rectification_changes_eval_logits_only():
    imgs, maps = _inputs()
    pr = PrototypeConfig(enabled=True, embed_dim=16, rectify_rgb=5.0)
    model = _model(prototype=pr).eval()
    plain = _model(prototype=PrototypeConfig(enabled=True, embed_dim=16)).eval()
    with torch.no_grad():
        a, b = model(imgs, maps), plain(imgs, maps)
    assert not torch.allclose(a.logits["rgb"], b.logits["rgb"])
    torch.testing.assert_close(a.logits["pose"], b.logits["pose"])


def test_unknown_preset_and_missing_input():
    cfg = ModelConfig(preset="tiny")
    object.__setattr__(cfg, "preset", "huge")  # bypass the config's own check
    with pytest.raises(KeyError, match="valid: paper, small, tiny"):
        build_model(cfg, modalities=("rgb",), num_classes=3, pose_channels=17)
    with pytest.raises(ValueError, match="needs 'pose' input"):
        _model()(imgs=_inputs()[0])


def test_forward_is_features_then_head_and_clips_average_once():
    from mgproto.models.recognizer import average_clips

    x = torch.arange(12.0).reshape(6, 2)  # B = 3 samples x N = 2 clips
    torch.testing.assert_close(
        average_clips(x, 2), torch.tensor([[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]])
    )
    cfg = ModelConfig(preset="tiny")
    model = build_model(cfg, modalities=("pose",), num_classes=4, pose_channels=17).eval()
    heatmaps = torch.randn(3, 2, 17, 8, 16, 16)  # (B, N, C, T, H, W)
    out = model(heatmaps=heatmaps)
    feats = model.forward_features(None, heatmaps.flatten(0, 1))
    again = model.forward_head(feats, num_clips=2)
    torch.testing.assert_close(out.scores, again.scores)
    per_clip = model(heatmaps=heatmaps.flatten(0, 1)).probs["pose"]  # (B * N, K), one clip each
    torch.testing.assert_close(out.probs["pose"], average_clips(per_clip, 2))


def test_pose_stem_and_temporal_options_shape_the_pose_feature():
    """The stride-1 stem keeps the heatmaps' side / 8; pose_temporal_strides shorten time; an
    even stem kernel is refused."""

    def pose_feature(maps, **kw):
        model = build_model(
            ModelConfig(preset="tiny", **kw), modalities=("pose",), num_classes=5, pose_channels=17
        )
        return model.forward_features(None, maps)["pose"]

    base = pose_feature(torch.randn(2, 17, 32, 16, 16))
    assert base.shape[2:] == (32, 2, 2)
    assert pose_feature(torch.randn(2, 17, 32, 32, 32)).shape[3:] == (4, 4)
    short = pose_feature(
        torch.randn(2, 17, 32, 16, 16), pose_temporal_strides=(1, 2, 2), pose_conv1_kernel_t=3
    )
    assert short.shape[2] == 8
    with pytest.raises(ValueError, match="pose_conv1_kernel_t"):
        pose_feature(torch.randn(2, 17, 32, 16, 16), pose_conv1_kernel_t=2)


def test_temporal_bins_pool_keeps_the_order_of_time():
    """Global averaging cannot tell a clip from its reverse; the binned pool can, its bins are
    the means of equal spans of time, and 1 bin is the reference's global average."""
    from mgproto.models.heads import ModalityHead, pool_time_bins

    x = torch.arange(8.0).reshape(1, 1, 8, 1, 1).expand(2, 3, 8, 2, 2)  # (B, C, T, H, W)
    rev = x.flip(2)
    torch.testing.assert_close(pool_time_bins(x, 1), pool_time_bins(rev, 1))
    binned = pool_time_bins(x, 2)  # (B, 2 * C), bin-major
    assert binned.shape == (2, 6)
    torch.testing.assert_close(binned[0], torch.tensor([1.5] * 3 + [5.5] * 3))
    torch.testing.assert_close(pool_time_bins(rev, 2)[0], torch.tensor([5.5] * 3 + [1.5] * 3))
    torch.testing.assert_close(pool_time_bins(x, 1), x.mean(dim=(2, 3, 4)))

    head = ModalityHead(in_channels=3, num_classes=4, temporal_bins=2, embed_dim=5, semantic_dim=6)
    logits, pooled, emb = head.eval()(x)
    assert logits.shape == (2, 4) and pooled.shape == (2, 6) and emb.shape == (2, 5)
    assert head.semantic(pooled).shape == (2, 6)
    assert not torch.allclose(head(rev)[0], logits)
    with pytest.raises(ValueError, match="temporal_bins"):
        ModalityHead(in_channels=3, num_classes=4, temporal_bins=0)
    model = _model(head_temporal_bins=(1, 3))  # (rgb, pose)
    assert model(*_inputs()).scores.shape == (2, 5)
    plain = _model()
    assert model.head["pose"].fc.in_features == 3 * plain.head["pose"].fc.in_features
    assert model.head["rgb"].fc.in_features == plain.head["rgb"].fc.in_features
