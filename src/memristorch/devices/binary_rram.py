"""Binary HfOx RRAM: LRS/HRS resistance distributions that depend on how hard the device was programmed.

A binary RRAM is SET to its low-resistance state (LRS) under a compliance current I_c fixed by the access
transistor's gate, and RESET to its high-resistance state (HRS) by a negative pulse of amplitude V_reset. Both states
are log-normal across devices and cycles (a model proposed here, built on the common empirical rules below):

* LRS: median R_L = ``lrs_voltage_v`` / I_c (the filament grows until its resistance carries I_c at a fixed voltage),
  σ of ln R_L = ``lrs_sigma_ref`` · (``sigma_ref_current_a`` / I_c)^``lrs_sigma_exponent`` — weak SETs leave thin,
  unstable filaments and wider distributions.
* HRS: median R_H = ``hrs_median_ref_ohm`` · exp(``hrs_slope_per_v`` · (V_reset − ``hrs_reset_ref_v``)) — a deeper
  RESET opens a wider gap; σ of ln R_H = ``hrs_sigma``; a fraction ``hrs_tail_fraction`` of RESETs leave a partly
  formed filament, a low-resistance tail ``hrs_tail_shift`` lower in ln R.

Energy per operation: SET ≈ V_set · I_c · t_set; RESET ≈ V_reset² / R_L · t_reset (the LRS current flows until the
filament ruptures). Every default here is a **placeholder — calibrate** to measured HfO2 data: they are shaped so
that the 2T2R bit-error rate is ≈1e-8 under strong programming (200 µA, 2 V) and 1e-4 … 1e-3 under weak programming
(≈10–20 µA), the regimes the 2T2R studies of Hirtzlin et al. (Frontiers in Neuroscience 2019) contrast, and R values sit in the ranges reported for 130 nm HfO2 1T1R arrays
(kΩ LRS, 100 kΩ-class HRS). Run ``memristorch run bnn-programming-energy`` to see the resulting curves.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from .._validation import check_range
from .base import resolve_params


@dataclass(frozen=True)
class ProgrammingCondition:
    """How strongly a binary RRAM is programmed: SET compliance current (A) and RESET voltage (V)."""

    compliance_current_a: float
    """SET compliance current I_c, A, in [1e-7, 1e-2] (set by the access transistor's gate; the 2T2R studies of
    Hirtzlin et al. contrast ≈ 200 µA "strong" with 10–20 µA "weak" programming)."""
    reset_voltage_v: float
    """RESET pulse amplitude, V, a magnitude in [0.1, 5] (≈ 2 V strong, ≈ 1.5 V weak in the same studies)."""

    def __post_init__(self) -> None:
        check_range("compliance_current_a", self.compliance_current_a, 1e-7, 1e-2)
        check_range("reset_voltage_v", self.reset_voltage_v, 0.1, 5.0)


@dataclass(frozen=True)
class LogNormalMixture:
    """Mixture of log-normals: ``weights`` sum to 1, ``mu``/``sigma`` of ln R per component."""

    weights: tuple[float, ...]
    mu: tuple[float, ...]
    sigma: tuple[float, ...]

    def cdf_ln(self, ln_r: float | torch.Tensor) -> torch.Tensor:
        """P(ln R ≤ ln_r)."""
        ln_r = torch.as_tensor(ln_r, dtype=torch.float64)
        total = torch.zeros_like(ln_r)
        for w, m, s in zip(self.weights, self.mu, self.sigma, strict=True):
            total = total + w * _normal_cdf((ln_r - m) / s)
        return total

    def pdf_ln(self, ln_r: torch.Tensor) -> torch.Tensor:
        total = torch.zeros_like(ln_r)
        for w, m, s in zip(self.weights, self.mu, self.sigma, strict=True):
            total = total + w * torch.exp(-0.5 * ((ln_r - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return total

    def sample_ln(self, shape, generator: torch.Generator | None = None) -> torch.Tensor:
        component = torch.multinomial(
            torch.tensor(self.weights, dtype=torch.float64),
            math.prod(shape),
            replacement=True,
            generator=generator,
        ).reshape(shape)
        mu = torch.tensor(self.mu, dtype=torch.float64)[component]
        sigma = torch.tensor(self.sigma, dtype=torch.float64)[component]
        return mu + sigma * torch.randn(shape, generator=generator, dtype=torch.float64)


def _normal_cdf(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-z / math.sqrt(2.0))


@dataclass(frozen=True)
class BinaryRRAMParams:
    """Parameters of :class:`BinaryRRAM`; all placeholders — calibrate (see the module docstring)."""

    lrs_voltage_v: float = 0.5
    """Voltage V_L at which the SET filament carries I_c: median R_LRS = V_L / I_c, V, > 0 (0.5 V gives 2.5 kΩ at 200 µA,
    the kΩ-class LRS of 130 nm HfO2 1T1R arrays). Placeholder — calibrate."""
    lrs_sigma_ref: float = 0.3
    """σ of ln R_LRS at the reference current ``sigma_ref_current_a``, > 0 (dimensionless). Placeholder — calibrate."""
    sigma_ref_current_a: float = 20e-6
    """Compliance current at which σ of ln R_LRS equals ``lrs_sigma_ref``, A, > 0. Placeholder — calibrate."""
    lrs_sigma_exponent: float = 0.6
    """Power p of σ_LRS ∝ (I_ref / I_c)^p, in [0, 5]: weaker SETs leave wider LRS spreads. Placeholder — calibrate."""
    hrs_median_ref_ohm: float = 200e3
    """Median R_HRS at the reference RESET voltage ``hrs_reset_ref_v``, Ω, > 0 (100 kΩ-class HRS). Placeholder — calibrate."""
    hrs_reset_ref_v: float = 1.5
    """Reference RESET voltage of ``hrs_median_ref_ohm``, V, in [0.1, 5]. Placeholder — calibrate."""
    hrs_slope_per_v: float = 2.0
    """Growth of ln R_HRS per volt of deeper RESET, 1/V, in [0, 20]. Placeholder — calibrate."""
    hrs_sigma: float = 0.45
    """σ of ln R_HRS (main component), > 0 (dimensionless). Placeholder — calibrate."""
    hrs_tail_fraction: float = 1e-3
    """Share of RESETs that leave a partly formed filament (the HRS low tail), in [0, 1). Placeholder — calibrate."""
    hrs_tail_shift: float = 1.5
    """How much lower in ln R the HRS tail sits than the main HRS component, ≥ 0. Placeholder — calibrate."""
    set_voltage_v: float = 1.2
    """SET pulse amplitude V_set for the SET energy V_set · I_c · t_set, V, > 0. Placeholder — calibrate."""
    set_width_s: float = 100e-9
    """SET pulse width t_set, s, > 0. Placeholder — calibrate."""
    reset_width_s: float = 100e-9
    """RESET pulse width t_reset for the RESET energy V_reset² / R_LRS · t_reset, s, > 0. Placeholder — calibrate."""

    def __post_init__(self) -> None:
        for name in (
            "lrs_voltage_v",
            "lrs_sigma_ref",
            "sigma_ref_current_a",
            "hrs_median_ref_ohm",
            "hrs_sigma",
        ):
            check_range(name, getattr(self, name), 0.0, None, low_inclusive=False)
        for name in ("set_voltage_v", "set_width_s", "reset_width_s"):
            check_range(name, getattr(self, name), 0.0, None, low_inclusive=False)
        check_range("lrs_sigma_exponent", self.lrs_sigma_exponent, 0.0, 5.0)
        check_range("hrs_reset_ref_v", self.hrs_reset_ref_v, 0.1, 5.0)
        check_range("hrs_slope_per_v", self.hrs_slope_per_v, 0.0, 20.0)
        check_range("hrs_tail_fraction", self.hrs_tail_fraction, 0.0, 1.0, high_inclusive=False)
        check_range("hrs_tail_shift", self.hrs_tail_shift, 0.0, None)

    def to_dict(self) -> dict:
        return asdict(self)


class BinaryRRAM:
    """Resistance distributions and programming energy of binary HfOx RRAM under a :class:`ProgrammingCondition`."""

    family = "binary-rram"

    def __init__(self, params: BinaryRRAMParams | None = None, **overrides) -> None:
        self.params = params = resolve_params(BinaryRRAMParams, params, overrides)

    def lrs(self, condition: ProgrammingCondition) -> LogNormalMixture:
        p = self.params
        i_c = condition.compliance_current_a
        sigma = p.lrs_sigma_ref * (p.sigma_ref_current_a / i_c) ** p.lrs_sigma_exponent
        return LogNormalMixture((1.0,), (math.log(p.lrs_voltage_v / i_c),), (sigma,))

    def hrs(self, condition: ProgrammingCondition) -> LogNormalMixture:
        p = self.params
        mu = math.log(p.hrs_median_ref_ohm) + p.hrs_slope_per_v * (
            condition.reset_voltage_v - p.hrs_reset_ref_v
        )
        if p.hrs_tail_fraction == 0:
            return LogNormalMixture((1.0,), (mu,), (p.hrs_sigma,))
        return LogNormalMixture(
            (1.0 - p.hrs_tail_fraction, p.hrs_tail_fraction),
            (mu, mu - p.hrs_tail_shift),
            (p.hrs_sigma, p.hrs_sigma),
        )

    def sample_resistance(
        self, lrs: torch.Tensor, condition: ProgrammingCondition, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Resistance (ohm, float64) of devices just programmed to LRS where ``lrs`` is True, else HRS."""
        if lrs.dtype != torch.bool:
            raise TypeError("lrs must be a bool tensor (True = programmed to LRS)")
        ln_l = self.lrs(condition).sample_ln(lrs.shape, generator)
        ln_h = self.hrs(condition).sample_ln(lrs.shape, generator)
        return torch.exp(torch.where(lrs, ln_l, ln_h))

    def set_energy_j(self, condition: ProgrammingCondition) -> float:
        p = self.params
        return p.set_voltage_v * condition.compliance_current_a * p.set_width_s

    def reset_energy_j(self, condition: ProgrammingCondition) -> float:
        p = self.params
        r_lrs = p.lrs_voltage_v / condition.compliance_current_a
        return condition.reset_voltage_v**2 / r_lrs * p.reset_width_s
