"""Deformable convolution (Dai et al., ICCV 2017, "DCNv1") in plain PyTorch, so that it exports to ONNX.

No compiled operator is needed: a small convolution predicts a (dy, dx) offset for every kernel tap at every
output position, the input is sampled at the shifted taps with bilinear ``F.grid_sample`` (ONNX ``GridSample``,
opset ≥ 16), and the samples are mixed by one 1×1 convolution that holds the k×k kernel. A FLOP counter
therefore sees the same multiply-accumulates as for a plain k×k convolution (plus the offset predictor); the
bilinear sampling (4 per sampled value) it does not see is reported by ``DeformConv2d.extra_macs``, which the
profiler adds.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class DeformConv2d(nn.Module):
    """A k×k convolution whose taps move by learned, input-dependent offsets.

    The weight has the shape of ``nn.Conv2d``'s, so with all offsets zero the layer computes exactly
    ``F.conv2d(x, weight, bias, stride, padding, dilation)``. The offset predictor is zero-initialised (the usual
    choice), which makes a fresh layer start as that plain convolution. Offsets are in pixels, laid out like
    torchvision's ``deform_conv2d``: channel ``2k`` is dy and ``2k + 1`` is dx of tap ``k`` (row-major).
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
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding = dilation * (kernel_size - 1) // 2 if padding is None else padding
        taps = kernel_size * kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.register_parameter("bias", nn.Parameter(torch.empty(out_channels)) if bias else None)
        self.offset = nn.Conv2d(
            in_channels, 2 * taps, kernel_size, stride=stride, padding=self.padding, dilation=dilation
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same initialisation as nn.Conv2d, and a zero offset predictor.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * self.kernel_size**2)
            nn.init.uniform_(self.bias, -bound, bound)
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return deform_conv2d(x, self.offset(x), self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_macs(self, input_shape: tuple[int, ...]) -> int:
        """Multiply-accumulates of the bilinear sampling, which FLOP counters do not see (4 per sampled value).

        The offset predictor and the 1×1 mixing are convolutions, which they do count.
        """
        batch, channels, height, width = input_shape
        out_h, out_w = (
            (size + 2 * self.padding - self.dilation * (self.kernel_size - 1) - 1) // self.stride + 1
            for size in (height, width)
        )
        return 4 * batch * channels * self.kernel_size**2 * out_h * out_w

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, bias={self.bias is not None}"
        )


@contextlib.contextmanager
def _trace_constants() -> Iterator[None]:
    """Let tracing (the ONNX exporter) bake sizes and the sampling grid into the graph as constants, quietly.

    While tracing, ``x.shape`` holds tensors and every step of the grid arithmetic would become a graph node
    (~100 per layer). Exported models have a fixed H×W (only the batch is dynamic), so constants are exact.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


@functools.lru_cache(maxsize=64)
def _base_grid(
    kernel: int, stride: int, padding: int, dilation: int, in_hw: tuple[int, int], out_hw: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Where each tap of each output position reads the input before any offset, as grid_sample coordinates.

    grid_sample with align_corners=False maps input pixel p to (2p + 1) / size - 1, exact for any size
    (align_corners=True divides by size - 1, which is 0 for the 1-pixel maps of deep stages).
    """
    height, width = in_hw
    out_h, out_w = out_hw
    tap = np.arange(kernel) * dilation  # (k,)
    pixel_y = np.repeat(tap, kernel)[:, None, None] + np.arange(out_h)[None, :, None] * stride - padding  # (K², Ho, 1)
    pixel_x = np.tile(tap, kernel)[:, None, None] + np.arange(out_w)[None, None, :] * stride - padding  # (K², 1, Wo)
    return (2 * pixel_y + 1) / height - 1, (2 * pixel_x + 1) / width - 1


def deform_conv2d(
    x: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """Deformable convolution of ``x`` (B, C, H, W) with ``offset`` (B, 2·k·k, H_out, W_out) in pixels."""
    with _trace_constants():
        channels, height, width, out_h, out_w, kernel = (
            int(n) for n in (*x.shape[1:], *offset.shape[-2:], weight.shape[-1])
        )
        base_y, base_x = (
            torch.from_numpy(grid).to(x)
            for grid in _base_grid(kernel, stride, padding, dilation, (height, width), (out_h, out_w))
        )  # (K², Ho, 1), (K², 1, Wo)
    taps = kernel * kernel
    offset = offset.reshape(-1, taps, 2, out_h, out_w)  # (B, K², 2, Ho, Wo), (dy, dx) in pixels
    grid_y = base_y + offset[:, :, 0] * (2 / height)  # (B, K², Ho, Wo)
    grid_x = base_x + offset[:, :, 1] * (2 / width)  # (B, K², Ho, Wo)
    grid = torch.stack((grid_x, grid_y), dim=-1).reshape(-1, taps * out_h, out_w, 2)  # (B, K²·Ho, Wo, 2)
    samples = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # (B, C, K²·Ho, Wo)
    samples = samples.reshape(-1, channels * taps, out_h, out_w)  # (B, C·K², Ho, Wo)
    kernel_1x1 = weight.flatten(1)[:, :, None, None]  # (C_out, C·K², 1, 1)
    return F.conv2d(samples, kernel_1x1, bias)  # (B, C_out, Ho, Wo)
