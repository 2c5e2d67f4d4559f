"""DMSNet's layers: deformable convolution (against plain convolution, shifts, ONNX Runtime), separable
convolution and the Receptive Field Block."""

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from edgefer.models.layers.deformable import DeformConv2d
from edgefer.models.layers.rfb import RFB
from edgefer.models.layers.separable import SeparableConv2d


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Two threads on a shared 2-core machine oversubscribe it; these tests are faster on one.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "size"),
    [(1, 1, 1, (7, 9)), (2, 1, 1, (8, 7)), (1, 2, 2, (6, 6)), (2, 0, 1, (9, 9)), (1, 1, 1, (1, 1))],
)
def test_deformable_equals_conv_at_zero_offsets(stride, padding, dilation, size):
    torch.manual_seed(0)
    layer = DeformConv2d(3, 5, 3, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(2, 3, *size)
    expected = F.conv2d(x, layer.weight, layer.bias, stride, padding, dilation)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_deformable_offsets_are_pixels_in_dy_dx_order():
    torch.manual_seed(0)
    layer = DeformConv2d(3, 4, 3)
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        layer.offset.bias[0::2] = -1.0  # every tap reads one row up ...
        layer.offset.bias[1::2] = 1.0  # ... and one column right
    # Reading x[i - 1 + ky - 1, j + 1 + kx - 1] is a plain convolution of x padded by 2 on top and right.
    expected = F.conv2d(F.pad(x, (0, 2, 2, 0)), layer.weight, layer.bias)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_deformable_samples_between_pixels_bilinearly():
    torch.manual_seed(0)
    layer = DeformConv2d(2, 3, 3)
    x = torch.randn(1, 2, 6, 6)
    with torch.no_grad():
        layer.offset.bias[1::2] = 0.5  # half a pixel to the right: the mean of two neighbours
    padded = F.pad(x, (1, 2, 1, 1))  # (1, 2, 8, 9)
    between = (padded[..., :-1] + padded[..., 1:]) / 2  # value at column j + 0.5
    expected = F.conv2d(between, layer.weight, layer.bias)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_deformable_offsets_learn():
    torch.manual_seed(0)
    layer = DeformConv2d(3, 4, 3)
    layer(torch.randn(2, 3, 6, 6)).square().sum().backward()
    assert layer.offset.weight.grad.abs().sum() > 0
    assert layer.offset.bias.grad.abs().sum() > 0


def test_deformable_with_learned_offsets_matches_onnx_runtime(tmp_path):
    torch.manual_seed(0)
    layer = DeformConv2d(4, 6, 3, stride=2).eval()
    with torch.no_grad():
        layer.offset.weight.normal_(0, 0.5)  # offsets of a few pixels, some reading outside the map
        layer.offset.bias.normal_(0, 1.0)
    path = tmp_path / "deform.onnx"
    torch.onnx.export(
        layer,
        (torch.zeros(1, 4, 11, 10),),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
    )
    x = torch.randn(3, 4, 11, 10)
    with torch.no_grad():
        expected = layer(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy()})[0]
    assert np.abs(got - expected).max() <= 1e-4


@pytest.mark.parametrize(("stride", "dilation"), [(1, 1), (2, 1), (1, 2)])
def test_deformable_reports_the_sampling_work_counters_miss(stride, dilation):
    layer = DeformConv2d(3, 5, 3, stride=stride, dilation=dilation)
    x = torch.randn(2, 3, 9, 8)
    out_h, out_w = layer(x).shape[-2:]
    assert layer.extra_macs(tuple(x.shape)) == 4 * 2 * 3 * 9 * out_h * out_w


def test_separable_is_depthwise_then_pointwise():
    torch.manual_seed(0)
    layer = SeparableConv2d(4, 6, 3)
    assert sum(p.numel() for p in layer.parameters()) == 4 * 9 + 4 * 6 + 6
    x = torch.randn(2, 4, 5, 5)
    depthwise = F.conv2d(x, layer.depthwise.weight, padding=1, groups=4)
    expected = F.conv2d(depthwise, layer.pointwise.weight, layer.pointwise.bias)
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize(("in_channels", "out_channels"), [(16, 16), (32, 16)])
def test_rfb_keeps_the_size_and_projects_the_shortcut_only_when_widths_differ(in_channels, out_channels):
    block = RFB(in_channels, out_channels)
    assert block(torch.randn(2, in_channels, 7, 5)).shape == (2, out_channels, 7, 5)
    assert isinstance(block.shortcut, torch.nn.Identity) == (in_channels == out_channels)


def test_rfb_receptive_field_reaches_seven_pixels():
    # The widest branch is 3×3 → 3×3 → 3×3 dilated by 5: it sees 1 + 1 + 5 = 7 pixels from the centre.
    torch.manual_seed(0)
    block = RFB(16, 16).eval()
    x = torch.randn(1, 16, 21, 21, requires_grad=True)
    block(x)[0, :, 10, 10].sum().backward()
    rows, cols = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)  # input pixels the centre output sees
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (10 - 7, 10 + 7, 10 - 7, 10 + 7)
