"""HCMTMM family: parameter budgets of the paper, the features/head split, input sizes, a causal Mamba block."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from edgefer.export.onnx import export_onnx
from edgefer.models import create_model
from edgefer.models.hcmtmm import grid_pool
from edgefer.models.layers.mamba import MambaBlock, MambaConfig

# HCMTMM Table I: Baseline 64K, Baseline+MSA 69K, Baseline+Mamba 66K (98×98 greyscale, 7 classes).
PAPER_PARAMS = {"hcmtmm_baseline": 64_000, "hcmtmm_msa": 69_000, "hcmtmm": 66_000}


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_parameter_count_within_5_percent_of_the_paper(name):
    model = create_model(name, num_classes=7, img_size=98)
    count = sum(p.numel() for p in model.parameters())
    print(f"{name}: {count} parameters (paper {PAPER_PARAMS[name]})")
    assert abs(count - PAPER_PARAMS[name]) <= 0.05 * PAPER_PARAMS[name]


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_forward_is_head_of_features_and_every_parameter_learns(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=5).eval()
    x = torch.randn(2, 1, 98, 98)
    features = model.forward_features(x)
    assert features.shape == (2, model.num_features)
    logits = model(x)
    torch.testing.assert_close(logits, model.forward_head(features))
    logits.logsumexp(-1).sum().backward()
    silent = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"parameters without gradient: {silent}"


@pytest.mark.parametrize("size", [8, 48, 61, 98, 130])
def test_any_input_size_gives_logits(size):
    model = create_model("hcmtmm", img_size=size).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, size, size)).shape == (1, 7)


def test_rgb_input_is_accepted():
    model = create_model("hcmtmm_msa", in_chans=3).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 98, 98)).shape == (1, 7)


def test_mamba_block_is_causal_and_uses_the_past():
    torch.manual_seed(0)
    block = MambaBlock(MambaConfig(d_model=16)).eval()
    x = torch.randn(1, 10, 16)
    changed = x.clone()
    changed[:, 6] += 1.0  # perturb token 6
    with torch.no_grad():
        y, y_changed = block(x), block(changed)
    torch.testing.assert_close(y[:, :6], y_changed[:, :6])  # the past does not see the future
    assert (y[:, 7:] - y_changed[:, 7:]).abs().amax(-1).min() > 1e-4  # every later token sees the change


@pytest.mark.parametrize("height, width", [(12, 12), (7, 13), (3, 5), (6, 6)])
def test_grid_pool_equals_adaptive_average_pooling(height, width):
    x = torch.randn(2, 3, height, width)
    torch.testing.assert_close(grid_pool(x, 6), torch.nn.functional.adaptive_avg_pool2d(x, 6))


def test_exports_at_a_size_whose_map_is_not_a_multiple_of_the_grid(tmp_path):
    model = create_model("hcmtmm", img_size=64).eval()  # 1/8-scale map 8×8 → 6×6 grid
    path = export_onnx(model, tmp_path / "hcmtmm64.onnx")
    x = torch.randn(1, 1, 64, 64)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x.numpy()})[0]
    with torch.no_grad():
        assert np.abs(got - model(x).numpy()).max() <= 1e-4
