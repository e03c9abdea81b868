"""The 3×3 two-class pattern task of the on-chip learning study (assumed, science.md §2.3).

Two prototypes — "X" (corners and centre) and "+" (centre cross) by default — as pixel vectors in {0, 1}; samples are
prototypes with additive Gaussian pixel noise of std ``noise`` (a fraction of the 0–1 pixel swing) and optional
random pixel flips. Labels: 1 for the first prototype, 0 for the second.
"""

from __future__ import annotations

import torch

from .._validation import check_range

X_PATTERN = (1, 0, 1, 0, 1, 0, 1, 0, 1)
PLUS_PATTERN = (0, 1, 0, 1, 1, 1, 0, 1, 0)


def pattern_samples(
    n: int,
    noise: float = 0.0,
    flip_probability: float = 0.0,
    generator: torch.Generator | None = None,
    prototypes: tuple[tuple[int, ...], tuple[int, ...]] = (X_PATTERN, PLUS_PATTERN),
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy samples (float, shape ``(n, 9)``) and their labels (0/1), classes balanced and shuffled."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    check_range("noise", noise, 0.0)
    check_range("flip_probability", flip_probability, 0.0, 1.0)
    if len(prototypes) != 2 or len({len(p) for p in prototypes}) != 1:
        raise ValueError("prototypes must be two pixel tuples of equal length")
    protos = torch.tensor(prototypes, dtype=torch.float32)
    labels = torch.arange(n) % 2
    labels = labels[torch.randperm(n, generator=generator)]
    x = protos[1 - labels].clone()  # label 1 → first prototype
    if flip_probability > 0:
        flips = torch.rand(x.shape, generator=generator) < flip_probability
        x = torch.where(flips, 1.0 - x, x)
    if noise > 0:
        x = x + noise * torch.randn(x.shape, generator=generator)
    return x, labels
