"""MediaPipe BlazeFace short-range (the `mediapipe` extra).

Only mediapipe releases up to 0.10.21 ship the face model inside the wheel (1.x wheels ship none and we never
download one), and mediapipe pulls a non-headless OpenCV and numpy<2: install it in its own environment.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgefer.errors import ConfigError, MissingExtraError
from edgefer.faces.base import Detection


class BlazeFaceDetector:
    """3–5 ms per 640×480 frame; six landmarks (right eye, left eye, nose tip, mouth, right ear, left ear)."""

    name = "mediapipe"

    def __init__(self, min_confidence: float = 0.5) -> None:
        try:
            import mediapipe as mp
        except ImportError:
            raise MissingExtraError("mediapipe", "mediapipe", "the mediapipe (BlazeFace) face detector") from None
        solutions = getattr(mp, "solutions", None)
        if solutions is None or not hasattr(solutions, "face_detection"):
            raise ConfigError(
                f"mediapipe {getattr(mp, '__version__', '?')} ships no BlazeFace model; "
                "install mediapipe<=0.10.21 (pip install 'edgefer[mediapipe]') or choose another --detector"
            )
        self._detector = solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=min_confidence
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        result = self._detector.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        detections = []
        for found in result.detections or []:
            rel = found.location_data.relative_bounding_box
            box = (
                round(rel.xmin * width),
                round(rel.ymin * height),
                round(rel.width * width),
                round(rel.height * height),
            )
            points = np.array(
                [(p.x * width, p.y * height) for p in found.location_data.relative_keypoints], dtype=np.float32
            )
            detections.append(Detection(box, float(found.score[0]), points if len(points) else None))
        return detections
