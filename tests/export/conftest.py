"""Fixtures of the export tests."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgefer.labels import EMOTIONS


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory) -> Path:
    """A generic <class>/* data set of blurred-noise images, enough for calibration and a check."""
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(1)
    for name in EMOTIONS:
        (root / name).mkdir()
        for index in range(4):
            image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64), dtype=np.uint8), (0, 0), 3)
            cv2.imwrite(str(root / name / f"{index}.png"), image)
    return root
