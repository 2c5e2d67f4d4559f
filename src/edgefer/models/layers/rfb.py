"""Receptive Field Block (Liu et al., "Receptive Field Block Net for Accurate and Fast Object Detection", ECCV 2018).

Three branches see the input through growing kernels (1×1, 3×3, 5×5 as two 3×3) each followed by a 3×3
convolution dilated by 1, 3 and 5, mimicking receptive fields whose size grows with eccentricity; the
branches are concatenated, mixed by a 1×1 convolution, scaled and added to a shortcut. The layout follows the
authors' ``BasicRFB`` with bottleneck width ``out_channels // 8``.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(
    in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1, relu: bool = True
) -> nn.Sequential:
    """k×k convolution (same-size padding) + batch norm (+ ReLU), the unit RFB is built from."""
    padding = dilation * (kernel_size - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class RFB(nn.Module):
    """Receptive Field Block mapping ``in_channels`` to ``out_channels`` at the same spatial size.

    The shortcut is the identity when the widths agree and a 1×1 convolution + BN otherwise (the authors always
    use the convolution; the identity saves ``C²`` weights per block where it is not needed). ``scale`` damps
    the multi-branch path at initialisation, as in the original (0.1).
    """

    def __init__(self, in_channels: int, out_channels: int, scale: float = 0.1) -> None:
        super().__init__()
        inter = max(out_channels // 8, 2)
        self.scale = scale
        self.branch0 = nn.Sequential(
            conv_bn(in_channels, 2 * inter, 1),
            conv_bn(2 * inter, 2 * inter, 3, dilation=1, relu=False),
        )
        self.branch1 = nn.Sequential(
            conv_bn(in_channels, inter, 1),
            conv_bn(inter, 2 * inter, 3),
            conv_bn(2 * inter, 2 * inter, 3, dilation=3, relu=False),
        )
        self.branch2 = nn.Sequential(
            conv_bn(in_channels, inter, 1),
            conv_bn(inter, inter // 2 * 3, 3),
            conv_bn(inter // 2 * 3, 2 * inter, 3),
            conv_bn(2 * inter, 2 * inter, 3, dilation=5, relu=False),
        )
        self.fuse = conv_bn(6 * inter, out_channels, 1, relu=False)
        self.shortcut = (
            nn.Identity() if in_channels == out_channels else conv_bn(in_channels, out_channels, 1, relu=False)
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], dim=1)  # (B, 6·inter, H, W)
        return self.relu(self.fuse(branches) * self.scale + self.shortcut(x))  # (B, C_out, H, W)
