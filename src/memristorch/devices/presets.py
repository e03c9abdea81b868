"""Named device presets. Each says where its numbers come from; all pulsed presets are placeholders — calibrate.

A preset is a factory returning a fresh :class:`DeviceModel`; ``get_device("soft-bounds", c2c_std=0.05)`` overrides
fields of the preset's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .base import DeviceModel
from .mss import MSSDevice, MSSParams
from .pulsed import PulsedDevice, PulsedDeviceParams


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    build: Callable[..., DeviceModel]


def _pulsed(**fields) -> Callable[..., DeviceModel]:
    base = PulsedDeviceParams(**fields)

    def build(**overrides) -> DeviceModel:
        return PulsedDevice(base, **overrides)

    return build


def _mss(**fields) -> Callable[..., DeviceModel]:
    base = MSSParams(**fields)

    def build(**overrides) -> DeviceModel:
        return MSSDevice(base, **overrides)

    return build


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "ideal",
            "Linear device with 10,000 states, no variability or noise: the float limit (reference only).",
            _pulsed(response="linear", n_states=10_000),
        ),
        Preset(
            "linear",
            "Constant step, 1,000 states, hard bounds, no noise (aihwkit ConstantStep-like; placeholder — calibrate).",
            _pulsed(response="linear", n_states=1000),
        ),
        Preset(
            "soft-bounds",
            "Soft-bounds step, 1,000 states, 10 % D2D step spread, 5 % D2D bounds, 10 % C2C, 1 % read noise "
            "(aihwkit SoftBounds-like magnitudes; placeholder — calibrate).",
            _pulsed(
                response="soft_bounds",
                n_states=1000,
                d2d_step_std=0.1,
                d2d_bounds_std=0.05,
                c2c_std=0.1,
                read_noise_std=0.01,
            ),
        ),
        Preset(
            "exponential",
            "NeuroSim-style nonlinear LTP/LTD (ν_up 2, ν_down 4), 200 states, 20 % up/down asymmetry, 3 % C2C "
            "(shape as in NeuroSim+ examples; placeholder — calibrate).",
            _pulsed(
                response="exponential",
                n_states=200,
                nonlinearity_up=2.0,
                nonlinearity_down=4.0,
                asymmetry=0.2,
                c2c_std=0.03,
            ),
        ),
        Preset(
            "knowm-reference",
            "Metastable-switch memristor with the example parameters of Knowm's public SPICE model (R_on 500 Ω, "
            "R_off 1.5 kΩ, V_on = V_off = 0.27 V, τ 0.1 ms; science.md §2.4); ±1 V, 1 ms pulses from Knowm's "
            "board defaults, widths a placeholder — calibrate.",
            _mss(),
        ),
        Preset(
            "finite-32",
            "Linear device with only 32 conductance levels (5-bit), no noise (placeholder — calibrate).",
            _pulsed(response="linear", n_states=32),
        ),
    )
}


def get_device(name: str, **overrides) -> DeviceModel:
    """Build the device preset ``name``, optionally overriding parameter fields."""
    if name not in PRESETS:
        raise ValueError(f"device preset must be one of {', '.join(sorted(PRESETS))}; got {name!r}")
    return PRESETS[name].build(**overrides)
