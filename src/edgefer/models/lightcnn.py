"""``lightcnn``: the lightweight CNN of seed paper 003 (Viola–Jones faces → CNN on a resource-constrained device).

The paper's method section is missing from our copy, so this is our design in its spirit, not a reproduction:
a few convolution blocks with batch normalisation and a small dense head, for 48×48 greyscale faces (FER-2013's
size). Four blocks of 3×3 conv → BN → ReLU → 2×2 max pool double the width as they halve the map (16 → 128
channels, 48 → 3 px), so that blocks 2–4 cost the same 2.65M multiply-accumulates each (8.3M in all at 48×48);
global average pooling then makes the head independent of the input size.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from edgefer.models.registry import register_model, require_img_size


class LightCNN(nn.Module):
    """Conv blocks (conv 3×3, BN, ReLU, max pool) → global average pool → FC, ReLU → FC."""

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        hidden: int = 64,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = in_chans
        for width in widths:
            blocks += [
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.blocks = nn.Sequential(*blocks)
        self.min_img_size = 2 ** len(widths)  # every block halves the map, which must keep at least one pixel
        self.num_features = hidden
        self.fc1 = nn.Linear(channels, hidden)
        self.drop = nn.Dropout(drop_rate)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """Image (B, C, H, W) → the hidden layer of the head (B, hidden), the vector that distillation matches."""
        x = self.blocks(x)  # (B, 128, H/16, W/16)
        x = x.mean(dim=(2, 3))  # (B, 128)
        return F.relu(self.fc1(x))  # (B, hidden)

    def forward_head(self, features: Tensor) -> Tensor:
        return self.fc2(self.drop(features))  # (B, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(default_img_size=48)
def lightcnn(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: object) -> LightCNN:
    """Lean 4-block CNN for 48×48 greyscale faces, designed in the spirit of seed paper 003 (~106K parameters)."""
    model = LightCNN(num_classes=num_classes, in_chans=in_chans, **kwargs)  # type: ignore[arg-type]
    require_img_size("lightcnn", img_size, model.min_img_size)
    return model
