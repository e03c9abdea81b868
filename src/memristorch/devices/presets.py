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


def _factory(device_class, params_class, **fields) -> Callable[..., DeviceModel]:
    base = params_class(**fields)

    def build(**overrides) -> DeviceModel:
        return device_class(base, **overrides)

    return build


def _pulsed(**fields) -> Callable[..., DeviceModel]:
    return _factory(PulsedDevice, PulsedDeviceParams, **fields)


def _mss(**fields) -> Callable[..., DeviceModel]:
    return _factory(MSSDevice, MSSParams, **fields)


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
                read_noise_rel=0.01,
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
            "R_off 1.5 kΩ, V_on = V_off = 0.27 V, τ 0.1 ms; memristor_knowm.sub in knowm/memristor-models-4-all); ±1 V, 1 ms pulses from Knowm's "
            "board defaults, widths a placeholder — calibrate.",
            _mss(),
        ),
        # Knowm M-SDC materials: no public parameter set exists, so these are PLACEHOLDERS shaped to
        # the study's qualitative findings: ±1 V programming on the Knowm board's 5 ms period (1 ms pulse + 4 ms
        # gap), switching slow enough (τ of tens of ms) that one pulse moves G by a few percent; Cr starts
        # (as-fabricated) mid-window, so most targets lie a few pulses away; C switches slowest.
        # `memristorch run onchip-3x3` calibrates them to the study's Cr figures with two stated knobs (a common
        # time scale of τ, pulse and read times, and a set-up power); the presets themselves stay uncalibrated.
        Preset(
            "knowm-w",
            "Knowm M-SDC, tungsten: R_on 1 kΩ, R_off 10 kΩ, V_on/off 0.2 V, τ 20 ms, starts near HRS "
            "(PLACEHOLDER — calibrate; qualitative shape only).",
            _mss(r_on_ohm=1e3, r_off_ohm=10e3, v_on_v=0.2, v_off_v=0.2, tau_s=20e-3, x_init=0.05),
        ),
        Preset(
            "knowm-cr",
            "Knowm M-SDC, chromium: R_on 1 kΩ, R_off 10 kΩ, V_on/off 0.2 V, τ 20 ms, starts mid-window "
            "(PLACEHOLDER — calibrate; shaped so its initial state lands near most targets, as the study reports).",
            _mss(r_on_ohm=1e3, r_off_ohm=10e3, v_on_v=0.2, v_off_v=0.2, tau_s=20e-3, x_init=0.45),
        ),
        Preset(
            "knowm-c",
            "Knowm M-SDC, carbon: R_on 1.5 kΩ, R_off 15 kΩ, V_on/off 0.25 V, τ 40 ms, starts near HRS "
            "(PLACEHOLDER — calibrate; qualitative shape only).",
            _mss(r_on_ohm=1.5e3, r_off_ohm=15e3, v_on_v=0.25, v_off_v=0.25, tau_s=40e-3, x_init=0.05),
        ),
        Preset(
            "finite-32",
            "Linear device with only 32 conductance levels (5-bit), no noise (placeholder — calibrate).",
            _pulsed(response="linear", n_states=32),
        ),
    )
}


def get_device(name: str, **overrides) -> DeviceModel:
    """Build the device preset ``name`` — or load a preset file (``*.yaml`` of any family, e.g. written by ``memristorch fit``) —
    optionally overriding parameter fields."""
    if not isinstance(name, str):
        raise TypeError(
            f"device must be a preset name or a preset file path (str), got {type(name).__name__}"
        )
    if name.endswith((".yaml", ".yml")):
        from .fit import load_preset_file

        device = load_preset_file(name)
        return type(device)(device.params, **overrides) if overrides else device
    if name not in PRESETS:
        raise ValueError(f"device preset must be one of {', '.join(sorted(PRESETS))}; got {name!r}")
    return PRESETS[name].build(**overrides)
