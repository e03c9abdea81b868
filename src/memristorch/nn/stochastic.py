"""Stochastic-computing inputs for the first layer of a binarized network.

Each input intensity x ∈ [0, 1] becomes K bits b_k = 1{x > r_k} with r_k uniform (in hardware, x compared with a
pseudo-random number from an LFSR), so P(b_k = 1) = x. A binary first layer takes the K bit-planes as ±1 inputs and
sums its K XNOR-popcounts; since the weights are shared, that equals one product with the bit-plane *mean*
m = (1/K) Σ_k (2 b_k − 1), whose expectation is 2x − 1 (Hirtzlin et al., IEEE Access 2019).

Training modes: ``adapted=True`` draws fresh bits on every training pass (the test-time distribution, acting as a
regularizer); ``adapted=False`` trains on the expectation 2x − 1 and meets bits only at evaluation ("train real,
test stochastic"). ``k=None`` turns the module into the deterministic real-input reference (2x − 1 always).
"""

from __future__ import annotations

import torch
from torch import nn


class StochasticBits(nn.Module):
    """Turn intensities in [0, 1] into the mean of ``k`` random ±1 bit-planes (or 2x − 1 when ``k`` is None)."""

    def __init__(self, k: int | None, adapted: bool = True, seed: int = 0) -> None:
        super().__init__()
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k (stochastic bit-planes per input) must be an integer ≥ 1 or None, got {k!r}")
        self.k = k
        self.adapted = bool(adapted)
        self.generator = torch.Generator().manual_seed(seed)

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def sample_counts(self, x: torch.Tensor) -> torch.Tensor:
        """Σ_k (2 b_k − 1) ∈ {−k, …, k}: the integer a binary first layer accumulates over the k bit-planes."""
        if self.k is None:
            raise ValueError("sample_counts needs k ≥ 1 (this module is in real-input mode, k=None)")
        ones = torch.zeros_like(x)
        # k is small (1–32); one uniform draw per pixel and bit-plane, as the LFSR does
        for _ in range(self.k):
            ones += (x > self.uniforms(x)).to(x.dtype)
        return 2.0 * ones - self.k

    def uniforms(self, x: torch.Tensor) -> torch.Tensor:
        """One uniform number in [0, 1) per entry of ``x``, on ``x``'s device. They are drawn on the CPU generator
        and copied, so every torch device sees the same bits for the same seed."""
        draw = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=self.generator.device)
        return draw.to(x.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.k is None or (self.training and not self.adapted):
            return 2.0 * x - 1.0
        return self.sample_counts(x) / self.k

    def extra_repr(self) -> str:
        return f"k={self.k}, adapted={self.adapted}"
