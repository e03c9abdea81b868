"""How an MSS device is driven, chosen once from its parameters: closed form, stochastic switching, series resistor.

Every drive answers the same five requests — pulses, their (noise-free) energy, pulses with the energy of the
trajectory they followed, a long hold, and a waveform — so :class:`~memristorch.devices.mss.MSSDevice` delegates
without an if-ladder per method.
"""

from __future__ import annotations

import torch

from ..base import DeviceState
from .params import MSSParams
from .physics import conductance, current_and_slope, pulse_voltage, relax
from .pulse_train import pulse_train, train_energy
from .series import SeriesPath, series_pulses
from .waveform import WaveformResult, march, march_shared


class ClosedFormDrive:
    """Mean-field devices driven by an ideal source: every pulse train in closed form (no loop over pulses)."""

    def __init__(self, params: MSSParams) -> None:
        self.params = params

    def pulses(self, state, pulses, generator, amplitude_v=None, width_s=None) -> torch.Tensor:
        return pulse_train(self.params, state, pulses, amplitude_v, width_s).x_final.clamp(0.0, 1.0)

    def energy(self, state, pulses, amplitude_v=None, width_s=None) -> torch.Tensor:
        train = pulse_train(self.params, state, pulses, amplitude_v, width_s)
        return train_energy(self.params.physics, state, train)

    def pulses_with_energy(self, state, pulses, generator, amplitude_v=None, width_s=None):
        train = pulse_train(self.params, state, pulses, amplitude_v, width_s)  # one integration for both
        return train.x_final.clamp(0.0, 1.0), train_energy(self.params.physics, state, train)

    def hold(self, state: DeviceState, voltage_v: float, duration_s: float):
        """A bias of ``voltage_v`` for ``duration_s``: one pulse of that width and amplitude, no gap (mean field)."""
        ones = torch.ones_like(state["x"])
        amplitude = torch.full_like(state["x"], abs(voltage_v))
        train = pulse_train(
            self.params, state, ones * (1.0 if voltage_v >= 0 else -1.0), amplitude, duration_s, 0.0
        )
        return train.x_final.clamp(0.0, 1.0), train_energy(self.params.physics, state, train)

    def waveform(self, state, steps, voltages_v, record, generator) -> WaveformResult:
        if voltages_v.dim() > 1:
            return self._march_general(state, steps, voltages_v, record, generator)
        return march_shared(self.params.physics, state, steps, voltages_v.tolist(), record)

    def _march_general(self, state, steps, voltages_v, record, generator) -> WaveformResult:
        """Per-device waveforms and/or stochastic switching: the straightforward loop over time steps."""
        p = self.params.physics

        def current_of(x, v):
            v = torch.as_tensor(v, dtype=x.dtype, device=x.device)
            return current_and_slope(p, v, conductance(state, x))[0]

        return march(
            state,
            steps,
            voltages_v,
            record,
            lambda x, v, dt: relax(p, {**state, "x": x}, v, dt, generator),
            current_of,
        )


class StochasticDrive(ClosedFormDrive):
    """Binomial switching (``n_switches``): pulses stepped one period at a time, vectorised over devices.

    The energy is that of the noise-free trajectory (closed form); holds stay mean-field — a hold long enough to matter
    ends at a bound of the window, where the binomial noise vanishes."""

    def pulses(self, state, pulses, generator, amplitude_v=None, width_s=None) -> torch.Tensor:
        physics, board = self.params.physics, self.params.board
        remaining = pulses.abs().to(torch.int64)
        voltage = pulse_voltage(board, pulses, amplitude_v, state["x"].dtype)
        width = board.pulse_width_s if width_s is None else width_s
        for _ in range(int(remaining.max()) if remaining.numel() else 0):
            active = remaining > 0
            pulsed = relax(physics, state, voltage, width, generator)
            rested = relax(physics, {**state, "x": pulsed}, 0.0, board.pulse_gap_s, generator)
            state = {**state, "x": torch.where(active, rested, state["x"])}
            remaining = remaining - active.to(remaining.dtype)
        return state["x"]

    def pulses_with_energy(self, state, pulses, generator, amplitude_v=None, width_s=None):
        energy = self.energy(state, pulses, amplitude_v, width_s)
        return self.pulses(state, pulses, generator, amplitude_v, width_s), energy

    def waveform(self, state, steps, voltages_v, record, generator) -> WaveformResult:
        return self._march_general(state, steps, voltages_v, record, generator)


class SeriesDrive:
    """Devices behind the series resistor: pulses in predictor–corrector sub-steps; energies are the source's."""

    def __init__(self, params: MSSParams) -> None:
        self.params = params

    def pulses(self, state, pulses, generator, amplitude_v=None, width_s=None) -> torch.Tensor:
        return series_pulses(self.params, state, pulses, amplitude_v, width_s, generator=generator)[0]

    def energy(self, state, pulses, amplitude_v=None, width_s=None) -> torch.Tensor:
        return series_pulses(self.params, state, pulses, amplitude_v, width_s, noisy=False)[1]

    def pulses_with_energy(self, state, pulses, generator, amplitude_v=None, width_s=None):
        return series_pulses(self.params, state, pulses, amplitude_v, width_s, generator=generator)

    def hold(self, state: DeviceState, voltage_v: float, duration_s: float):
        ones = torch.ones_like(state["x"])
        amplitude = torch.full_like(state["x"], abs(voltage_v))
        sign = 1.0 if voltage_v >= 0 else -1.0
        return series_pulses(self.params, state, ones * sign, amplitude, duration_s, 0.0, noisy=False)

    def waveform(self, state, steps, voltages_v, record, generator) -> WaveformResult:
        """Waveform through the series resistor; energy is the source's, ∫ V_source I dt."""
        path = SeriesPath(self.params, state)
        return march(
            state,
            steps,
            voltages_v,
            record,
            lambda x, v, dt: path.step(x, v, dt, generator),
            path.source_current,
        )


def drive_for(params: MSSParams) -> ClosedFormDrive | StochasticDrive | SeriesDrive:
    """The drive of a device with these parameters (a series resistor takes precedence, then switching noise)."""
    if params.board.series_resistance_ohm > 0:
        return SeriesDrive(params)
    if params.physics.n_switches is not None:
        return StochasticDrive(params)
    return ClosedFormDrive(params)
