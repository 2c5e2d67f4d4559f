import numpy as np
import pytest
import torch

from edgefer.evaluate.inference import predict_probs
from edgefer.evaluate.tta import tta_views
from edgefer.models import create_model


def _images(count: int, size: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size), dtype=np.uint8)


@pytest.mark.parametrize(("tta", "views"), [("none", 1), ("flip", 2), ("multicrop", 10)])
def test_probabilities_have_one_row_per_image_and_sum_to_one(tiny_model_name, tta, views):
    model = create_model(tiny_model_name, num_classes=5)
    images = _images(7)
    assert len(tta_views(images, tta)) == views
    probs = predict_probs(model, images, batch_size=3, tta=tta)
    assert probs.shape == (7, 5) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_flip_tta_on_a_flip_invariant_model_equals_no_tta(tiny_model_name):
    model = create_model(tiny_model_name, kernel=1)
    images = _images(6)
    np.testing.assert_allclose(predict_probs(model, images, tta="flip"), predict_probs(model, images), atol=1e-6)


def test_flip_tta_averages_the_image_and_its_mirror(tiny_model_name):
    model = create_model(tiny_model_name, kernel=3)
    images = _images(4)
    plain = predict_probs(model, images)
    mirrored = predict_probs(model, np.ascontiguousarray(images[:, :, ::-1]))
    assert not np.allclose(plain, mirrored, atol=1e-4)  # the 3x3 model does see the flip
    np.testing.assert_allclose(predict_probs(model, images, tta="flip"), (plain + mirrored) / 2, atol=1e-6)


def test_probabilities_follow_the_models_own_preprocessing(tiny_model_name):
    model = create_model(tiny_model_name).eval()
    images = _images(3, size=32)  # resized to the model's 16x16 by model.preprocess
    with torch.no_grad():
        logits = model(torch.from_numpy(model.preprocess.apply(images)))
    np.testing.assert_allclose(predict_probs(model, images), torch.softmax(logits, 1).numpy(), atol=1e-6)


def test_training_mode_is_restored_and_bad_input_rejected(tiny_model_name):
    model = create_model(tiny_model_name).train()
    predict_probs(model, _images(2))
    assert model.training
    with pytest.raises(ValueError, match="unknown TTA"):
        predict_probs(model, _images(2), tta="mirror")
    with pytest.raises(ValueError, match="uint8"):
        predict_probs(model, _images(2).astype(np.float32))
