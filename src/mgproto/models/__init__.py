"""Models: 3D ResNet pathways, RGBPoseConv3D, cross-modal fusion, heads, the recognizer."""

from mgproto.models.recognizer import STREAMS, ModelOutput, Recognizer, build_model

__all__ = ["STREAMS", "ModelOutput", "Recognizer", "build_model"]
