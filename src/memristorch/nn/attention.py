"""Multi-head attention whose four projection matrices (query, key, value, output) live in tiles.

The projections are MemLinear layers (periphery, drift, IR drop and read cost included); the attention itself —
scaled dot products, softmax and the weighted sum of values — is digital, as in analog-attention designs that keep
only the weight-stationary projections in memory (the products of two activations have no fixed weights to store).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..tiles import TileConfig
from .layers import MemLinear


def attention_unsupported_reason(module: nn.MultiheadAttention) -> str | None:
    """Why this attention layer cannot go onto tiles (None if it can)."""
    if not module._qkv_same_embed_dim:
        return "kdim or vdim differs from embed_dim"
    if module.in_proj_bias is None:
        return "bias=False"
    if module.bias_k is not None or module.add_zero_attn:
        return "add_bias_kv or add_zero_attn"
    return None


class MemMultiheadAttention(nn.Module):
    """Drop-in for :class:`torch.nn.MultiheadAttention` (same embed dim for q, k, v; with biases); returns the
    attention output and, if asked, the head-averaged attention weights."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        batch_first: bool = False,
        config: TileConfig | None = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = (
            embed_dim,
            num_heads,
            dropout,
            batch_first,
        )
        config = TileConfig() if config is None else config
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            MemLinear(embed_dim, embed_dim, config=config.with_seed(config.seed + i)) for i in range(4)
        )

    @classmethod
    def from_float(cls, module: nn.MultiheadAttention, config: TileConfig) -> MemMultiheadAttention:
        reason = attention_unsupported_reason(module)
        if reason:
            raise ValueError(f"MultiheadAttention with {reason} is not supported on tiles")
        layer = cls(module.embed_dim, module.num_heads, module.dropout, module.batch_first, config)
        e = module.embed_dim
        with torch.no_grad():
            for i, projection in enumerate((layer.q_proj, layer.k_proj, layer.v_proj)):
                projection.program(module.in_proj_weight[i * e : (i + 1) * e])
                projection.bias.copy_(module.in_proj_bias[i * e : (i + 1) * e])
            layer.out_proj.program(module.out_proj.weight)
            layer.out_proj.bias.copy_(module.out_proj.bias)
        return layer

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, e = query.shape
        heads, d = self.num_heads, e // self.num_heads

        def project(linear: MemLinear, t: torch.Tensor) -> torch.Tensor:  # (L, N, E) → (N, heads, L, d)
            steps = t.shape[0]
            return linear(t.reshape(-1, e)).reshape(steps, batch, heads, d).permute(1, 2, 0, 3)

        q, k, v = project(self.q_proj, query), project(self.k_proj, key), project(self.v_proj, value)
        scores = q @ k.transpose(-2, -1) / d**0.5
        if is_causal and attn_mask is None:
            attn_mask = torch.ones(length, k.shape[2], dtype=torch.bool, device=q.device).triu(1)
        if attn_mask is not None:
            mask = attn_mask if attn_mask.dim() == 2 else attn_mask.view(batch, heads, *attn_mask.shape[-2:])
            scores = scores.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        if key_padding_mask is not None:
            padding = key_padding_mask.view(batch, 1, 1, -1)
            scores = (
                scores.masked_fill(padding, float("-inf"))
                if padding.dtype == torch.bool
                else scores + padding
            )
        weights = torch.softmax(scores, dim=-1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout)
        context = (weights @ v).permute(2, 0, 1, 3).reshape(length * batch, e)
        out = self.out_proj(context).reshape(length, batch, e)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        attention = weights.mean(dim=1) if average_attn_weights else weights
        return out, (attention.squeeze(0) if unbatched else attention)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
