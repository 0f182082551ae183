"""Every shipped config loads, and the iMiGUE ladder differs only where it should."""

from pathlib import Path

import pytest

from mgproto.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_loads(path):
    cfg = load_config(path)
    assert cfg.name and cfg.data.num_classes > 1


def test_imigue_ladder():
    root = Path(__file__).resolve().parents[1] / "configs" / "imigue"
    paper = load_config(root / "paper.yaml")
    assert paper.model.fusion.enabled and paper.model.prototype.enabled
    assert (paper.train.lr, paper.train.batch_size, paper.train.epochs) == (0.0075, 10, 30)
    assert paper.train.milestones == (8, 22) and paper.train.clip_grad == 40
    assert paper.model.late_fusion == (1.0, 1.0)
    base = load_config(root / "two_stream.yaml")
    assert not base.model.fusion.enabled and not base.model.prototype.enabled
    assert base.data == paper.data and base.train == paper.train
    assert load_config(root / "pose_only.yaml").data.modalities == ("pose",)
