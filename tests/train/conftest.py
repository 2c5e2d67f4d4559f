"""Fixtures of the trainer's tests: tiny registered models, generated arrays and data sets, one thread."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tinymodels import TINY, make_arrays, register_tiny_models

from edgefer.train.recipe import Recipe, recipe_from_dict

register_tiny_models()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """One thread (2 shared cores: more threads only fight), a private tensor cache, and tmp as the cwd."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_recipe(tmp_path: Path):
    """A recipe for the tiny model writing under tmp; ``overrides`` are ``section.key=value`` strings."""

    def build(*overrides: str, **sections: dict) -> Recipe:
        data = {
            "name": "tiny",
            "output_dir": str(tmp_path / "runs"),
            "model": {"name": TINY},
            "train": {"epochs": 3, "batch_size": 16, "lr": 0.01, "threads": 1, "device": "cpu"},
            "augment": {"crop_padding": 1, "rotation": 5.0, "erasing": 0.2},
        }
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        return recipe_from_dict(data, list(overrides))

    return build


@pytest.fixture
def arrays():
    """(train, val) ArraySplits of the generated 3-class band images."""
    from edgefer.train.trainer import ArraySplit

    return ArraySplit(*make_arrays(192, seed=0)), ArraySplit(*make_arrays(64, seed=1))
