"""Depthwise-separable convolution (Howard et al., MobileNets, 2017)."""

from __future__ import annotations

import torch
from torch import nn


class SeparableConv2d(nn.Module):
    """A k×k depthwise convolution followed by a 1×1 pointwise one.

    It costs ``C·k² + C·C_out`` weights instead of the ``C·C_out·k²`` of a dense k×k convolution. No
    normalisation or activation sits between the two: callers add their own after the pair.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2 if padding is None else padding
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
