"""Shared fixtures: a tiny registered model (the pipeline is under test, not accuracy) and generated media."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from runtime_media import moving_face_frames, write_video
from torch import nn

from edgefer.assets import SAMPLE_IMAGE
from edgefer.models import create_model, save_weights
from edgefer.models.registry import _REGISTRY, register_model

TINY = "runtime_test_tiny"


@pytest.fixture(scope="session")
def tiny_model() -> Iterator[nn.Module]:
    """A ~300-parameter CNN registered for the session and removed from the registry afterwards."""

    @register_model(default_img_size=32)
    def runtime_test_tiny(num_classes: int = 7, in_chans: int = 1, img_size: int = 32, **_: object) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(in_chans, 8, 3, stride=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, num_classes),
        )

    try:
        model = create_model(TINY)
        nn.init.normal_(model[-1].weight, std=2.0)  # spread the scores so that smoothing is visible
        yield model.eval()
    finally:
        _REGISTRY.pop(TINY, None)


@pytest.fixture(scope="session")
def weights_path(tiny_model: nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_weights(tmp_path_factory.mktemp("weights") / "tiny.pt", tiny_model)


@pytest.fixture(scope="session")
def recognizer(weights_path: Path):
    from edgefer import Recognizer

    return Recognizer(weights_path, backend="torch")


@pytest.fixture(scope="session")
def sample_bgr() -> np.ndarray:
    image = cv2.imread(str(SAMPLE_IMAGE))
    assert image is not None
    return image


@pytest.fixture(scope="session")
def sample_video(sample_bgr: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame 640×480 MP4 of a face moving across the frame."""
    return write_video(tmp_path_factory.mktemp("video") / "moving.mp4", moving_face_frames(sample_bgr, 12))
