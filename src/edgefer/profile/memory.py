"""Memory of one inference: the measured peak of live activations, and HCMTMM Table V's footprint estimate."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from edgefer.profile.counting import FP32_BYTES, count_parameters


class _LiveTensorBytes(TorchDispatchMode):
    """Tracks the bytes of tensor storages created by ATen operators while they are alive.

    Every operator output whose storage is new (not a parameter, buffer or the input, and not already tracked,
    so views and in-place results count once) is added when it appears; a weak reference on the storage
    subtracts it when PyTorch frees it. ``peak`` is the largest sum reached.
    """

    def __init__(self, preexisting: set[int]) -> None:
        super().__init__()
        self._preexisting = preexisting
        self._live: dict[int, weakref.ref] = {}
        self.current = 0
        self.peak = 0

    def _release(self, key: int, nbytes: int) -> None:
        self._live.pop(key, None)
        self.current -= nbytes

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for item in tree_flatten(out)[0]:
            if not isinstance(item, torch.Tensor):
                continue
            storage = item.untyped_storage()
            key, nbytes = storage.data_ptr(), storage.nbytes()
            if nbytes == 0 or key in self._preexisting or key in self._live:
                continue
            self._live[key] = weakref.ref(storage, lambda _ref, key=key, nbytes=nbytes: self._release(key, nbytes))
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        return out


def peak_activation_bytes(model: nn.Module, example: torch.Tensor) -> int:
    """Measured peak of activation memory during one inference of ``example`` (eval mode, no autograd).

    Counts the storages of every tensor ATen allocates during the forward pass, from allocation until PyTorch
    frees it, and returns the largest total alive at once (the output included; parameters, buffers and the
    input excluded). Scratch memory that kernels allocate outside PyTorch tensors (e.g. oneDNN workspaces) is
    not seen.
    """
    preexisting = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers(), example)}
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), _LiveTensorBytes(preexisting) as tracker:
            model(example)
    finally:
        model.train(was_training)
    return tracker.peak


@dataclass(frozen=True)
class Footprint:
    """HCMTMM Table V's memory footprint, in bytes: input + forward/backward activations + parameters."""

    input_bytes: int
    forward_backward_bytes: int
    parameter_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.parameter_bytes


def _numel_of_outputs(output: Any) -> int:
    return sum(t.numel() for t in tree_flatten(output)[0] if isinstance(t, torch.Tensor))


def table_v_footprint(model: nn.Module, example: torch.Tensor) -> Footprint:
    """The torchsummary estimate HCMTMM Table V reports ("input, forward and backward, parameters"), per sample.

    As torchsummary does: a forward hook on every module except ``nn.Sequential`` and ``nn.ModuleList`` (the
    model itself included, each call counted) sums the elements of its output; forward/backward = 2 × that sum
    (outputs and their gradients) × 4 bytes; input = its elements × 4 bytes. Two deliberate differences:
    parameters are all the model's parameters (torchsummary counts only attributes named ``weight`` and
    ``bias``, so it misses e.g. the scan's ``A_log`` and ``D``), and tuple outputs count their tensors.
    """
    batch = example.shape[0]
    outputs: list[int] = []

    def record(_module: nn.Module, _inputs: tuple, output: Any) -> None:
        outputs.append(_numel_of_outputs(output))

    handles = [
        m.register_forward_hook(record) for m in model.modules() if not isinstance(m, nn.Sequential | nn.ModuleList)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return Footprint(
        input_bytes=FP32_BYTES * example.numel() // batch,
        forward_backward_bytes=2 * FP32_BYTES * sum(outputs) // batch,
        parameter_bytes=FP32_BYTES * count_parameters(model),
    )
