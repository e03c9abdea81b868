"""The MSS device model: the device contract (:class:`~memristorch.devices.base.DeviceModel`) over the physics,
pulse-train, series-resistor and waveform modules, with its drive chosen once from the parameters."""

from __future__ import annotations

import torch

from ..._rng import generator_device
from ..._validation import check_conductances, check_pulse_counts, check_range
from ..base import DeviceModel, DeviceState, PulseScheme, resolve_params
from .drives import drive_for
from .params import FIELDS_WITH_D2D, MSSParams
from .physics import conductance, current_and_slope
from .waveform import WaveformResult, checked_waveform


def _check_drive(state: DeviceState, pulses, amplitude_v, width_s) -> None:
    """Pulse counts whole and in range; per-device amplitudes and widths, if given, finite, positive, shaped alike."""
    shape = state["x"].shape
    check_pulse_counts(pulses, shape)
    for name, value in (("amplitude_v", amplitude_v), ("width_s", width_s)):
        if value is None:
            continue
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(shape):
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{name} must be a tensor shaped like the devices {tuple(shape)}, got {got}")
        if value.numel() and not bool((torch.isfinite(value) & (value > 0)).all()):
            raise ValueError(f"{name} must be finite and > 0 for every device; no device was changed")


class MSSDevice(DeviceModel):
    """A tensor of generalized MSS memristors (see :mod:`memristorch.devices.mss`)."""

    family = "mss"
    #: a long bias (reset, relaxation at 0 V), per-device pulse amplitude (ISPP) and width, arbitrary waveforms
    capabilities = frozenset({"hold", "amplitude", "width", "waveform"})

    def __init__(self, params: MSSParams | None = None, **overrides) -> None:
        self.params = resolve_params(MSSParams, params, overrides)
        self._drive = drive_for(self.params)

    def __repr__(self) -> str:
        return f"MSSDevice({self.params})"

    # nominal figures ----------------------------------------------------------------------------------------------
    @property
    def g_min_s(self) -> float:
        return 1.0 / self.params.physics.r_off_ohm

    @property
    def g_max_s(self) -> float:
        return 1.0 / self.params.physics.r_on_ohm

    @property
    def nominal_step_s(self) -> float:
        """Mean-field change of one SET pulse of the nominal device from the low bound (a planning figure: no
        switching noise and no device-to-device draw, so it is the same in every process and draws no random
        number)."""
        p = self.params.physics
        device = (
            self
            if p.n_switches is None and p.d2d_std == 0.0
            else MSSDevice(self.params, n_switches=None, d2d_std=0.0)
        )
        with torch.device("cpu"):  # a host figure, whatever device the tiles are on
            state = device.init_state((1,))
            state = device.set_conductance(state, torch.tensor([device.g_min_s]))
            after = device.apply_pulses(state, torch.ones(1))
            return float(device.conductance(after) - device.conductance(state))

    @property
    def pulse_period_s(self) -> float:
        return self.params.board.pulse_width_s + self.params.board.pulse_gap_s

    @property
    def pulse_scheme(self) -> PulseScheme:
        p = self.params.board  # a signed reset voltage (the drive's polarity); the scheme takes its magnitude
        return PulseScheme(
            p.set_voltage_v, -p.reset_voltage_v, p.pulse_width_s, self.pulse_period_s, p.read_voltage_v
        )

    @property
    def read_noise_std_s(self) -> float:
        return self.params.physics.read_noise_rel * self.g_max_s

    # state --------------------------------------------------------------------------------------------------------
    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState:
        p = self.params.physics
        shape = tuple(shape)
        dtype = getattr(torch, self.params.numerics.dtype)
        on = generator_device(generator)
        state = {"x": torch.full(shape, p.x_init, dtype=dtype, device=on)}
        for name in FIELDS_WITH_D2D:
            nominal = getattr(p, name)
            if p.d2d_std == 0.0:
                state[name] = torch.full(shape, nominal, dtype=dtype, device=on)
            else:  # log-normal with median `nominal` and log-std d2d_std
                noise = torch.randn(shape, generator=generator, dtype=torch.float64, device=on)
                state[name] = (nominal * torch.exp(p.d2d_std * noise)).to(dtype)
        # a device whose drawn R_on is not below its R_off would be no memristor: keep a 1 % window at least
        state["r_off_ohm"] = torch.maximum(state["r_off_ohm"], 1.01 * state["r_on_ohm"])
        return state

    def conductance(self, state: DeviceState) -> torch.Tensor:
        return conductance(state)

    def set_conductance(self, state: DeviceState, target_s: torch.Tensor) -> DeviceState:
        check_conductances(target_s, state["x"].shape)
        g_on, g_off = 1.0 / state["r_on_ohm"], 1.0 / state["r_off_ohm"]
        x = ((target_s.to(g_on.dtype) - g_off) / (g_on - g_off)).clamp(0.0, 1.0)
        return {**state, "x": x}

    def current(self, state: DeviceState, voltage_v: torch.Tensor | float) -> torch.Tensor:
        """Instantaneous device current (A) at ``voltage_v`` (broadcast against the devices)."""
        v = torch.as_tensor(voltage_v, dtype=state["x"].dtype, device=state["x"].device)
        return current_and_slope(self.params.physics, v, self.conductance(state))[0]

    # drive --------------------------------------------------------------------------------------------------------
    def apply_waveform(
        self,
        state: DeviceState,
        times_s: torch.Tensor,
        voltages_v: torch.Tensor,
        record: bool = False,
        generator: torch.Generator | None = None,
    ) -> WaveformResult:
        """Drive every device with the waveform ``voltages_v`` sampled at ``times_s`` (1-D, increasing).

        The voltage may also carry one sample row per device: shape ``(len(times_s), *device_shape)``. Returns the
        final state, the energy ``∫ V I dt`` each device dissipated (trapezoid rule on the samples; the source's,
        behind a series resistor) and, with ``record``, the current and state at every sample.
        """
        steps, voltages_v = checked_waveform(times_s, voltages_v)
        return self._drive.waveform(state, steps, voltages_v, record, generator)

    def apply_pulses(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        generator: torch.Generator | None = None,
        amplitude_v: torch.Tensor | None = None,
        width_s: torch.Tensor | None = None,
    ) -> DeviceState:
        """``|n|`` pulses (SET if n > 0, RESET if n < 0), each followed by the gap; ``amplitude_v`` overrides the
        magnitude of each device's pulse voltage and ``width_s`` its pulse width."""
        _check_drive(state, pulses, amplitude_v, width_s)
        return {**state, "x": self._drive.pulses(state, pulses, generator, amplitude_v, width_s)}

    def pulse_energy_j(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        amplitude_v: torch.Tensor | None = None,
        width_s: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``Σ ∫ V I dt`` over the pulses (the gaps at 0 V dissipate nothing), along the noise-free trajectory;
        :meth:`pulse_with_energy` gives the energy of the (noisy, behind a resistor) trajectory it also returns."""
        _check_drive(state, pulses, amplitude_v, width_s)
        return self._drive.energy(state, pulses, amplitude_v, width_s)

    def pulse_with_energy(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        generator: torch.Generator | None = None,
        amplitude_v: torch.Tensor | None = None,
        width_s: torch.Tensor | None = None,
    ) -> tuple[DeviceState, torch.Tensor]:
        """New state and energy of the pulses from one integration."""
        _check_drive(state, pulses, amplitude_v, width_s)
        x, energy = self._drive.pulses_with_energy(state, pulses, generator, amplitude_v, width_s)
        return {**state, "x": x}, energy

    def pulse_with_total_energy(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[DeviceState, torch.Tensor]:
        """One integration for the new state and its summed energy (see :meth:`pulse_with_energy`)."""
        new, energy = self.pulse_with_energy(state, pulses, generator)
        return new, energy.sum()

    def hold(
        self, state: DeviceState, voltage_v: float, duration_s: float
    ) -> tuple[DeviceState, torch.Tensor]:
        """Hold every device at ``voltage_v`` for ``duration_s`` (e.g. a long RESET): new state and energy (J).

        Mean-field even with ``n_switches``: a hold long enough to matter ends at a bound of the window, where the
        binomial switching noise vanishes."""
        check_range("duration_s", duration_s, 0.0, low_inclusive=False)
        x, energy = self._drive.hold(state, voltage_v, duration_s)
        return {**state, "x": x}, energy
