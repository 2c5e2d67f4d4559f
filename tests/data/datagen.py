"""Small images and CSVs written for the data tests (a uniquely named module: other test folders have conftests)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

_rng = np.random.default_rng(1234)


def write_image(path: Path, pixels: np.ndarray | None = None, size: int = 8) -> Path:
    """Write a random (hence unique) small greyscale image, or ``pixels``, in the format the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if pixels is None:
        pixels = _rng.integers(0, 256, (size, size), dtype=np.uint8)
    assert cv2.imwrite(str(path), pixels), path
    return path


def write_fer_csv(
    path: Path, rows: list[tuple[int, str]], side: int = 4, header=("emotion", "pixels", "Usage")
) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for emotion, usage in rows:
            values = {
                "emotion": emotion,
                "pixels": " ".join(str(v) for v in _rng.integers(0, 256, side * side)),
                "usage": usage,
            }
            writer.writerow([values[column.strip().lower()] for column in header])
    return path
