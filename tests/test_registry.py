import numpy as np
import pytest

from edgefer.errors import ModelError
from edgefer.models.registry import Preprocess, model_entry


def test_preprocess_resizes_normalises_and_orders_channels_first():
    pre = Preprocess((1, 4, 4), (0.5,), (0.25,))
    images = np.full((2, 8, 8), 255, np.uint8)
    batch = pre.apply(images)
    assert batch.shape == (2, 1, 4, 4) and batch.dtype == np.float32
    np.testing.assert_allclose(batch, (1.0 - 0.5) / 0.25)


def test_preprocess_repeats_grey_into_rgb_and_refuses_to_guess_colour_to_grey():
    grey = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    rgb = Preprocess((3, 4, 4), (0.0,) * 3, (1.0,) * 3).apply(grey)
    assert rgb.shape == (1, 3, 4, 4) and np.array_equal(rgb[:, 0], rgb[:, 2])
    colour = np.stack([grey[0], grey[0], grey[0]], axis=-1)[None]
    with pytest.raises(ValueError, match="3-channel"):
        Preprocess((1, 4, 4), (0.0,), (1.0,)).apply(colour)


def test_unknown_model_names_close_matches():
    with pytest.raises(ModelError, match="unknown model 'hcmtm'"):
        model_entry("hcmtm")
