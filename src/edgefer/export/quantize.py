"""Static post-training int8 quantisation of an ONNX model with ONNX Runtime.

Only Conv, MatMul and Gemm are quantised (QDQ format, per-channel symmetric weights): measured here, quantising
every op made the Mamba model larger and slower, and element-wise ops gain nothing from int8 on a CPU.

Weights use 7 bits (``reduce_range``): on x86 CPUs without VNNI, ONNX Runtime's int8 kernels multiply u8×s8 pairs
with 16-bit saturating adds (onnxruntime issues #5849, #11415), which full-range weights overflow. Measured on
FER2013 PrivateTest with the shipped lightcnn: full-range int8 lost ~16 points of accuracy, 7-bit weights <1.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from edgefer.errors import ExportError

QUANTISED_OPS = ("Conv", "MatMul", "Gemm")


class _BatchReader(CalibrationDataReader):
    """Feeds calibration images one at a time (batch 1, as the device will see them)."""

    def __init__(self, images: np.ndarray, input_name: str) -> None:
        self._images = images
        self._input_name = input_name
        self._index = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._index >= len(self._images):
            return None
        batch = self._images[self._index : self._index + 1]  # (1, C, H, W)
        self._index += 1
        return {self._input_name: batch}


def quantize_int8(fp32_path: str | Path, int8_path: str | Path, calibration: np.ndarray) -> Path:
    """Quantise ``fp32_path`` into ``int8_path`` using preprocessed calibration inputs (N, C, H, W) float32."""
    calibration = np.asarray(calibration, np.float32)
    if calibration.ndim != 4 or len(calibration) == 0:
        raise ExportError(
            f"calibration data must be a non-empty (N, C, H, W) batch, got shape {calibration.shape}; "
            "pass --calib with a data set that has training images"
        )
    if not np.isfinite(calibration).all():
        raise ExportError("calibration data contains NaN or infinite values; check the calibration images")
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    fp32 = onnx.load(str(fp32_path))
    input_name = fp32.graph.input[0].name
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(int8_path),
            _BatchReader(calibration, input_name),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANTISED_OPS),
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        # quantize_static writes its calibration augmentation next to the working dir on some versions.
        shutil.rmtree(Path(scratch), ignore_errors=True)
    int8 = onnx.load(str(int8_path))
    del int8.metadata_props[:]
    int8.metadata_props.extend(fp32.metadata_props)
    entry = int8.metadata_props.add()
    entry.key, entry.value = "edgefer_quantization", "int8-static-qdq:" + ",".join(QUANTISED_OPS)
    onnx.save(int8, str(int8_path))
    return int8_path
