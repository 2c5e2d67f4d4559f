"""The parallel selective scan against the sequential reference: outputs, gradients, ZOH, robustness, MAC count."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from edgefer.models.layers import mamba
from edgefer.models.layers.mamba import MambaConfig, MambaMixer, softplus
from edgefer.models.layers.selective_scan import (
    discretize,
    parallel_scan,
    scan_macs,
    selective_scan,
    selective_scan_ref,
)


def _inputs(length: int, dtype: torch.dtype, batch: int = 2, inner: int = 6, state: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, inner, generator=g, dtype=dtype)
    delta = torch.nn.functional.softplus(torch.randn(batch, length, inner, generator=g, dtype=dtype))
    A_log = torch.randn(inner, state, generator=g, dtype=dtype) * 0.5
    B = torch.randn(batch, length, state, generator=g, dtype=dtype)
    C = torch.randn(batch, length, state, generator=g, dtype=dtype)
    D = torch.randn(inner, generator=g, dtype=dtype)
    return x, delta, A_log, B, C, D


@pytest.mark.parametrize("length", [1, 2, 3, 8, 36, 50])
def test_parallel_scan_output_equals_sequential(length):
    args = _inputs(length, torch.float32)
    fast, ref = selective_scan(*args), selective_scan_ref(*args)
    assert fast.shape == (2, length, 6)
    assert (fast - ref).abs().max().item() <= 1e-5


@pytest.mark.parametrize("length", [5, 36])
def test_parallel_scan_gradients_equal_sequential(length):
    args = [t.requires_grad_() for t in _inputs(length, torch.float64, seed=1)]
    weights = torch.randn(2, length, 6, dtype=torch.float64)  # a random projection of the output, so that
    grads_fast = torch.autograd.grad((selective_scan(*args) * weights).sum(), args)  # every output element counts
    grads_ref = torch.autograd.grad((selective_scan_ref(*args) * weights).sum(), args)
    for name, fast, ref in zip(["x", "delta", "A_log", "B", "C", "D"], grads_fast, grads_ref, strict=True):
        assert (fast - ref).abs().max().item() <= 1e-5, name


def test_parallel_scan_matches_an_explicit_recurrence():
    a = torch.rand(1, 13, 2, 2, dtype=torch.float64)
    u = torch.randn(1, 13, 2, 2, dtype=torch.float64)
    h, expected = torch.zeros_like(u[:, 0]), []
    for t in range(13):
        h = a[:, t] * h + u[:, t]
        expected.append(h)
    torch.testing.assert_close(parallel_scan(a, u), torch.stack(expected, 1))


def test_discretisation_is_the_zero_order_hold_of_eq_6():
    _, delta, A_log, B, _, _ = _inputs(4, torch.float64)
    A = -torch.exp(A_log)  # (ED, N)
    dA = delta.unsqueeze(-1) * A  # (B, L, ED, N)
    A_bar, B_bar = discretize(delta, A_log, B)
    torch.testing.assert_close(A_bar, torch.exp(dA))
    # (ΔA)^-1 (exp(ΔA) - I) ΔB, literally, for a diagonal A
    torch.testing.assert_close(B_bar, (torch.exp(dA) - 1) / dA * delta.unsqueeze(-1) * B.unsqueeze(2))


def test_extreme_steps_stay_finite():
    x, delta, A_log, B, C, D = _inputs(36, torch.float32)
    for scale in (0.0, 1e-8, 1e4):
        y = selective_scan(x, delta * scale, A_log, B, C, D)
        assert torch.isfinite(y).all(), scale
        torch.testing.assert_close(y, selective_scan_ref(x, delta * scale, A_log, B, C, D))


def test_select_free_softplus_is_exact_and_does_not_overflow():
    t = torch.tensor([-1e4, -100.0, -20.0, -1.0, -1e-3, 1e-3, 0.5, 1.0, 20.0, 100.0, 1e4])
    torch.testing.assert_close(softplus(t), torch.nn.functional.softplus(t))


class _CountMultiplies(TorchDispatchMode):
    """Counts the output elements of every element-wise multiply (what a sequential kernel would compute)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket is torch.ops.aten.mul:
            self.count += out.numel()
        return out


def test_scan_macs_counts_the_multiplies_of_the_reference_scan():
    x, delta, A_log, B, C, D = _inputs(7, torch.float32, batch=3, inner=5, state=4)
    with _CountMultiplies() as counter:
        selective_scan_ref(x, delta, A_log, B, C, D)
    assert scan_macs(batch=3, length=7, inner=5, state=4) == counter.count


def test_mixer_extra_macs_counts_its_element_wise_multiplies(monkeypatch):
    monkeypatch.setattr(mamba, "selective_scan", selective_scan_ref)  # the sequential form is what is counted
    mixer = MambaMixer(MambaConfig(d_model=8, d_state=3))
    with torch.no_grad(), _CountMultiplies() as counter:
        mixer(torch.randn(2, 9, 8))
    assert mixer.extra_macs((2, 9, 8)) == counter.count
