"""VGG-16-BN and ResNet-50 bodies (against the reference architectures' sizes) and the vgg16_bn teacher."""

import pytest
import torch

from edgefer.errors import ModelError
from edgefer.models import create_model
from edgefer.models.backbones import scaled_width
from edgefer.models.backbones.resnet import ResNet50Body
from edgefer.models.backbones.vgg import VGG16Body


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Two threads on a shared 2-core machine oversubscribe it; these tests are faster on one.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_vgg16_body_has_the_reference_size():
    # torchvision's vgg16_bn().features: 14,723,136 parameters for RGB input, with convolution biases. Ours
    # drops the biases (a batch norm follows each convolution: 4,224) and takes one channel (2 × 64 × 9 fewer).
    assert count(VGG16Body(in_chans=1)) == 14_723_136 - 4_224 - 2 * 64 * 9


def test_resnet50_body_has_the_reference_size():
    # torchvision's resnet50(): 25,557,032 parameters, of which the classifier is 2048 × 1000 + 1000 and the
    # RGB stem 3 × 64 × 7 × 7.
    assert count(ResNet50Body(in_chans=1)) == 25_557_032 - 2_049_000 - 2 * 64 * 7 * 7


@pytest.mark.parametrize(
    ("body_class", "channels", "sizes"),
    [(VGG16Body, (32, 64, 128, 128), (24, 12, 6, 3)), (ResNet50Body, (64, 128, 256, 512), (12, 6, 3, 2))],
)
def test_bodies_return_four_stages_from_fine_to_coarse(body_class, channels, sizes):
    body = body_class(in_chans=1, width_mult=0.25)
    assert body.stage_channels == channels
    outputs = body(torch.randn(2, 1, 48, 48))
    assert [tuple(o.shape) for o in outputs] == [(2, c, s, s) for c, s in zip(channels, sizes, strict=True)]


def test_width_rule_rounds_to_multiples_of_eight():
    assert [scaled_width(c, 0.22) for c in (64, 128, 256, 512)] == [16, 32, 56, 112]
    assert scaled_width(16, 0.1) == 8


@pytest.mark.parametrize("size", [48, 98])
def test_teacher_takes_greyscale_faces_at_48_and_98_pixels(size):
    torch.manual_seed(0)
    model = create_model("vgg16_bn", img_size=size).eval()
    assert model.preprocess.input_size == (1, size, size)
    x = torch.randn(2, 1, size, size)
    with torch.no_grad():
        features = model.forward_features(x)
        assert features.shape == (2, 512)
        torch.testing.assert_close(model(x), model.forward_head(features))


def test_teacher_size_and_too_small_inputs():
    model = create_model("vgg16_bn")
    print(f"vgg16_bn: {count(model)} parameters")
    assert count(model) == count(model.body) + 512 * 512 + 512 + 512 * 7 + 7
    with pytest.raises(ModelError, match="img_size"):
        create_model("vgg16_bn", img_size=8)
