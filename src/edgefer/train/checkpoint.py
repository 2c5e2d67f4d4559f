"""Training checkpoints: everything needed to continue a run exactly, written atomically each epoch.

A checkpoint is not a weight file: it also holds the optimiser, the scheduler, the distillation projection and
the history. Random state is not stored as generator snapshots: the trainer derives every epoch's generators
from (seed, epoch, rank), so the epoch number in the checkpoint restores it exactly, on any number of ranks.
``best.pt``/``last.pt`` (written with ``edgefer.models.save_weights``) are what other commands load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from edgefer.errors import ModelError

FORMAT = "edgefer-checkpoint/1"


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` through a temporary file and a rename: a kill mid-write keeps the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(
    path: str | Path, model_name: str, create_kwargs: dict[str, Any], classes: tuple[str, ...]
) -> dict[str, Any]:
    """Read a checkpoint and check it belongs to the model being trained (same name, arguments and classes)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"no checkpoint to resume at {str(path)!r}; train without --resume first, or give the path of a "
            "checkpoint.pt written by this recipe"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise ModelError(
            f"cannot read checkpoint {str(path)!r} ({type(error).__name__}); delete it and run the same command "
            "with --resume: its fold (or single-split run) then restarts from epoch 1, finished folds are kept"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ModelError(
            f"{str(path)!r} is not an edgefer training checkpoint; --resume takes the checkpoint.pt "
            "of a run (a best.pt/last.pt weight file cannot be resumed)"
        )
    theirs = (state["model_name"], state["create_kwargs"], tuple(state["classes"]))
    ours = (model_name, dict(create_kwargs), tuple(classes))
    if theirs != ours:
        raise ModelError(
            f"checkpoint {str(path)!r} was written for model {theirs[0]!r} {theirs[1]} with classes "
            f"{list(theirs[2])}, but this recipe trains {ours[0]!r} {ours[1]} with classes {list(ours[2])}; "
            "resume with the recipe that wrote it, or give this run another name (--set name=...)"
        )
    return state
