"""From cached uint8 greyscale arrays to model inputs: pixel batches in [0, 1], then each model's normalisation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from edgefer.models.registry import Preprocess


def pixel_batch(images: np.ndarray, index: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """Images ``index`` of an (N, H, W) uint8 array (memory-mapped is fine) as a (B, 1, H, W) float batch in [0, 1]."""
    chosen = np.asarray(images[np.asarray(index)])  # fancy indexing copies, also out of a memory map
    return torch.from_numpy(chosen).to(device).unsqueeze(1).float().div_(255)  # (B, 1, H, W)


def model_input(pixels: torch.Tensor, preprocess: Preprocess, antialias: bool = True) -> torch.Tensor:
    """Fit a (B, C, H, W) pixel batch to a model: channel count, size (bilinear, ``antialias``-filtered when
    shrinking), then (x − mean) / std."""
    channels, height, width = preprocess.input_size
    if pixels.shape[1] != channels:
        pixels = pixels.mean(dim=1, keepdim=True) if channels == 1 else pixels[:, :1].expand(-1, channels, -1, -1)
    if pixels.shape[-2:] != (height, width):
        pixels = F.interpolate(pixels, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias)
    mean = torch.tensor(preprocess.mean, device=pixels.device).view(1, -1, 1, 1)
    std = torch.tensor(preprocess.std, device=pixels.device).view(1, -1, 1, 1)
    return (pixels - mean) / std
