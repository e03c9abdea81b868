"""Physics of the metastable-switch memristor: conductance, switching rates, relaxation and the device current.

Molter & Nugent, "The Generalized Metastable Switch Memristor Model", CNNA 2016 (arXiv 1608.04659): switches turn on
with probability ``σ((V − V_on)/V_T)`` and off with ``σ(−(V + V_off)/V_T)`` per time τ, so at constant voltage the
conducting share ``x`` relaxes exponentially to ``a / (a + b)``.
"""

from __future__ import annotations

import math

import torch

from ..base import DeviceState
from .params import MSSBoard, MSSPhysics


def conductance(state: DeviceState, x: torch.Tensor | None = None) -> torch.Tensor:
    """``G(x) = x / R_on + (1 − x) / R_off`` per device (``x`` defaults to the state's)."""
    x = state["x"] if x is None else x
    return x / state["r_on_ohm"] + (1.0 - x) / state["r_off_ohm"]


def switching_rates(
    state: DeviceState, voltage_v, thermal_voltage_v: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Switching rates ``a = p_on / τ`` and ``b = p_off / τ`` (1/s) of each device at ``voltage_v``."""
    v = torch.as_tensor(voltage_v, dtype=state["x"].dtype, device=state["x"].device)
    a = torch.sigmoid((v - state["v_on_v"]) / thermal_voltage_v) / state["tau_s"]
    b = torch.sigmoid(-(v + state["v_off_v"]) / thermal_voltage_v) / state["tau_s"]
    return a, b


def relaxed(
    x: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    duration_s,
    n_switches: int | None,
    generator: torch.Generator | None,
    trajectory: list | None = None,
) -> torch.Tensor:
    """``x`` after ``duration_s`` at switching rates ``a`` (on) and ``b`` (off): exact mean relaxation and, with
    ``n_switches``, binomial noise in its normal approximation (switches flip independently). With ``trajectory``
    (a list) the mean state half-way through and the mean state at the end are appended to it."""
    rate = (a + b).clamp(min=torch.finfo(x.dtype).tiny)  # both may underflow to 0: x then stays put
    x_inf = a / rate
    rise = -torch.expm1(-rate * duration_s)
    x_new = x + (x_inf - x) * rise
    if trajectory is not None:
        trajectory.append(x - (x_inf - x) * torch.expm1(-0.5 * rate * duration_s))
        trajectory.append(x_new)
    if n_switches is not None:
        p_on = -torch.expm1(-a * duration_s)
        p_off = -torch.expm1(-b * duration_s)
        variance = ((1.0 - x) * p_on * (1.0 - p_on) + x * p_off * (1.0 - p_off)) / n_switches
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x_new = x_new + variance.clamp(min=0.0).sqrt() * noise
    return x_new.clamp(0.0, 1.0)


def relax(
    physics: MSSPhysics, state: DeviceState, voltage_v, duration_s, generator: torch.Generator | None
) -> torch.Tensor:
    """The state's ``x`` after ``duration_s`` at constant ``voltage_v`` (binomial noise if the model has switches)."""
    a, b = switching_rates(state, voltage_v, physics.thermal_voltage_v)
    return relaxed(state["x"], a, b, duration_s, physics.n_switches, generator)


def current_and_slope(
    p: MSSPhysics, v_device: torch.Tensor, g: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Device current ``φ V G + (1 − φ)(s_fa e^{s_fb V} − s_ra e^{−s_rb V})`` and its slope ``dI/dV``."""
    if p.phi == 1.0:
        return v_device * g, g
    forward = p.sfa_a * torch.exp(p.sfb_per_v * v_device)
    reverse = p.sra_a * torch.exp(-p.srb_per_v * v_device)
    current = p.phi * (v_device * g) + (1.0 - p.phi) * (forward - reverse)
    slope = p.phi * g + (1.0 - p.phi) * (p.sfb_per_v * forward + p.srb_per_v * reverse)
    return current, slope


def current_at_scalar_voltage(p: MSSPhysics, g: torch.Tensor, volt: float) -> torch.Tensor:
    """Device current at one voltage shared by every device (the diode term is then a scalar)."""
    if p.phi == 1.0:
        return g * volt
    diode = p.sfa_a * math.exp(p.sfb_per_v * volt) - p.sra_a * math.exp(-p.srb_per_v * volt)
    return (g * (p.phi * volt)).add_((1.0 - p.phi) * diode)


def pulse_voltage(
    board: MSSBoard, pulses: torch.Tensor, amplitude_v: torch.Tensor | None, dtype
) -> torch.Tensor:
    """Drive voltage of each device's pulses: V_set for n > 0, V_reset (signed) for n < 0, or ``sign(n)·|amplitude|``."""
    if amplitude_v is None:
        return torch.where(pulses > 0, board.set_voltage_v, board.reset_voltage_v).to(dtype)
    return torch.sign(pulses).to(dtype) * amplitude_v.abs().to(dtype)
