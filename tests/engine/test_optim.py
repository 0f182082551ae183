"""Optimiser construction: parameter groups (no decay on norms, backbone lr) and schedules."""

from __future__ import annotations

import pytest
import torch

from mgproto.build import model_from_config, objective_from_config
from mgproto.config import TrainConfig, load_config
from mgproto.engine.optim import build_optimizer, param_groups
from mgproto.engine.schedule import lr_factor

SWIN = ["data.modalities=[rgb]", "model.arch=swin", "data.num_classes=5", "model.swin.arch=tiny",
        "model.swin.embed_dim=24", "model.swin.depths=[2,2,2,2]",
        "model.swin.num_heads=[1,2,4,8]"]  # fmt: skip


def _objective(sets: list[str]):
    cfg = load_config(None, sets)
    return objective_from_config(cfg, model_from_config(cfg))


def test_defaults_keep_one_group_so_older_checkpoints_resume():
    obj = _objective(["data.modalities=[pose]", "model.preset=tiny", "data.num_classes=5"])
    groups = param_groups(obj, TrainConfig())
    assert len(groups) == 1
    assert groups[0]["params"] == list(obj.parameters())  # same order as before


def test_swin_recipe_groups_exempt_norms_and_bias_tables_and_slow_the_backbone():
    obj = _objective(SWIN)
    cfg = TrainConfig(optimizer="adamw", lr=1e-3, weight_decay=0.05, no_decay_norm=True,
                      backbone_lr_mult=0.1)  # fmt: skip
    opt = build_optimizer(obj, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    where = {id(p): (g["lr"], g["weight_decay"]) for g in opt.param_groups for p in g["params"]}
    named = dict(obj.named_parameters())
    for name, p in named.items():
        lr, wd = where[id(p)]
        assert lr == pytest.approx(1e-4 if ".backbone." in name else 1e-3), name
        exempt = "norm" in name or "relative_position_bias_table" in name
        assert wd == (0.0 if exempt else 0.05), name
    assert sum(len(g["params"]) for g in opt.param_groups) == len(named)


def test_sgd_exempts_batchnorm_but_not_conv_weights():
    obj = _objective(["data.modalities=[pose]", "model.preset=tiny", "data.num_classes=5"])
    groups = param_groups(obj, TrainConfig(no_decay_norm=True, weight_decay=1e-4))
    exempt = {id(p) for g in groups if g["weight_decay"] == 0 for p in g["params"]}
    for name, p in obj.named_parameters():
        assert (id(p) in exempt) == (".bn." in name), name


def test_warmup_rises_from_its_start_factor():
    cfg = TrainConfig(warmup_epochs=2.5, warmup_start=0.1, schedule="cosine", epochs=30)
    assert lr_factor(0.0, cfg) == pytest.approx(0.1)
    assert lr_factor(1.25, cfg) == pytest.approx(0.55 * 0.5 * (1 + torch.cos(torch.tensor(
        torch.pi * 1.25 / 30))).item(), rel=1e-6)  # fmt: skip
    assert lr_factor(30.0, cfg) == pytest.approx(0.0, abs=1e-12)
