"""A tiny registered model for evaluation tests, removed from the registry afterwards."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgefer.models import registry


def tiny_eval_net(num_classes: int = 7, in_chans: int = 1, img_size: int = 16, kernel: int = 3) -> nn.Module:
    """kernel=1 makes a pointwise conv + global pooling: exactly invariant to a horizontal flip."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(in_chans, 6, kernel, padding=kernel // 2),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, num_classes),
    )


@pytest.fixture
def tiny_model_name():
    registry.register_model(default_img_size=16)(tiny_eval_net)
    try:
        yield tiny_eval_net.__name__
    finally:
        registry._REGISTRY.pop(tiny_eval_net.__name__, None)
