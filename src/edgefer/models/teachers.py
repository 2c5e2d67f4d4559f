"""Teacher networks for distillation: large, accurate and slow, trained once and then used to teach the tiny
models. They run on the same greyscale faces as their students (48×48 by default; 98×98 for the HCMTMM family:
``create_model("vgg16_bn", img_size=98)``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from edgefer.models.backbones.vgg import VGG16Body
from edgefer.models.registry import register_model, require_img_size

MIN_IMG_SIZE = 16  # VGG-16's four poolings before its last stage


class VGGTeacher(nn.Module):
    """VGG-16-BN body, global average pooling and a two-layer classifier.

    The ImageNet classifier (25 088 → 4096 → 4096, ~120M weights) assumes 224×224 inputs; global pooling keeps
    the network valid at 48×48 and 98×98 and leaves the 14.7M convolutional weights to do the work.
    """

    def __init__(self, num_classes: int = 7, in_chans: int = 1, width_mult: float = 1.0, drop_rate: float = 0.5):
        super().__init__()
        self.body = VGG16Body(in_chans=in_chans, width_mult=width_mult)
        self.num_features = self.body.stage_channels[-1]
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(self.num_features, self.num_features),
            nn.ReLU(inplace=True),
            nn.Dropout(drop_rate),
            nn.Linear(self.num_features, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) image → (B, 512) pooled last-stage features."""
        return self.pool(self.body(x)[-1]).flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """(B, 512) features → (B, num_classes) logits."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(default_img_size=48)
def vgg16_bn(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> VGGTeacher:
    """VGG-16-BN teacher for greyscale faces (48×48 or 98×98), global-pooled, 15M parameters."""
    require_img_size("vgg16_bn", img_size, MIN_IMG_SIZE)
    return VGGTeacher(num_classes=num_classes, in_chans=in_chans, **kwargs)
