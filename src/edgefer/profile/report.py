"""Every figure `edgefer bench` reports for one model, measured in one call."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import asdict, astuple, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from edgefer.errors import ConfigError
from edgefer.models.registry import create_model, model_entry
from edgefer.profile.counting import MacCount, count_macs, count_parameters, weight_bytes_fp32, weight_bytes_int8
from edgefer.profile.latency import fraction_of_peak, peak_gflops, time_onnxruntime, time_torch
from edgefer.profile.memory import Footprint, peak_activation_bytes, table_v_footprint

BACKENDS = ("pytorch", "onnxruntime")
MAX_ERROR_CHARS = 160  # export errors can embed a whole graph
MAX_IMG_SIZE = 1024  # larger inputs are no face crop, and at batch 1 need gigabytes of activations


@dataclass(frozen=True)
class LatencyRecord:
    backend: str  # one of BACKENDS
    threads: int
    median_ms: float
    p90_ms: float
    runs: int


@dataclass
class ModelProfile:
    model: str
    description: str
    input_size: tuple[int, int, int]  # (C, H, W), batch 1
    parameters: int
    macs: MacCount
    peak_activation_bytes: int
    footprint: Footprint
    weights_fp32_bytes: int
    weights_int8_bytes: int
    onnx_bytes: int | None
    onnx_error: str | None
    peak_gflops: dict[int, float]  # threads → measured fp32 matmul GFLOP/s
    latencies: list[LatencyRecord] = field(default_factory=list)

    def latency(self, backend: str, threads: int) -> LatencyRecord | None:
        return next((r for r in self.latencies if r.backend == backend and r.threads == threads), None)

    def fraction_of_peak(self, record: LatencyRecord) -> float:
        """2 × MACs / median latency / peak FLOP/s on the same number of threads."""
        return fraction_of_peak(self.macs.total, record.median_ms, self.peak_gflops[record.threads])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["macs"]["total"] = self.macs.total
        data["footprint"]["total_bytes"] = self.footprint.total_bytes
        for record, entry in zip(self.latencies, data["latencies"], strict=True):
            entry["fraction_of_peak"] = self.fraction_of_peak(record)
        return data


def measure_peaks(thread_counts: tuple[int, ...], seconds: float = 2.0) -> dict[int, float]:
    """The machine's measured fp32 GFLOP/s for each thread count."""
    return {threads: peak_gflops(threads, seconds=seconds) for threads in thread_counts}


def _export(model: torch.nn.Module, directory: Path) -> tuple[Path | None, str | None]:
    from edgefer.export.onnx import export_onnx

    try:
        with warnings.catch_warnings():  # the exporter's deprecation and tracer warnings are not the user's concern
            warnings.simplefilter("ignore")
            return export_onnx(model, directory / f"{model.model_name}.onnx"), None
    except Exception as error:  # a model that does not export still gets its other figures
        return None, _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:MAX_ERROR_CHARS]}" if text else type(error).__name__


def _fails_at(name: str, img_size: int) -> str | None:
    """Why model ``name`` cannot be built or run at ``img_size`` (batch 1), or None where it runs."""
    try:
        model = create_model(name, img_size=img_size).eval()
        with torch.no_grad():
            model(torch.zeros(1, *model.preprocess.input_size))
    except Exception as error:  # too small an input fails deep inside a layer, with whatever error that layer raises
        return _first_line(error)
    return None


def check_img_size(name: str, img_size: int) -> None:
    """Raise a one-line ConfigError where model ``name`` cannot run at ``img_size``, naming the sizes it takes.

    Sizes are tried with one forward pass; the smallest that runs is found by bisection below the default size
    (a model that runs at some size runs at every larger one: its layers only shrink the input).
    """
    default = model_entry(name).default_img_size
    if img_size > MAX_IMG_SIZE:
        raise ConfigError(
            f"--img-size {img_size} is too large; choose at most {MAX_IMG_SIZE} ({name}'s default is {default})"
        )
    reason = _fails_at(name, img_size)
    if reason is None:
        return
    if img_size >= default:
        raise ConfigError(f"{name} cannot run at --img-size {img_size} ({reason}); try a size nearer {default}")
    low, high = img_size, default  # fails at low, runs at high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _fails_at(name, middle) is None else (middle, high)
    raise ConfigError(
        f"--img-size {img_size} is too small for {name}; choose {high} to {MAX_IMG_SIZE} (default {default})"
    )


def profile_model(
    name: str,
    peaks: dict[int, float],
    img_size: int | None = None,
    runs: int = 50,
    warmup: int = 10,
) -> ModelProfile:
    """Profile a registered model at batch 1; latency is timed on each thread count in ``peaks``.

    Raises the registry's ModelError for an unknown name. A model that fails to export to ONNX is still
    profiled in PyTorch; the export error is recorded in ``onnx_error``.
    """
    entry = model_entry(name)
    model = create_model(name, img_size=img_size).eval()
    example = torch.rand((1, *model.preprocess.input_size), generator=torch.Generator().manual_seed(0))
    thread_counts = sorted(peaks)
    with (
        tempfile.TemporaryDirectory(prefix="edgefer-bench-") as tmp,
        tqdm(total=3 + len(BACKENDS) * len(thread_counts), desc=name, leave=False, disable=None) as bar,
    ):
        macs = count_macs(model, example)
        bar.update()
        peak_bytes, footprint = peak_activation_bytes(model, example), table_v_footprint(model, example)
        bar.update()
        onnx_path, onnx_error = _export(model, Path(tmp))
        bar.update()
        profile = ModelProfile(
            model=name,
            description=entry.description,
            input_size=model.preprocess.input_size,
            parameters=count_parameters(model),
            macs=macs,
            peak_activation_bytes=peak_bytes,
            footprint=footprint,
            weights_fp32_bytes=weight_bytes_fp32(model),
            weights_int8_bytes=weight_bytes_int8(model),
            onnx_bytes=onnx_path.stat().st_size if onnx_path else None,
            onnx_error=onnx_error,
            peak_gflops=dict(peaks),
        )
        for threads in thread_counts:
            torch_latency = time_torch(model, example, threads, runs, warmup)
            profile.latencies.append(LatencyRecord("pytorch", threads, *astuple(torch_latency)))
            bar.update()
            if onnx_path is not None:
                ort_latency = time_onnxruntime(onnx_path, example, threads, runs, warmup)
                profile.latencies.append(LatencyRecord("onnxruntime", threads, *astuple(ort_latency)))
            bar.update()
    return profile


def profile_models(
    names: list[str],
    thread_counts: tuple[int, ...],
    img_size: int | None = None,
    runs: int = 50,
    warmup: int = 10,
) -> list[ModelProfile]:
    """Profile several models, measuring the machine's peak before each model and after the last.

    On a shared machine a single measurement of the peak can fall in a busy moment and make every model look
    faster than the hardware allows; the limit is the best of all measurements, which every profile then uses.
    A ``img_size`` some model cannot run at raises ConfigError before anything is measured.
    """
    if img_size is not None:
        for name in names:
            check_img_size(name, img_size)
    peaks = measure_peaks(thread_counts)
    profiles = []
    for name in tqdm(names, desc="bench", disable=None if len(names) > 1 else True):
        profiles.append(profile_model(name, peaks, img_size=img_size, runs=runs, warmup=warmup))
        again = measure_peaks(thread_counts, seconds=1.0)
        peaks = {threads: max(peaks[threads], again[threads]) for threads in thread_counts}
    for profile in profiles:
        profile.peak_gflops = dict(peaks)
    return profiles
