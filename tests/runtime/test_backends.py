import numpy as np
import onnx
import pytest

from edgefer import Recognizer
from edgefer.errors import ConfigError, ModelError
from edgefer.export.onnx import export_onnx
from edgefer.runtime.backends import OnnxBackend, TorchBackend, create_backend


@pytest.fixture(scope="module")
def onnx_path(tiny_model, tmp_path_factory):
    return export_onnx(tiny_model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def test_onnx_file_carries_its_preprocessing_and_matches_torch(tiny_model, onnx_path):
    backend = create_backend(onnx_path)
    assert isinstance(backend, OnnxBackend)
    assert backend.preprocess == tiny_model.preprocess and len(backend.classes) == 7
    batch = np.random.default_rng(0).standard_normal((3, 1, 32, 32)).astype(np.float32)
    probs = backend(batch)
    assert probs.shape == (3, 7)
    np.testing.assert_allclose(probs, TorchBackend(tiny_model)(batch), atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_int8_onnx_runs_like_fp32(onnx_path, tmp_path, sample_bgr):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = tmp_path / "tiny-int8.onnx"
    quantize_dynamic(str(onnx_path), str(int8), weight_type=QuantType.QInt8)
    faces = Recognizer(int8).predict(sample_bgr)
    reference = Recognizer(onnx_path).predict(sample_bgr)
    assert len(faces) == 1 and faces[0].box == reference[0].box
    np.testing.assert_allclose(faces[0].scores, reference[0].scores, atol=0.05)


def test_bad_onnx_files(onnx_path, tmp_path):
    bare = onnx.load(str(onnx_path))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(ModelError, match="no edgefer preprocessing metadata"):
        create_backend(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        create_backend(tmp_path / "junk.onnx")
    with pytest.raises(ModelError, match="does not exist"):
        create_backend(tmp_path / "absent.onnx")
    with pytest.raises(ConfigError, match="runs on onnxruntime"):
        create_backend(onnx_path, "torch")


def test_auto_keeps_pytorch_when_the_export_disagrees(tiny_model, monkeypatch):
    import edgefer.runtime.backends as backends

    monkeypatch.setattr(backends, "_export_to_onnx", lambda model: None)
    assert create_backend(tiny_model, "auto").name == "torch"
    with pytest.raises(ModelError, match="use --backend torch"):
        create_backend(tiny_model, "onnxruntime")
