"""PyTorch → ONNX with the model's preprocessing and class names embedded as metadata."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from edgefer.models.weights import model_classes

DEFAULT_OPSET = 17


def export_onnx(model: nn.Module, path: str | Path, opset: int = DEFAULT_OPSET) -> Path:
    """Export a registered model (made by ``create_model``) to ONNX with a dynamic batch axis.

    The TorchScript exporter (``dynamo=False``) is used: it produces small, fast graphs for our loop-free scans,
    while the dynamo exporter's graphs for them ran ~30× slower in ONNX Runtime (see FINDINGS).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    channels, height, width = model.preprocess.input_size
    dummy = torch.zeros(1, channels, height, width)
    was_training = model.training
    model.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # Exported graphs have a fixed spatial size: the tracer's warnings about Python ints are expected.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(
                model,
                (dummy,),
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=["image"],
                output_names=["logits"],
                dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            )
    finally:
        model.train(was_training)
    proto = onnx.load_from_string(buffer.getvalue())
    metadata = {
        "edgefer_model": model.model_name,
        "edgefer_preprocess": json.dumps(model.preprocess.to_dict()),
        "edgefer_classes": json.dumps(list(model_classes(model))),
    }
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path
