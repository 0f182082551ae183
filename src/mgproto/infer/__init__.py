"""Inference: raw video -> pose (MediaPipe) -> sliding-window predictions.

Importing this package does not import MediaPipe; :func:`extract_pose` loads it when called.
"""

from mgproto.infer.landmarks import SUPPORTED_LAYOUTS, SubjectGate
from mgproto.infer.pose import PoseBackendError, extract_pose

__all__ = ["SUPPORTED_LAYOUTS", "PoseBackendError", "SubjectGate", "extract_pose"]
