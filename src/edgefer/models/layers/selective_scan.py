"""Selective scan (the S6 recurrence of Mamba): a sequential reference and a loop-free parallel scan.

Notation of mamba.py: B batch, L sequence length, ED inner channels, N state size. With a diagonal
``A = -exp(A_log)`` (ED, N) and the zero-order-hold discretisation of HCMTMM Eq. 6,

    Ā_t = exp(Δ_t A),   B̄_t = (ΔA)^-1 (exp(ΔA) - 1) Δ B_t = (1 - Ā_t) |A|^-1 B_t   (exact, division-free)
    h_t = Ā_t h_{t-1} + B̄_t x_t,   y_t = C_t · h_t + D x_t.

``selective_scan_ref`` runs that recurrence step by step: it is the ground truth the tests compare against.
``selective_scan`` computes the same states with a Kogge–Stone (Hillis–Steele) parallel scan: ⌈log2 L⌉ rounds,
each combining every position with the one 2^k steps earlier, (a, u) ∘ (a', u') = (a a', a' u + u'). Choices
made for deployment (see FINDINGS):

- out of place only (pad + slice, no indexed writes), so the TorchScript ONNX exporter keeps every step;
- no masks and no ``exp`` of differences of cumulative sums, so no -inf, no inf·0 = NaN and nothing that can
  poison int8 calibration: each round only multiplies decays in [0, 1] and adds;
- ``exp`` is applied once (to ΔA) before the scan, so an int8 deployment needs a single float island;
- ⌈log2 L⌉ rounds instead of L steps: 6 rounds for the 36 tokens of ``hcmtmm``, each a handful of whole-tensor
  ops, and no ``CONCATENATION`` with more than 2 inputs (TFLite Micro allows at most 10).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def discretize(delta: Tensor, A_log: Tensor, B: Tensor) -> tuple[Tensor, Tensor]:
    """Zero-order hold: Ā = exp(ΔA) and B̄ = (1 - Ā) |A|^-1 B, with A = -exp(A_log).

    delta (B, L, ED), A_log (ED, N), B (B, L, N) → Ā (B, L, ED, N), B̄ (B, L, ED, N).
    """
    A = -torch.exp(A_log)  # (ED, N)
    A_bar = torch.exp(delta.unsqueeze(-1) * A)  # (B, L, ED, N)
    B_bar = (1.0 - A_bar) * torch.exp(-A_log) * B.unsqueeze(2)  # (B, L, ED, N)
    return A_bar, B_bar


def selective_scan_ref(x: Tensor, delta: Tensor, A_log: Tensor, B: Tensor, C: Tensor, D: Tensor) -> Tensor:
    """Sequential selective scan, one step per token: the reference.

    x (B, L, ED), delta (B, L, ED), A_log (ED, N), B (B, L, N), C (B, L, N), D (ED) → y (B, L, ED).
    """
    A_bar, B_bar = discretize(delta, A_log, B)  # (B, L, ED, N)
    u = B_bar * x.unsqueeze(-1)  # (B, L, ED, N)
    h = torch.zeros_like(u[:, 0])  # (B, ED, N)
    ys = []
    for t in range(x.shape[1]):
        h = A_bar[:, t] * h + u[:, t]  # (B, ED, N)
        ys.append((h * C[:, t].unsqueeze(1)).sum(-1))  # (B, ED)
    y = torch.stack(ys, dim=1)  # (B, L, ED)
    return y + D * x  # (B, L, ED)


def _shift(t: Tensor, steps: int, fill: float) -> Tensor:
    """t shifted ``steps`` positions later along dim 1, the first ``steps`` filled with ``fill``."""
    padded = F.pad(t, (0, 0, 0, 0, steps, 0), value=fill)  # (B, L + steps, ED, N)
    return padded[:, :-steps]  # (B, L, ED, N): a constant slice end, no shape arithmetic in the exported graph


def parallel_scan(A_bar: Tensor, u: Tensor) -> Tensor:
    """All states h_t = Ā_t h_{t-1} + u_t (h_{-1} = 0) in ⌈log2 L⌉ rounds, out of place.

    A_bar (B, L, ED, N), u (B, L, ED, N) → h (B, L, ED, N).
    """
    length = u.shape[1]
    a, h = A_bar, u  # (B, L, ED, N)
    steps = 1
    while steps < length:
        h = a * _shift(h, steps, 0.0) + h  # (B, L, ED, N)
        if steps * 2 < length:  # the decays are not needed after the last round
            a = a * _shift(a, steps, 1.0)  # (B, L, ED, N)
        steps *= 2
    return h


def selective_scan(x: Tensor, delta: Tensor, A_log: Tensor, B: Tensor, C: Tensor, D: Tensor) -> Tensor:
    """Parallel selective scan, equal to ``selective_scan_ref`` up to rounding.

    x (B, L, ED), delta (B, L, ED), A_log (ED, N), B (B, L, N), C (B, L, N), D (ED) → y (B, L, ED).
    """
    A_bar, B_bar = discretize(delta, A_log, B)  # (B, L, ED, N)
    h = parallel_scan(A_bar, B_bar * x.unsqueeze(-1))  # (B, L, ED, N)
    y = (h * C.unsqueeze(2)).sum(-1)  # (B, L, ED)
    return y + D * x  # (B, L, ED)


def scan_macs(batch: int, length: int, inner: int, state: int) -> int:
    """Multiply-accumulates of the recurrence as a sequential kernel (a microcontroller's) performs it.

    Per (token, channel, state) element: ΔA, (1 - Ā)|A|^-1, ·B, ·x (discretisation and input), Ā h + u (the
    state update) and C·h (the read-out): 6. Per (token, channel): the D skip, 1. ``exp`` is a nonlinearity and,
    like activations in FLOP counters, not counted. The parallel scan does ~log2 L times more element-wise work
    on a CPU; the count is of the algorithm, not of that implementation.
    """
    return batch * length * inner * (6 * state + 1)
