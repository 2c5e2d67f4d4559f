"""Parameter, multiply-accumulate and weight-size counts of a model.

Multiply-accumulates come from ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matmuls, attention;
MACs = FLOPs / 2) plus the work a counter cannot see: a module may define
``extra_macs(self, input_shape: tuple[int, ...]) -> int``, the MACs it performs for an input of that shape
(e.g. the element-wise recurrence of a selective scan). The profiler records each such module's input shape with
a forward pre-hook, once per call, and adds up what the modules report.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

FP32_BYTES = 4
INT8_SCALE_BYTES = 4  # one fp32 scale per output channel in per-channel symmetric int8


@dataclass(frozen=True)
class MacCount:
    counted: int  # seen by FlopCounterMode
    extra: int  # reported by modules' extra_macs()

    @property
    def total(self) -> int:
        return self.counted + self.extra


def count_parameters(model: nn.Module) -> int:
    """Every parameter element of the model (shared parameters once)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, example: torch.Tensor) -> MacCount:
    """Multiply-accumulates of one forward pass of ``example`` through ``model`` (in eval mode)."""
    shapes: list[tuple[nn.Module, tuple[int, ...]]] = []

    def record(module: nn.Module, inputs: tuple) -> None:
        shapes.append((module, tuple(inputs[0].shape)))

    handles = [m.register_forward_pre_hook(record) for m in model.modules() if callable(getattr(m, "extra_macs", None))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(example)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    extra = sum(int(module.extra_macs(shape)) for module, shape in shapes)
    return MacCount(counted=counter.get_total_flops() // 2, extra=extra)


def weight_bytes_fp32(model: nn.Module) -> int:
    """Bytes of every parameter and floating-point buffer (e.g. batch-norm statistics) stored as fp32."""
    tensors = [*model.parameters(), *(b for b in model.buffers() if b.is_floating_point())]
    return FP32_BYTES * sum(t.numel() for t in tensors)


def weight_bytes_int8(model: nn.Module) -> int:
    """Estimated bytes with per-channel symmetric int8 weights, the scheme our int8 exports use.

    Kernels and matrices (parameters with two or more dimensions: conv, linear, attention projections) take one
    byte per element plus one fp32 scale per output channel; vectors (biases, norms, the scan's D) and
    floating-point buffers stay fp32, as they do when only Conv/MatMul/Gemm are quantised.
    """
    total = 0
    for p in model.parameters():
        if p.dim() >= 2:
            total += p.numel() + INT8_SCALE_BYTES * p.shape[0]
        else:
            total += FP32_BYTES * p.numel()
    total += FP32_BYTES * sum(b.numel() for b in model.buffers() if b.is_floating_point())
    return total
