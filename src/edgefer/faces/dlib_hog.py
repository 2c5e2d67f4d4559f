"""Dlib's HOG + linear SVM face detector (the `dlib` extra: the `dlib-bin` wheel, no model file needed)."""

from __future__ import annotations

import cv2
import numpy as np

from edgefer.errors import MissingExtraError
from edgefer.faces.base import Detection


class DlibDetector:
    """Frontal and slightly turned faces; no landmarks (dlib's 68-point predictor needs a model file we do not ship)."""

    name = "dlib"

    def __init__(self, upsample: int = 0) -> None:
        try:
            import dlib
        except ImportError:
            raise MissingExtraError("dlib-bin", "dlib", "the dlib face detector") from None
        self._detector = dlib.get_frontal_face_detector()
        self.upsample = upsample

    def detect(self, image: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rects, scores, _ = self._detector.run(rgb, self.upsample, 0.0)
        return [
            Detection((r.left(), r.top(), r.right() - r.left(), r.bottom() - r.top()), float(score))
            for r, score in zip(rects, scores, strict=True)
        ]
