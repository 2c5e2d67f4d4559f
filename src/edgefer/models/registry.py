"""Model registry in the style of timm: ``@register_model``, ``create_model(name)``, ``list_models()``.

A registered factory has the signature ``fn(num_classes=7, in_chans=1, img_size=None, **kwargs) -> nn.Module``.
``create_model`` attaches to every model it builds the metadata needed to use it (``model.model_name``,
``model.create_kwargs``, ``model.preprocess``), which is also what weight files store.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from torch import nn

from edgefer.errors import ModelError


@dataclass(frozen=True)
class Preprocess:
    """How an image must be prepared for a model: pixels/255 resized to (H, W), then (x - mean) / std."""

    input_size: tuple[int, int, int]  # (C, H, W)
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def channels(self) -> int:
        return self.input_size[0]

    @property
    def image_size(self) -> tuple[int, int]:
        return self.input_size[1], self.input_size[2]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def apply(self, images: np.ndarray) -> np.ndarray:
        """uint8 greyscale (N, H', W') or (N, H', W', C) images → float32 model input (N, C, H, W).

        Greyscale images are repeated into the model's channels; colour images must already have its channels.

        Evaluation, recognition and export calibration call it; training does the same on tensors
        (``edgefer.train.inputs.model_input``). Both read images cached at the model's own size, so neither resizes
        there; training resizes only a distillation teacher's input to the teacher's size, with torch's bilinear
        filter, which stays within a grey level of this one when enlarging (tests/train/test_train_augment.py).
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]  # (N, H', W', 1)
        height, width = self.image_size
        if images.shape[1:3] != (height, width):
            images = np.stack([_resize(image, (width, height)) for image in images])
        if images.shape[-1] != self.channels:
            if images.shape[-1] != 1:
                # Colour → grey depends on the channel order, which only the caller knows (cv2.cvtColor).
                raise ValueError(f"cannot turn {images.shape[-1]}-channel images into {self.channels} channels")
            images = np.repeat(images, self.channels, axis=-1)
        mean = np.asarray(self.mean, np.float32)
        std = np.asarray(self.std, np.float32)
        batch = (images.astype(np.float32) / 255.0 - mean) / std  # (N, H, W, C)
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))  # (N, C, H, W)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        return cls(tuple(data["input_size"]), tuple(data["mean"]), tuple(data["std"]))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize one (H, W, C) image to size=(W, H), keeping the channel axis that cv2 drops for C=1."""
    shrinking = image.shape[0] > size[1]
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.reshape(size[1], size[0], image.shape[-1])


@dataclass(frozen=True)
class ModelEntry:
    name: str
    factory: Callable[..., nn.Module]
    default_img_size: int
    mean: float
    std: float
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


def require_img_size(model: str, img_size: int | None, minimum: int) -> None:
    """Refuse, when the model is built, an input size its poolings would shrink to nothing (a later, deeper
    error would not say which size to choose)."""
    if img_size is not None and img_size < minimum:
        raise ModelError(f"{model} needs img_size >= {minimum}, got {img_size}; pass a larger img_size")


def register_model(
    default_img_size: int, mean: float = 0.5, std: float = 0.5
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a model factory under its function name, with its default input size and normalisation."""

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = factory.__name__
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        doc = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelEntry(name, factory, default_img_size, mean, std, doc[0] if doc else "")
        return factory

    return decorator


def _ensure_models_imported() -> None:
    # Importing the package runs every @register_model in it.
    import edgefer.models  # noqa: F401


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    _ensure_models_imported()
    return sorted(name for name in _REGISTRY if fnmatch.fnmatch(name, pattern))


def model_entry(name: str) -> ModelEntry:
    """The registry entry of a model; an unknown name raises ModelError listing the close matches."""
    _ensure_models_imported()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=5, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"known models: {', '.join(sorted(_REGISTRY))}"
        raise ModelError(f"unknown model {name!r}; {hint} (`edgefer bench --list` lists them all)")
    return _REGISTRY[name]


def create_model(
    name: str, num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any
) -> nn.Module:
    """Build a registered model, with its preprocessing metadata attached."""
    entry = model_entry(name)
    size = img_size or entry.default_img_size
    model = entry.factory(num_classes=num_classes, in_chans=in_chans, img_size=size, **kwargs)
    model.model_name = name
    model.num_classes = num_classes
    model.create_kwargs = {"num_classes": num_classes, "in_chans": in_chans, "img_size": size, **kwargs}
    model.preprocess = Preprocess((in_chans, size, size), (entry.mean,) * in_chans, (entry.std,) * in_chans)
    return model
