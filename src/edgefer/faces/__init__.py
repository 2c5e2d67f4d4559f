"""Face detectors behind one interface (``FaceDetector.detect(bgr) -> list[Detection]``) and face cropping.

``create_detector(name)`` takes ``haar`` (Viola–Jones, the default), ``dlib`` (extra), ``mediapipe`` (extra),
``none`` (the image already is a face) or the path of a YuNet-style ``.onnx`` face model.
"""

from __future__ import annotations

from pathlib import Path

from edgefer.errors import ConfigError
from edgefer.faces.base import Detection, FaceDetector
from edgefer.faces.crop import crop_face, eye_angle

DETECTORS: tuple[str, ...] = ("haar", "dlib", "mediapipe", "none")


def create_detector(name: str = "haar") -> FaceDetector:
    """A face detector by name, or a YuNet-style ONNX model by path. Optional extras are imported here only."""
    if name == "haar":
        from edgefer.faces.haar import HaarDetector

        return HaarDetector()
    if name == "dlib":
        from edgefer.faces.dlib_hog import DlibDetector

        return DlibDetector()
    if name == "mediapipe":
        from edgefer.faces.blazeface import BlazeFaceDetector

        return BlazeFaceDetector()
    if name == "none":
        from edgefer.faces.whole import WholeImageDetector

        return WholeImageDetector()
    if name.lower().endswith(".onnx") or Path(name).is_file():
        from edgefer.faces.yunet import YuNetDetector

        return YuNetDetector(name)
    raise ConfigError(
        f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)} or the path of a YuNet .onnx face model"
    )


__all__ = ["DETECTORS", "Detection", "FaceDetector", "create_detector", "crop_face", "eye_angle"]
