"""VGG-16 with batch norm (Simonyan & Zisserman, 2015; BN as in torchvision's ``vgg16_bn``), as a 4-stage body."""

from __future__ import annotations

import torch
from torch import nn

from edgefer.models.backbones import scaled_width

# Convolution widths of VGG-16's five blocks; each block but the first starts with a 2×2 max-pool.
VGG16_BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _block(in_channels: int, widths: tuple[int, ...], pool: bool) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = [nn.MaxPool2d(2)] if pool else []
    for width in widths:
        layers += [
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        in_channels = width
    return nn.Sequential(*layers), in_channels


class VGG16Body(nn.Module):
    """VGG-16-BN without its classifier: the first block is the stem, blocks 2–5 are the four stages.

    Stage outputs are taken before the next pooling, so a 48×48 input gives maps of 24, 12, 6 and 3 pixels
    (strides 2, 4, 8, 16) with ``(128, 256, 512, 512) × width_mult`` channels. VGG's fifth max-pool is left to
    the head that uses the body. Needs inputs of at least 16×16.
    """

    def __init__(self, in_chans: int = 1, width_mult: float = 1.0) -> None:
        super().__init__()
        widths = [tuple(scaled_width(c, width_mult) for c in block) for block in VGG16_BLOCKS]
        self.stem, channels = _block(in_chans, widths[0], pool=False)
        stages = []
        for block in widths[1:]:
            stage, channels = _block(channels, block, pool=True)
            stages.append(stage)
        self.stages = nn.ModuleList(stages)
        self.stage_channels: tuple[int, ...] = tuple(block[-1] for block in widths[1:])
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)  # (B, 64m, H, W)
        outputs = []
        for stage in self.stages:
            x = stage(x)  # (B, C_i, H / 2^i, W / 2^i)
            outputs.append(x)
        return outputs
