"""`edgefer export` end to end: weights → ONNX / int8 ONNX / int8 TFLite / microcontroller package / int8 ESP-DL,
each checked against the PyTorch model, with sizes, latency, agreement and (given labelled data) the accuracy cost
of int8.

Everything is written into a scratch folder beside the output and moved into place only when it all succeeded, so
a failed export leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgefer.errors import ExportError
from edgefer.export.onnx import export_onnx
from edgefer.export.verify import agreement, onnx_logits, onnx_session, scored_accuracy, torch_logits

FORMATS: tuple[str, ...] = ("onnx", "tflite", "mcu", "espdl")
LATENCY_RUNS = 50


@dataclass
class ExportInputs:
    """Preprocessed model inputs the export needs: calibration images and, optionally, labelled test images."""

    calibration: np.ndarray | None = None  # (N, C, H, W) float32
    check: np.ndarray | None = None  # (M, C, H, W) float32, compared across formats
    check_labels: np.ndarray | None = None  # (M,) labels of `check` as indices into `check_columns`, when known
    check_columns: tuple[int, ...] | None = None  # model outputs scored against the labels (None: all of them)
    check_name: str = "random inputs"


@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per artefact: what it is and how it measures


def export_model(
    model: nn.Module,
    fmt: str,
    out_dir: Path,
    int8: bool,
    inputs: ExportInputs,
    force: bool = False,
    target: str = "esp32s3",
) -> ExportResult:
    """Export ``model`` to ``fmt`` into ``out_dir`` and measure each artefact (``target``: the chip of ``espdl``)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    needs_calibration = int8 or fmt in ("tflite", "mcu", "espdl")
    if needs_calibration and inputs.calibration is None:
        raise ExportError(
            "int8 export needs calibration images: pass --calib NAME=PATH (e.g. --calib fer2013=path/to/fer2013)"
        )
    if out_dir.exists() and not force:
        raise ExportError(f"output folder {str(out_dir)!r} exists; pass --force to replace it or choose --out")
    check = inputs.check if inputs.check is not None else _random_inputs(model)
    reference = torch_logits(model, check)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        result = ExportResult(out_dir)
        _reference_row(result, model, reference, inputs)
        if fmt == "onnx":
            _export_onnx(result, model, scratch, int8, inputs, check, reference)
        elif fmt == "espdl":
            _export_espdl(result, model, scratch, target, inputs, check, reference)
        else:
            _export_tflite(result, model, scratch, fmt, inputs, check, reference)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.replace(out_dir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    result.files = {key: out_dir / path.relative_to(scratch) for key, path in result.files.items()}
    return result


def _random_inputs(model: nn.Module, count: int = 16) -> np.ndarray:
    generator = np.random.default_rng(0)
    pixels = generator.integers(0, 256, size=(count, *model.preprocess.image_size), dtype=np.uint8)
    return model.preprocess.apply(pixels)


def _reference_row(result: ExportResult, model: nn.Module, reference: np.ndarray, inputs: ExportInputs) -> None:
    from edgefer.profile.counting import weight_bytes_fp32
    from edgefer.profile.latency import time_torch

    channels, height, width = model.preprocess.input_size
    latency = time_torch(model, torch.zeros(1, channels, height, width), threads=1, runs=LATENCY_RUNS, warmup=5)
    accuracy = None
    if inputs.check_labels is not None:
        accuracy = scored_accuracy(reference, inputs.check_labels, inputs.check_columns)
    result.rows.append(
        {
            "artefact": "PyTorch fp32 (reference)",
            "bytes": weight_bytes_fp32(model),
            "latency_ms": latency.median_ms,
            "top1_agreement": 1.0,
            "max_abs_diff": 0.0,
            "accuracy": accuracy,
        }
    )


def _row(name: str, path: Path, candidate: np.ndarray, reference: np.ndarray, inputs: ExportInputs) -> dict[str, Any]:
    match = agreement(reference, candidate, inputs.check_labels, inputs.check_columns)
    return {
        "artefact": name,
        "file": path.name,
        "bytes": path.stat().st_size,
        "top1_agreement": match.top1_agreement,
        "max_abs_diff": match.max_abs_diff,
        "accuracy": match.accuracy,
        "accuracy_delta_pp": match.accuracy_delta_pp,
    }


def _onnx_latency(path: Path, model: nn.Module) -> float:
    from edgefer.profile.latency import time_onnxruntime

    example = torch.zeros(1, *model.preprocess.input_size)
    return time_onnxruntime(path, example, threads=1, runs=LATENCY_RUNS, warmup=5).median_ms


def _export_onnx(
    result: ExportResult,
    model: nn.Module,
    scratch: Path,
    int8: bool,
    inputs: ExportInputs,
    check: np.ndarray,
    reference: np.ndarray,
) -> None:
    fp32_path = export_onnx(model, scratch / "model.onnx")
    result.files["onnx"] = fp32_path
    row = _row("ONNX fp32", fp32_path, onnx_logits(onnx_session(fp32_path), check), reference, inputs)
    row["latency_ms"] = _onnx_latency(fp32_path, model)
    result.rows.append(row)
    if not int8:
        return
    from edgefer.export.quantize import quantize_int8

    int8_path = quantize_int8(fp32_path, scratch / "model_int8.onnx", inputs.calibration)
    result.files["onnx_int8"] = int8_path
    row = _row("ONNX int8", int8_path, onnx_logits(onnx_session(int8_path), check), reference, inputs)
    row["latency_ms"] = _onnx_latency(int8_path, model)
    result.rows.append(row)


def _export_tflite(
    result: ExportResult,
    model: nn.Module,
    scratch: Path,
    fmt: str,
    inputs: ExportInputs,
    check: np.ndarray,
    reference: np.ndarray,
) -> None:
    from edgefer.export.micro import run_micro
    from edgefer.export.tflite import export_tflite_int8

    tflite_path = export_tflite_int8(model, inputs.calibration, scratch / "model_int8.tflite")
    result.files["tflite"] = tflite_path
    run = run_micro(tflite_path, check)
    row = _row("TFLite int8 (TFLite Micro)", tflite_path, run.logits, reference, inputs)
    row.update({"flash_bytes": run.flash_bytes, "arena_bytes": run.arena_bytes})
    result.rows.append(row)
    if fmt == "mcu":
        from edgefer.export.mcu_package import ModelFacts, tflite_operators, write_mcu_package
        from edgefer.models.weights import model_classes

        facts = ModelFacts(
            name=model.model_name,
            input_size=model.preprocess.input_size,
            mean=model.preprocess.mean[0],
            std=model.preprocess.std[0],
            classes=model_classes(model),
            operators=tflite_operators(tflite_path),
        )
        result.files["mcu"] = write_mcu_package(tflite_path, scratch / "firmware", facts, run)


def _export_espdl(
    result: ExportResult,
    model: nn.Module,
    scratch: Path,
    target: str,
    inputs: ExportInputs,
    check: np.ndarray,
    reference: np.ndarray,
) -> None:
    from edgefer.export.espdl import export_espdl

    export = export_espdl(model, inputs.calibration, scratch / f"model_{target}.espdl", target, check)
    result.files["espdl"] = export.path
    row = _row(f"ESP-DL int8 ({target}, esp-ppq simulation)", export.path, export.logits, reference, inputs)
    row.update({"flash_bytes": export.flash_bytes, "float_operators": export.float_operators})
    row["note"] = "esp-ppq reports no RAM figure; top-1 agreement is from its PC simulation of the int8 graph"
    if export.float_operators:
        row["note"] += f"; left in float: {', '.join(export.float_operators)}"
    result.rows.append(row)
