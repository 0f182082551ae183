"""Config files: ``base:`` inheritance (merge, cycle, missing base) and retired keys."""

import logging

import pytest

from mgproto.config import ConfigError, ExperimentConfig, dump_config, load_config, load_config_text
from mgproto.config.files import RETIRED, deep_merge


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_file_deep_merges_over_its_base_chain(tmp_path):
    _write(tmp_path / "root.yaml", "name: root\nseed: 3\ndata:\n  num_classes: 7\n"
           "  pose: {sigma: 0.7, clip_len: 48, area_range: [0.5, 1]}\n"
           "train: {milestones: [4, 6], epochs: 9}\n")  # fmt: skip
    _write(tmp_path / "sub" / "mid.yaml", "base: ../root.yaml\nname: mid\n"
           "data:\n  pose: {sigma: 0.9}\n")  # fmt: skip
    leaf = _write(tmp_path / "sub" / "leaf.yaml", "base: mid.yaml\ntrain: {milestones: [2]}\n")
    cfg = load_config(leaf, ["data.pose.clip_len=24"])
    assert (cfg.name, cfg.seed, cfg.data.num_classes) == ("mid", 3, 7)
    pose = cfg.data.pose
    assert (pose.sigma, pose.clip_len, pose.area_range) == (0.9, 24, (0.5, 1.0))
    assert cfg.train.milestones == (2,) and cfg.train.epochs == 9  # lists replace, keys merge
    assert "\nbase:" not in dump_config(cfg)  # the saved config is resolved


def test_deep_merge_merges_mappings_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}, "e": None}) == {
        "a": {"b": 1, "c": [3]}, "d": 1, "e": None}  # fmt: skip
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # not mutated


def test_an_inheritance_cycle_is_an_error_naming_the_files(tmp_path):
    _write(tmp_path / "a.yaml", "base: b.yaml\n")
    _write(tmp_path / "b.yaml", "base: a.yaml\n")
    with pytest.raises(ConfigError, match=r"cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_config(tmp_path / "a.yaml")
    _write(tmp_path / "self.yaml", "base: self.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "self.yaml")


def test_a_missing_or_malformed_base_is_an_error_naming_both_files(tmp_path):
    child = _write(tmp_path / "child.yaml", "base: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"child\.yaml: base config file not found: .*nowhere"):
        load_config(child)
    _write(tmp_path / "list.yaml", "- 1\n")
    child = _write(tmp_path / "c2.yaml", "base: list.yaml\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: the top level must be a mapping"):
        load_config(child)
    child = _write(tmp_path / "c3.yaml", "base: [a.yaml, b.yaml]\n")
    with pytest.raises(ConfigError, match="base must be the path of another config file"):
        load_config(child)


def test_a_yaml_error_is_one_line_with_line_and_column(tmp_path):
    bad = _write(tmp_path / "bad.yaml", "data:\n  pose: {sigma: 0.7\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "\n" not in str(err.value) and "bad.yaml: not valid YAML at line" in str(err.value)


def test_a_retired_key_at_its_no_op_value_loads_with_a_warning(tmp_path, caplog):
    old = _write(tmp_path / "old.yaml", "data:\n  pose: {motion: false}\n  rgb: {clip_norm: "
                 "false}\ntrain: {ema_epochs: 0, label_smoothing: 0.0}\n")  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="mgproto"):
        cfg = load_config(old)
    assert cfg == ExperimentConfig()
    for key in ("data.pose.motion", "data.rgb.clip_norm", "train.ema_epochs"):
        assert f"{key} ignored (retired" in caplog.text


def test_a_retired_key_that_asked_for_something_is_an_error(tmp_path):
    old = _write(tmp_path / "old.yaml", "model:\n  fusion: {enabled: true, channel_heads: 4}\n")
    with pytest.raises(ConfigError, match=r"model\.fusion\.channel_heads was retired .* sets it "
                       r"to 4, which this version cannot do"):  # fmt: skip
        load_config(old)
    with pytest.raises(ConfigError, match=r"train\.mixup_alpha was retired"):
        load_config(None, ["train.mixup_alpha=0.2"])


def test_a_checkpoint_s_saved_config_with_retired_keys_still_loads(caplog):
    text = (
        dump_config(ExperimentConfig())
        .replace("  clip_grad: 40.0\n", "  clip_grad: 40.0\n  ema_epochs: 0.0\n")
        .replace("  lr: ", "  label_smoothing: 0.0\n  lr: ", 1)
    )
    assert "label_smoothing" in text and "ema_epochs" in text
    assert load_config_text(text, source="old.yaml") == ExperimentConfig()
    with pytest.raises(ConfigError, match="saved config does not load .*ema_epochs was retired"):
        load_config_text(text.replace("ema_epochs: 0.0", "ema_epochs: 2.0"))


def test_every_retired_key_is_gone_from_the_schema():
    for path in RETIRED:
        node = ExperimentConfig()
        for part in path[:-1]:
            node = getattr(node, part)
        assert not hasattr(node, path[-1]), path
