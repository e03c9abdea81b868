"""Spin-torque MRAM write errors and write energy (a model form proposed here for the study of Hirtzlin et al., NANOARCH 2019; every default a placeholder — calibrate).

A write pulse of current I and width t_w fails to switch the free layer with probability WER(I, t_w):

* thermally activated regime (I < I_c0): switching is a Poisson process of rate 1/τ(I) with
  τ(I) = τ0 · exp(Δ (1 − I/I_c0)) (Néel–Brown with spin-torque lowered barrier), so WER = exp(−t_w / τ(I));
* precessional regime (I > I_c0): the magnetisation spirals out from a thermally distributed initial angle;
  WER = 1 − exp(−(π²Δ/4) · exp(−2 (I/I_c0 − 1) t_w / τ_D)) (the Sun/Butler form for a macrospin).

The two forms are the textbook limits and are not joined smoothly at I_c0. The Néel–Brown form holds only while the
lowered barrier Δ(1 − I/I_c0) is several kT; between that edge (``min_barrier_kt``, default 5) and I_c0 the rate is
held at its edge value, a conservative bridge that keeps an energy optimiser from exploiting the extrapolation.
Above I_c0 the thermally activated channel does not vanish: a bit fails only if neither channel switches it, so the
WER there is the smaller of the two forms (a conservative bound on their product). Without this the precessional
form, which starts from WER ≈ 1 just above I_c0, made a stronger pulse write worse than a weaker one; with it the WER
never rises with current or width. Write energy per bit ≈ I² R t_w, R the MTJ plus access-device resistance.

Defaults: Δ = 60 (a 10-year-retention class free layer), I_c0 = 60 µA, τ0 = 1 ns, τ_D = 1 ns, R = 5 kΩ — round
numbers typical of perpendicular STT-MRAM literature, not measured data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .._validation import check_range
from .base import resolve_params


@dataclass(frozen=True)
class STMRAMParams:
    """Parameters of :class:`STMRAM`: round numbers of the STT-MRAM literature, not measured data."""

    thermal_stability: float = 60.0
    """Thermal stability Δ = E_b / kT of the free layer, in [1, 200] (60: a 10-year-retention class; typical of
    perpendicular STT-MRAM literature). Placeholder — calibrate."""
    critical_current_a: float = 60e-6
    """Critical switching current I_c0 at zero temperature, A, > 0 (typical of the literature). Placeholder — calibrate."""
    attempt_time_s: float = 1e-9
    """Attempt time τ0 of the Néel–Brown rate, s, > 0 (the usual 1 ns). Placeholder — calibrate."""
    precession_time_s: float = 1e-9
    """Characteristic precession time τ_D of the precessional regime, s, > 0. Placeholder — calibrate."""
    resistance_ohm: float = 5e3
    """MTJ plus access-device resistance R of the write energy I² R t_w, Ω, > 0. Placeholder — calibrate."""
    min_barrier_kt: float = 5.0
    """Lowest barrier, in kT, the Néel–Brown form is trusted at; in [0, Δ] (numerics of the bridge to I_c0, see the
    module docstring)."""

    def __post_init__(self) -> None:
        check_range("thermal_stability", self.thermal_stability, 1.0, 200.0)
        check_range("min_barrier_kt", self.min_barrier_kt, 0.0, self.thermal_stability)
        for name in ("critical_current_a", "attempt_time_s", "precession_time_s", "resistance_ohm"):
            check_range(name, getattr(self, name), 0.0, None, low_inclusive=False)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MRAMWrite:
    """One write pulse of an ST-MRAM bit: the condition :class:`STMRAM`'s bit-error methods take."""

    current_a: float
    """Write current, A, > 0 (finite)."""
    width_s: float
    """Write pulse width, s, > 0 (finite)."""

    def __post_init__(self) -> None:
        check_range("current_a", self.current_a, 0.0, 1.0, low_inclusive=False)
        check_range("width_s", self.width_s, 0.0, 1.0, low_inclusive=False)


class STMRAM:
    """Write-error rate and write energy of a spin-torque MRAM bit (see the module docstring); a
    :class:`~memristorch.devices.families.BitErrorMemory` whose write condition is an :class:`MRAMWrite`."""

    family = "st-mram"

    def __init__(self, params: STMRAMParams | None = None, **overrides) -> None:
        self.params = params = resolve_params(STMRAMParams, params, overrides)

    def _check(self, current_a, width_s):
        current_a, width_s = np.asarray(current_a, dtype=float), np.asarray(width_s, dtype=float)
        if np.any(~np.isfinite(current_a)) or np.any(current_a <= 0):
            raise ValueError("current_a (write current) must be finite and > 0")
        if np.any(~np.isfinite(width_s)) or np.any(width_s <= 0):
            raise ValueError("width_s (write pulse width) must be finite and > 0")
        return current_a, width_s

    def _thermal_time_s(self, i: np.ndarray) -> np.ndarray:
        p = self.params
        barrier = np.maximum(p.thermal_stability * (1.0 - i), p.min_barrier_kt)
        return p.attempt_time_s * np.exp(barrier)

    def retention_flip_probability(self, time_s) -> np.ndarray:
        """Probability that a stored bit has flipped ``time_s`` seconds after writing, at zero current.

        Néel–Brown thermal activation over the full barrier: the free layer hops between its two states as a Poisson
        process of rate 1/τ, τ = τ0 · e^Δ, so the bit reads flipped after an odd number of hops:
        P(t) = (1 − exp(−2t/τ)) / 2 (≈ t/τ while small; ½ — no memory left — for t ≫ τ). With the defaults
        (Δ = 60, τ0 = 1 ns) ten years give ≈ 3e-9; at Δ = 40 about 47 % of the bits read flipped after ten years.
        A BNN stored in MRAM read at time t sees ``cells.SignFlips(ber=P(t))`` on top of its write errors.
        """
        t = np.asarray(time_s, dtype=float)
        if np.any(~np.isfinite(t)) or np.any(t < 0):
            raise ValueError("time_s (time since writing) must be finite and ≥ 0")
        p = self.params
        # log of the mean retention time τ0·e^Δ, kept in logs so that Δ up to 200 does not overflow
        log_tau = math.log(p.attempt_time_s) + p.thermal_stability
        return -0.5 * np.expm1(-2.0 * t * np.exp(-log_tau))

    def log_write_error_rate(self, current_a, width_s) -> np.ndarray:
        """ln WER for write currents and widths (broadcast); log form keeps 1e-30 rates accurate."""
        p = self.params
        current_a, width_s = self._check(current_a, width_s)
        i = current_a / p.critical_current_a
        with np.errstate(over="ignore", divide="ignore"):
            tau = self._thermal_time_s(i)
            thermal = -width_s / tau
            exponent = (math.pi**2 * p.thermal_stability / 4.0) * np.exp(
                -2.0 * (i - 1.0) * width_s / p.precession_time_s
            )
            precessional = np.log(-np.expm1(-exponent))
        return np.where(i < 1.0, thermal, np.minimum(thermal, precessional))

    def write_error_rate(self, current_a, width_s) -> np.ndarray:
        return np.exp(self.log_write_error_rate(current_a, width_s))

    def write_energy_j(self, current_a, width_s) -> np.ndarray:
        current_a, width_s = self._check(current_a, width_s)
        return current_a**2 * self.params.resistance_ohm * width_s

    def bit_error_rate(self, condition: MRAMWrite) -> float:
        """Probability that a bit written by ``condition`` holds the wrong value (its WER)."""
        condition = _write(condition)
        return float(self.write_error_rate(condition.current_a, condition.width_s))

    def energy_per_bit_j(self, condition: MRAMWrite) -> float:
        """Energy of one write pulse, I² R t_w, J."""
        condition = _write(condition)
        return float(self.write_energy_j(condition.current_a, condition.width_s))

    def width_for_wer(self, current_a, wer: float) -> np.ndarray:
        """Shortest pulse width reaching ``wer`` at each current (inf where the current never reaches it)."""
        check_range("wer", wer, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        p = self.params
        i = np.asarray(current_a, dtype=float) / p.critical_current_a
        target = math.log(wer)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            tau = self._thermal_time_s(i)
            thermal = -target * tau
            # precessional: 1 − exp(−A e^{−2(i−1)t/τ_D}) = wer ⇔ t = τ_D ln(A / −ln(1 − wer)) / (2 (i − 1))
            a = math.pi**2 * p.thermal_stability / 4.0
            precessional = p.precession_time_s * np.log(a / -math.log1p(-wer)) / (2.0 * (i - 1.0))
            # above I_c0 either channel may reach the target first (the WER is the smaller of the two forms)
            precessional = np.where(np.isfinite(precessional) & (precessional > 0), precessional, np.inf)
        width = np.where(i < 1.0, thermal, np.minimum(thermal, precessional))
        return np.where(np.isfinite(width) & (width > 0), width, np.inf)

    def optimal_write(self, wer: float, currents_a: np.ndarray | None = None) -> dict[str, float]:
        """The write current (on a grid) and width that reach ``wer`` at the least energy per bit."""
        p = self.params
        if currents_a is None:
            currents_a = p.critical_current_a * np.geomspace(0.3, 10.0, 4001)
        width = self.width_for_wer(currents_a, wer)
        energy = np.where(np.isfinite(width), currents_a**2 * p.resistance_ohm * width, np.inf)
        best = int(np.argmin(energy))
        return {
            "wer": wer,
            "current_a": float(currents_a[best]),
            "width_s": float(width[best]),
            "energy_j": float(energy[best]),
        }


def _write(condition: object) -> MRAMWrite:
    if not isinstance(condition, MRAMWrite):
        raise TypeError(f"condition must be an MRAMWrite(current_a, width_s), got {type(condition).__name__}")
    return condition
