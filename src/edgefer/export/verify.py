"""Checks that an exported model computes what the PyTorch model computes, and what int8 costs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn


def onnx_session(path: str | Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session with all graph optimisations, sequential execution and ``threads`` intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits(session: ort.InferenceSession, inputs: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits of an ONNX model for preprocessed inputs (N, C, H, W), in batches."""
    name = session.get_inputs()[0].name
    chunks = [session.run(None, {name: inputs[i : i + batch_size]})[0] for i in range(0, len(inputs), batch_size)]
    return np.concatenate(chunks)


def torch_logits(model: nn.Module, inputs: np.ndarray, batch_size: int = 256) -> np.ndarray:
    model.eval()
    with torch.inference_mode():
        chunks = [
            model(torch.from_numpy(inputs[i : i + batch_size])).numpy() for i in range(0, len(inputs), batch_size)
        ]
    return np.concatenate(chunks)


@dataclass
class Agreement:
    """How an exported model's outputs compare with a reference's on the same inputs."""

    n_images: int
    max_abs_diff: float
    top1_agreement: float
    accuracy: float | None = None
    reference_accuracy: float | None = None

    @property
    def accuracy_delta_pp(self) -> float | None:
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return 100.0 * (self.accuracy - self.reference_accuracy)


def agreement(
    reference: np.ndarray,
    candidate: np.ndarray,
    labels: np.ndarray | None = None,
    columns: tuple[int, ...] | None = None,
) -> Agreement:
    """Compare two (N, K) logit arrays; with labels, also both accuracies.

    ``labels`` index ``columns``, the model outputs that are scored (all when None): a prediction is the best of
    those columns, as ``edgefer val`` scores a model on a data set with fewer classes (see evaluate/classes.py)."""
    ref_top1, cand_top1 = reference.argmax(1), candidate.argmax(1)
    result = Agreement(
        n_images=len(reference),
        max_abs_diff=float(np.abs(reference - candidate).max()),
        top1_agreement=float((ref_top1 == cand_top1).mean()),
    )
    if labels is not None:
        result.accuracy = scored_accuracy(candidate, labels, columns)
        result.reference_accuracy = scored_accuracy(reference, labels, columns)
    return result


def scored_accuracy(logits: np.ndarray, labels: np.ndarray, columns: tuple[int, ...] | None = None) -> float:
    """Top-1 accuracy over the scored ``columns`` (all outputs when None); ``labels`` index ``columns``."""
    scored = logits if columns is None else logits[:, list(columns)]
    return float((scored.argmax(1) == labels).mean())
