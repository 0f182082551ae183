import re

import pytest

from mgproto.config import (
    ConfigError,
    DataConfig,
    ExperimentConfig,
    dump_config,
    from_dict,
    load_config,
    merge_overrides,
)


def test_defaults_and_frozen():
    cfg = ExperimentConfig()
    assert cfg.data.pose.clip_len == 32
    assert cfg.data.pose.sigma == 0.6
    with pytest.raises(AttributeError):
        cfg.seed = 3  # frozen


def test_yaml_and_set_overrides(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: demo\ndata:\n  pose:\n    sigma: 0.7\n    area_range: [0.5, 1]\n")
    cfg = load_config(path, ["data.pose.clip_len=48", "seed=3"])
    assert cfg.name == "demo" and cfg.seed == 3
    assert cfg.data.pose.sigma == 0.7 and cfg.data.pose.clip_len == 48
    assert cfg.data.pose.area_range == (0.5, 1.0)  # list -> tuple, int -> float
    assert cfg.data.num_classes == 32  # untouched default


def test_unknown_key_names_valid_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key data\.pose\.sigmaa.*valid keys.*sigma"):
        load_config(None, ["data.pose.sigmaa=1"])
    path = tmp_path / "bad.yaml"
    path.write_text("dta: {}\n")
    with pytest.raises(ConfigError, match="bad.yaml: unknown key dta"):
        load_config(path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.pose.clip_len=abc", "expected an integer"),
        ("data.pose.clip_len=1.5", "expected an integer"),
        ("data.pose.with_limbs=3", "expected true/false"),
        ("data.pose.area_range=[1, 2, 3]", "expected 2 values"),
        ("data.pose=5", "expected a mapping"),
        ("seed", "key.path=value"),
    ],
)
def test_wrong_types_rejected(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_round_trip_through_yaml(tmp_path):
    cfg = load_config(None, ["data.pose.sigma=0.7", "name=x"])
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


def test_merge_overrides_does_not_mutate():
    base = {"data": {"pose": {"sigma": 0.6}}}
    out = merge_overrides(base, ["data.pose.sigma=0.7"])
    assert base["data"]["pose"]["sigma"] == 0.6 and out["data"]["pose"]["sigma"] == 0.7


def test_from_dict_nested():
    cfg = from_dict(DataConfig, {"pose": {"layout": "imigue22"}})
    assert cfg.pose.layout == "imigue22"


def _leaf_fields(cls, prefix=""):
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from _leaf_fields(tp, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", tp


def test_every_numeric_field_declares_a_range():
    import typing

    from mgproto.schema import Range

    def ranged(tp) -> bool:
        if typing.get_origin(tp) is typing.Annotated:
            return any(isinstance(a, Range) for a in typing.get_args(tp)[1:])
        return False

    def numeric(tp) -> bool:
        base = typing.get_args(tp)[0] if typing.get_origin(tp) is typing.Annotated else tp
        return base in (int, float)

    unranged = []
    for name, tp in _leaf_fields(ExperimentConfig):
        parts = typing.get_args(tp) if typing.get_origin(tp) is tuple else (tp,)
        unranged += [name for a in parts if a is not Ellipsis and numeric(a) and not ranged(a)]
    assert unranged == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.pose.sigma=0", "data.pose.sigma: 0.0 is out of range, expected > 0"),
        ("train.batch_size=0", "train.batch_size: 0 is out of range, expected >= 1"),
        ("train.lr=.nan", "train.lr: nan is not a finite number"),
        ("train.lr=.inf", "not a finite number"),
        ("data.pose.flip_ratio=1.5", "expected >= 0 and <= 1"),
        ("model.dropout=1", "model.dropout: 1.0 is out of range, expected >= 0 and < 1"),
        ("data.pose.area_range=[0.9,0.5]", "not an interval"),
        ("data.pose.area_range=[0,1]", "data.pose.area_range[0]: 0.0 is out of range"),
        ("model.pose_blocks=[1,0,1]", "model.pose_blocks[1]: 0 is out of range"),
        ("seed=-1", "seed: -1 is out of range"),
    ],
)
def test_values_out_of_range_are_rejected(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, [override])


def test_yaml_11_scientific_notation_is_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 1e-3\n  weight_decay: 5E-4\n")
    cfg = load_config(path, ["train.gamma=1e-1"])
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.gamma) == (1e-3, 5e-4, 0.1)
    with pytest.raises(ConfigError, match="expected a number"):
        load_config(None, ["train.lr=fast"])
