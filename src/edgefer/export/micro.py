"""Run a ``.tflite`` model in the TFLite Micro Python interpreter — the same kernels as on a microcontroller —
and measure what a device needs: flash (the model's bytes) and RAM (the tensor arena actually allocated)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgefer.errors import ExportError, MissingExtraError

# Generous arena for measuring; the figure reported is what the interpreter actually allocated in it.
MEASURING_ARENA_BYTES = 4 * 1024 * 1024
_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '(\w+)'|Node (\w+) \(number \d+\) failed to prepare")


@dataclass
class MicroRun:
    """Outputs of a TFLite Micro run and the device figures measured while making it."""

    logits: np.ndarray  # (N, K) dequantised outputs
    flash_bytes: int
    arena_bytes: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int


def run_micro(tflite_path: str | Path, inputs: np.ndarray) -> MicroRun:
    """Run preprocessed float inputs (N, C, H, W) through the int8 model one at a time, as the device would."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise MissingExtraError("tflite-micro", "mcu", "Running a model in TFLite Micro") from None
    model_bytes = Path(tflite_path).read_bytes()
    with _captured_stderr() as read_stderr:
        try:
            interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=MEASURING_ARENA_BYTES)
        except RuntimeError as error:
            report = read_stderr()
            missing = _MISSING_OP.search(report)
            op = next((group for group in missing.groups() if group), "?") if missing else "?"
            detail = report.strip().splitlines()[0] if report.strip() else str(error)
            raise ExportError(
                f"TFLite Micro cannot run this model: operator {op} is not supported as converted ({detail}); "
                "see docs/deploy.md for which model parts use it"
            ) from None
    source = interpreter.get_input_details(0)
    target = interpreter.get_output_details(0)
    in_scale, in_zero = (
        float(source["quantization_parameters"]["scales"][0]),
        int(source["quantization_parameters"]["zero_points"][0]),
    )
    out_scale, out_zero = (
        float(target["quantization_parameters"]["scales"][0]),
        int(target["quantization_parameters"]["zero_points"][0]),
    )
    shape = tuple(int(d) for d in source["shape"])
    outputs = []
    for image in np.asarray(inputs, np.float32):
        quantised = np.clip(np.round(image / in_scale) + in_zero, -128, 127).astype(np.int8).reshape(shape)
        interpreter.set_input(quantised, 0)
        interpreter.invoke()
        raw = interpreter.get_output(0).astype(np.float32).reshape(-1)
        outputs.append((raw - out_zero) * out_scale)
    with _captured_stderr() as read_stderr:
        interpreter.print_allocations()
        report = read_stderr()
    match = _ARENA_TOTAL.search(report)
    if match is None:
        raise ExportError("TFLite Micro printed no arena allocation report; cannot measure the model's RAM")
    return MicroRun(
        logits=np.stack(outputs),
        flash_bytes=len(model_bytes),
        arena_bytes=int(match.group(1)),
        input_scale=in_scale,
        input_zero_point=in_zero,
        output_scale=out_scale,
        output_zero_point=out_zero,
    )


@contextlib.contextmanager
def _captured_stderr() -> Iterator[Callable[[], str]]:
    """Redirect the process's C-level stderr (file descriptor 2) into a temporary file, yielding a reader of it.

    TFLite Micro reports its arena allocation and its missing kernels through printf, which Python's sys.stderr
    never sees.
    """
    with tempfile.TemporaryFile() as handle:

        def read_so_far() -> str:
            handle.flush()
            handle.seek(0)
            return handle.read().decode(errors="replace")

        saved = os.dup(2)
        os.dup2(handle.fileno(), 2)
        try:
            yield read_so_far
        finally:
            os.dup2(saved, 2)
            os.close(saved)
