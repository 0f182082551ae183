"""The coordinate stream beside the pose pathway (``data.pose.representation = both``)."""

import numpy as np
import pytest
import torch

from mgproto.build import model_from_config
from mgproto.config import ConfigError, load_config
from mgproto.data.pipelines import build_pipeline
from mgproto.losses import Objective

BOTH = [
    "data.modalities=[pose]", "data.pose.representation=both", "model.preset=tiny",
    "data.pose.layout=coco17", "data.num_classes=5", "data.pose.clip_len=8",
    "data.pose.train_size=16", "data.pose.test_size=16", "data.pose.pre_crop_size=18",
]  # fmt: skip


def test_config_takes_both_only_beside_a_conv3d_pose_pathway():
    assert load_config(None, BOTH).data.pose.representation == "both"
    two = load_config(None, [*BOTH, "data.modalities=[rgb, pose]"])
    assert model_from_config(two).streams == ("rgb", "pose", "coords")
    with pytest.raises(ConfigError, match="representation both"):
        load_config(None, [*BOTH, "data.modalities=[rgb]"])
    with pytest.raises(ConfigError, match="representation coords"):
        load_config(None, [*BOTH, "model.arch=tcn"])


@pytest.mark.parametrize("train", [True, False])
def test_pipeline_gives_the_heatmaps_and_the_coords_of_the_same_frames(make_rec, train):
    """``both`` is exactly the heatmap pipeline's heatmaps and the coordinate pipeline's coords:
    the same frames, crop and flip under the same random draws."""
    rec = make_rec(num_frames=30, img_shape=(1080, 1920))
    sample = {**rec, "img_shape": tuple(rec["img_shape"])}
    out = {}
    for rep in ("both", "heatmaps", "coords"):
        cfg = load_config(None, [*BOTH, f"data.pose.representation={rep}",
                                 *(["model.arch=tcn"] if rep == "coords" else [])])  # fmt: skip
        out[rep] = build_pipeline(cfg.data, train=train)(dict(sample), np.random.default_rng(3))
    assert "coords" not in out["heatmaps"] and "heatmaps" not in out["coords"]
    np.testing.assert_array_equal(out["both"]["heatmaps"], out["heatmaps"]["heatmaps"])
    np.testing.assert_array_equal(out["both"]["coords"], out["coords"]["coords"])


def test_model_has_two_streams_fused_with_the_tcn_weight():
    cfg = load_config(None, [*BOTH, "model.tcn.late_fusion=3", "model.head_temporal_bins=[1,2]"])
    model = model_from_config(cfg).eval()
    assert model.streams == ("pose", "coords")
    assert model.head["pose"].temporal_bins == 2 and model.head["coords"].temporal_bins == 1
    heatmaps, coords = torch.randn(2, 3, 17, 8, 16, 16), torch.randn(2, 3, 1, 8, 17, 3)
    out = model(heatmaps=heatmaps, coords=coords)  # (B, N clips, ...)
    assert out.logits["pose"].shape == (6, 5) and out.logits["coords"].shape == (6, 5)
    expected = (out.probs["pose"] + 3 * out.probs["coords"]) / 4
    torch.testing.assert_close(out.scores, expected)
    with pytest.raises(ValueError, match="'coords' input"):
        model(heatmaps=heatmaps)


def test_coords_head_dropout_is_its_own_or_the_pathway_heads():
    """``model.tcn.head_dropout`` sets the coords head's dropout (and the TCN's); unset, both
    heads share ``model.dropout``."""

    def drop(model, stream):
        layer = model.head[stream].dropout
        return layer.p if isinstance(layer, torch.nn.Dropout) else 0.0

    shared = model_from_config(load_config(None, [*BOTH, "model.dropout=0.4"]))
    assert drop(shared, "pose") == drop(shared, "coords") == 0.4
    own = model_from_config(load_config(None, [*BOTH, "model.dropout=0.4",
                                               "model.tcn.head_dropout=0"]))  # fmt: skip
    assert drop(own, "pose") == 0.4 and drop(own, "coords") == 0.0
    tcn = model_from_config(load_config(None, [*BOTH[:1], "data.pose.representation=coords",
                                               "model.arch=tcn", "data.pose.layout=coco17",
                                               "data.num_classes=5", "model.dropout=0.4",
                                               "model.tcn.head_dropout=0.2"]))  # fmt: skip
    assert drop(tcn, "pose") == 0.2


def test_both_streams_learn_from_one_loss():
    model = model_from_config(load_config(None, BOTH))
    objective = Objective(model)
    batch = {"heatmaps": torch.rand(4, 17, 8, 16, 16), "coords": torch.randn(4, 1, 8, 17, 3),
             "label": torch.tensor([0, 1, 2, 3])}  # fmt: skip
    loss, _, terms = objective(batch)
    assert set(terms) == {"ce_pose", "ce_coords"}
    torch.testing.assert_close(loss, terms["ce_pose"] + terms["ce_coords"])
    loss.backward()
    for part in (model.backbone, model.coord_backbone):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
