"""Mamba block (Gu & Dao 2023) for short token sequences, written for export rather than for GPUs.

Structure as in mamba.py (``mambapy/mamba.py``): RMSNorm → in_proj to (x, z) → depthwise causal conv1d → SiLU →
selective SSM with input-dependent Δ, B, C and zero-order-hold discretisation → gate by SiLU(z) → out_proj, with
a residual around it all. The scan is ``selective_scan`` (parallel, loop-free); see that module for why.

Deployment choices that cost nothing in accuracy:
- softplus is written ``r + log(1 + exp(t - r - r))`` with ``r = relu(t)`` (that is, ``relu(t) + log(1 + exp(-|t|))``):
  exact, overflow-free, and made of ops both TFLite Micro and ESP-DL have (``F.softplus`` lowers to a ``SELECT``,
  which TFLite Micro lacks; ESP-DL has no ``Abs``);
- B̄ uses the exact ZOH of HCMTMM Eq. 6 in a division-free form, (1 - Ā) |A|^-1 B, not Mamba's Euler shortcut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgefer.models.layers.selective_scan import scan_macs, selective_scan


@dataclass(frozen=True)
class MambaConfig:
    """Sizes of one Mamba block; defaults follow Mamba except the small state that a 2K-parameter budget needs."""

    d_model: int  # D: token width
    d_state: int = 4  # N
    expand: int = 2  # E: inner width ED = E * D
    d_conv: int = 4  # kernel of the causal depthwise conv
    dt_rank: int | None = None  # rank of the Δ projection; None → ceil(D / 16)
    dt_min: float = 0.001
    dt_max: float = 0.1

    def __post_init__(self) -> None:
        if self.d_conv < 2:
            raise ValueError(f"d_conv must be at least 2 (a causal conv over the past), got {self.d_conv}")

    @property
    def d_inner(self) -> int:
        return self.expand * self.d_model

    @property
    def rank(self) -> int:
        return self.dt_rank or math.ceil(self.d_model / 16)


class RMSNorm(nn.Module):
    """Root-mean-square norm with a learned scale (written out: ONNX opset 17 has no RMSNormalization)."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight  # (..., D)


def softplus(t: Tensor) -> Tensor:
    """log(1 + e^t), computed without overflow, without a select and without abs (ESP-DL has no Abs)."""
    r = F.relu(t)
    return r + torch.log(1.0 + torch.exp(t - r - r))  # t - r - r = -|t|, same shape as t


class MambaMixer(nn.Module):
    """The selective-SSM mixer of a Mamba block: (B, L, D) → (B, L, D)."""

    def __init__(self, config: MambaConfig) -> None:
        super().__init__()
        self.config = config
        d, ed, n, rank = config.d_model, config.d_inner, config.d_state, config.rank
        self.in_proj = nn.Linear(d, 2 * ed, bias=False)
        self.conv1d = nn.Conv1d(ed, ed, config.d_conv, groups=ed, padding=config.d_conv - 1)
        self.x_proj = nn.Linear(ed, rank + 2 * n, bias=False)  # input-dependent Δ (low rank), B, C
        self.dt_proj = nn.Linear(rank, ed)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(ed, 1))  # (ED, N)
        self.D = nn.Parameter(torch.ones(ed))
        self.out_proj = nn.Linear(ed, d, bias=False)
        self._init_dt()

    def _init_dt(self) -> None:
        """Mamba's Δ initialisation: softplus(bias) log-uniform in [dt_min, dt_max]."""
        cfg = self.config
        bound = cfg.rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -bound, bound)
        dt = torch.exp(torch.rand(cfg.d_inner) * (math.log(cfg.dt_max) - math.log(cfg.dt_min)) + math.log(cfg.dt_min))
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse of softplus

    def forward(self, x: Tensor) -> Tensor:
        cfg = self.config
        xz = self.in_proj(x)  # (B, L, 2*ED)
        x, z = xz.chunk(2, dim=-1)  # (B, L, ED), (B, L, ED)
        x = self.conv1d(x.transpose(1, 2))[:, :, : 1 - cfg.d_conv]  # (B, ED, L): causal, right padding cut off
        x = F.silu(x.transpose(1, 2))  # (B, L, ED)
        dbc = self.x_proj(x)  # (B, L, R + 2N)
        delta, B, C = torch.split(dbc, [cfg.rank, cfg.d_state, cfg.d_state], dim=-1)  # (B, L, R), (B, L, N) x2
        delta = softplus(self.dt_proj(delta))  # (B, L, ED)
        y = selective_scan(x, delta, self.A_log, B, C, self.D)  # (B, L, ED)
        return self.out_proj(y * F.silu(z))  # (B, L, D)

    def extra_macs(self, input_shape: tuple[int, ...]) -> int:
        """Multiply-accumulates of this mixer that FlopCounterMode does not see, for an input (B, L, D).

        The linear layers and the conv1d are matmuls/convolutions that the counter counts; what it misses is the
        element-wise work of the discretisation and the scan (``scan_macs``: 6 per token, channel and state
        element, plus the D skip) and the SiLU gate's multiply (1 per token and channel).
        """
        batch, length = input_shape[0], input_shape[1]
        gate = batch * length * self.config.d_inner
        return scan_macs(batch, length, self.config.d_inner, self.config.d_state) + gate


class MambaBlock(nn.Module):
    """Pre-norm residual Mamba block: x + mixer(norm(x)), (B, L, D) → (B, L, D)."""

    def __init__(self, config: MambaConfig) -> None:
        super().__init__()
        self.norm = RMSNorm(config.d_model)
        self.mixer = MambaMixer(config)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.mixer(self.norm(x))  # (B, L, D)
