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
