import os
import socket
from pathlib import Path

import torch
import torch._dynamo  # Adam imports it on first use (5-10 s here): import it once, before the fork
import torch.multiprocessing as mp
from tinymodels import TINY, make_arrays, register_tiny_models

from edgefer.train.distributed import init_from_env, shutdown
from edgefer.train.recipe import recipe_from_dict
from edgefer.train.trainer import ArraySplit, Trainer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out: str) -> None:
    """One DDP rank, started the way torchrun starts it: the process group comes from the environment."""
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world_size),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    torch.set_num_threads(1)
    register_tiny_models()
    recipe = recipe_from_dict(
        {
            "model": {"name": TINY, "kwargs": {"dropout": 0.3}},
            "train": {"epochs": 2, "batch_size": 16, "lr": 0.01, "device": "cpu"},
            "augment": {"erasing": 0.3},
        }
    )
    context = init_from_env("cpu")
    trainer = Trainer(
        recipe, ("angry", "happy", "surprise"), Path(out) / "run", context, show_progress=False, write_curves=False
    )
    trainer.fit(ArraySplit(*make_arrays(100, seed=0)), ArraySplit(*make_arrays(33, seed=1)))
    torch.save({"state": trainer.model.state_dict(), "history": trainer.history}, Path(out) / f"rank{rank}.pt")
    shutdown(context)


def test_two_process_ddp_ends_with_identical_weights_on_both_ranks(tmp_path):
    # fork: the ranks inherit the imported modules instead of importing torch again (seconds each here)
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="fork")
    first, second = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert first["state"].keys() == second["state"].keys()
    assert all(torch.equal(first["state"][k], second["state"][k]) for k in first["state"])
    for mine, theirs in zip(first["history"], second["history"], strict=True):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):  # reduced over the ranks
            assert mine[key] == theirs[key]
    assert round(first["history"][-1]["val_acc"] * 33, 6).is_integer()  # all 33 val images, none twice
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)  # written by rank 0 only
    assert checkpoint["epoch"] == 2
    assert all(torch.equal(checkpoint["model"][k], first["state"][k]) for k in first["state"])
