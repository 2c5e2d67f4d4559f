"""Every registered model builds, trains a step, exports to ONNX (opset 17) and runs the same in ONNX Runtime."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from edgefer.export.onnx import export_onnx
from edgefer.models import create_model, list_models

IMG_SIZE = 48  # small enough for the whole zoo to run in seconds, large enough for every architecture


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("name", list_models())
def test_model_trains_exports_and_matches_onnx_runtime(name, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, num_classes=7, img_size=IMG_SIZE)
    x = torch.randn(2, *model.preprocess.input_size)

    model.train()
    logits = model(x)
    assert logits.shape == (2, 7)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert model.forward_features(x).shape[0] == 2

    model.eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", opset=17)
    assert onnx.load(str(path)).opset_import[0].version == 17
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(x).numpy()
    got = session.run(None, {"image": x.numpy()})[0]
    assert np.abs(got - expected).max() <= 1e-4
