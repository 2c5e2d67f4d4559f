"""Fixtures of the export tests."""

import functools
from collections.abc import Callable
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


@pytest.fixture(scope="module")
def fer2013_faces(shared_datasets: Path) -> Callable[..., np.ndarray]:
    """``faces(model, split, count)``: ``count`` real FER2013 faces of one official split (a seeded draw),
    preprocessed for ``model``; skips the test where ../shared/datasets is absent. The data set is read once
    per module, on the first call, so a test that skips before calling it (no extra installed) reads nothing."""
    from edgefer.data import draw_samples, load_arrays, read_dataset

    read = functools.cache(lambda: read_dataset("fer2013", shared_datasets / "fer2013"))

    def faces(model, split: str, count: int) -> np.ndarray:
        samples = [sample for sample in read() if sample.split == split]
        images, _ = load_arrays(draw_samples(samples, count), model.preprocess.image_size)
        return model.preprocess.apply(images)

    return faces
