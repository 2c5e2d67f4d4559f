"""PyTorch → ONNX → int8 ``.espdl`` for Espressif's ESP-DL runtime (ESP32-S3, ESP32) through ``esp-ppq``.

esp-ppq lives in the optional extra ``espdl``: it needs torch installed first, pins onnx < 1.20 (onnx 1.19.x also
meets edgefer's own pin) and simplifies its input ONNX file in place, so it is handed a copy. ESP-DL quantises
symmetrically, per tensor, with power-of-two scales. esp-ppq reports no RAM figure; flash is the file size, and the
int8 graph is simulated on the PC (esp-ppq's executor) to measure top-1 agreement with PyTorch.

A Mamba mixer's own element-wise operators (the discretisation and the unrolled scan, not its linear layers or its
convolution) run in int16: in int8 the rounding error compounds along the scan's chain of multiplies and adds.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from edgefer.errors import ExportError, MissingExtraError, first_line
from edgefer.export.onnx import export_onnx
from edgefer.models.layers.mamba import MambaMixer

# esp-ppq's chip names: esp32s3 runs ESP-DL's PIE-accelerated kernels, esp32 its plain C kernels.
TARGETS: tuple[str, ...] = ("esp32s3", "esp32")

# Operator types ESP-DL has a module for (esp-dl's dl/module/include/dl_module_*.hpp; Gelu runs as a lookup table,
# the three *Linear ops are the (re)quantisation steps esp-ppq inserts around float islands).
ESPDL_OPERATORS: frozenset[str] = frozenset(
    {
        "Add", "And", "AveragePool", "Clip", "Concat", "Conv", "DepthToSpace", "DequantizeLinear", "Div", "Elu",
        "Equal", "Exp", "Flatten", "GRU", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "Greater", "GreaterOrEqual",
        "HardSigmoid", "HardSwish", "Identity", "InsertZeros", "LSTM", "LayerNormalization", "LeakyRelu", "Less",
        "LessOrEqual", "Log", "LogSoftmax", "LpNormalization", "MatMul", "Max", "MaxPool", "Min", "Mod", "Mul",
        "Neg", "Not", "Or", "PRelu", "Pad", "Pow", "QuantizeLinear", "RMSNormalization", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
        "ReduceSumSquare", "Relu", "RequantizeLinear", "Reshape", "Resize", "ReverseSequence", "ScatterND",
        "Sigmoid", "Slice", "Softmax", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Swish", "Tanh",
        "Transpose", "Unsqueeze", "Xor",
    }
)  # fmt: skip


@dataclass
class EspdlExport:
    """An ``.espdl`` file and what was measured while making it."""

    path: Path
    target: str
    flash_bytes: int
    float_operators: list[str] = field(default_factory=list)  # op types esp-ppq left in float (run unquantised)
    int16_operators: int = 0  # how many operators run in int16 (a Mamba mixer's element-wise ones)
    logits: np.ndarray | None = None  # (N, K) of the check inputs, from esp-ppq's simulation of the int8 graph
    graph: Any = None  # esp-ppq's quantised graph, for diagnostics (benchmarks/espdl_ranges.py)


def export_espdl(
    model: nn.Module,
    calibration: np.ndarray,
    path: str | Path,
    target: str = "esp32s3",
    check: np.ndarray | None = None,
    activation_ranges: str = "percentile",
    int16_scan: bool = True,
) -> EspdlExport:
    """Quantise ``model`` (int8, power-of-two scales; a Mamba mixer's element-wise operators int16) with calibration
    inputs (N, C, H, W) float32 into an ``.espdl`` for ``target``; with ``check`` inputs, also simulate the quantised
    graph on them. ``activation_ranges`` (esp-ppq's calibration algorithm) and ``int16_scan`` exist to measure the
    alternatives (benchmarks/espdl_ranges.py); the defaults are the ones that keep hcmtmm faithful."""
    if target not in TARGETS:
        raise ExportError(f"unknown ESP-DL target {target!r}; choose one of {', '.join(TARGETS)}")
    calibration = np.asarray(calibration, np.float32)
    if calibration.ndim != 4 or len(calibration) == 0:
        raise ExportError(f"calibration data must be a non-empty (N, C, H, W) batch, got {calibration.shape}")
    with _stdout_to_stderr():  # esp-ppq prints a banner and progress; keep stdout for edgefer's own report
        try:
            from esp_ppq.api import espdl_quantize_onnx, get_target_platform
            from esp_ppq.api.setting import QuantizationSettingFactory
            from esp_ppq.core import TargetPlatform
            from esp_ppq.executor import TorchExecutor
        except ImportError:
            raise MissingExtraError("esp-ppq", "espdl", "ESP-DL export") from None
        path = Path(path)
        with tempfile.TemporaryDirectory(prefix="edgefer-espdl-") as scratch:
            onnx_path = export_onnx(model, Path(scratch) / "model.onnx")
            handed_over, metadata = _static_batch_copy(onnx_path, Path(scratch) / "model_for_esp_ppq.onnx")
            # One image per step: esp-ppq folds the batch-1 shapes into the graph.
            batches = [torch.from_numpy(calibration[i : i + 1]) for i in range(len(calibration))]
            setting = QuantizationSettingFactory.espdl_setting(num_of_bits=8)
            # esp-ppq's default KL calibration picks a range that leaves out most of a tensor whose values sit away
            # from zero: in hcmtmm's softplus, 1 + exp(-|t|) lies in [1, 2] and KL chose a scale whose int8 range
            # ends at 0.99, so every Δ of the Mamba scan came out wrong (47 % top-1 agreement, −19 pp on FER2013
            # PrivateTest). Percentile ranges keep it (88 %, −1.0 pp) and leave lightcnn as it was (97.4 %).
            setting.quantize_activation_setting.calib_algorithm = activation_ranges
            # int16 for the scan: on the trained hcmtmm (all 3,589 FER2013 PrivateTest faces) int8 throughout agrees
            # with PyTorch on 86.6 % of faces (−1.06 pp), int16 scan operators on 91.6 % (−0.86 pp), for 8 KB more.
            int16 = get_target_platform(target, "w16a16")
            for name in _mixer_elementwise_operators(model, handed_over) if int16_scan else []:
                setting.dispatching_table.append(name, int16)
            try:
                graph = espdl_quantize_onnx(
                    onnx_import_file=str(handed_over),
                    espdl_export_file=str(Path(scratch) / "model.espdl"),
                    calib_dataloader=batches,
                    calib_steps=len(batches),
                    input_shape=list(batches[0].shape),
                    inputs=batches[:1],
                    target=target,
                    num_of_bits=8,
                    setting=setting,
                    device="cpu",
                    error_report=False,
                    export_config=False,
                    verbose=0,
                    metadata_props=metadata,
                )
            except Exception as error:  # esp-ppq raises bare RuntimeError/TypeError/KeyError from its passes
                raise ExportError(
                    f"esp-ppq cannot quantise model {model.model_name!r} for {target}: {_first_lines(error)}"
                ) from None
            _refuse_unsupported(graph, model.model_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((Path(scratch) / "model.espdl").read_bytes())
        float_ops = sorted({op.type for op in graph.operations.values() if op.platform == TargetPlatform.FP32})
        int16_ops = sum(op.platform == int16 for op in graph.operations.values())
        logits = None if check is None else _simulate(TorchExecutor(graph=graph, device="cpu"), check)
    return EspdlExport(path, target, path.stat().st_size, float_ops, int16_ops, logits, graph)


def _static_batch_copy(source: Path, copy: Path) -> tuple[Path, dict[str, str]]:
    """Write ``source`` with batch size 1 to ``copy`` and return it with the model's metadata.

    ESP-DL runs one image at a time; a fixed batch lets the simplifier fold the shape arithmetic of a dynamic
    batch, which esp-ppq would otherwise quantise (its Reshape then receives a float shape).
    """
    proto = onnx.load(str(source))
    for value in [*proto.graph.input, *proto.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save(proto, str(copy))
    return copy, {entry.key: entry.value for entry in proto.metadata_props}


def _mixer_elementwise_operators(model: nn.Module, onnx_path: Path) -> list[str]:
    """Names of the ONNX nodes a Mamba mixer runs itself, leaving out those of its child modules (in_proj, conv1d,
    x_proj, out_proj: weight layers, which stay int8). torch.onnx names a node after its module path, e.g.
    ``/mixer/mixer/Mul_3`` in ``mixer.mixer``."""
    mixers = [name for name, module in model.named_modules() if isinstance(module, MambaMixer)]
    prefixes = [f"/{name.replace('.', '/')}/" for name in mixers]
    return [
        node.name
        for node in onnx.load(str(onnx_path)).graph.node
        for prefix in prefixes
        if node.name.startswith(prefix) and "/" not in node.name[len(prefix) :]
    ]


def _refuse_unsupported(graph: Any, model_name: str) -> None:
    """Raise one ExportError naming the operator types ESP-DL lacks and the model parts that use them."""
    missing: dict[str, list[str]] = {}
    for op in graph.operations.values():
        if op.type not in ESPDL_OPERATORS:
            missing.setdefault(op.type, []).append(op.name)
    if missing:
        used = "; ".join(f"{op_type} (at {', '.join(sorted(names))})" for op_type, names in sorted(missing.items()))
        raise ExportError(
            f"ESP-DL has no operator for {used} in model {model_name!r}; rewrite that part with operators ESP-DL "
            "has (see docs/deploy.md) or export another model"
        )


def _simulate(executor: Any, inputs: np.ndarray) -> np.ndarray:
    """Logits (N, K) of esp-ppq's simulation of the quantised graph, one image at a time as on the device."""
    images = np.asarray(inputs, np.float32)
    return np.concatenate(
        [executor.forward(inputs=torch.from_numpy(images[i : i + 1]))[0].numpy() for i in range(len(images))]
    )


def _first_lines(error: BaseException) -> str:
    """The first line of an error and of the error that caused it: esp-ppq wraps the operator's own message."""
    lines = [first_line(error)]
    cause = error.__cause__
    if cause is not None and str(cause).strip():
        lines.append(first_line(cause))
    return " — ".join(lines)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    with contextlib.redirect_stdout(sys.stderr):
        yield
