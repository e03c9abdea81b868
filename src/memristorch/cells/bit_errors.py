"""Bit-error channels: what a stored binary or ternary weight becomes when the memory gets it wrong.

A channel maps a tensor of quantized weights (±1, or −1/0/+1) to the values the array actually delivers, drawing its
randomness from an explicit ``torch.Generator``. Channels are built from a plain error rate, or from the physics in
:mod:`memristorch.cells.binary_rram` (1T1R/2T2R RRAM, ternary PCSA read) and :mod:`memristorch.devices.mram`
(ST-MRAM write errors), which return the rates for a programming condition.

* :class:`SignFlips` — each ±1 weight flips with probability ``ber`` (i.i.d.), the error model of the 2T2R BNN and
  ST-MRAM studies (Hirtzlin et al., AICAS 2019; NANOARCH 2019).
* :class:`TernaryReadErrors` — the three error types of the near-threshold ternary PCSA read (Laborieux et al.,
  AICAS 2020 / TCAS-I 2021): 0 read as ±1, ±1 read as 0, and sign inversions ±1 → ∓1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_range
from ..devices.families import BitErrorMemory, require


class BitErrorChannel:
    """A random map from stored quantized weights to the weights the hardware delivers."""

    def __call__(self, weight: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    @property
    def is_identity(self) -> bool:
        """True when the channel never changes a weight (all rates zero)."""
        raise NotImplementedError


def _uniform(weight: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(weight.shape, generator=generator, dtype=torch.float32, device=weight.device)


@dataclass(frozen=True)
class SignFlips(BitErrorChannel):
    """Flip each ±1 weight independently with probability ``ber`` ∈ [0, 1]; zeros stay zero."""

    ber: float
    """Probability that a stored ±1 weight reads with the other sign, in [0, 1]."""

    def __post_init__(self) -> None:
        check_range("ber", self.ber, 0.0, 1.0)

    @classmethod
    def of(cls, memory: BitErrorMemory, condition: object) -> SignFlips:
        """The channel of any :class:`~memristorch.devices.families.BitErrorMemory` written under ``condition``."""
        require(memory, BitErrorMemory, "memory")
        return cls(min(1.0, float(memory.bit_error_rate(condition))))

    @property
    def is_identity(self) -> bool:
        return self.ber == 0.0

    def __call__(self, weight: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.is_identity:
            return weight
        flip = _uniform(weight, generator) < self.ber
        return torch.where(flip, -weight, weight)


@dataclass(frozen=True)
class TernaryReadErrors(BitErrorChannel):
    """Error channel of a ternary weight read once by a precharge sense amplifier.

    ``p_zero_to_nonzero``: a stored 0 reads as +1 or −1 (equally likely); ``p_nonzero_to_zero``: a stored ±1 reads
    as 0; ``p_sign``: a stored ±1 reads as ∓1. Each rate lies in [0, 1] and the two rates of a ±1 weight sum to at
    most 1.
    """

    p_zero_to_nonzero: float = 0.0
    """Probability that a stored 0 reads as ±1 (each sign half of it), in [0, 1]."""
    p_nonzero_to_zero: float = 0.0
    """Probability that a stored ±1 reads as 0, in [0, 1]."""
    p_sign: float = 0.0
    """Probability that a stored ±1 reads as ∓1, in [0, 1]; with ``p_nonzero_to_zero`` at most 1."""

    def __post_init__(self) -> None:
        for name in ("p_zero_to_nonzero", "p_nonzero_to_zero", "p_sign"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        check_range("p_nonzero_to_zero + p_sign", self.p_nonzero_to_zero + self.p_sign, 0.0, 1.0)

    @property
    def is_identity(self) -> bool:
        return self.p_zero_to_nonzero == 0.0 and self.p_nonzero_to_zero == 0.0 and self.p_sign == 0.0

    def __call__(self, weight: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.is_identity:
            return weight
        u = _uniform(weight, generator)
        zero = weight == 0
        # a stored 0: u < p → ±1, the sign taken from where u falls inside [0, p) (uniform, so each half is p/2)
        zero_out = torch.where(
            u < self.p_zero_to_nonzero,
            torch.where(u < 0.5 * self.p_zero_to_nonzero, 1.0, -1.0).to(weight.dtype),
            weight,
        )
        # a stored ±1: u < p_zero → 0; p_zero ≤ u < p_zero + p_sign → −w
        nonzero_out = torch.where(
            u < self.p_nonzero_to_zero,
            torch.zeros_like(weight),
            torch.where(u < self.p_nonzero_to_zero + self.p_sign, -weight, weight),
        )
        return torch.where(zero, zero_out, nonzero_out)
