"""An exponential moving average of a model's weights (Polyak averaging), updated after every optimiser step.

Why: the small FER models here swing by about a point of validation accuracy from one epoch to the next (noisy
labels, batches of 64), so the weights of whichever step ends an epoch are a noisy sample. The average over the
last ~1/(1 - decay) steps smooths that noise at the cost of one copy of the weights. When a recipe sets
``train.ema_decay``, the trainer validates, selects and saves the average; the live weights keep training.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """``model`` holds the average of ``live``: every floating-point parameter and buffer (BatchNorm's running
    statistics too) moves towards the live model's by ``1 - decay`` per update; integer buffers (BatchNorm's batch
    counter) are copied.

    The two models' tensors are paired once, here: optimiser steps and ``load_state_dict`` change tensors in place,
    so the pairs stay valid, and each step's update does not rebuild both state dicts (which was about two-thirds
    of its cost). Move ``live`` to its device before building the average.
    """

    def __init__(self, live: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(live)
        self.model.requires_grad_(False)
        self._pairs = list(zip(self.model.state_dict().values(), live.state_dict().values(), strict=True))

    @torch.no_grad()
    def update(self) -> None:
        for average, current in self._pairs:
            if average.dtype.is_floating_point:
                average.lerp_(current, 1.0 - self.decay)
            else:
                average.copy_(current)
