"""Closed-form programming pulse trains of the mean-field MSS: ``n`` periods and their energy without a loop.

A period (a pulse at constant voltage, then the gap at 0 V) maps the state affinely, ``x → A x + B``, because each
part is an exact exponential relaxation; so ``n`` periods give ``x_n = x* + Aⁿ (x_0 − x*)`` with ``x* = B / (1 − A)``,
and the energy, ``V² ∫ G dt`` over the pulses, needs only the sum of the states at the start of each pulse, which is
a geometric series.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..base import DeviceState
from .params import MSSParams, MSSPhysics
from .physics import pulse_voltage, switching_rates


class PulseTrain(NamedTuple):
    """What the closed form computes per device; the energy is a function of these."""

    x_final: torch.Tensor  # state after the n periods (not yet clamped to [0, 1])
    sum_starts: torch.Tensor  # Σ_j x_j over the states at the start of each pulse
    count: torch.Tensor  # |n| in the state dtype
    voltage: torch.Tensor  # signed pulse voltage, V
    pulse_rate: torch.Tensor  # a + b during the pulse, 1/s
    pulse_target: torch.Tensor  # a / (a + b) during the pulse
    pulse_rise: torch.Tensor  # 1 − e^{−(a + b) w}
    width_s: torch.Tensor | float


def pulse_train(
    p: MSSParams,
    state: DeviceState,
    pulses: torch.Tensor,
    amplitude_v: torch.Tensor | None = None,
    width_s: torch.Tensor | float | None = None,
    gap_s: float | None = None,
) -> PulseTrain:
    """``|n|`` periods (pulse at V_set or V_reset, or ``±amplitude``, then the gap at 0 V) for every device."""
    width_s = p.board.pulse_width_s if width_s is None else width_s
    gap_s = p.board.pulse_gap_s if gap_s is None else gap_s
    vt = p.physics.thermal_voltage_v
    x0 = state["x"]
    n = pulses.abs().to(x0.dtype)
    voltage = pulse_voltage(p.board, pulses, amplitude_v, x0.dtype)
    a, b = switching_rates(state, voltage, vt)
    k_pulse = a + b
    x_pulse = a / k_pulse
    rise_pulse = -torch.expm1(-k_pulse * width_s)  # 1 − e^{−k w}, accurate when k w is tiny
    a0, b0 = switching_rates(state, 0.0, vt)
    k_gap = a0 + b0
    x_gap = a0 / k_gap
    log_slope = -(k_pulse * width_s + k_gap * gap_s)
    one_minus_slope = -torch.expm1(log_slope)
    # period map (pulse then gap): x → A x + B with A = e^{log_slope}
    offset = torch.exp(-k_gap * gap_s) * x_pulse * rise_pulse - x_gap * torch.expm1(-k_gap * gap_s)
    frozen = one_minus_slope <= 0  # no switching at all within float precision
    safe = torch.where(frozen, torch.ones_like(one_minus_slope), one_minus_slope)
    fixed = torch.where(frozen, x0, offset / safe)
    x_n = fixed + torch.exp(n * log_slope) * (x0 - fixed)
    # Σ_{j<n} x_j = n x* + (x0 − x*)(1 − A^n)/(1 − A), whose limit for A → 1 is n x0
    geometric = torch.where(frozen, n, -torch.expm1(n * log_slope) / safe)
    sum_starts = n * fixed + (x0 - fixed) * geometric
    return PulseTrain(x_n, sum_starts, n, voltage, k_pulse, x_pulse, rise_pulse, width_s)


def train_energy(p: MSSPhysics, state: DeviceState, train: PulseTrain) -> torch.Tensor:
    """``Σ ∫ V I dt`` over the pulses of ``train`` (the gaps at 0 V dissipate nothing), J per device."""
    n, width_s = train.count, train.width_s
    # ∫ over one pulse of x(t) dt = x∞ w + (x_j − x∞)(1 − e^{−k w}) / k, summed over the pulses
    x_integral = (
        n * train.pulse_target * width_s
        + (train.sum_starts - n * train.pulse_target) * train.pulse_rise / train.pulse_rate
    )
    g_on, g_off = 1.0 / state["r_on_ohm"], 1.0 / state["r_off_ohm"]
    conductance_integral = g_off * n * width_s + (g_on - g_off) * x_integral
    voltage = train.voltage
    energy = p.phi * voltage**2 * conductance_integral
    if p.phi < 1.0:
        diode = p.sfa_a * torch.exp(p.sfb_per_v * voltage) - p.sra_a * torch.exp(-p.srb_per_v * voltage)
        energy = energy + (1.0 - p.phi) * voltage * diode * n * width_s
    return energy
