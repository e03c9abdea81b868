"""Process, voltage and temperature (PVT) dependence of the near-threshold PCSA's decision threshold.

The ternary read (:class:`~memristorch.cells.binary_rram.TernaryPCSACell`) decides that a branch fired when it
discharged within the sense window, i.e. when its resistance is below an effective threshold R_th. Near threshold the
discharge current of a branch is set by its access transistor in weak inversion, I ∝ exp((V_DD − V_th(T)) / (n U_T)),
U_T = kT/q, and V_th falls with temperature by ``threshold_voltage_tc_v_per_k``. A sense window timed by a replica of
the same circuit (self-timed) follows most of that drive change; the untracked share ``1 − tracking`` moves the
threshold:

    ln R_th(V_DD, T) = ln R_th(V0, T0) + (1 − tracking) · [ (V_DD − V_th(T)) / (n U_T(T)) − (V0 − V_th(T0)) / (n U_T(T0)) ]

Process variation adds a static per-amplifier threshold offset, Gaussian in ln R with ``offset_sigma_ln``, on top of
the read-to-read spread of the cell. Every default is a placeholder — calibrate: n = 1.5 and |dV_th/dT| = 1 mV/K are
textbook magnitudes for bulk CMOS in weak inversion; the nominal 0.6 V supply, V_th 0.4 V, 90 % tracking and 0.1 ln-R
offset are assumptions of this model, not values measured on the chip of Laborieux et al. (TCAS-I 2021).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .._validation import check_range

BOLTZMANN_OVER_CHARGE_V_PER_K = 8.617333262e-5  # k/q (CODATA 2018)


@dataclass(frozen=True)
class SenseAmpPVT:
    """Supply and temperature dependence of the PCSA threshold (see the module docstring for the equation)."""

    nominal_supply_v: float = 0.6
    """Supply at which the threshold was set (V); near-threshold operation. Placeholder — calibrate."""
    nominal_temperature_k: float = 300.0
    """Temperature at which the threshold was set (K)."""
    threshold_voltage_v: float = 0.4
    """Access-transistor threshold voltage at the nominal temperature (V). Placeholder — calibrate."""
    threshold_voltage_tc_v_per_k: float = 1e-3
    """How fast V_th falls with temperature (V/K); ~1 mV/K is the usual bulk-CMOS magnitude. Placeholder."""
    subthreshold_slope_factor: float = 1.5
    """n of I ∝ exp(V_GS / (n U_T)) in weak inversion (dimensionless, typical 1.2–1.8). Placeholder."""
    tracking: float = 0.9
    """Share of the drive change that the self-timed sense window follows (0: fixed window, 1: perfect). Placeholder."""
    offset_sigma_ln: float = 0.1
    """Static per-amplifier threshold spread from process variation (std of ln R_th). Placeholder — calibrate."""

    def __post_init__(self) -> None:
        check_range("nominal_supply_v", self.nominal_supply_v, 0.0, 5.0, low_inclusive=False)
        check_range("nominal_temperature_k", self.nominal_temperature_k, 0.0, 1000.0, low_inclusive=False)
        check_range("threshold_voltage_v", self.threshold_voltage_v, 0.0, 2.0)
        check_range("threshold_voltage_tc_v_per_k", self.threshold_voltage_tc_v_per_k, 0.0, 0.01)
        check_range("subthreshold_slope_factor", self.subthreshold_slope_factor, 1.0, 5.0)
        check_range("tracking", self.tracking, 0.0, 1.0)
        check_range("offset_sigma_ln", self.offset_sigma_ln, 0.0, 5.0)

    def _drive_ln(self, supply_v: float, temperature_k: float) -> float:
        """(V_DD − V_th(T)) / (n U_T(T)): the log of the weak-inversion drive current, up to a constant."""
        v_th = self.threshold_voltage_v - self.threshold_voltage_tc_v_per_k * (
            temperature_k - self.nominal_temperature_k
        )
        thermal_voltage = BOLTZMANN_OVER_CHARGE_V_PER_K * temperature_k
        return (supply_v - v_th) / (self.subthreshold_slope_factor * thermal_voltage)

    def threshold_shift_ln(self, supply_v: float, temperature_k: float) -> float:
        """ln R_th(V_DD, T) − ln R_th(V0, T0): a stronger drive discharges more resistive branches in the window."""
        check_range("supply_v", supply_v, 0.0, 5.0, low_inclusive=False)
        check_range("temperature_k", temperature_k, 0.0, 1000.0, low_inclusive=False)
        change = self._drive_ln(supply_v, temperature_k) - self._drive_ln(
            self.nominal_supply_v, self.nominal_temperature_k
        )
        return (1.0 - self.tracking) * change

    def threshold_sigma(self, read_sigma_ln: float) -> float:
        """Total threshold spread seen over many amplifiers: read-to-read and process offsets, in quadrature."""
        check_range("read_sigma_ln", read_sigma_ln, 0.0, None)
        return math.hypot(read_sigma_ln, self.offset_sigma_ln)

    def to_dict(self) -> dict:
        return asdict(self)
