"""A tiny registered model and generated data for the trainer's tests (a few thousand parameters, 12×12 input)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from edgefer.models import list_models, register_model

TINY = "train_test_tiny"
TINY_WIDE = "train_test_tiny_wide"


class TinyNet(nn.Module):
    def __init__(self, num_classes: int, in_chans: int, width: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, width, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def register_tiny_models() -> None:
    """Register the test models once per process (the registry refuses a second registration)."""
    if list_models(TINY):
        return

    @register_model(default_img_size=12)
    def train_test_tiny(num_classes: int = 7, in_chans: int = 1, img_size: int = 12, dropout: float = 0.1) -> nn.Module:
        """Tiny CNN for tests (16 features)."""
        return TinyNet(num_classes, in_chans, 16, dropout)

    @register_model(default_img_size=12)
    def train_test_tiny_wide(num_classes: int = 7, in_chans: int = 1, img_size: int = 12) -> nn.Module:
        """Tiny CNN for tests (24 features): a teacher whose width differs from the student's."""
        return TinyNet(num_classes, in_chans, 24)


def make_arrays(n: int, num_classes: int = 3, size: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable images: class k is a bright horizontal band at a class-specific height, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int64)
    images = rng.integers(0, 60, (n, size, size)).astype(np.uint8)
    band = size // num_classes
    for i, label in enumerate(labels):
        images[i, label * band : label * band + band] += 150
    return images, labels


def write_ckplus48(root: Path, subjects: int = 6, per_class: int = 2, size: int = 12) -> Path:
    """A CK+48-like folder: <emotion>/S0NN_00K_0000000F.png for 3 emotions, several subjects."""
    rng = np.random.default_rng(0)
    for label, emotion in enumerate(("anger", "happy", "surprise")):
        (root / emotion).mkdir(parents=True, exist_ok=True)
        for subject in range(subjects):
            for frame in range(per_class):
                image = rng.integers(0, 60, (size, size)).astype(np.uint8)
                image[label * 4 : label * 4 + 4] += 150
                name = f"S{subject + 10:03d}_{label + 1:03d}_{frame + 1:08d}.png"
                cv2.imwrite(str(root / emotion / name), image)
    return root
