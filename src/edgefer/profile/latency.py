"""Latency of one model at batch 1 (PyTorch eager and ONNX Runtime) and the machine's peak fp32 throughput."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class Latency:
    """Median and 90th percentile of ``runs`` timed calls, in milliseconds."""

    median_ms: float
    p90_ms: float
    runs: int

    @classmethod
    def from_seconds(cls, times: list[float]) -> Latency:
        ms = np.asarray(times) * 1e3
        return cls(float(np.median(ms)), float(np.percentile(ms, 90)), len(times))


def available_threads() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _time_calls(call: Callable[[], object], runs: int, warmup: int) -> Latency:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return Latency.from_seconds(times)


def time_torch(model: nn.Module, example: torch.Tensor, threads: int, runs: int, warmup: int) -> Latency:
    """Eager PyTorch latency of ``model(example)`` in eval and inference mode on ``threads`` threads."""
    was_training = model.training
    model.eval()
    try:
        with torch_threads(threads), torch.inference_mode():
            return _time_calls(lambda: model(example), runs, warmup)
    finally:
        model.train(was_training)


def time_onnxruntime(onnx_path: str | Path, example: torch.Tensor, threads: int, runs: int, warmup: int) -> Latency:
    """ONNX Runtime (CPU, all graph optimisations, sequential execution) latency on ``threads`` intra-op threads."""
    from edgefer.export.verify import onnx_session

    session = onnx_session(onnx_path, threads)
    feed = {session.get_inputs()[0].name: example.numpy()}
    return _time_calls(lambda: session.run(None, feed), runs, warmup)


def peak_gflops(threads: int, size: int = 1024, seconds: float = 2.0, min_repeats: int = 3) -> float:
    """The machine's fp32 compute limit as measured: the best GFLOP/s of an N×N matmul on ``threads`` threads.

    Repeats for ``seconds`` (at least ``min_repeats`` times) and keeps the fastest, so that a busy moment on a
    shared machine does not pass for its limit.
    """
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator)
    b = torch.rand(size, size, generator=generator)
    best = float("inf")
    repeats = 0
    with torch_threads(threads):
        torch.mm(a, b)  # warm-up: first call allocates and picks a kernel
        deadline = time.perf_counter() + seconds
        while repeats < min_repeats or time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
            repeats += 1
    return 2 * size**3 / best / 1e9


def fraction_of_peak(macs: int, latency_ms: float, gflops: float) -> float:
    """Share of the compute limit a latency achieves: 2 × MACs / latency / peak FLOP/s."""
    return 2 * macs / (latency_ms / 1e3) / (gflops * 1e9)
