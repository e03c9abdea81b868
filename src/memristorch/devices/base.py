"""The device interface every memristorch device model implements.

A device model owns the physics of one device type and works on whole tensors of devices at once. Its state is a
small named collection of tensors (``dict[str, Tensor]``), every one shaped like the device array, so that a tile can
gather a subset of devices, step them, and scatter them back without knowing what the names mean. Per-device
parameters drawn for device-to-device (D2D) variability live in that state too, so they travel with ``state_dict``.

Methods are pure: they return new tensors and never modify the state passed in, which is what lets a failed update
leave the devices exactly as they were.
"""

from __future__ import annotations

import dataclasses
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from .._validation import check_range

DeviceState = dict[str, torch.Tensor]


#: field names renamed to make their unit explicit: old name → new name (the old one is accepted, with a warning)
RENAMED_FIELDS = {"read_noise_std": "read_noise_rel"}


def field_names(params_class) -> tuple[str, ...]:
    """The flat names ``params_class`` is built from: its dataclass fields, or the ``FLAT_FIELDS`` a class that
    groups its fields declares (``MSSParams``: physics, board and numerics)."""
    declared = vars(params_class).get("FLAT_FIELDS")
    return (
        tuple(declared) if declared is not None else tuple(f.name for f in dataclasses.fields(params_class))
    )


def renamed_fields(params_class, overrides: dict) -> dict:
    """``overrides`` with deprecated field names of ``params_class`` mapped to their new names (with a warning)."""
    known = set(field_names(params_class))
    out = dict(overrides)
    for old, new in RENAMED_FIELDS.items():
        if old in out and new in known:
            if new in out:
                raise ValueError(f"give {new!r} or its deprecated name {old!r}, not both")
            warnings.warn(
                f"{params_class.__name__}.{old} is deprecated: it is relative to g_max, so it is now named {new!r}",
                DeprecationWarning,
                stacklevel=4,
            )
            out[new] = out.pop(old)
    return out


def resolve_params(params_class, params, overrides: dict):
    """``params`` (or the class defaults) with ``overrides`` applied; validation runs in the dataclass.

    An override naming no field of ``params_class`` raises ``ValueError`` listing the fields it has; a deprecated
    field name (``RENAMED_FIELDS``) is mapped to its new name with a ``DeprecationWarning``.
    """
    if dataclasses.is_dataclass(params_class):
        overrides = renamed_fields(params_class, overrides)
        known = set(field_names(params_class))
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"{params_class.__name__} has no field {', '.join(map(repr, unknown))}; "
                f"its fields are {', '.join(sorted(known))}"
            )
    if params is None:
        return params_class(**overrides)
    if overrides:
        return params_class(**{**params.to_dict(), **overrides})
    return params


@dataclass(frozen=True)
class PulseScheme:
    """How a device is programmed and read, with one sign convention for every family: both programming
    voltages are magnitudes (a SET pulse is applied at +set_voltage_v, a RESET pulse at −reset_voltage_v)."""

    set_voltage_v: float
    """Magnitude of a potentiating (SET) pulse, volts."""
    reset_voltage_v: float
    """Magnitude of a depressing (RESET) pulse, volts; applied with negative polarity."""
    pulse_width_s: float
    """Width of one programming pulse, seconds."""
    pulse_period_s: float
    """Pulse plus gap, seconds: what one pulse adds to programming time."""
    read_voltage_v: float
    """Read voltage, volts; 0 when the model books no read energy (e.g. the generic pulsed family)."""

    def __post_init__(self) -> None:
        for name in ("set_voltage_v", "reset_voltage_v", "read_voltage_v"):
            check_range(name, getattr(self, name), 0.0)
        check_range("pulse_width_s", self.pulse_width_s, 0.0, low_inclusive=False)
        check_range("pulse_period_s", self.pulse_period_s, self.pulse_width_s)


#: optional capabilities a device model may declare, and the method each one requires
CAPABILITIES = {
    "hold": "hold",  # hold(state, voltage_v, duration_s) -> (state, energy): a long constant bias (reset, relaxation)
    "amplitude": "pulse_with_energy",  # per-device pulse amplitudes (``amplitude_v=``), e.g. ISPP
    "width": "pulse_with_energy",  # per-device pulse widths (``width_s=``)
    "waveform": "apply_waveform",  # an arbitrary voltage waveform in time
}


class DeviceModel(ABC):
    """Physics of one device type, vectorized over any tensor of devices.

    Required: the abstract members below. Optional capabilities are declared in ``capabilities`` (names from
    ``CAPABILITIES``) and checked once, when the class is defined: a class declaring one must define its method.
    Generic callers (program-and-verify, drift) ask :meth:`supports`, never probe attributes.
    """

    #: short registry name of the model family
    family: str = "device"
    #: optional capabilities this model provides (see ``CAPABILITIES``)
    capabilities: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        unknown = set(cls.capabilities) - set(CAPABILITIES)
        if unknown:
            raise TypeError(
                f"{cls.__name__} declares unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}"
            )
        missing = [c for c in cls.capabilities if not callable(getattr(cls, CAPABILITIES[c], None))]
        if missing:
            raise TypeError(
                f"{cls.__name__} declares {missing} but has no {[CAPABILITIES[c] for c in missing]}"
            )

    def supports(self, capability: str) -> bool:
        """Whether this model declares ``capability`` (a name of ``CAPABILITIES``)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"capability must be one of {', '.join(CAPABILITIES)}; got {capability!r}")
        return capability in self.capabilities

    @property
    @abstractmethod
    def pulse_scheme(self) -> PulseScheme:
        """The programming and read voltages and timing of this device (one sign convention for all families)."""

    # -- nominal figures the layers above use to plan (not per-device truths) ------------------------------------
    @property
    @abstractmethod
    def g_min_s(self) -> float:
        """Nominal lowest conductance (siemens)."""

    @property
    @abstractmethod
    def g_max_s(self) -> float:
        """Nominal highest conductance (siemens)."""

    @property
    @abstractmethod
    def nominal_step_s(self) -> float:
        """Nominal conductance change of one potentiating pulse from the low bound (siemens)."""

    @property
    @abstractmethod
    def pulse_period_s(self) -> float:
        """Time one programming pulse occupies, width plus spacing (seconds)."""

    @property
    @abstractmethod
    def read_noise_std_s(self) -> float:
        """Standard deviation of the additive Gaussian conductance noise of one read (siemens)."""

    # -- state ---------------------------------------------------------------------------------------------------
    @abstractmethod
    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState:
        """Fresh devices of the given shape, with their D2D parameters sampled."""

    @abstractmethod
    def conductance(self, state: DeviceState) -> torch.Tensor:
        """Noise-free conductance of every device (siemens)."""

    @abstractmethod
    def apply_pulses(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> DeviceState:
        """New state after ``pulses`` signed programming pulses per device (+ potentiate, − depress)."""

    @abstractmethod
    def pulse_energy_j(self, state: DeviceState, pulses: torch.Tensor) -> torch.Tensor:
        """Energy (joule) each device dissipates while receiving ``pulses`` from ``state``."""

    def pulse_with_energy(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None, **kwargs
    ) -> tuple[DeviceState, torch.Tensor]:
        """``(apply_pulses(...), pulse_energy_j(...))`` in one call; models that integrate both together override it
        to do the work once. Extra keyword arguments (e.g. ``amplitude_v``) go to both."""
        energy = self.pulse_energy_j(state, pulses, **kwargs)
        return self.apply_pulses(state, pulses, generator, **kwargs), energy

    def total_pulse_energy_j(self, state: DeviceState, pulses: torch.Tensor) -> torch.Tensor:
        """Summed energy of ``pulse_energy_j`` (a scalar tensor); models may override with a cheaper form."""
        return self.pulse_energy_j(state, pulses).sum()

    def pulse_with_total_energy(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[DeviceState, torch.Tensor]:
        """New state after ``pulses`` and the summed energy (a scalar tensor) of the trajectory the devices followed.

        The default books :meth:`total_pulse_energy_j` — exact for models whose energy does not depend on the random
        draws — and then applies the pulses; a model that integrates state and energy together (e.g. behind a
        series resistor) overrides this to do that once, along the path it actually took.
        """
        energy = self.total_pulse_energy_j(state, pulses)
        return self.apply_pulses(state, pulses, generator), energy

    def pulse_at(
        self,
        state: DeviceState,
        device_index: torch.Tensor,
        pulses: torch.Tensor,
        generator: torch.Generator | None = None,
        write_cycles: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The commit step of a tile's update: ``pulses`` on the devices at flat indices ``device_index`` (distinct;
        row-major whatever the memory layout) of ``state`` (whole arrays, changed in place); returns the summed
        energy (a scalar tensor) and those devices' conductances after. ``write_cycles`` (int64, shaped like the
        state), if given, has each device's |pulses| added to it.

        Unlike the pure methods above, this one writes into ``state``: a tile calls it only once every check of the
        update has passed, and it must not fail on valid input. The default gathers the devices, runs
        :meth:`pulse_with_total_energy` and writes back the fields that changed; a model may override it with a
        fused kernel that takes the same random draws and gives the same physics.
        """
        # take and put_ index any layout (a tile's fields are strided views)
        subset = {name: value.take(device_index) for name, value in state.items()}
        new, energy = self.pulse_with_total_energy(subset, pulses, generator)
        for name, value in state.items():
            if new[name] is not subset[name]:
                value.put_(device_index, new[name])
        if write_cycles is not None:
            write_cycles.view(-1).index_add_(0, device_index, pulses.to(torch.int64).abs_())
        return energy, self.conductance(new)

    @abstractmethod
    def set_conductance(self, state: DeviceState, target_s: torch.Tensor) -> DeviceState:
        """Ideal write: each device placed at the reachable conductance nearest ``target_s``."""

    def read(self, state: DeviceState, generator: torch.Generator | None = None) -> torch.Tensor:
        """Conductance as one read sees it: the noise-free value plus Gaussian read noise."""
        g = self.conductance(state)
        if self.read_noise_std_s > 0:
            noise = torch.randn(g.shape, generator=generator, dtype=g.dtype, device=g.device)
            g = g + self.read_noise_std_s * noise
        return g
