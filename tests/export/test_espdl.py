"""ESP-DL export (`edgefer export --format espdl`): the refusals everywhere, and — where the optional `espdl`
extra (esp-ppq) is installed — a lightcnn export with its flash figure and simulated top-1 agreement, and the shipped
hcmtmm on real FER2013 faces."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from edgefer.errors import ExportError, MissingExtraError
from edgefer.export.espdl import _mixer_elementwise_operators, export_espdl
from edgefer.export.onnx import export_onnx
from edgefer.export.pipeline import ExportInputs, export_model
from edgefer.models import create_model

ESP_PPQ_MODULES = ("esp_ppq", "esp_ppq.api", "esp_ppq.core", "esp_ppq.executor")


def _inputs(model: torch.nn.Module, count: int, seed: int) -> np.ndarray:
    """Preprocessed random 8-bit images for ``model``."""
    rng = np.random.default_rng(seed)
    return model.preprocess.apply(rng.integers(0, 256, (count, *model.preprocess.image_size), dtype=np.uint8))


def test_missing_esp_ppq_names_the_extra(monkeypatch, tmp_path):
    for name in ESP_PPQ_MODULES:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import esp_ppq...` fail
    model = create_model("lightcnn")
    with pytest.raises(MissingExtraError, match=r"pip install 'edgefer\[espdl\]'"):
        export_espdl(model, _inputs(model, 2, 0), tmp_path / "model.espdl")
    assert not (tmp_path / "model.espdl").exists()


def test_unknown_target_and_bad_calibration_are_refused(tmp_path):
    model = create_model("lightcnn")
    with pytest.raises(ExportError, match="esp32s3, esp32"):
        export_espdl(model, _inputs(model, 2, 0), tmp_path / "model.espdl", target="esp32p4")
    with pytest.raises(ExportError, match=r"\(N, C, H, W\)"):
        export_espdl(model, np.zeros((48, 48), np.float32), tmp_path / "model.espdl")


def test_espdl_export_of_lightcnn_reports_flash_and_simulated_agreement(tmp_path):
    pytest.importorskip("esp_ppq", reason="the espdl extra (pip install 'edgefer[espdl]') is not installed")
    torch.manual_seed(0)
    model = create_model("lightcnn").eval()
    inputs = ExportInputs(calibration=_inputs(model, 8, seed=0), check=_inputs(model, 8, seed=1))
    result = export_model(model, "espdl", tmp_path / "espdl", int8=False, inputs=inputs, target="esp32s3")
    row = result.rows[-1]
    print("lightcnn ESP-DL:", {key: row[key] for key in ("bytes", "top1_agreement", "max_abs_diff", "note")})
    espdl = result.files["espdl"]
    assert espdl == tmp_path / "espdl" / "model_esp32s3.espdl" and espdl.is_file()
    assert row["flash_bytes"] == row["bytes"] == espdl.stat().st_size
    assert row["bytes"] < 0.5 * result.rows[0]["bytes"], "int8 weights should be well under the fp32 weights"
    assert row["top1_agreement"] >= 0.75 and np.isfinite(row["max_abs_diff"])
    assert row["float_operators"] == [] and "no RAM figure" in row["note"]
    assert row["int16_operators"] == 0 and "int16" not in row["note"] + row["artefact"]
    assert sorted(path.name for path in (tmp_path / "espdl").iterdir()) == ["export.json", espdl.name]


def test_only_the_mamba_mixers_own_operators_are_picked_for_int16(tmp_path):
    """The scan's element-wise nodes (named after the mixer's module path) go int16; the mixer's weight layers, the
    norm, the residual add and everything outside the mixer stay int8; a model without a mixer gets none."""
    hcmtmm = create_model("hcmtmm").eval()
    picked = _mixer_elementwise_operators(hcmtmm, export_onnx(hcmtmm, tmp_path / "hcmtmm.onnx"))
    assert {"/mixer/mixer/Exp", "/mixer/mixer/Log", "/mixer/mixer/Mul_3", "/mixer/mixer/ReduceSum"} <= set(picked)
    assert all(name.startswith("/mixer/mixer/") and name.count("/") == 3 for name in picked)
    assert len(picked) == len(set(picked)) > 40
    lightcnn = create_model("lightcnn").eval()
    assert _mixer_elementwise_operators(lightcnn, export_onnx(lightcnn, tmp_path / "lightcnn.onnx")) == []


def test_espdl_export_names_an_operator_esp_dl_lacks(tmp_path):
    pytest.importorskip("esp_ppq", reason="the espdl extra (pip install 'edgefer[espdl]') is not installed")
    model = create_model("lightcnn").eval()
    forward = model.forward
    model.forward = lambda image: forward(image.abs())  # ONNX Abs: ESP-DL has no such module
    inputs = ExportInputs(calibration=_inputs(model, 2, seed=0), check=_inputs(model, 2, seed=1))
    with pytest.raises(ExportError, match=r"ESP-DL has no operator for Abs \(at /Abs\)"):
        export_model(model, "espdl", tmp_path / "espdl", int8=False, inputs=inputs, target="esp32")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.shared_data
def test_espdl_keeps_the_shipped_hcmtmm_mamba_scan_on_real_faces(tmp_path, fer2013_faces):
    """The trained hcmtmm through ESP-DL: with esp-ppq's default KL calibration the int8 softplus of its Mamba scan
    was clipped and the copy agreed with PyTorch on under half of the faces; percentile ranges keep it faithful, and
    int16 scan operators stop the rounding error compounding along the scan."""
    pytest.importorskip("esp_ppq", reason="the espdl extra (pip install 'edgefer[espdl]') is not installed")
    from edgefer.models import load_weights
    from edgefer.weights import shipped_weights

    model = load_weights(shipped_weights("hcmtmm").path)
    calibration, check = fer2013_faces(model, "Training", 64), fer2013_faces(model, "PrivateTest", 128)
    inputs = ExportInputs(calibration=calibration, check=check)
    result = export_model(model, "espdl", tmp_path / "espdl", int8=False, inputs=inputs)
    row = result.rows[-1]
    print("hcmtmm ESP-DL:", {key: row[key] for key in ("bytes", "top1_agreement", "note")})
    assert row["int16_operators"] > 40 and row["float_operators"] == []
    assert row["artefact"] == "ESP-DL int8, Mamba scan int16 (esp32s3, esp-ppq simulation)"
    assert row["top1_agreement"] >= 0.9  # 94.5 % here; 87.5 % with an all-int8 scan, 38 % with KL ranges
