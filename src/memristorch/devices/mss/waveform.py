"""Driving MSS devices with arbitrary voltage waveforms: time stepping at the midpoint voltage, trapezoid energy.

Between two samples the devices relax exactly at the mean of the two voltages (second order in the step); the
energy ``∫ V I dt`` is the trapezoid rule on the samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..base import DeviceState
from .params import MSSPhysics
from .physics import current_at_scalar_voltage


@dataclass(frozen=True)
class WaveformResult:
    """What driving devices with a waveform produced: final state, dissipated energy, optional traces."""

    state: DeviceState
    energy_j: torch.Tensor
    current_a: torch.Tensor | None = None
    x: torch.Tensor | None = None


def sine_waveform(amplitude_v: float, frequency_hz: float, duration_s: float, step_s: float):
    """Sample times and voltages of ``amplitude · sin(2π f t)``."""
    n = int(round(duration_s / step_s)) + 1
    t = torch.linspace(0.0, duration_s, n, dtype=torch.float64)
    return t, amplitude_v * torch.sin(2 * math.pi * frequency_hz * t)


def checked_waveform(times_s, voltages_v) -> tuple[torch.Tensor, torch.Tensor]:
    """(time steps, voltages) in float64 after checking: 1-D increasing times, one voltage sample per time, finite."""
    times_s = torch.as_tensor(times_s, dtype=torch.float64)
    voltages_v = torch.as_tensor(voltages_v, dtype=torch.float64)
    if times_s.dim() != 1 or len(times_s) < 2:
        raise ValueError(f"times_s must be 1-D with at least 2 samples, got shape {tuple(times_s.shape)}")
    if voltages_v.shape[0] != len(times_s):
        raise ValueError(f"voltages_v must have {len(times_s)} samples, got {voltages_v.shape[0]}")
    if not (torch.isfinite(times_s).all() and torch.isfinite(voltages_v).all()):
        raise ValueError("times_s and voltages_v must be finite (no NaN or inf)")
    steps = times_s.diff()
    if not bool((steps > 0).all()):
        raise ValueError("times_s must be strictly increasing")
    return steps, voltages_v


def march(
    state: DeviceState,
    steps: torch.Tensor,
    voltages_v: torch.Tensor,
    record: bool,
    step: Callable,
    current_of: Callable,
) -> WaveformResult:
    """March ``x`` through the samples with ``step(x, v_mid, dt)``; trapezoid energy of ``V · current_of(x, V)``."""
    x = state["x"]
    current = current_of(x, voltages_v[0])
    energy = torch.zeros_like(x)
    x_trace, i_trace = ([x], [current]) if record else (None, None)
    for k, dt in enumerate(steps.tolist()):
        x = step(x, 0.5 * (voltages_v[k] + voltages_v[k + 1]), dt)
        next_current = current_of(x, voltages_v[k + 1])
        energy = energy + 0.5 * dt * (voltages_v[k] * current + voltages_v[k + 1] * next_current)
        current = next_current
        if record:
            x_trace.append(x)
            i_trace.append(current)
    state = {**state, "x": x}
    if record:
        return WaveformResult(state, energy, torch.stack(i_trace), torch.stack(x_trace))
    return WaveformResult(state, energy)


def march_shared(p: MSSPhysics, state: DeviceState, steps: torch.Tensor, volts: list[float], record: bool):
    """Fast path: one waveform for all devices, mean dynamics; per-device constants hoisted out of the loop.

    The logistic rates factor into a per-device constant and a per-step scalar:
    ``a = σ((V − V_on)/V_T)/τ = 1 / (τ + τ e^{V_on/V_T} · e^{−V/V_T})`` and likewise
    ``b = 1 / (τ + τ e^{V_off/V_T} · e^{V/V_T})``, so a step costs one exponential per device (the decay)
    instead of three. Where ``τ e^{V_on/V_T}`` overflows the dtype the step falls back to the logistic form.
    """
    vt = p.thermal_voltage_v
    tau = state["tau_s"]
    tau_k_on = tau * torch.exp(state["v_on_v"] / vt)
    tau_k_off = tau * torch.exp(state["v_off_v"] / vt)
    factored = bool(torch.isfinite(tau_k_on).all() and torch.isfinite(tau_k_off).all())
    tiny = torch.finfo(tau.dtype).tiny
    inv_tau = 1.0 / tau
    neg_von = -state["v_on_v"] / vt
    neg_voff = -state["v_off_v"] / vt
    g_off = 1.0 / state["r_off_ohm"]
    g_span = 1.0 / state["r_on_ohm"] - g_off
    x = state["x"].clone()
    g = torch.addcmul(g_off, g_span, x)
    current = current_at_scalar_voltage(p, g, volts[0])
    energy = torch.zeros_like(x)
    x_trace, i_trace = ([x.clone()], [current]) if record else (None, None)
    for k, dt in enumerate(steps.tolist()):
        z = 0.5 * (volts[k] + volts[k + 1]) / vt
        if factored and abs(z) < 700.0:  # e^{±z} finite in float64 arithmetic
            a = torch.add(tau, tau_k_on, alpha=math.exp(-z)).reciprocal_()
            rate = torch.add(tau, tau_k_off, alpha=math.exp(z)).reciprocal_().add_(a)
        else:
            a = torch.add(neg_von, z).sigmoid_().mul_(inv_tau)
            # both rates can underflow to 0 (high thresholds in float32): then x must stay, not become 0/0
            rate = torch.sub(neg_voff, z).sigmoid_().mul_(inv_tau).add_(a).clamp_(min=tiny)
        x_inf = a.div_(rate)
        decay = rate.mul_(-dt).exp_()
        x.sub_(x_inf).mul_(decay).add_(x_inf)  # exact relaxation at the step's midpoint voltage
        torch.addcmul(g_off, g_span, x, out=g)
        next_current = current_at_scalar_voltage(p, g, volts[k + 1])
        energy.add_(current, alpha=0.5 * dt * volts[k]).add_(next_current, alpha=0.5 * dt * volts[k + 1])
        current = next_current
        if record:
            x_trace.append(x.clone())
            i_trace.append(current)
    state = {**state, "x": x}
    if record:
        return WaveformResult(state, energy, torch.stack(i_trace), torch.stack(x_trace))
    return WaveformResult(state, energy)
