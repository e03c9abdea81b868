"""Binary and ternary RRAM cells and how their read circuits turn resistances into bits (2T2R: Hirtzlin et al., Frontiers in Neuroscience 2019; ternary: Laborieux et al., arXiv 2007.14234, 2020).

* :class:`OneT1RCell` — one device per bit, read against a fixed reference resistance. A bit is wrong when its LRS
  reads above the reference or its HRS below it. By default the reference is the one that minimises the bit-error
  rate of the programming condition (where the LRS and HRS densities cross; with unequal spreads that is not midway);
  ``reference="midway"`` puts it at the geometric mean of the two medians instead (the best only for equal spreads,
  and what memristorch used before, which overstated the 1T1R error rate — ≈ 1.9× at 20 µA).
* :class:`TwoT2RCell` — a complementary pair (+1 = LRS on BL, HRS on BLb; −1 the opposite) read by a precharge
  sense amplifier (PCSA) that compares the two branches: a bit is wrong only when the pair's own LRS is more resistive
  than its HRS. An optional sense-amplifier offset ``sense_offset_sigma`` (in ln R units) adds to the comparison.
* :class:`TernaryPCSACell` — the same pair storing −1/0/+1 with 0 = (HRS, HRS), read once at near-threshold supply:
  a branch discharges within the sense window only if its resistance is below ``threshold_ohm``; the faster branch
  wins, and if neither fires the latch stays undecided, read as 0. Error types: 0 → ±1 (an HRS below the threshold),
  ±1 → 0 (LRS above it, HRS too), and sign inversion (the HRS below both the threshold and its LRS partner).
  ``threshold_sigma`` (ln R units) is the read-to-read spread of the effective threshold (supply, temperature).

Each cell gives closed-form error rates (Gaussian integrals in ln R, accurate to float64) and a Monte-Carlo read of
sampled devices that the tests check against them, plus programming energy per stored weight.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import check_range
from ..devices.binary_rram import BinaryRRAM, LogNormalMixture, ProgrammingCondition
from .bit_errors import SignFlips, TernaryReadErrors

# Gauss–Hermite nodes for averaging over a Gaussian read-threshold/offset spread
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(48)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


def _condition(condition: object) -> ProgrammingCondition:
    if not isinstance(condition, ProgrammingCondition):
        raise TypeError(
            "condition must be a ProgrammingCondition(compliance_current_a, reset_voltage_v), "
            f"got {type(condition).__name__}"
        )
    return condition


def _geometric_midpoint(lrs: LogNormalMixture, hrs: LogNormalMixture) -> float:
    return 0.5 * (lrs.mu[0] + hrs.mu[0])


def _tail(mixture: LogNormalMixture, ln_r, upper: bool) -> torch.Tensor:
    """P(ln R > ln_r) (``upper``) or P(ln R ≤ ln_r), each from erfc so that tails of 1e-30 keep their digits."""
    x = torch.as_tensor(ln_r, dtype=torch.float64)
    total = torch.zeros_like(x)
    for w, m, s in zip(mixture.weights, mixture.mu, mixture.sigma, strict=True):
        z = (x - m) / (s * math.sqrt(2.0))
        total = total + w * 0.5 * torch.special.erfc(z if upper else -z)
    return total


def _one_reference_ber(lrs: LogNormalMixture, hrs: LogNormalMixture, ln_ref) -> torch.Tensor:
    """Bit-error rate of a read against ``ln_ref`` (half the bits LRS, half HRS)."""
    return 0.5 * (_tail(lrs, ln_ref, upper=True) + _tail(hrs, ln_ref, upper=False))


def _ber_minimising_reference(lrs: LogNormalMixture, hrs: LogNormalMixture) -> float:
    """ln R of the reference with the least bit-error rate: a fine grid over both distributions (±5 σ beyond every
    component's median: with strongly overlapping, unequal spreads the best reference need not lie between the
    medians), then a bounded scalar minimisation around the grid's best point."""
    from scipy.optimize import minimize_scalar

    spread = 5.0 * max(*lrs.sigma, *hrs.sigma)
    low, high = min(*lrs.mu, *hrs.mu) - spread, max(*lrs.mu, *hrs.mu) + spread
    grid = torch.linspace(low, high, 4001, dtype=torch.float64)
    # the log of the error rate keeps the minimum resolvable where the rate itself is ~1e-20
    values = torch.log(_one_reference_ber(lrs, hrs, grid).clamp_min(1e-300))
    k = int(torch.argmin(values))
    a, b = float(grid[max(k - 1, 0)]), float(grid[min(k + 1, len(grid) - 1)])
    result = minimize_scalar(
        lambda x: math.log(max(float(_one_reference_ber(lrs, hrs, x)), 1e-300)),
        bounds=(a, b),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(result.x) if result.fun <= float(values[k]) else float(grid[k])


def _difference_cdf(a: LogNormalMixture, b: LogNormalMixture, offset_sigma: float) -> float:
    """P(ln A − ln B + ε > 0) for independent mixtures and ε ~ N(0, offset_sigma²), in closed form."""
    total = 0.0
    for wa, ma, sa in zip(a.weights, a.mu, a.sigma, strict=True):
        for wb, mb, sb in zip(b.weights, b.mu, b.sigma, strict=True):
            s = math.sqrt(sa**2 + sb**2 + offset_sigma**2)
            total += wa * wb * 0.5 * math.erfc(-(ma - mb) / s / math.sqrt(2.0))
    return total


class OneT1RCell:
    """One device per bit read against a reference resistance (see the module docstring)."""

    devices_per_bit = 1

    REFERENCES = ("optimal", "midway")

    def __init__(
        self, device: BinaryRRAM, reference_ohm: float | None = None, reference: str = "optimal"
    ) -> None:
        if reference_ohm is not None:
            check_range("reference_ohm", reference_ohm, 0.0, None, low_inclusive=False)
        if reference not in self.REFERENCES:
            raise ValueError(f"reference must be one of {', '.join(self.REFERENCES)}; got {reference!r}")
        self.device = device
        self.reference_ohm = reference_ohm
        self.reference = reference
        self._references: dict[ProgrammingCondition, float] = {}

    def reference_ln(self, condition: ProgrammingCondition) -> float:
        """ln of the reference resistance: ``reference_ohm`` if given, else per condition as ``reference`` says."""
        if self.reference_ohm is not None:
            return math.log(self.reference_ohm)
        lrs, hrs = self.device.lrs(condition), self.device.hrs(condition)
        if self.reference == "midway":
            return _geometric_midpoint(lrs, hrs)
        if condition not in self._references:
            self._references[condition] = _ber_minimising_reference(lrs, hrs)
        return self._references[condition]

    def bit_error_rate(self, condition: ProgrammingCondition) -> float:
        ref = self.reference_ln(_condition(condition))
        return float(_one_reference_ber(self.device.lrs(condition), self.device.hrs(condition), ref))

    def read(self, resistance_ohm: torch.Tensor, condition: ProgrammingCondition) -> torch.Tensor:
        """+1 where the device reads below the reference (LRS), else −1."""
        return torch.where(torch.log(resistance_ohm) < self.reference_ln(condition), 1.0, -1.0)

    def simulate(
        self, bits: torch.Tensor, condition: ProgrammingCondition, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Program ±1 ``bits`` (+1 = LRS) into fresh devices and read them back."""
        r = self.device.sample_resistance(bits > 0, condition, generator)
        return self.read(r, condition)

    def energy_per_bit_j(self, condition: ProgrammingCondition) -> float:
        """Half the bits are SET and half RESET on average."""
        condition = _condition(condition)
        return 0.5 * (self.device.set_energy_j(condition) + self.device.reset_energy_j(condition))

    def channel(self, condition: ProgrammingCondition) -> SignFlips:
        return SignFlips.of(self, condition)


class TwoT2RCell:
    """Complementary pair compared by a precharge sense amplifier (see the module docstring)."""

    devices_per_bit = 2

    def __init__(self, device: BinaryRRAM, sense_offset_sigma: float = 0.0) -> None:
        self.device = device
        self.sense_offset_sigma = check_range("sense_offset_sigma", sense_offset_sigma, 0.0, None)

    def bit_error_rate(self, condition: ProgrammingCondition) -> float:
        condition = _condition(condition)
        return _difference_cdf(
            self.device.lrs(condition), self.device.hrs(condition), self.sense_offset_sigma
        )

    def read(
        self, r_bl: torch.Tensor, r_blb: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """+1 where the BL branch is the less resistive (it discharges first and the latch takes it), else −1."""
        diff = torch.log(r_blb) - torch.log(r_bl)
        if self.sense_offset_sigma > 0:
            diff = diff + self.sense_offset_sigma * torch.randn(
                diff.shape, generator=generator, dtype=diff.dtype, device=diff.device
            )
        return torch.where(diff > 0, 1.0, -1.0)

    def simulate(
        self, bits: torch.Tensor, condition: ProgrammingCondition, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        positive = bits > 0
        r_bl = self.device.sample_resistance(positive, condition, generator)
        r_blb = self.device.sample_resistance(~positive, condition, generator)
        return self.read(r_bl, r_blb, generator)

    def energy_per_bit_j(self, condition: ProgrammingCondition) -> float:
        """Every bit SETs one device and RESETs the other."""
        condition = _condition(condition)
        return self.device.set_energy_j(condition) + self.device.reset_energy_j(condition)

    def channel(self, condition: ProgrammingCondition) -> SignFlips:
        return SignFlips.of(self, condition)


class TernaryPCSACell:
    """A 2T2R pair holding −1/0/+1, read once by a near-threshold PCSA (see the module docstring).

    ``threshold_ohm`` defaults to the geometric midpoint of LRS and HRS medians at the programming condition
    (placeholder — calibrate to the sense window of the supply in use).
    """

    devices_per_weight = 2

    def __init__(
        self, device: BinaryRRAM, threshold_ohm: float | None = None, threshold_sigma: float = 0.1
    ) -> None:
        if threshold_ohm is not None:
            check_range("threshold_ohm", threshold_ohm, 0.0, None, low_inclusive=False)
        self.device = device
        self.threshold_ohm = threshold_ohm
        self.threshold_sigma = check_range("threshold_sigma", threshold_sigma, 0.0, None)

    def threshold_ln(self, condition: ProgrammingCondition) -> float:
        if self.threshold_ohm is not None:
            return math.log(self.threshold_ohm)
        return _geometric_midpoint(self.device.lrs(condition), self.device.hrs(condition))

    def error_rates(self, condition: ProgrammingCondition) -> dict[str, float]:
        """``p_zero_to_nonzero``, ``p_nonzero_to_zero``, ``p_sign`` averaged over the threshold spread."""
        lrs, hrs = self.device.lrs(condition), self.device.hrs(condition)
        thresholds = self.threshold_ln(condition) + self.threshold_sigma * _GH_NODES
        p_h_fast = hrs.cdf_ln(torch.from_numpy(thresholds)).numpy()
        p_l_slow = 1.0 - lrs.cdf_ln(torch.from_numpy(thresholds)).numpy()
        zero_to_nonzero = 1.0 - (1.0 - p_h_fast) ** 2
        nonzero_to_zero = p_l_slow * (1.0 - p_h_fast)
        # sign inversion: the HRS fires (below threshold) and is below its LRS partner
        grid = np.linspace(min(hrs.mu) - 12 * max(hrs.sigma), max(hrs.mu) + 12 * max(hrs.sigma), 4001)
        density = hrs.pdf_ln(torch.from_numpy(grid)).numpy()
        lrs_above = 1.0 - lrs.cdf_ln(torch.from_numpy(grid)).numpy()
        step = grid[1] - grid[0]
        sign = np.array([np.sum(density * lrs_above * (grid < t)) * step for t in thresholds])
        average = {
            "p_zero_to_nonzero": float(_GH_WEIGHTS @ zero_to_nonzero),
            "p_nonzero_to_zero": float(_GH_WEIGHTS @ nonzero_to_zero),
            "p_sign": float(_GH_WEIGHTS @ sign),
        }
        return {k: min(1.0, max(0.0, v)) for k, v in average.items()}

    def read(self, r_bl: torch.Tensor, r_blb: torch.Tensor, threshold_ln: torch.Tensor) -> torch.Tensor:
        ln_bl, ln_blb = torch.log(r_bl), torch.log(r_blb)
        fast = torch.minimum(ln_bl, ln_blb)
        decided = fast < threshold_ln
        return torch.where(decided, torch.where(ln_bl < ln_blb, 1.0, -1.0), 0.0).to(torch.float32)

    def simulate(
        self, weights: torch.Tensor, condition: ProgrammingCondition, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Program −1/0/+1 ``weights`` into fresh pairs and read each once."""
        r_bl = self.device.sample_resistance(weights > 0, condition, generator)
        r_blb = self.device.sample_resistance(weights < 0, condition, generator)
        threshold = self.threshold_ln(condition) + self.threshold_sigma * torch.randn(
            weights.shape, generator=generator, dtype=torch.float64
        )
        return self.read(r_bl, r_blb, threshold)

    def channel(self, condition: ProgrammingCondition) -> TernaryReadErrors:
        return TernaryReadErrors(**self.error_rates(condition))

    def energy_per_weight_j(self, condition: ProgrammingCondition, zero_fraction: float = 0.0) -> float:
        """±1 weights SET one device and RESET the other; a 0 RESETs both."""
        check_range("zero_fraction", zero_fraction, 0.0, 1.0)
        e_set, e_reset = self.device.set_energy_j(condition), self.device.reset_energy_j(condition)
        return (1 - zero_fraction) * (e_set + e_reset) + zero_fraction * 2 * e_reset


__all__ = ["OneT1RCell", "TernaryPCSACell", "TwoT2RCell"]
