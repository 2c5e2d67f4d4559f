"""A face-detection ONNX model the user supplies, run by OpenCV's ``FaceDetectorYN`` (e.g. YuNet).

No such model ships in any OpenCV wheel and edgefer downloads nothing: the user passes its path.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgefer.errors import ConfigError
from edgefer.faces.base import Detection


class YuNetDetector:
    """Five landmarks per face (right eye, left eye, nose tip, right and left mouth corners)."""

    name = "yunet"

    def __init__(self, path: str | Path, score_threshold: float = 0.7, nms_threshold: float = 0.3) -> None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(
                f"face detector model {str(path)!r} does not exist; give the path of a YuNet .onnx "
                "file, or --detector haar"
            )
        logging = cv2.utils.logging
        level = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)  # a model that fails is reported below in one line
        try:
            self._detector = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold)
            self._detector.detect(np.zeros((320, 320, 3), np.uint8))
        except cv2.error:
            raise ConfigError(
                f"OpenCV's FaceDetectorYN cannot run {str(path)!r}; it must be a YuNet-style "
                "face detection .onnx model (face_detection_yunet_2023mar.onnx)"
            ) from None
        finally:
            logging.setLogLevel(level)
        self._size = (320, 320)

    def detect(self, image: np.ndarray) -> list[Detection]:
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._detector.setInputSize(size)
            self._size = size
        _, faces = self._detector.detect(image)
        if faces is None:
            return []
        return [
            Detection(
                tuple(round(float(v)) for v in face[:4]), float(face[14]), face[4:14].reshape(5, 2).astype(np.float32)
            )
            for face in faces
        ]
