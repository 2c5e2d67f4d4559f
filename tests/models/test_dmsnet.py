"""DMSNet: the paper's budgets, the Table 3 ablations, the features/head split and input sizes."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from edgefer.errors import ModelError
from edgefer.models import create_model, list_models
from edgefer.models.dmsnet import DMSNet
from edgefer.models.layers.deformable import DeformConv2d
from edgefer.models.layers.separable import SeparableConv2d


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Two threads on a shared 2-core machine oversubscribe it; these tests are faster on one.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs(model: torch.nn.Module) -> tuple[float, float]:
    """(multiply-accumulates FlopCounterMode sees, those of the deformable sampling it does not) at default size."""
    shapes = []
    hooks = [
        m.register_forward_pre_hook(lambda m, inputs: shapes.append((m, inputs[0].shape)))
        for m in model.modules()
        if isinstance(m, DeformConv2d)
    ]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, *model.preprocess.input_size))
    for hook in hooks:
        hook.remove()
    return counter.get_total_flops() / 2, sum(m.extra_macs(tuple(shape)) for m, shape in shapes)


def test_light_model_keeps_within_the_papers_budget():
    model = create_model("dmsnet_light")
    assert model.preprocess.input_size == (1, 48, 48)
    count, (counted, sampling) = parameters(model), macs(model)
    print(f"dmsnet_light: {count / 1e6:.2f}M parameters, {counted / 1e6:.1f}M + {sampling / 1e6:.1f}M MACs at 48×48")
    assert count <= 5.6e6
    assert sampling > 0
    assert counted + sampling <= 101e6


def test_heavy_model_is_a_full_resnet50_near_the_papers_24m_parameters():
    model = create_model("dmsnet_heavy")
    count = parameters(model)
    print(f"dmsnet_heavy: {count / 1e6:.2f}M parameters")
    assert model.backbone.stage_channels == (256, 512, 1024, 2048)
    assert abs(count - 24e6) <= 0.05 * 24e6


def test_every_table3_row_is_registered_for_both_backbones():
    rows = ("", "_conv2d", "_decnet", "_scnet")
    expected = {f"dmsnet_{size}{row}" for size in ("light", "heavy") for row in rows} | {"dmsnet_light_full"}
    assert set(list_models("dmsnet*")) == expected


@pytest.mark.parametrize(
    ("name", "deformable", "separable"),
    [
        ("dmsnet_light", True, True),
        ("dmsnet_light_decnet", True, False),
        ("dmsnet_light_scnet", False, True),
        ("dmsnet_light_conv2d", False, False),
    ],
)
def test_ablations_swap_the_encoder_and_decoder_modules(name, deformable, separable):
    model = create_model(name)
    for block in (*model.encoders, *model.decoders):
        kinds = [type(layer) for layer in block]
        assert (DeformConv2d in kinds) == deformable
        assert (SeparableConv2d in kinds) == separable
        assert len([k for k in kinds if k in (DeformConv2d, SeparableConv2d, torch.nn.Conv2d)]) == 2


def test_full_width_light_model_uses_the_whole_vgg16():
    model = create_model("dmsnet_light_full")
    assert model.backbone.stage_channels == (128, 256, 512, 512)


def test_forward_is_head_of_features_and_every_parameter_learns():
    torch.manual_seed(0)
    model = create_model("dmsnet_light").eval()
    x = torch.randn(2, 1, 48, 48)
    features = model.forward_features(x)
    assert features.shape == (2, model.num_features)
    logits = model(x)
    torch.testing.assert_close(logits, model.forward_head(features))
    logits.logsumexp(-1).sum().backward()
    silent = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"parameters without gradient: {silent}"


@pytest.mark.parametrize("size", [16, 40, 98])
def test_any_input_size_gives_logits(size):
    model = create_model("dmsnet_light", num_classes=8, img_size=size).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, size, size)).shape == (1, 8)


def test_wrong_sizes_and_names_are_user_errors():
    with pytest.raises(ModelError, match="img_size"):
        create_model("dmsnet_light", img_size=12)
    with pytest.raises(ModelError, match="variant"):
        DMSNet(variant="deformable")
    with pytest.raises(ModelError, match="backbone"):
        DMSNet(backbone="resnet18")
