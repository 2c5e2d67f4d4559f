"""`edgefer export` end to end: weights → ONNX / int8 ONNX / int8 TFLite / microcontroller package / int8 ESP-DL,
each checked against the PyTorch model, with sizes, latency, agreement and (given labelled data) the accuracy cost
of int8.

Everything is written into a scratch folder beside the output and moved into place only when it all succeeded, so
a failed export leaves nothing half-written. Every export also writes ``export.json`` (what was exported and how it
measured); ``force`` replaces only a folder that holds one and nothing the export did not write.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgefer.errors import ExportError, OutputError
from edgefer.export.onnx import export_onnx
from edgefer.export.verify import agreement, onnx_logits, onnx_session, scored_accuracy, torch_logits
from edgefer.outputs import claim_output_folder, make_folder, remove_folders

FORMATS: tuple[str, ...] = ("onnx", "tflite", "mcu", "espdl")
LATENCY_RUNS = 50
MANIFEST = "export.json"  # written by every export: marks a folder --force may replace
# What exports wrote before they wrote MANIFEST: a folder of only these is an earlier export too.
EARLIER_ARTEFACTS: tuple[str, ...] = ("model*.onnx", "model*.tflite", "model*.espdl", "firmware")
CALIBRATION_NEEDED = (
    "int8 export needs calibration images: pass --calib NAME=PATH (e.g. --calib fer2013=path/to/fer2013)"
)


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
    if needs_calibration(fmt, int8) and inputs.calibration is None:
        raise ExportError(CALIBRATION_NEEDED)
    out_dir = claim_export_folder(out_dir, force)
    check = inputs.check if inputs.check is not None else _random_inputs(model)
    reference = torch_logits(model, check)
    made = make_folder(out_dir.parent)  # claimed above: it can be made; removed again if the export fails
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
        result.files["manifest"] = _write_manifest(scratch, model, fmt, int8, target, inputs, result)
        _move_into_place(scratch, out_dir, force)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        remove_folders(made)
        raise
    result.files = {key: out_dir / path.relative_to(scratch) for key, path in result.files.items()}
    return result


def needs_calibration(fmt: str, int8: bool) -> bool:
    """Whether exporting to ``fmt`` quantises, and so needs calibration images."""
    return int8 or fmt in ("tflite", "mcu", "espdl")


def claim_export_folder(out_dir: str | Path, force: bool) -> Path:
    """``out_dir`` (made absolute) checked before any work: it may receive an export if it is absent or empty, or
    (with ``force``) an earlier export holding only what that export wrote. Anything else raises OutputError."""
    out_dir = Path(os.path.abspath(out_dir))
    shown = str(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {shown!r} is a file; give a folder for the export")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / MANIFEST).is_file() and not _only_earlier_artefacts(out_dir):
            raise OutputError(
                f"--out {shown!r} is a folder that holds no earlier export (no {MANIFEST}), which --force never "
                "replaces; choose another --out (a new or empty folder)"
            )
        if not force:
            raise OutputError(
                f"--out {shown!r} holds an earlier export; pass --force to replace it or choose another --out"
            )
        others = sorted({path.name for path in out_dir.iterdir()} - _written_by_export(out_dir))
        if others:
            listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            raise OutputError(
                f"--out {shown!r} holds an earlier export and also {listed}, which no export wrote; "
                "move them out or choose another --out"
            )
    claim_output_folder(out_dir.parent, (), force)
    return out_dir


def _only_earlier_artefacts(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds nothing but what exports wrote before ``MANIFEST`` existed."""
    return all(any(fnmatch.fnmatch(path.name, pattern) for pattern in EARLIER_ARTEFACTS) for path in out_dir.iterdir())


def _written_by_export(out_dir: Path) -> set[str]:
    if not (out_dir / MANIFEST).is_file():  # an export from before MANIFEST: _only_earlier_artefacts said so
        return {path.name for path in out_dir.iterdir()}
    try:
        return {MANIFEST, *json.loads((out_dir / MANIFEST).read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(
            f"{str(out_dir / MANIFEST)!r} is unreadable, so what the export wrote is unknown; "
            "delete that folder yourself or choose another --out"
        ) from None


def _write_manifest(
    scratch: Path, model: nn.Module, fmt: str, int8: bool, target: str, inputs: ExportInputs, result: ExportResult
) -> Path:
    from edgefer import __version__

    manifest = {
        "edgefer_version": __version__,
        "model": model.model_name,
        "format": fmt,
        "int8": int8,
        "target": target if fmt == "espdl" else None,
        "checked_on": inputs.check_name,
        "calibration_images": None if inputs.calibration is None else len(inputs.calibration),
        "files": sorted(path.name for path in scratch.iterdir()),
        "rows": result.rows,
    }
    path = scratch / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def _move_into_place(scratch: Path, out_dir: Path, force: bool) -> None:
    """Replace ``out_dir`` by ``scratch``; an earlier export is checked again (files may have been added while this
    one ran) and kept aside until the new one is in place."""
    if out_dir.is_dir() and any(out_dir.iterdir()):
        claim_export_folder(out_dir, force)
        aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replaced.", dir=out_dir.parent))
        out_dir.replace(aside)
        try:
            scratch.replace(out_dir)
        except BaseException:
            aside.replace(out_dir)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    else:
        scratch.replace(out_dir)


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
    precision = "int8, Mamba scan int16" if export.int16_operators else "int8"
    row = _row(f"ESP-DL {precision} ({target}, esp-ppq simulation)", export.path, export.logits, reference, inputs)
    row.update(
        {
            "flash_bytes": export.flash_bytes,
            "float_operators": export.float_operators,
            "int16_operators": export.int16_operators,
        }
    )
    row["note"] = "esp-ppq reports no RAM figure; top-1 agreement is from its PC simulation of the quantised graph"
    if export.int16_operators:
        row["note"] += f"; {export.int16_operators} Mamba scan operators run in int16"
    if export.float_operators:
        row["note"] += f"; left in float: {', '.join(export.float_operators)}"
    result.rows.append(row)
