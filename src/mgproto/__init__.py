"""mgproto: micro-gesture recognition with two-stream PoseConv3D and prototype learning."""

from mgproto.config import ExperimentConfig, load_config
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.layouts import LAYOUTS, Layout, get_layout

__all__ = [
    "LAYOUTS",
    "AnnotationFile",
    "ExperimentConfig",
    "Layout",
    "get_layout",
    "load_annotations",
    "load_config",
    "save_annotations",
]
__version__ = "0.1.0"
