"""Config files: YAML overrides, ``base:`` inheritance, ``--set a.b=c``, retired keys.

A YAML file holds only what differs from the schema's defaults. It may start from another file
with ``base: path/to/other.yaml`` (relative to the file that names it): the base is resolved
first, recursively, and the file's own keys are deep-merged over it (mappings merge key by key;
lists and scalars replace). ``--set`` overrides apply last. A cycle, a missing base or a base
that is not a mapping is an error naming the files.

Options that were removed from the schema are listed in :data:`RETIRED` with the value at which
they did nothing. An old config or a checkpoint's saved config that holds such a key at that value
loads with a warning; any other value is an error, since this version can no longer do what
that config asked for.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mgproto.config.experiment import ExperimentConfig
from mgproto.fileio import InputError
from mgproto.fileio.text import read_text
from mgproto.schema import ConfigError, from_dict, merge_overrides, to_dict, yaml_problem

T = TypeVar("T")
ANY_VALUE = object()  # a retired key that did nothing whatever its value

RETIRED: dict[tuple[str, ...], tuple[Any, str]] = {
    ("data", "rgb", "clip_norm"): (False, "per-clip standardisation of the RGB input"),
    ("data", "pose", "motion"): (False, "the heatmaps' temporal differences as more channels"),
    ("data", "pose", "rotate_degrees"): (0.0, "random rotation of the keypoints in training"),
    ("data", "pose", "smooth_sigma"): (0.0, "Gaussian temporal smoothing of the joint tracks"),
    ("data", "pose", "min_frames"): (0, "interpolating short records to a minimum length"),
    ("data", "pose", "fill_score_scale"): (1.0, "a lower score for gap-filled joints"),
    ("model", "pose_conv1_stride"): (1, "a spatially strided pose stem"),
    ("model", "fusion", "zero_init"): (False, "zero-initialised fusion output convs"),
    ("model", "prototype", "start_epoch"): (0, "a delayed start of the PR loss"),
    ("model", "rgb_drop_path"): (0.0, "random cuts of the lateral into RGB"),
    ("model", "pose_drop_path"): (0.0, "random cuts of the lateral into pose"),
    ("model", "rgb_detach"): (False, "stopping gradients through the lateral into RGB"),
    ("model", "pose_detach"): (False, "stopping gradients through the lateral into pose"),
    ("model", "fusion", "channel_heads"): (1, "several heads over channel tokens"),
    ("model", "prototype", "embed_pool"): ("avg", "PCAN's mean-max pooling of the PR embedding"),
    ("train", "coords_lr_mult"): (1.0, "a separate lr for the coordinate stream"),
    ("train", "label_smoothing"): (0.0, "label smoothing"),
    ("train", "mixup_alpha"): (0.0, "mixup"),
    ("train", "ema_epochs"): (0.0, "an exponential moving average of the weights"),
}


def _drop_retired(data: dict[str, Any], *, source: str) -> dict[str, Any]:
    """``data`` without retired keys; warns for each, raises where one is not at its no-op."""
    for path, (inert, what) in RETIRED.items():
        node = data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            continue
        key, value = ".".join(path), node[path[-1]]
        if inert is not ANY_VALUE and value != inert:
            raise ConfigError(
                f"{source}: {key} was retired ({what} lost its experiments, docs/experiments/); "
                f"this config sets it to {value!r}, which this version cannot do: remove the key"
            )
        logging.getLogger("mgproto").warning("%s: %s ignored (retired: %s)", source, key, what)
        data = _without(data, path)
    return data


def _without(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    if len(path) == 1:
        return {k: v for k, v in data.items() if k != path[0]}
    return {**data, path[0]: _without(data[path[0]], path[1:])}


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base``: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_mapping(path: Path, named_by: Path | None) -> dict[str, Any]:
    if not path.is_file():
        where = f"{named_by}: base " if named_by is not None else ""
        raise ConfigError(f"{where}config file not found: {path}")
    try:
        text = read_text(path, what="config")
    except InputError as err:  # unreadable, or binary
        raise ConfigError(str(err)) from None
    if not text:  # 0 bytes: a file cut short, as every reader refuses (a comment is enough)
        raise ConfigError(f"{path}: the config file is empty (0 bytes); it holds YAML overrides")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML {yaml_problem(err)}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return loaded or {}


def resolve_file(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping a config file stands for, its ``base:`` chain merged in (no defaults)."""
    path = Path(path)
    real = path.resolve()
    if real in _chain:
        names = " -> ".join(str(p) for p in (*_chain, real))
        raise ConfigError(f"config inheritance cycle: {names}")
    data = _read_mapping(path, _chain[-1] if _chain else None)
    if "base" not in data:
        return data
    base = data.pop("base")
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: base must be the path of another config file, got {base!r}")
    inherited = resolve_file(path.parent / base, _chain=(*_chain, real))
    return deep_merge(inherited, data)


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    cls: type[T] = ExperimentConfig,  # type: ignore[assignment]
) -> T:
    """A YAML file (with its ``base:`` chain) or none, plus ``--set`` overrides, into ``cls``."""
    data = resolve_file(path) if path is not None else {}
    data = merge_overrides(data, overrides or [])
    data = _drop_retired(data, source=str(path or "--set"))
    try:
        return from_dict(cls, data)
    except ConfigError as err:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(f"{where}{err}") from None


def load_config_text(text: str, *, source: str = "<text>") -> ExperimentConfig:
    """An ExperimentConfig from YAML text (e.g. the copy saved in a checkpoint)."""
    try:
        data = yaml.safe_load(text) or {}
        data = _drop_retired(data, source=source) if isinstance(data, dict) else data
        if not isinstance(data, dict):
            raise ConfigError(f"the top level is a {type(data).__name__}, not a mapping")
        return from_dict(ExperimentConfig, data)
    except yaml.YAMLError as err:
        problem = yaml_problem(err)
        raise ConfigError(f"{source}: saved config is not valid YAML ({problem})") from None
    except ConfigError as err:
        raise ConfigError(f"{source}: saved config does not load ({err})") from None


def dump_config(cfg: Any) -> str:
    """The fully resolved config as YAML (saved in every run directory and checkpoint)."""
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def config_files(path: str | Path) -> list[Path]:
    """The files a config stands for: ``path``, then its ``base:`` chain (what a verb reads,
    so none of its outputs may replace them). Call after the config loaded: errors are its."""
    files, path = [], Path(path)
    while path.resolve() not in {f.resolve() for f in files} and path.is_file():
        files.append(path)
        base = _read_mapping(path, None).get("base")
        if not isinstance(base, str) or not base:
            break
        path = path.parent / base
    return files
