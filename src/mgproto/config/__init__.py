"""Typed experiment configuration: the schema (``experiment``), files (``files``), and the
reference page generated from the schema (``reference``)."""

from mgproto.config.experiment import (
    DataConfig,
    ExperimentConfig,
    FusionConfig,
    GCNConfig,
    ModelConfig,
    PoseInputConfig,
    PrototypeConfig,
    RGBInputConfig,
    SamplingConfig,
    SemanticConfig,
    SwinConfig,
    TCNConfig,
    TrainConfig,
)
from mgproto.config.files import (
    RETIRED,
    deep_merge,
    dump_config,
    load_config,
    load_config_text,
    resolve_file,
)
from mgproto.schema import ConfigError, from_dict, merge_overrides, to_dict

__all__ = [
    "RETIRED",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "FusionConfig",
    "GCNConfig",
    "ModelConfig",
    "PoseInputConfig",
    "PrototypeConfig",
    "RGBInputConfig",
    "SamplingConfig",
    "SemanticConfig",
    "SwinConfig",
    "TCNConfig",
    "TrainConfig",
    "deep_merge",
    "dump_config",
    "from_dict",
    "load_config",
    "load_config_text",
    "merge_overrides",
    "resolve_file",
    "to_dict",
]
