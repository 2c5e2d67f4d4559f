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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        return cls(tuple(data["input_size"]), tuple(data["mean"]), tuple(data["std"]))


@dataclass(frozen=True)
class ModelEntry:
    name: str
    factory: Callable[..., nn.Module]
    default_img_size: int
    mean: float
    std: float
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


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
