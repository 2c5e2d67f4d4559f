"""Test-time augmentation views (numpy only, so the CLI can list the modes without importing torch)."""

from __future__ import annotations

import numpy as np

TTA_MODES: tuple[str, ...] = ("none", "flip", "multicrop")

# multicrop: the whole face plus its four corner crops of this fraction of each side, each also mirrored
# (10 views). Corner crops shift the face by ~5 % of its size, about what random-crop augmentation teaches.
CROP_FRACTION = 0.9


def check_tta(tta: str) -> None:
    if tta not in TTA_MODES:
        raise ValueError(f"unknown TTA mode {tta!r}; expected one of {', '.join(TTA_MODES)}")


def tta_views(images: np.ndarray, tta: str) -> list[np.ndarray]:
    """The views whose probabilities are averaged: uint8 (N, H, W[, C]) arrays, each still to be preprocessed."""
    check_tta(tta)
    if tta == "none":
        return [images]
    views = [images]
    if tta == "multicrop":
        height, width = images.shape[1:3]
        crop_h, crop_w = max(1, round(height * CROP_FRACTION)), max(1, round(width * CROP_FRACTION))
        for top in (0, height - crop_h):
            for left in (0, width - crop_w):
                views.append(np.ascontiguousarray(images[:, top : top + crop_h, left : left + crop_w]))
    return views + [np.ascontiguousarray(view[:, :, ::-1]) for view in views]  # horizontal mirror of each
