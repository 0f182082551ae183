"""mgproto: micro-gesture recognition with two-stream PoseConv3D and prototype learning.

The Python API (docs/api.md): :func:`train` a run, :func:`load_classifier` a checkpoint or run
folder, then ``Classifier.classify`` a skeleton clip or ``Classifier.predict_video`` a video.
Importing the package is cheap: torch loads on the first call that needs it.
"""

from mgproto.api import Classifier, ClipPrediction, load_classifier, train
from mgproto.config import ExperimentConfig, load_config
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.layouts import LAYOUTS, Layout, get_layout

__all__ = [
    "LAYOUTS",
    "AnnotationFile",
    "Classifier",
    "ClipPrediction",
    "ExperimentConfig",
    "Layout",
    "get_layout",
    "load_annotations",
    "load_classifier",
    "load_config",
    "save_annotations",
    "train",
]
__version__ = "0.1.0"
