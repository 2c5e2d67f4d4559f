"""The ``none`` detector: the input already is a face crop (a data-set image), so the face is the whole image."""

from __future__ import annotations

import numpy as np

from edgefer.faces.base import Detection


class WholeImageDetector:
    name = "none"

    def detect(self, image: np.ndarray) -> list[Detection]:
        return [Detection((0, 0, int(image.shape[1]), int(image.shape[0])))]
