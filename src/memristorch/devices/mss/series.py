"""The MSS behind a series resistor (the Knowm board's 1 kΩ): the divider, predictor–corrector steps and the
source's energy.

The device sees ``V_d`` with ``V_d + R_s I(V_d) = V_s``: ``V_s / (1 + R_s G)`` for the plain MSS, Newton's method
with the diode path. As ``G`` changes during a pulse, a pulse is integrated in sub-steps, each an exact relaxation at
the divider voltage of the step's midpoint state (second order), with the energy by Simpson's rule (fourth order).
"""

from __future__ import annotations

import math

import torch

from ..base import DeviceState
from .params import MSSParams
from .physics import current_and_slope, pulse_voltage, relaxed, switching_rates

#: Newton steps solving the series divider with the diode path; quadratic convergence from the memristive guess
_DIVIDER_NEWTON_STEPS = 8


class SeriesPath:
    """A tensor of devices behind the series resistor, its per-device constants computed once per drive.

    A step is a predictor at the divider voltage ``V / (1 + R_s G)`` of the start state and a corrector at that of
    the midpoint state (second order), each an exact relaxation at constant voltage; with ``n_switches`` the binomial
    noise is drawn once per step, at the corrector's rates.
    """

    def __init__(self, params: MSSParams, state: DeviceState, noisy: bool = True) -> None:
        self.state, self.physics = state, params.physics
        self.r_s = params.board.series_resistance_ohm
        self.n_switches = params.physics.n_switches if noisy else None
        self.g_off = 1.0 / state["r_off_ohm"]
        self.g_span = 1.0 / state["r_on_ohm"] - self.g_off

    def _divider(self, g: torch.Tensor, v_source) -> torch.Tensor:
        """Voltage across devices of conductance ``g``: ``V_d + R_s I(V_d) = V_s``. Closed form for the plain MSS;
        with the diode path (φ < 1) Newton's method from the memristive-path divider, which converges because the
        left side rises with slope ≥ 1."""
        phi = self.physics.phi
        if phi == 1.0:
            return v_source / (1.0 + self.r_s * g)
        v = v_source / (1.0 + self.r_s * phi * g)
        for _ in range(_DIVIDER_NEWTON_STEPS):
            current, slope = current_and_slope(self.physics, v, g)
            v = v - (v + self.r_s * current - v_source) / (1.0 + self.r_s * slope)
        return v

    def _device_voltage(self, x: torch.Tensor, v_source) -> torch.Tensor:
        return self._divider(torch.addcmul(self.g_off, self.g_span, x), v_source)

    def _rates(self, v_device: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return switching_rates(self.state, v_device, self.physics.thermal_voltage_v)

    def relax(self, x, v_device, duration_s, generator, noisy: bool = True) -> torch.Tensor:
        a, b = self._rates(v_device)
        return relaxed(x, a, b, duration_s, self.n_switches if noisy else None, generator)

    def _corrector_rates(self, x: torch.Tensor, v_source, dt) -> tuple[torch.Tensor, torch.Tensor]:
        """Rates at the divider voltage of the midpoint state, the predictor's (noise-free) step giving the end."""
        predicted = self.relax(x, self._device_voltage(x, v_source), dt, None, noisy=False)
        return self._rates(self._device_voltage(0.5 * (x + predicted), v_source))

    def step(self, x: torch.Tensor, v_source, dt, generator: torch.Generator | None) -> torch.Tensor:
        a, b = self._corrector_rates(x, v_source, dt)
        return relaxed(x, a, b, dt, self.n_switches, generator)

    def step_with_energy(self, x, v_source, dt, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`step` and the source's energy ``∫ V_s I dt`` over it, by Simpson's rule on the corrector's mean
        trajectory (start, half-way and end states), fourth order in the step where the trapezoid rule is second."""
        a, b = self._corrector_rates(x, v_source, dt)
        trajectory: list[torch.Tensor] = []
        x_new = relaxed(x, a, b, dt, self.n_switches, generator, trajectory)
        half, end = trajectory
        current = self.source_current(x, v_source) + 4.0 * self.source_current(half, v_source)
        energy = v_source * (current + self.source_current(end, v_source)) * (dt / 6.0)
        return x_new, energy

    def source_current(self, x: torch.Tensor, v_source) -> torch.Tensor:
        g = torch.addcmul(self.g_off, self.g_span, x)
        if self.physics.phi == 1.0:
            return v_source * g / (1.0 + self.r_s * g)
        return current_and_slope(self.physics, self._divider(g, v_source), g)[0]


def series_pulses(
    p: MSSParams,
    state: DeviceState,
    pulses: torch.Tensor,
    amplitude_v,
    width_s=None,
    gap_s=None,
    generator: torch.Generator | None = None,
    noisy: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``|n|`` periods behind the series resistor, pulse by pulse (vectorized over devices): (x, source energy).

    Sub-steps per pulse: at most ``series_step_rate`` of the fastest device's τ, at most ``series_substeps``. With
    ``n_switches`` (and ``noisy``) every sub-step and gap carries binomial switching noise from ``generator``."""
    width_s = p.board.pulse_width_s if width_s is None else width_s
    gap_s = p.board.pulse_gap_s if gap_s is None else gap_s
    x = state["x"]
    v_source = pulse_voltage(p.board, pulses, amplitude_v, x.dtype)
    remaining = pulses.abs()
    energy = torch.zeros_like(x)
    longest = float(torch.as_tensor(width_s).max()) if torch.is_tensor(width_s) else width_s
    fastest = float(state["tau_s"].min()) if state["tau_s"].numel() else p.physics.tau_s
    numerics = p.numerics
    substeps = min(numerics.series_substeps, max(1, math.ceil(longest / fastest / numerics.series_step_rate)))
    dt = width_s / substeps
    path = SeriesPath(p, state, noisy)
    for _ in range(int(remaining.max()) if remaining.numel() else 0):
        active = remaining > 0
        x_new = x
        pulse_energy = torch.zeros_like(x)
        for _ in range(substeps):
            x_new, step_energy = path.step_with_energy(x_new, v_source, dt, generator)
            pulse_energy = pulse_energy + step_energy
        energy = energy + torch.where(active, pulse_energy, 0.0)
        if gap_s > 0:
            x_new = path.relax(x_new, 0.0, gap_s, generator)
        x = torch.where(active, x_new, x)
        remaining = remaining - active.to(remaining.dtype)
    return x, energy
