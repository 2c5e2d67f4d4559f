"""DistributedDataParallel plumbing: process group from torchrun's environment, sharding, reductions.

``torchrun --nproc_per_node N -m edgefer train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK; without them the run
is a single process and every helper here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from edgefer.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def resolve_device(preference: str, context: DistContext) -> torch.device:
    """``auto`` → CUDA when present; under DDP each process takes the GPU of its local rank."""
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"train.device is {preference!r} but this PyTorch sees no CUDA GPU; use --set train.device=auto (or cpu)"
        )
    if preference == "cuda" and context.enabled:
        preference = f"cuda:{context.local_rank}"
    return torch.device(preference)


def init_from_env(device_preference: str = "auto") -> DistContext:
    """Join the process group torchrun describes (NCCL on GPU, gloo on CPU), or return the single-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext()
    context = DistContext(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        backend = "nccl" if resolve_device(device_preference, context).type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return context


def shard(indices: torch.Tensor, context: DistContext) -> torch.Tensor:
    """This rank's share of an index permutation; every rank gets the same count (the tail is dropped)
    so that all ranks run the same number of steps and DDP's gradient all-reduce never waits forever."""
    if not context.enabled:
        return indices
    usable = len(indices) - len(indices) % context.world_size
    return indices[context.rank : usable : context.world_size]


def all_reduce_sum(values: list[float], context: DistContext, device: torch.device) -> list[float]:
    """Element-wise sum of a few numbers over ranks (loss sums, correct counts, sample counts)."""
    if not context.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_buffers(module: torch.nn.Module, context: DistContext) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DDP syncs buffers at the start of each forward, so after the last step of an epoch every rank holds
    statistics updated by its own last batch; this makes evaluation and the saved state identical on all ranks.
    """
    if context.enabled:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def barrier(context: DistContext) -> None:
    if context.enabled:
        dist.barrier()


def shutdown(context: DistContext) -> None:
    """Leave the process group (torchrun warns about a group that was never destroyed)."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
