"""Inference backends: PyTorch and ONNX Runtime (fp32 or int8 .onnx), one batched call per frame.

A backend maps a preprocessed batch (N, C, H, W) float32 to class probabilities (N, K) and carries the
preprocessing and class names of its model, read from the weights file or from the .onnx metadata that
``edgefer.export.onnx`` embeds.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
from torch import nn

from edgefer.errors import ConfigError, ModelError
from edgefer.labels import EMOTIONS
from edgefer.models.registry import Preprocess
from edgefer.models.weights import model_classes

BACKENDS: tuple[str, ...] = ("auto", "torch", "onnxruntime")
_ALIASES = {"onnx": "onnxruntime", "ort": "onnxruntime", "pytorch": "torch"}


class Backend(Protocol):
    name: str
    preprocess: Preprocess
    classes: tuple[str, ...]

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class TorchBackend:
    """Eager PyTorch, on the GPU when one is asked for and present."""

    def __init__(self, model: nn.Module, device: str = "cpu") -> None:
        import torch

        if not hasattr(model, "preprocess"):
            raise ModelError(
                "this model has no preprocessing metadata; build it with edgefer.create_model or "
                "load it with edgefer.models.load_weights"
            )
        self._torch = torch
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.preprocess: Preprocess = model.preprocess
        self.classes = model_classes(model)
        self.name = "torch" if self.device.type == "cpu" else f"torch-{self.device.type}"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            logits = self.model(self._torch.from_numpy(batch).to(self.device))
        return softmax(logits.float().cpu().numpy())


class OnnxBackend:
    """ONNX Runtime on the CPU (or CUDA when its provider is installed); int8 models run the same way."""

    name = "onnxruntime"

    def __init__(self, model: str | Path | bytes, label: str = "", threads: int = 1) -> None:
        import onnxruntime as ort

        label = label or str(model)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # One thread by default: the pipeline's stages (decode, detect, classify) already share the cores, and a
        # 48×48 model ran as fast on 1 thread as on 2 here (0.33 vs 0.36 ms median) for half the CPU time.
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        source = model if isinstance(model, bytes) else str(model)
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise ModelError(
                f"ONNX model {label!r} does not exist; give the path of a file written by "
                "`edgefer export --format onnx`"
            )
        try:
            self.session = ort.InferenceSession(source, options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types for bad files
            raise ModelError(
                f"ONNX Runtime cannot load {label!r} ({type(error).__name__}); it is not a valid "
                "ONNX model: re-export it with `edgefer export --format onnx`"
            ) from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if "edgefer_preprocess" not in metadata:
            raise ModelError(
                f"{label!r} has no edgefer preprocessing metadata; export it with "
                "`edgefer export --format onnx` (or edgefer.export.onnx.export_onnx)"
            )
        self.preprocess = Preprocess.from_dict(json.loads(metadata["edgefer_preprocess"]))
        self.classes = tuple(json.loads(metadata.get("edgefer_classes", json.dumps(list(EMOTIONS)))))
        self._input = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        (logits,) = self.session.run(None, {self._input: batch})[:1]
        return softmax(np.asarray(logits, dtype=np.float32))


def _export_to_onnx(model: nn.Module) -> OnnxBackend | None:
    """The model exported to ONNX and loaded in ONNX Runtime, or None when export fails or changes the output."""
    from edgefer.export.onnx import export_onnx

    try:
        with tempfile.TemporaryDirectory(prefix="edgefer-") as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation notes mean nothing to a user predicting
            path = export_onnx(model, Path(folder) / "model.onnx")
            backend = OnnxBackend(path.read_bytes(), label=getattr(model, "model_name", "model"))
    except Exception:  # any exporter failure just means this model runs on PyTorch
        return None
    reference = TorchBackend(model)
    batch = np.random.default_rng(0).standard_normal((2, *model.preprocess.input_size)).astype(np.float32)
    # Some graphs export silently wrong (in-place scans, FINDINGS): only keep an export that agrees.
    if not np.allclose(backend(batch), reference(batch), atol=1e-4):
        return None
    return backend


def _seconds_per_call(backend: Backend, repeats: int = 5) -> float:
    batch = np.zeros((1, *backend.preprocess.input_size), np.float32)
    backend(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        backend(batch)
    return (time.perf_counter() - start) / repeats


def create_backend(model: nn.Module | str | Path, backend: str = "auto") -> Backend:
    """A backend for a loaded PyTorch model or an .onnx path.

    ``auto`` runs an .onnx file on ONNX Runtime; for a PyTorch model it exports to ONNX in memory, checks that
    the export agrees with PyTorch, times both and keeps the faster; a CUDA GPU, when present, runs PyTorch.
    """
    backend = _ALIASES.get(backend, backend)
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not isinstance(model, nn.Module):
        if backend == "torch":
            raise ConfigError(
                f"{str(model)!r} is an ONNX model, which runs on onnxruntime; pass the .pt weights "
                "for --backend torch, or use --backend auto"
            )
        return OnnxBackend(model)
    if backend == "torch":
        return TorchBackend(model)
    import torch

    if backend == "auto" and torch.cuda.is_available():
        return TorchBackend(model, "cuda")
    exported = _export_to_onnx(model)
    if exported is None:
        if backend == "onnxruntime":
            raise ModelError(
                f"model {getattr(model, 'model_name', '?')!r} does not export to ONNX faithfully; use --backend torch"
            )
        return TorchBackend(model)
    if backend == "onnxruntime":
        return exported
    eager = TorchBackend(model)
    return exported if _seconds_per_call(exported) <= _seconds_per_call(eager) else eager
