import numpy as np
import pytest
import torch

from edgefer.models.registry import Preprocess
from edgefer.train.augment import augment_batch, mixup_batch, random_crop, random_erasing, random_hflip
from edgefer.train.inputs import model_input, pixel_batch
from edgefer.train.recipe import AugmentConfig


def _batch() -> torch.Tensor:
    return torch.rand(8, 1, 12, 12, generator=torch.Generator().manual_seed(0))


def test_everything_switched_off_is_the_identity():
    config = AugmentConfig(crop_padding=0, hflip=False, rotation=0.0, erasing=0.0)
    assert not config.enabled
    x = _batch()
    assert torch.equal(augment_batch(x, config, torch.Generator().manual_seed(1)), x)


def test_same_generator_seed_gives_the_same_batch_and_shapes_are_kept():
    config = AugmentConfig(crop_padding=2, hflip=True, rotation=10.0, erasing=0.5)
    x = _batch()
    first = augment_batch(x, config, torch.Generator().manual_seed(3))
    second = augment_batch(x, config, torch.Generator().manual_seed(3))
    assert first.shape == x.shape and torch.equal(first, second) and not torch.equal(first, x)


def test_crop_is_a_shifted_window_of_the_zero_padded_image():
    x = _batch()
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for image, source in zip(out, padded, strict=True):
        assert any(torch.equal(image, source[:, dy : dy + 12, dx : dx + 12]) for dy in range(5) for dx in range(5))


def test_flip_mirrors_about_half_of_the_images():
    x = torch.rand(400, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    out = random_hflip(x, torch.Generator().manual_seed(0))
    flipped = sum(torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True))
    assert 150 < flipped < 250
    assert all(torch.equal(o, i) or torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True))


def test_erasing_fills_one_rectangle_with_the_value():
    x = torch.ones(16, 1, 12, 12)
    out = random_erasing(x, 1.0, torch.Generator().manual_seed(0), value=0.25)
    for image in out[:, 0]:
        rows, cols = torch.nonzero(image == 0.25, as_tuple=True)
        assert len(rows) >= 1
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == height * width  # one filled rectangle


def test_mixup_blends_each_image_and_its_label_with_its_partners_by_one_weight_per_batch():
    x, labels = _batch(), torch.arange(8)  # one class per image: each label row shows who the partner is
    mixed, targets = mixup_batch(x, labels, 8, 0.4, torch.Generator().manual_seed(0))
    weight = targets[0, 0].item()
    assert 0 < weight < 1 and torch.allclose(targets.sum(1), torch.ones(8))
    for i in range(8):
        partner = (targets[i] - weight * torch.eye(8)[i]).argmax().item()
        assert torch.allclose(targets[i], weight * torch.eye(8)[i] + (1 - weight) * torch.eye(8)[partner])
        assert torch.allclose(mixed[i], weight * x[i] + (1 - weight) * x[partner])
    again = mixup_batch(x, labels, 8, 0.4, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], mixed) and torch.equal(again[1], targets)
    weights = [mixup_batch(x, labels, 8, 0.2, torch.Generator().manual_seed(seed))[1][0, 0] for seed in range(200)]
    assert sum(w < 0.1 or w > 0.9 for w in weights) > 100  # Beta(0.2, 0.2) puts most weight near 0 and 1


def test_model_input_matches_the_stored_preprocessing():
    images = np.random.default_rng(0).integers(0, 256, (5, 12, 12)).astype(np.uint8)
    preprocess = Preprocess((1, 12, 12), (0.5,), (0.25,))
    ours = model_input(pixel_batch(images, np.arange(5), torch.device("cpu")), preprocess)
    assert ours.numpy() == pytest.approx(preprocess.apply(images), abs=1e-6)


def test_model_input_enlarges_within_a_grey_level_of_the_stored_preprocessing():
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48)).astype(np.uint8)
    preprocess = Preprocess((1, 98, 98), (0.0,), (1 / 255,))  # model input in grey levels
    ours = model_input(pixel_batch(images, np.arange(5), torch.device("cpu")), preprocess)
    assert np.abs(ours.numpy() - preprocess.apply(images)).max() < 1.0


def test_plain_shrinking_nearly_undoes_the_cache_enlargement_that_antialiasing_blurs():
    from edgefer.data.images import resize_grey

    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (4, 48, 48)).astype(np.uint8)
    enlarged = np.stack([resize_grey(image, (98, 98)) for image in originals])  # as the tensor cache stores them
    preprocess = Preprocess((1, 48, 48), (0.0,), (1 / 255,))  # model input in grey levels
    pixels = pixel_batch(enlarged, np.arange(4), torch.device("cpu"))
    plain = model_input(pixels, preprocess, antialias=False).numpy()[:, 0]
    blurred = model_input(pixels, preprocess, antialias=True).numpy()[:, 0]
    plain_error = np.abs(plain - originals).mean()
    assert plain_error < 0.65 * np.abs(blurred - originals).mean()  # 0.55 on this noise, 0.52 on FER2013 faces
