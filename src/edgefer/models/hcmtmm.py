"""HCMTMM family (seed paper 001): a two-convolution CNN, optionally with a token mixer, and a two-layer head.

The paper publishes no code and few sizes: two 3×3 convolutions with max pooling and a residual path, then two
fully connected layers (64K parameters); MSA over the feature-map tokens adds ~5K, a Mamba block ~2K. Our reading:

    image (1, 98, 98)
      → conv 3×3 stride 2, BN, ReLU → max pool 2                    (16, 24, 24)
      → conv 3×3, BN, + residual, ReLU → max pool 2                  (16, 12, 12)
      → average pool to a 6×6 grid → 36 tokens of width 16           (36, 16)
      → mixer: none | MSA (4 heads × 16, learned positions) | Mamba (ED 32, N 4)
      → flatten → FC 576→105, ReLU (the features) → FC 105→7         logits

Speed is a design goal (≤ 1 ms on one CPU thread): the first convolution strides so that no full-resolution map
is ever written (it also shrinks the largest activation, which sets a microcontroller's RAM), and the mixer sees
36 tokens, so the Mamba scan needs 6 parallel rounds. The 6×6 grid keeps the positional layout of the face for the
fully connected head, which holds most of the parameters, as in the paper's budget. The factories accept
``img_size`` for the registry's uniform signature; the architecture does not depend on it (any input of at least
8 px runs and exports).

"Baseline+D" of the paper is ``hcmtmm_baseline`` trained with distillation, and the paper's "HCMTMM" is ``hcmtmm``
trained with distillation: recipes, not architectures.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgefer.models.layers.attention import AttentionBlock
from edgefer.models.layers.mamba import MambaBlock, MambaConfig
from edgefer.models.registry import register_model

Mixer = Literal["none", "msa", "mamba"]


def _averaging_matrix(size: int, out: int, like: Tensor) -> Tensor:
    """(out, size) matrix whose row i averages PyTorch's adaptive-pooling window i: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    rows = []
    for i in range(out):
        start, end = i * size // out, -(-(i + 1) * size // out)
        rows.append([1.0 / (end - start) if start <= j < end else 0.0 for j in range(size)])
    return torch.tensor(rows, dtype=like.dtype, device=like.device)


def grid_pool(x: Tensor, grid: int) -> Tensor:
    """``adaptive_avg_pool2d(x, grid)``, (B, C, H, W) → (B, C, G, G), in a form that exports for every size.

    A map that is a multiple of the grid (the default sizes) is average-pooled; any other is multiplied by
    averaging matrices, because the ONNX exporter refuses adaptive pooling there. The spatial size is a constant
    of an exported graph, so reading it as Python ints is safe.
    """
    height, width = int(x.shape[-2]), int(x.shape[-1])
    if height % grid == 0 and width % grid == 0:
        return F.avg_pool2d(x, (height // grid, width // grid))  # (B, C, G, G)
    rows = _averaging_matrix(height, grid, x)  # (G, H)
    cols = _averaging_matrix(width, grid, x)  # (G, W)
    return rows @ x @ cols.t()  # (B, C, G, G)


class HCMTMM(nn.Module):
    """Conv stem → token mixer → fully connected head. Any input size (≥ 8 px) works; 98 is the default."""

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        mixer: Mixer = "mamba",
        width: int = 16,
        grid: int = 6,
        hidden: int = 105,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.grid = grid
        self.num_features = hidden
        self.conv1 = nn.Conv2d(in_chans, width, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        tokens = grid * grid
        self.pos_embed: nn.Parameter | None = None
        if mixer == "none":
            self.mixer: nn.Module = nn.Identity()
        elif mixer == "msa":
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, width))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
            self.mixer = AttentionBlock(width, num_heads=4, head_dim=16)
        elif mixer == "mamba":
            self.mixer = MambaBlock(MambaConfig(d_model=width))
        else:
            raise ValueError(f"unknown mixer {mixer!r}; use 'none', 'msa' or 'mamba'")
        self.fc1 = nn.Linear(tokens * width, hidden)
        self.drop = nn.Dropout(drop_rate)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """Image (B, C, H, W) → the hidden layer of the head (B, hidden), the vector that distillation matches."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # (B, width, H/4, W/4)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x)) + x), 2)  # (B, width, H/8, W/8)
        x = grid_pool(x, self.grid)  # (B, width, G, G)
        tokens = x.flatten(2).transpose(1, 2)  # (B, G*G, width)
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed  # (B, G*G, width)
        tokens = self.mixer(tokens)  # (B, G*G, width)
        return F.relu(self.fc1(tokens.flatten(1)))  # (B, hidden)

    def forward_head(self, features: Tensor) -> Tensor:
        return self.fc2(self.drop(features))  # (B, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


@register_model(default_img_size=98)
def hcmtmm_baseline(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: object) -> HCMTMM:
    """HCMTMM baseline: two convolutions with a residual path and a two-layer head (paper: 64K parameters)."""
    return HCMTMM(num_classes, in_chans, mixer="none", **kwargs)  # type: ignore[arg-type]


@register_model(default_img_size=98)
def hcmtmm_msa(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: object) -> HCMTMM:
    """HCMTMM baseline + multi-head self-attention over the 6×6 tokens (paper: 69K parameters)."""
    return HCMTMM(num_classes, in_chans, mixer="msa", **kwargs)  # type: ignore[arg-type]


@register_model(default_img_size=98)
def hcmtmm(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: object) -> HCMTMM:
    """HCMTMM = baseline + Mamba block over the 6×6 tokens (paper: 66K parameters)."""
    return HCMTMM(num_classes, in_chans, mixer="mamba", **kwargs)  # type: ignore[arg-type]
