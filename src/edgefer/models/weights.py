"""Weight files: a model's state plus everything needed to rebuild and use it (name, kwargs, preprocessing,
class names). Loading never needs the network and never unpickles arbitrary objects (``weights_only=True``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgefer.errors import ModelError
from edgefer.labels import EMOTIONS, EMOTIONS_WITH_CONTEMPT
from edgefer.models.registry import Preprocess, create_model

FORMAT = "edgefer-weights/1"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_classes(model: nn.Module) -> tuple[str, ...]:
    """The class names of a model's outputs: stored with its weights, else the canonical order."""
    return tuple(getattr(model, "classes", EMOTIONS_WITH_CONTEMPT[: model.num_classes]))


def save_weights(
    path: str | Path, model: nn.Module, classes: tuple[str, ...] = EMOTIONS, meta: dict[str, Any] | None = None
) -> Path:
    """Write a model made by ``create_model`` to ``path`` (written to a temporary file, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "model": model.model_name,
        "create_kwargs": dict(model.create_kwargs),
        "preprocess": model.preprocess.to_dict(),
        "classes": list(classes),
        "meta": dict(meta or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_weights_file(path: str | Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """The raw payload of a weight file, after checking that it exists, is ours and (optionally) its hash."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"weights file {str(path)!r} does not exist; give the path of a .pt file written by `edgefer train`"
        )
    if expected_sha256 is not None and sha256_of(path) != expected_sha256:
        raise ModelError(
            f"weights file {str(path)!r} does not match its recorded sha256; the file is corrupt "
            "or was replaced: reinstall edgefer or re-run the training command in its recipe"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise ModelError(
            f"cannot read weights file {str(path)!r} ({type(error).__name__}); it is not a "
            "PyTorch file written by edgefer"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(
            f"{str(path)!r} is not an edgefer weights file (format {FORMAT!r}); export weights "
            "with `edgefer train`, or load a raw state_dict into create_model(...) yourself"
        )
    return payload


def load_weights(path: str | Path, expected_sha256: str | None = None) -> nn.Module:
    """Rebuild the model stored in a weight file, in eval mode, with its metadata (``model.classes`` too)."""
    payload = read_weights_file(path, expected_sha256)
    model = create_model(payload["model"], **payload["create_kwargs"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise ModelError(
            f"weights in {str(path)!r} do not fit model {payload['model']!r}: {str(error).splitlines()[0]}"
        ) from None
    model.preprocess = Preprocess.from_dict(payload["preprocess"])
    model.classes = tuple(payload["classes"])
    model.weights_meta = payload["meta"]
    return model.eval()
