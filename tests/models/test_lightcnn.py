"""lightcnn: default preprocessing, size, the features/head split and input sizes."""

import pytest
import torch

from edgefer.errors import ModelError
from edgefer.models import create_model


def test_defaults_are_48_pixel_greyscale_and_the_model_is_small():
    model = create_model("lightcnn")
    assert model.preprocess.input_size == (1, 48, 48)
    count = sum(p.numel() for p in model.parameters())
    print(f"lightcnn: {count} parameters")
    assert 50_000 <= count <= 150_000


def test_forward_is_head_of_features_and_every_parameter_learns():
    torch.manual_seed(0)
    model = create_model("lightcnn").eval()
    x = torch.randn(2, 1, 48, 48)
    features = model.forward_features(x)
    assert features.shape == (2, model.num_features)
    logits = model(x)
    torch.testing.assert_close(logits, model.forward_head(features))
    logits.logsumexp(-1).sum().backward()
    silent = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"parameters without gradient: {silent}"


@pytest.mark.parametrize("size", [16, 48, 70, 98])
def test_any_input_size_gives_logits(size):
    model = create_model("lightcnn", num_classes=8, img_size=size).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, size, size)).shape == (1, 8)


def test_too_small_an_input_is_refused_when_the_model_is_built():
    with pytest.raises(ModelError, match="lightcnn needs img_size >= 16, got 15"):
        create_model("lightcnn", img_size=15)
    with pytest.raises(ModelError, match="img_size >= 8, got 7"):
        create_model("lightcnn", img_size=7, widths=(8, 16, 32))
