"""Every shipped config loads, and the iMiGUE ladder differs only where it should."""

from dataclasses import replace
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


def test_imigue_swin_b_is_mmaction2_s_video_swin_recipe():
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "imigue" / "swin_b.yaml")
    m, t, rgb = cfg.model, cfg.train, cfg.data.rgb
    assert (m.arch, m.swin.arch, m.swin.drop_path) == ("swin", "base", 0.3)
    assert m.swin.window_size == (8, 7, 7)
    assert (rgb.clip_len, rgb.frame_interval, rgb.train_size) == (32, 2, 224)
    assert (t.optimizer, t.weight_decay, t.no_decay_norm, t.backbone_lr_mult) == (
        "adamw", 0.05, True, 0.1)  # fmt: skip
    assert t.lr * 64 / t.batch_size == 1e-3  # 1e-3 at batch 64, linearly scaled
    assert (t.schedule, t.warmup_epochs, t.warmup_start, t.epochs) == ("cosine", 2.5, 0.1, 30)


def test_synthetic_ladder_runs_the_cpu_recipes():
    """The synthetic benchmark's ladder trains the CPU recipes: the pose run is the CPU pose
    recipe, the two-stream rungs the CPU two-stream recipe, and the rungs differ from it only by
    the paper's modules."""
    root = Path(__file__).resolve().parents[1] / "configs"
    cpu_pose = load_config(root / "cpu" / "pose_only.yaml")
    pose = load_config(root / "synthetic" / "pose_only.yaml")
    assert (pose.data, pose.model, pose.train) == (cpu_pose.data, cpu_pose.model, cpu_pose.train)
    cpu_two = load_config(root / "cpu" / "two_stream.yaml")
    modules = {"two_stream": (False, False), "two_stream_fusion": (True, False),
               "two_stream_pr": (False, True), "paper": (True, True)}  # fmt: skip
    for name, (fusion, pr) in modules.items():
        cfg = load_config(root / "synthetic" / f"{name}.yaml")
        assert (cfg.data, cfg.train) == (cpu_two.data, cpu_two.train), name
        assert (cfg.model.fusion.enabled, cfg.model.prototype.enabled) == (fusion, pr), name
        plain = replace(cfg.model, fusion=cpu_two.model.fusion, prototype=cpu_two.model.prototype)
        assert plain == cpu_two.model, name
        assert cfg.model.pose_base == cpu_pose.model.pose_base  # merge-init takes it whole


def test_two_stream_recipe_keeps_the_pose_recipe_s_pose_side():
    """merge-init takes the pose pathway whole: the two-stream recipe inherits its pose side."""
    root = Path(__file__).resolve().parents[1] / "configs" / "cpu"
    pose, two = load_config(root / "pose_only.yaml"), load_config(root / "two_stream.yaml")
    assert two.data.pose == pose.data.pose and two.model == pose.model
    assert two.data.modalities == ("rgb", "pose")
