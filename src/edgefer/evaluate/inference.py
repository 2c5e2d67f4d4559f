"""Batched class probabilities for uint8 face images, with optional test-time augmentation (TTA).

Pixels become model input through ``model.preprocess.apply``, the preprocessing stored with the weights (the
same call recognition makes), never through sizes or statistics fixed here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from edgefer.evaluate.tta import check_tta, tta_views


def predict_probs(
    model: nn.Module,
    images_uint8: np.ndarray,
    batch_size: int = 256,
    tta: str = "none",
    progress: bool | None = None,
) -> np.ndarray:
    """Softmax probabilities (N, C) float32 of ``model`` on uint8 greyscale (N, H, W) images.

    Images may have any size: ``model.preprocess`` resizes them. With TTA the probabilities of all views
    are averaged. The model runs on the device of its parameters, in eval mode (its mode is restored after).
    ``progress=None`` shows a progress bar when there is more than one batch.
    """
    images_uint8 = np.asarray(images_uint8)
    if images_uint8.dtype != np.uint8 or images_uint8.ndim not in (3, 4):
        raise ValueError(f"expected uint8 images (N, H, W), got {images_uint8.dtype} {images_uint8.shape}")
    check_tta(tta)
    count = len(images_uint8)
    device = next(model.parameters()).device
    show = count > batch_size if progress is None else progress
    was_training = model.training
    model.eval()
    chunks = []
    try:
        with torch.inference_mode(), tqdm(total=count, desc="predict", unit="img", disable=not show) as bar:
            for start in range(0, count, batch_size):
                batch = images_uint8[start : start + batch_size]
                probs = None
                views = tta_views(batch, tta)
                for view in views:
                    inputs = torch.from_numpy(model.preprocess.apply(view)).to(device)  # (B, C, H, W)
                    view_probs = torch.softmax(model(inputs).float(), dim=1)  # (B, classes)
                    probs = view_probs if probs is None else probs + view_probs
                chunks.append((probs / len(views)).cpu().numpy())
                bar.update(len(batch))
    finally:
        model.train(was_training)
    if not chunks:
        return np.zeros((0, model.num_classes), np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)
