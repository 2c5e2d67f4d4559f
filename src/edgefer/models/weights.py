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


def state_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """A digest of every tensor's name, type, shape and bytes. Stored in a weight file when it is written and
    checked when it is read, so that a damaged file is refused instead of silently answering differently
    (``torch.load`` does not check the CRCs of its zip archive)."""
    digest = hashlib.sha256()
    for name, tensor in state_dict.items():
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.detach().cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
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
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "model": model.model_name,
        "create_kwargs": dict(model.create_kwargs),
        "preprocess": model.preprocess.to_dict(),
        "classes": list(classes),
        "meta": dict(meta or {}),
        "state_dict": state_dict,
        "state_sha256": state_sha256(state_dict),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_weights_file(path: str | Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """The raw payload of a weight file, after checking that it exists, is ours and not damaged: against
    ``expected_sha256`` (for a shipped file given by path, its recipe's), and against the digest of its tensors
    stored when it was written (files written before edgefer stored one have none)."""
    path = Path(path)
    if path.is_dir():
        weights = sorted(found for found in path.glob("*.pt") if found.name != "checkpoint.pt")
        inside = [*path.glob("best.pt"), *sorted(path.glob("*/best.pt")), *weights]  # a run, a k-fold run, any
        example = str(inside[0]) if inside else str(path / "best.pt")
        raise ModelError(f"{str(path)!r} is a folder; give a weights file `edgefer train` wrote in it, e.g. {example}")
    if not path.is_file():
        raise ModelError(
            f"weights file {str(path)!r} does not exist; give the path of a .pt file written by `edgefer train`"
        )
    expected_sha256 = expected_sha256 or _shipped_sha256(path)
    if expected_sha256 is not None and sha256_of(path) != expected_sha256:
        raise ModelError(
            f"weights file {str(path)!r} does not match its recorded sha256; the file is corrupt "
            "or was replaced: reinstall edgefer or re-run the training command in its recipe"
        )
    if path.suffix.lower() == ".onnx":
        raise ModelError(
            f"{str(path)!r} is an ONNX model, not edgefer weights; give the .pt file it was exported from "
            "(`edgefer predict` and `edgefer serve` also take the .onnx itself as --model)"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise ModelError(
            f"cannot read weights file {str(path)!r} ({type(error).__name__}); it is not a "
            "PyTorch file written by edgefer"
        ) from None
    found = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(found, str) and found.startswith("edgefer-weights/") and found != FORMAT:
        raise ModelError(
            f"{str(path)!r} is in weights format {found!r}, which this edgefer does not read (it reads {FORMAT!r}); "
            "upgrade edgefer, or re-export the weights with this version's `edgefer train`"
        )
    if found != FORMAT:
        raise ModelError(
            f"{str(path)!r} is not an edgefer weights file (format {FORMAT!r}); use the best.pt or last.pt that "
            "`edgefer train` writes (a checkpoint.pt is only for --resume), or load a raw state_dict into "
            "create_model(...) yourself"
        )
    problem = _payload_problem(payload)
    if problem is not None:
        raise ModelError(
            f"{str(path)!r} is not a complete edgefer weights file ({problem}); use a .pt written by `edgefer train`"
        )
    stored = payload.get("state_sha256")
    if stored is not None and stored != state_sha256(payload["state_dict"]):
        raise ModelError(
            f"weights file {str(path)!r} is damaged: its tensors no longer match the checksum written with them; "
            "use another copy of the file or re-run the `edgefer train` command that wrote it"
        )
    return payload


def _shipped_sha256(path: Path) -> str | None:
    """The recorded sha256 when ``path`` is one of the weight files shipped inside the package, else None."""
    from edgefer.weights import WEIGHTS_DIR, shipped_models, shipped_weights

    target = path.resolve()  # a link to a shipped file is checked as the file it points to
    if target.suffix != ".pt" or target.parent != WEIGHTS_DIR or target.stem not in shipped_models():
        return None
    return shipped_weights(target.stem).sha256


# What every weights file holds, and the type of each entry (``save_weights`` writes them all).
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "create_kwargs": dict,
    "preprocess": dict,
    "classes": (list, tuple),
    "meta": dict,
    "state_dict": dict,
}


def _payload_problem(payload: dict[str, Any]) -> str | None:
    """What is missing or malformed in a weights payload, in a few words; None when it is complete."""
    missing = [key for key in _REQUIRED if key not in payload]
    if missing:
        return f"it has no {', '.join(repr(key) for key in missing)}"
    for key, kind in _REQUIRED.items():
        if not isinstance(payload[key], kind):
            return f"its {key!r} is a {type(payload[key]).__name__}"
    absent = [key for key in ("input_size", "mean", "std") if key not in payload["preprocess"]]
    if absent:
        return f"its 'preprocess' has no {', '.join(repr(key) for key in absent)}"
    classes = payload["classes"]
    if not classes or not all(isinstance(name, str) for name in classes):
        return "its 'classes' is not a list of class names"
    if not all(isinstance(value, torch.Tensor) for value in payload["state_dict"].values()):
        return "its 'state_dict' holds values that are not tensors"
    return None


def _state_dict_mismatch(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> str | None:
    """The first one or two differences between a model's parameters and a stored state_dict; None if they fit."""
    expected = model.state_dict()
    problems = [
        f"{key} is {list(value.shape)} in the file but {list(expected[key].shape)} in the model"
        for key, value in state_dict.items()
        if key in expected and value.shape != expected[key].shape
    ]
    problems += [f"{key} is missing from the file" for key in expected if key not in state_dict]
    problems += [f"{key} is not in the model" for key in state_dict if key not in expected]
    if not problems:
        return None
    more = f" and {len(problems) - 2} more" if len(problems) > 2 else ""
    return "; ".join(problems[:2]) + more


def load_weights(path: str | Path, expected_sha256: str | None = None) -> nn.Module:
    """Rebuild the model stored in a weight file, in eval mode, with its metadata (``model.classes`` too)."""
    payload = read_weights_file(path, expected_sha256)
    name = payload["model"]
    fix = "it was written for a different model or is damaged; use a .pt written by `edgefer train`"
    try:
        model = create_model(name, **payload["create_kwargs"])
        preprocess = Preprocess.from_dict(payload["preprocess"])
    except (TypeError, ValueError, KeyError) as error:
        raise ModelError(f"weights file {str(path)!r} cannot rebuild model {name!r} ({error}); {fix}") from None
    mismatch = _state_dict_mismatch(model, payload["state_dict"])
    if mismatch is not None:
        raise ModelError(f"weights in {str(path)!r} do not fit model {name!r}: {mismatch}; {fix}")
    model.load_state_dict(payload["state_dict"])  # fits: _state_dict_mismatch checked every name and shape
    classes = tuple(payload["classes"])
    outputs = model.num_classes
    if len(classes) != outputs:
        raise ModelError(
            f"weights file {str(path)!r} names {len(classes)} classes but its model {name!r} has {outputs} "
            f"outputs; {fix}"
        )
    model.preprocess = preprocess
    model.classes = classes
    model.weights_meta = payload["meta"]
    return _check_finite(model, str(path)).eval()


def _check_finite(model: nn.Module, path: str) -> nn.Module:
    """The model, after checking that no weight is NaN or infinite (such a model only ever answers NaN)."""
    for name, value in model.state_dict().items():
        if value.is_floating_point() and not bool(value.isfinite().all()):
            raise ModelError(
                f"weights file {path!r} holds NaN or infinite values (first in {name}); the file is corrupt "
                "or its training diverged: use another .pt written by `edgefer train`"
            )
    return model
