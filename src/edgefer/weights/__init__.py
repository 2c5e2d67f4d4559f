"""Trained weights shipped inside the package, looked up by name. Nothing is ever downloaded.

Each shipped model is a pair of files in this folder: ``<name>.pt`` (written by ``save_weights``) and its recipe
``<name>.yaml``, a mapping with at least ``sha256: <hex digest of the .pt file>`` (checked on
every load) and optionally ``default: true`` to make it the model that ``"default"`` means. Without such a
mark, ``"default"`` is the only shipped model, or the first of ``PREFERRED_DEFAULTS`` that is shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edgefer.errors import ModelError

WEIGHTS_DIR = Path(__file__).resolve().parent
PREFERRED_DEFAULTS: tuple[str, ...] = ("lightcnn",)

_NO_WEIGHTS_FIX = (
    "train one with `edgefer train` and pass it with --model PATH.pt (Python: Recognizer(model='PATH.pt')), "
    "or pass an exported .onnx model"
)


@dataclass(frozen=True)
class ShippedWeights:
    name: str
    path: Path
    sha256: str
    recipe: dict[str, Any]


def _recipe_path(name: str, folder: Path) -> Path | None:
    candidate = folder / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def _read_recipe(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        recipe = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as error:
        raise ModelError(f"recipe {str(path)!r} cannot be read ({type(error).__name__}); reinstall edgefer") from None
    if not isinstance(recipe, dict) or not isinstance(recipe.get("sha256"), str):
        raise ModelError(
            f"recipe {str(path)!r} has no 'sha256' string (quote it in YAML) of its weights file; reinstall edgefer"
        )
    return recipe


def shipped_models(folder: Path | None = None) -> list[str]:
    """Names of the shipped models: every ``<name>.pt`` in ``folder`` that has a recipe beside it."""
    folder = folder or WEIGHTS_DIR
    return sorted(p.stem for p in folder.glob("*.pt") if _recipe_path(p.stem, folder) is not None)


def default_model_name(folder: Path | None = None) -> str:
    """The shipped model that ``"default"`` means (see the module docstring for the rule)."""
    folder = folder or WEIGHTS_DIR
    names = shipped_models(folder)
    if not names:
        raise ModelError(f"no trained weights ship with this edgefer yet; {_NO_WEIGHTS_FIX}")
    marked = [name for name in names if _read_recipe(_recipe_path(name, folder)).get("default") is True]
    if marked:
        return marked[0]
    if len(names) == 1:
        return names[0]
    preferred = [name for name in PREFERRED_DEFAULTS if name in names]
    return preferred[0] if preferred else names[0]


def shipped_weights(name: str = "default", folder: Path | None = None) -> ShippedWeights:
    """The weights file, expected sha256 and recipe of a shipped model (``"default"`` resolves first)."""
    folder = folder or WEIGHTS_DIR
    if name == "default":
        name = default_model_name(folder)
    recipe_path = _recipe_path(name, folder)
    weights_path = folder / f"{name}.pt"
    if recipe_path is None or not weights_path.is_file():
        shipped = shipped_models(folder)
        known = f"shipped models: {', '.join(shipped)}" if shipped else "no trained weights ship with edgefer yet"
        raise ModelError(f"no shipped model named {name!r} ({known}); {_NO_WEIGHTS_FIX}")
    recipe = _read_recipe(recipe_path)
    return ShippedWeights(name, weights_path, recipe["sha256"], recipe)
