"""What every face detector returns, and the interface it implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Detection:
    """One detected face: ``box`` is (x, y, width, height) in pixels of the image given to the detector.

    ``landmarks`` are (K, 2) pixel coordinates whose first two rows are the subject's right and left eye
    (the order YuNet and BlazeFace both use), or None when the detector gives none.
    """

    box: tuple[int, int, int, int]
    score: float = 1.0
    landmarks: np.ndarray | None = None

    def scaled(self, factor: float) -> Detection:
        """The same detection in an image ``factor`` times larger (detectors may run on a downscaled frame)."""
        x, y, w, h = self.box
        box = (round(x * factor), round(y * factor), round(w * factor), round(h * factor))
        landmarks = None if self.landmarks is None else self.landmarks * factor
        return Detection(box, self.score, landmarks)


class FaceDetector(Protocol):
    """Finds faces in a BGR uint8 image (H, W, 3)."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...
