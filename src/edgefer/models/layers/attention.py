"""Multi-head self-attention over tokens (HCMTMM Eq. 1–3), written out so that it exports to plain ONNX ops.

``nn.MultiheadAttention`` is avoided: its inference fast path is a fused kernel that the TorchScript exporter does
not handle, and its head width is tied to the token width, whereas Eq. 3 gives every head its own projections.
"""

from __future__ import annotations

from torch import Tensor, nn


class MultiHeadSelfAttention(nn.Module):
    """softmax(Q Kᵀ / √d) V per head, heads concatenated and projected back: (B, L, D) → (B, L, D)."""

    def __init__(self, dim: int, num_heads: int, head_dim: int) -> None:
        super().__init__()
        self.num_heads, self.head_dim = num_heads, head_dim
        self.scale = head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * num_heads * head_dim)  # W^Q, W^K, W^V of every head
        self.proj = nn.Linear(num_heads * head_dim, dim)  # W_M

    def forward(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads, self.head_dim)  # (B, L, 3, H, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, L, d) each
        attn = (q * self.scale) @ k.transpose(-2, -1)  # (B, H, L, L)
        out = attn.softmax(dim=-1) @ v  # (B, H, L, d)
        out = out.transpose(1, 2).reshape(batch, length, self.num_heads * self.head_dim)  # (B, L, H*d)
        return self.proj(out)  # (B, L, D)


class AttentionBlock(nn.Module):
    """Pre-norm residual self-attention: x + MSA(LayerNorm(x)), (B, L, D) → (B, L, D)."""

    def __init__(self, dim: int, num_heads: int, head_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim, num_heads, head_dim)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.attn(self.norm(x))  # (B, L, D)
