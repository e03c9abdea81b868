"""Closed-loop programming: program-and-verify of every device to a target conductance, with its time and energy.

Each device is singled out and written in turn (the study's switch matrix), so times add up over devices. One
iteration reads all unfinished devices at the read voltage, stops those within ``tolerance`` of their target, and
gives every other one a single SET pulse if it reads low or a RESET pulse if it reads high, until ``max_pulses``.
With ``ispp_step_v > 0`` a device's pulse amplitude grows by that step with every pulse in the same direction and
falls back to the nominal amplitude when the direction flips (incremental-step pulse programming). With
``width_step_down < 1`` a device's pulse width shrinks by that factor every time its direction flips, i.e. each
time it overshot its target, down to ``min_width_fraction`` of the nominal width: the steps then shrink
geometrically and a tolerance tighter than one nominal pulse's step can still be met (adaptive pulse width; the gap
after each pulse stays as it was). An optional initial reset holds every device at the RESET voltage for
``reset_duration_s`` first (Eslami et al. 2024, arXiv 2408.14680, used 200 ms).

Accounting: time = Σ_devices [t_reset·1{reset} + Σ_pulses (t_width + t_gap) + reads·t_read];
energy = Σ ∫ V·I dt over reset, pulses and reads. The loop runs over iterations, never over devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_range
from ..devices.base import DeviceModel, DeviceState


@dataclass(frozen=True)
class VerifyConfig:
    """Program-and-verify settings. ``read_time_s`` is a placeholder — calibrate to your read circuit. Defaults are
    fixed pulses (``ispp_step_v = 0``, ``width_step_down = 1``), the scheme this project proposes for the on-chip study;
    ``min_width_fraction`` (1/64) is a placeholder floor for adaptive widths."""

    tolerance: float = 0.05
    """Verify window: a device passes when |G − G*| ≤ tolerance · G*, in (0, 1) (the on-chip study's 5 %)."""
    max_pulses: int = 100
    """Most write pulses per device before it is reported as not converged, an integer ≥ 1. Placeholder."""
    reset: bool = False
    """Start with one long RESET hold at the RESET voltage (the on-chip study's optional reset); needs the "hold"
    capability."""
    reset_duration_s: float = 0.2
    """Length of that reset pulse, s, > 0 (200 ms: Eslami et al. 2024)."""
    read_time_s: float = 1e-3
    """Time of one verify read, s, ≥ 0. Placeholder — calibrate to your read circuit."""
    ispp_step_v: float = 0.0
    """Incremental step-pulse programming: amplitude added after every pulse in the same direction, V, ≥ 0 (0: fixed
    pulses). Needs a device with the "amplitude" capability."""
    ispp_max_v: float = 2.0
    """Largest amplitude ISPP may reach, V, > 0. Placeholder."""
    width_step_down: float = 1.0
    """Adaptive width: factor the pulse width shrinks by after an overshoot, in (0, 1] (1: fixed width). Needs the
    "width" capability."""
    min_width_fraction: float = 1.0 / 64
    """Floor of the adaptive width, as a fraction of the nominal width, in (0, 1]. Placeholder."""

    def __post_init__(self) -> None:
        check_range("tolerance", self.tolerance, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        if isinstance(self.max_pulses, bool) or not isinstance(self.max_pulses, int) or self.max_pulses < 1:
            raise ValueError(f"max_pulses must be an integer >= 1, got {self.max_pulses!r}")
        check_range("reset_duration_s", self.reset_duration_s, 0.0, low_inclusive=False)
        check_range("read_time_s", self.read_time_s, 0.0)
        check_range("ispp_step_v", self.ispp_step_v, 0.0)
        check_range("ispp_max_v", self.ispp_max_v, 0.0, low_inclusive=False)
        check_range("width_step_down", self.width_step_down, 0.0, 1.0, low_inclusive=False)
        check_range("min_width_fraction", self.min_width_fraction, 0.0, 1.0, low_inclusive=False)


@dataclass(frozen=True)
class ProgramReport:
    """Per-device outcome of program-and-verify (tensors shaped like the devices)."""

    converged: torch.Tensor
    reachable: torch.Tensor
    pulses: torch.Tensor
    reads: torch.Tensor
    time_s: torch.Tensor
    energy_j: torch.Tensor
    relative_error: torch.Tensor

    def summary(self) -> dict[str, float]:
        return {
            "devices": int(self.converged.numel()),
            "converged_fraction": float(self.converged.double().mean()),
            "unreachable": int((~self.reachable).sum()),
            # of the targets inside their device's own window, the share met (vacuously 1.0 when there are none)
            "converged_reachable_fraction": float(self.converged[self.reachable].double().mean())
            if bool(self.reachable.any())
            else 1.0,
            "pulses": int(self.pulses.sum()),
            "mean_pulses": float(self.pulses.double().mean()),
            "max_pulses": int(self.pulses.max()),
            "reads": int(self.reads.sum()),
            "time_s": float(self.time_s.sum()),
            "energy_j": float(self.energy_j.sum()),
            "mean_abs_relative_error": float(self.relative_error.abs().mean()),
        }


def program_and_verify(
    device: DeviceModel,
    state: DeviceState,
    target_s: torch.Tensor,
    config: VerifyConfig | None = None,
    generator: torch.Generator | None = None,
) -> tuple[DeviceState, ProgramReport]:
    """Program every device toward ``target_s``; returns the new state and a :class:`ProgramReport`.

    Targets outside a device's own conductance window cannot be met: they are reported as unreachable and not
    converged (the device is still driven toward the nearer bound), never an exception mid-run.
    """
    if config is not None and not isinstance(config, VerifyConfig):
        raise TypeError(f"config must be a VerifyConfig or None, got {type(config).__name__}")
    config = config or VerifyConfig()
    first = state[next(iter(state))]
    target_s = torch.as_tensor(target_s, dtype=first.dtype, device=first.device)
    if target_s.shape != state[next(iter(state))].shape:
        raise ValueError(f"target_s must have the devices' shape {tuple(state[next(iter(state))].shape)}")
    if not bool(torch.isfinite(target_s).all()) or bool((target_s <= 0).any()):
        raise ValueError("target_s must be finite and positive (siemens)")
    if config.ispp_step_v > 0 and not device.supports("amplitude"):
        raise ValueError(
            f"ispp_step_v > 0 needs a device with per-pulse amplitudes; {type(device).__name__} has none"
        )
    if config.width_step_down < 1 and not device.supports("width"):
        raise ValueError(
            f"width_step_down < 1 needs a device with per-pulse widths; {type(device).__name__} has none"
        )
    scheme = device.pulse_scheme
    read_v = scheme.read_voltage_v
    shape = target_s.shape
    on = {"device": first.device}  # every tensor below lives where the devices' state does

    energy = torch.zeros(shape, dtype=torch.float64, **on)
    time = torch.zeros(shape, dtype=torch.float64, **on)
    if config.reset:
        if not device.supports("hold"):
            raise ValueError(f"reset needs a device that can hold a voltage; {type(device).__name__} cannot")
        state, reset_energy = device.hold(state, -scheme.reset_voltage_v, config.reset_duration_s)
        energy += reset_energy.double()
        time += config.reset_duration_s

    g_on = device.set_conductance(state, torch.full(shape, float("inf"), **on))
    g_off = device.set_conductance(state, torch.zeros(shape, **on))
    reachable = (target_s <= device.conductance(g_on) * (1 + config.tolerance)) & (
        target_s >= device.conductance(g_off) * (1 - config.tolerance)
    )

    pulses = torch.zeros(shape, dtype=torch.int64, **on)
    reads = torch.zeros(shape, dtype=torch.int64, **on)
    active = torch.ones(shape, dtype=torch.bool, **on)
    amplitude = None
    last_direction = torch.zeros(shape, **on)
    if config.ispp_step_v > 0:
        amplitude = torch.full(shape, float(scheme.set_voltage_v), dtype=torch.float64, **on)
    width = None
    pulse_time = torch.zeros(shape, dtype=torch.float64, **on)  # booked pulse by pulse when widths vary
    if config.width_step_down < 1:
        nominal_width = float(scheme.pulse_width_s)
        width = torch.full(shape, nominal_width, dtype=target_s.dtype, **on)
    period = device.pulse_period_s
    for _ in range(config.max_pulses + 1):
        read = device.read(state, generator)
        reads += active.long()
        energy += torch.where(active, read_v**2 * read.double() * config.read_time_s, 0.0)
        error = (read - target_s) / target_s
        active &= error.abs() > config.tolerance
        if not bool(active.any()) or int(pulses.max()) >= config.max_pulses:
            break
        direction = torch.where(active, torch.where(error < 0, 1.0, -1.0), 0.0)
        shape_of_pulse = {}
        if amplitude is not None:
            nominal = torch.where(direction > 0, scheme.set_voltage_v, scheme.reset_voltage_v)
            same = direction == last_direction
            amplitude = torch.where(
                same, (amplitude + config.ispp_step_v).clamp(max=config.ispp_max_v), nominal
            )
            shape_of_pulse["amplitude_v"] = amplitude
        if width is not None:
            overshot = active & (last_direction != 0) & (direction != last_direction)
            shrunk = (width * config.width_step_down).clamp(min=nominal_width * config.min_width_fraction)
            width = torch.where(overshot, shrunk, width)
            shape_of_pulse["width_s"] = width
            pulse_time += torch.where(active, width.double() + (period - nominal_width), 0.0)
        state, pulse_energy = device.pulse_with_energy(state, direction, generator, **shape_of_pulse)
        energy += pulse_energy.double()
        last_direction = torch.where(active, direction, last_direction)
        pulses += active.long()
    if width is None:
        pulse_time = pulses.double() * period
    time += pulse_time + reads.double() * config.read_time_s
    final = device.conductance(state)
    relative_error = (final - target_s) / target_s
    converged = (relative_error.abs() <= config.tolerance) & reachable
    report = ProgramReport(converged, reachable, pulses, reads, time, energy, relative_error)
    return state, report
