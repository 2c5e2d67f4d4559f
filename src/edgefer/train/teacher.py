"""The teacher of a distillation run: a frozen model loaded from a weight file, run on the student's images.

Choice: when augmentation is off, the teacher's logits and features of the whole training set are computed once
before the first epoch and kept in memory (a distillation epoch then costs one extra table look-up per batch).
When augmentation is on, every batch is different, so the teacher runs live under ``no_grad`` on the same
augmented pixels the student sees (``distill.cache_teacher: false`` runs it live always, e.g. to save the memory of
the cache on a large data set).

Choice: several teachers distil as one ensemble. Its logits are the mean of theirs (the softmax of the mean is the
normalised geometric mean of their distributions at any temperature), and its feature vector is the concatenation
of each teacher's L2-normalised features, so that every teacher weighs the same in the feature loss whatever its
width or scale (in the logits a more confident teacher, one with larger logits, pulls the mean further, as in any
geometric mean). One teacher's outputs are passed on unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from edgefer.errors import ModelError
from edgefer.models.weights import load_weights
from edgefer.train.inputs import model_input, pixel_batch


class Teacher:
    def __init__(self, models: list[nn.Module], device: torch.device, antialias: bool = True) -> None:
        self.models = [model.to(device).eval() for model in models]
        self.antialias = antialias  # how a larger student image is shrunk to each teacher's size (model_input)
        for model in self.models:
            for parameter in model.parameters():
                parameter.requires_grad_(False)
        self.device = device
        self.cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def load(cls, paths: list[str], classes: tuple[str, ...], device: torch.device, antialias: bool = True) -> Teacher:
        """Load one teacher or an ensemble and check each predicts the student's classes, in the student's order."""
        models = []
        for path in paths:
            model = load_weights(path)
            if tuple(model.classes) != tuple(classes):
                raise ModelError(
                    f"teacher {path!r} predicts {list(model.classes)} but the student is trained on {list(classes)}; "
                    "train a teacher on the same classes (same data set and data.classes) or drop --teacher"
                )
            models.append(model)
        return cls(models, device, antialias)

    @torch.no_grad()
    def __call__(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, K) and features (B, D) of a (B, C, H, W) pixel batch in [0, 1]."""
        outputs = []
        for model in self.models:
            features = model.forward_features(model_input(pixels, model.preprocess, self.antialias))  # (B, D_i)
            outputs.append((model.forward_head(features), features))
        if len(outputs) == 1:
            return outputs[0]
        logits = torch.stack([logits for logits, _ in outputs]).mean(dim=0)  # (B, K)
        features = torch.cat([F.normalize(features, dim=1) for _, features in outputs], dim=1)  # (B, ΣD_i)
        return logits, features

    @torch.no_grad()
    def accuracy(self, images: np.ndarray, labels: np.ndarray, batch_size: int) -> float:
        """Top-1 accuracy of the teacher (the ensemble's mean logits) on uint8 images, e.g. the validation split."""
        labels = np.asarray(labels)
        correct = 0
        for index in _batches(len(images), batch_size):
            logits, _ = self(pixel_batch(images, index, self.device))
            correct += int((logits.argmax(dim=1).cpu().numpy() == labels[index]).sum())
        return correct / max(len(images), 1)

    def feature_dim(self) -> int:
        channels, height, width = self.models[0].preprocess.input_size
        return self(torch.zeros(1, channels, height, width, device=self.device))[1].shape[1]

    def precompute(self, images: np.ndarray, batch_size: int, show_progress: bool = True) -> None:
        """Cache logits and features of every training image (used when augmentation is off)."""
        logits, features = [], []
        batches = _batches(len(images), batch_size)
        for index in tqdm(batches, desc="teacher outputs", unit="batch", disable=not show_progress):
            batch_logits, batch_features = self(pixel_batch(images, index, self.device))
            logits.append(batch_logits)
            features.append(batch_features)
        self.cache = (torch.cat(logits), torch.cat(features))

    def outputs(self, index: torch.Tensor, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher outputs for training images ``index``: from the cache when there is one, else computed live."""
        if self.cache is not None:
            device_index = index.to(self.cache[0].device)
            return self.cache[0][device_index], self.cache[1][device_index]
        return self(pixels)


def _batches(count: int, batch_size: int) -> list[np.ndarray]:
    """The indices ``0 .. count-1`` in consecutive batches of ``batch_size`` (the last one may be shorter)."""
    return [np.arange(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
