"""The generic pulsed device family: conductance moves by a step per programming pulse.

The state of a device is its position ``u`` in [0, 1] between its own bounds, ``G = g_min + u (g_max - g_min)``.
One pulse moves ``u`` by a step whose size depends on the response:

* ``linear`` — constant step ``s`` up and down, hard-clipped at the bounds (the ideal device of aihwkit's
  ``ConstantStepDevice``; Gokmen & Vlasov 2016).
* ``soft_bounds`` — step proportional to the distance left to the bound it moves toward,
  ``Δu = s (1 − u)`` up and ``Δu = −s u`` down (aihwkit ``SoftBoundsDevice``; Fusi & Abbott 2007).
* ``exponential`` — NeuroSim's nonlinear weight-update curve: potentiation follows
  ``u(p) = (1 − e^{−ν p}) / (1 − e^{−ν})`` over normalized pulse number ``p ∈ [0, 1]``, depression its own curve
  with its own ``ν`` (Chen, Peng & Yu, NeuroSim+, IEDM 2017). A batch of pulses is applied by inverting the curve
  to a pulse number, adding the pulses and reading the curve again, as NeuroSim does; ``ν = 0`` is linear.

All three have ``n_states − 1`` nominal steps from bound to bound (``s = 1 / (n_states − 1)``), an up/down
asymmetry ``a`` (``s_up = s (1 + a)``, ``s_down = s (1 − a)``, aihwkit's ``up_down``), D2D variability of the step
sizes and of the bounds sampled once per device, and cycle-to-cycle (C2C) noise: each pulse's step is multiplied by
``1 + σ_c2c ξ``, so ``n`` pulses add a Gaussian of standard deviation ``σ_c2c |Δu| / √n`` to their summed change
(exact for ``linear``, the same law applied to the state-dependent mean change for the others).

Energy of a pulse is Joule heating ``V² G t_width`` at the conductance before the batch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .._compiled import run_parallel, threads_for
from .._rng import generator_device
from .._validation import check_choice, check_conductances, check_pulse_counts, check_range, warn_if_absolute
from . import _pulsed_kernel
from .base import DeviceModel, DeviceState, PulseScheme, resolve_params

RESPONSES = ("linear", "soft_bounds", "exponential")
_FIELDS = ("u", "g_min", "g_max", "step_up", "step_down")
_COMPILED_RESPONSES = {"linear": _pulsed_kernel.LINEAR, "soft_bounds": _pulsed_kernel.SOFT_BOUNDS}
#: below this many pulsed devices one thread updates them all
_SERIAL_UP_TO = 2 * _pulsed_kernel.BLOCK
_NO_CYCLES = np.zeros(0, np.int64)


@dataclass(frozen=True)
class PulsedDeviceParams:
    """Parameters of a generic pulsed device. Every default is a placeholder — calibrate to your device.

    Defaults sketch a filamentary RRAM synapse of the kind peers simulate: 1–100 µS range (a typical analog RRAM
    window, e.g. Yu, Proc. IEEE 106, 2018, Table 1 ranges), 1 V / 100 ns programming pulses (placeholder —
    calibrate), no variability or noise unless asked for.
    """

    response: str = "soft_bounds"
    """How a pulse moves the state: "linear", "soft_bounds" or "exponential" (module docstring). Placeholder —
    calibrate (fit it with ``devices.fit_pulsed``)."""
    g_min_s: float = 1e-6
    """Bottom of the conductance window (siemens). Placeholder — calibrate (1–100 µS: Yu 2018, Table 1 ranges)."""
    g_max_s: float = 100e-6
    """Top of the conductance window (siemens). Placeholder — calibrate."""
    n_states: int = 1000
    """Nominal pulses from bound to bound plus one (step s = 1/(n_states − 1) of the window), ≥ 2. Placeholder —
    calibrate."""
    asymmetry: float = 0.0
    """Up/down step asymmetry a, s_up = s(1 + a), s_down = s(1 − a); dimensionless, in (−1, 1); default 0: off."""
    nonlinearity_up: float = 0.0
    """NeuroSim ν of the potentiation curve (response "exponential" only); dimensionless, in [0, 50]; default 0: off
    (linear)."""
    nonlinearity_down: float = 0.0
    """NeuroSim ν of the depression curve (response "exponential" only); dimensionless, in [0, 50]; default 0: off."""
    d2d_step_std: float = 0.0
    """Device-to-device spread of the step sizes, relative (a std of 0.1 = 10 % of the nominal step), in
    [0, 1]; default 0: off."""
    d2d_bounds_std: float = 0.0
    """Device-to-device spread of g_min and g_max, relative to each, in [0, 0.5]; default 0: off."""
    c2c_std: float = 0.0
    """Cycle-to-cycle noise: each pulse's step is multiplied by 1 + c2c_std·ξ; relative, in [0, 10]; default 0: off."""
    read_noise_rel: float = 0.0
    """Read noise per device read, RELATIVE to g_max (0.01 = 1 % of g_max, not siemens); the absolute std in
    siemens is ``PulsedDevice.read_noise_std_s``; in [0, 1]; default 0: off."""
    set_voltage_v: float = 1.0
    """Amplitude of a potentiating pulse (volts), for its energy V²·G·t. Placeholder — calibrate."""
    reset_voltage_v: float = 1.0
    """Magnitude of a depressing pulse (volts). Placeholder — calibrate."""
    pulse_width_s: float = 100e-9
    """Width of one programming pulse (seconds). Placeholder — calibrate."""
    pulse_period_s: float = 200e-9
    """Pulse plus gap (seconds): what one pulse adds to programming time. Placeholder — calibrate."""

    def __post_init__(self) -> None:
        check_choice("response", self.response, RESPONSES)
        check_range("g_min_s", self.g_min_s, 0.0)
        check_range("g_max_s", self.g_max_s, 0.0, low_inclusive=False)
        if not self.g_min_s < self.g_max_s:
            raise ValueError(
                f"g_min_s must be below g_max_s: got g_min_s={self.g_min_s!r} >= g_max_s={self.g_max_s!r}"
            )
        if isinstance(self.n_states, bool) or not isinstance(self.n_states, int) or self.n_states < 2:
            raise ValueError(f"n_states must be an integer >= 2, got {self.n_states!r}")
        check_range("asymmetry", self.asymmetry, -1.0, 1.0, low_inclusive=False, high_inclusive=False)
        check_range("nonlinearity_up", self.nonlinearity_up, 0.0, 50.0)
        check_range("nonlinearity_down", self.nonlinearity_down, 0.0, 50.0)
        if self.response != "exponential" and (self.nonlinearity_up or self.nonlinearity_down):
            raise ValueError("nonlinearity_up/nonlinearity_down apply only to response='exponential'")
        check_range("d2d_step_std", self.d2d_step_std, 0.0, 1.0)
        check_range("d2d_bounds_std", self.d2d_bounds_std, 0.0, 0.5)
        check_range("c2c_std", self.c2c_std, 0.0, 10.0)
        check_range("read_noise_rel", self.read_noise_rel, 0.0, 1.0)
        warn_if_absolute("read_noise_rel", self.read_noise_rel, "g_max")
        check_range("set_voltage_v", self.set_voltage_v, 0.0)
        check_range("reset_voltage_v", self.reset_voltage_v, 0.0)
        check_range("pulse_width_s", self.pulse_width_s, 0.0, low_inclusive=False)
        check_range("pulse_period_s", self.pulse_period_s, 0.0, low_inclusive=False)
        if self.pulse_period_s < self.pulse_width_s:
            raise ValueError(
                f"pulse_period_s must be >= pulse_width_s ({self.pulse_width_s!r}), got {self.pulse_period_s!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


def _curve(p: torch.Tensor, nu: float) -> torch.Tensor:
    """NeuroSim-style normalized curve u(p); linear for nu = 0."""
    if nu == 0.0:
        return p
    return -torch.expm1(-nu * p) / (-math.expm1(-nu))


def _curve_inverse(u: torch.Tensor, nu: float) -> torch.Tensor:
    if nu == 0.0:
        return u
    return -torch.log1p(u * math.expm1(-nu)) / nu


class PulsedDevice(DeviceModel):
    """A tensor of generic pulsed devices (see the module docstring for the physics)."""

    family = "pulsed"

    def __init__(self, params: PulsedDeviceParams | None = None, **overrides) -> None:
        self.params = params = resolve_params(PulsedDeviceParams, params, overrides)
        self.step = 1.0 / (params.n_states - 1)

    def __repr__(self) -> str:
        return f"PulsedDevice({self.params})"

    # nominal figures ----------------------------------------------------------------------------------------------
    @property
    def g_min_s(self) -> float:
        return self.params.g_min_s

    @property
    def g_max_s(self) -> float:
        return self.params.g_max_s

    @property
    def nominal_step_s(self) -> float:
        p = self.params
        du = _curve(torch.tensor(self.step * (1 + p.asymmetry), device="cpu"), p.nonlinearity_up).item()
        return du * (p.g_max_s - p.g_min_s)

    @property
    def pulse_period_s(self) -> float:
        return self.params.pulse_period_s

    @property
    def pulse_scheme(self) -> PulseScheme:
        p = self.params
        return PulseScheme(p.set_voltage_v, p.reset_voltage_v, p.pulse_width_s, p.pulse_period_s, 0.0)

    @property
    def read_noise_std_s(self) -> float:
        return self.params.read_noise_rel * self.params.g_max_s

    # state --------------------------------------------------------------------------------------------------------
    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState:
        p = self.params
        shape = tuple(shape)
        on = generator_device(generator)

        def spread(nominal: float, std: float) -> torch.Tensor:
            if std == 0.0:
                return torch.full(shape, nominal, device=on)
            return nominal * (1.0 + std * torch.randn(shape, generator=generator, device=on))

        step_floor = 0.01 * self.step
        step_up = spread(self.step * (1 + p.asymmetry), p.d2d_step_std).clamp_(min=step_floor)
        step_down = spread(self.step * (1 - p.asymmetry), p.d2d_step_std).clamp_(min=step_floor)
        g_min = spread(p.g_min_s, p.d2d_bounds_std).clamp_(min=0.0)
        g_max = spread(p.g_max_s, p.d2d_bounds_std)
        g_max = torch.maximum(g_max, g_min + 0.01 * (p.g_max_s - p.g_min_s))
        return {
            "u": torch.zeros(shape, device=on),
            "g_min": g_min,
            "g_max": g_max,
            "step_up": step_up,
            "step_down": step_down,
        }

    def conductance(self, state: DeviceState) -> torch.Tensor:
        return torch.lerp(state["g_min"], state["g_max"], state["u"])

    def set_conductance(self, state: DeviceState, target_s: torch.Tensor) -> DeviceState:
        check_conductances(target_s, state["u"].shape)
        u = ((target_s - state["g_min"]) / (state["g_max"] - state["g_min"])).clamp(0.0, 1.0)
        return {**state, "u": u}

    def _mean_response(self, state: DeviceState, pulses: torch.Tensor, n_abs: torch.Tensor) -> torch.Tensor:
        """Noise-free position after the pulses, closed form for the whole batch of pulses."""
        p = self.params
        u = state["u"]
        up = pulses > 0
        if p.response == "soft_bounds":
            # n pulses toward bound b shrink the distance to it by (1 − s)^n
            log_keep = (
                torch.where(up, state["step_up"], state["step_down"]).clamp_(max=1.0 - 1e-7).neg_().log1p_()
            )
            bound = up.to(u.dtype)
            return log_keep.mul_(n_abs).exp_().mul_(u - bound).add_(bound)
        if p.nonlinearity_up == 0.0 and p.nonlinearity_down == 0.0:
            step = torch.where(up, state["step_up"], state["step_down"].neg())
            return torch.addcmul(u, n_abs, step).clamp_(0.0, 1.0)
        nu_up, nu_down = p.nonlinearity_up, p.nonlinearity_down
        progress_up = _curve_inverse(u, nu_up) + n_abs * state["step_up"]
        u_up = _curve(progress_up.clamp(max=1.0), nu_up)
        progress_down = _curve_inverse(1.0 - u, nu_down) + n_abs * state["step_down"]
        u_down = 1.0 - _curve(progress_down.clamp(max=1.0), nu_down)
        return torch.where(up, u_up, torch.where(pulses < 0, u_down, u))

    def apply_pulses(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> DeviceState:
        check_pulse_counts(pulses, state["u"].shape)
        n_abs = pulses.abs()
        u_new = self._mean_response(state, pulses, n_abs)
        if self.params.c2c_std > 0:
            spread = (u_new - state["u"]).abs_().mul_(n_abs.clamp(min=1.0).rsqrt_())
            noise = torch.randn(u_new.shape, generator=generator, dtype=u_new.dtype, device=u_new.device)
            u_new = u_new.addcmul_(spread, noise, value=self.params.c2c_std)
        return {**state, "u": u_new.clamp_(0.0, 1.0)}

    def pulse_energy_j(self, state: DeviceState, pulses: torch.Tensor) -> torch.Tensor:
        p = self.params
        v2 = torch.where(pulses > 0, p.set_voltage_v**2, p.reset_voltage_v**2)
        return self.conductance(state).mul_(pulses.abs()).mul_(v2).mul_(p.pulse_width_s)

    def total_pulse_energy_j(self, state: DeviceState, pulses: torch.Tensor) -> torch.Tensor:
        p = self.params
        if p.set_voltage_v != p.reset_voltage_v:
            return self.pulse_energy_j(state, pulses).sum()
        return torch.dot(self.conductance(state), pulses.abs()).mul_(p.set_voltage_v**2 * p.pulse_width_s)

    def pulse_at(
        self,
        state: DeviceState,
        device_index: torch.Tensor,
        pulses: torch.Tensor,
        generator: torch.Generator | None = None,
        write_cycles: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`DeviceModel.pulse_at` in one compiled pass (:mod:`~memristorch.devices._pulsed_kernel`) for the
        linear and soft-bounds responses on float32 CPU state; the C2C noise is the same ``torch.randn`` draw
        :meth:`apply_pulses` takes. Anything else takes the generic path."""
        compiled = (
            _pulsed_kernel.AVAILABLE
            and self.params.response in _COMPILED_RESPONSES
            and pulses.dtype == torch.float32
            and device_index.dtype == torch.int64
            and device_index.dim() == 1
            and tuple(pulses.shape) == tuple(device_index.shape)
            and (write_cycles is None or (write_cycles.dtype == torch.int64 and write_cycles.is_contiguous()))
            and all(
                state[name].device.type == "cpu" and state[name].dtype == torch.float32 for name in _FIELDS
            )
        )
        fields = _row_views(state) if compiled else None
        if fields is None:
            return super().pulse_at(state, device_index, pulses, generator, write_cycles)
        index, counts = device_index.numpy(), pulses.contiguous().numpy()
        cycles = _NO_CYCLES if write_cycles is None else write_cycles.view(-1).numpy()
        _pulsed_kernel.check_commit(index, counts, fields[0].size, cycles)  # before any draw or write
        p = self.params
        c2c = p.c2c_std
        if c2c > 0:
            noise = torch.randn(pulses.shape, generator=generator, dtype=torch.float32, device="cpu").numpy()
        else:
            noise = np.empty(0, np.float32)
        v2_width = (p.set_voltage_v**2 * p.pulse_width_s, p.reset_voltage_v**2 * p.pulse_width_s)
        parallel = run_parallel(device_index.numel(), _SERIAL_UP_TO)
        with threads_for(parallel):
            energy, g_after = _pulsed_kernel.pulse_in_place(
                _COMPILED_RESPONSES[p.response], index, counts, noise, c2c, fields, v2_width, cycles, parallel
            )
        return torch.tensor(energy, dtype=torch.float64, device="cpu"), torch.from_numpy(g_after)


def _row_views(state: DeviceState) -> tuple[np.ndarray, ...] | None:
    """The fields the compiled kernel reads, each as a 2-D NumPy view of the same memory (a tile's fields are
    strided views of its device-major buffer); None if some field's trailing dimensions do not merge into one or
    the fields differ in shape."""
    views = []
    for name in _FIELDS:
        field = state[name]
        # a contiguous field is one row; a strided one keeps its first dimension (a tile's device planes)
        rows = 1 if field.is_contiguous() or field.dim() == 0 else field.shape[0]
        try:
            views.append(field.view(rows, -1).numpy())
        except RuntimeError:
            return None
    if any(view.shape != views[0].shape for view in views):
        return None
    return tuple(views)
