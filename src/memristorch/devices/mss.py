"""The generalized mean metastable-switch (MSS) memristor, a time-domain device driven by voltage waveforms.

Physics (Molter & Nugent, "The Generalized Metastable Switch Memristor Model", CNNA 2016, arXiv 1608.04659; Knowm's
public SPICE/Xyce models): the state ``x ∈ [0, 1]`` is the fraction of metastable switches in their conducting
state, ``G(x) = x / R_on + (1 − x) / R_off``. Under a voltage ``V`` switches turn on with probability
``p_on = σ((V − V_on) / V_T)`` and off with ``p_off = σ(−(V + V_off) / V_T)`` per time ``τ`` (σ the logistic
function, ``V_T = k_B T / q``), so ``dx/dt = a (1 − x) − b x`` with ``a = p_on / τ``, ``b = p_off / τ``. The
device current is ``I = φ V G(x) + (1 − φ) (s_fa e^{s_fb V} − s_ra e^{−s_rb V})``: the memristive path mixed with a
Schottky-diode path (φ = 1: plain MSS).

Integration: at constant ``V`` the state relaxes exactly, ``x(t + Δt) = x_∞ + (x − x_∞) e^{−(a + b) Δt}`` with
``x_∞ = a / (a + b)``; an arbitrary waveform is stepped with the rates of its midpoint voltage (second order in the
step). A programming pulse train (``n`` pulses of width ``w`` separated by a gap at 0 V) is an affine map per period,
so ``n`` periods and the energy they dissipate have closed forms: no loop over pulses.

Optional stochastic switching (``n_switches``): the numbers of switches turning on and off in a step are binomial,
drawn in their normal approximation, which gives cycle-to-cycle noise; behind a series resistor it is drawn once per
predictor–corrector sub-step. D2D: each device draws its own ``R_on``, ``R_off``, ``V_on``, ``V_off`` and ``τ``
from log-normal spreads at creation. State is float64 by default (``dtype="float32"`` halves memory and time for
large arrays, at ~1e-7 relative precision of the state).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from .._validation import check_conductances, check_pulse_counts, check_range, warn_if_absolute
from .base import DeviceModel, DeviceState, PulseScheme, resolve_params

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19
_FIELDS_WITH_D2D = ("r_on_ohm", "r_off_ohm", "v_on_v", "v_off_v", "tau_s")


@dataclass(frozen=True)
class MSSParams:
    """Parameters of the generalized MSS memristor.

    Defaults are the example of Knowm's public model (``memristor_knowm.sub`` and ``knowm.cir`` in
    knowm/memristor-models-4-all; science.md §2.4 table): R_on 500 Ω, R_off 1500 Ω, V_on = V_off = 0.27 V,
    τ = 0.1 ms, T = 298.5 K, plain MSS (φ = 1). Programming pulses ±1 V, 1 ms wide, 4 ms gap and a 0.05 V read
    follow the Knowm measurement board's ±1 V SET/RESET defaults (knowm/memristor-discovery, 5 ms period);
    widths are placeholders — calibrate. ``series_resistance_ohm`` puts a resistor in series with the device during
    programming (the board uses 1 kΩ; default 0 = ideal source): the device then sees ``V / (1 + R_s G)`` (with the
    diode path, φ < 1, the divider ``V_d + R_s I(V_d) = V`` is solved by Newton's method), pulses are
    integrated in predictor–corrector sub-steps of at most ``series_step_rate`` switching time constants
    (``width / τ``, the fastest device's τ) and at most ``series_substeps`` per pulse, and energies are the
    source's (device plus resistor), by Simpson's rule on each sub-step. Both are numerical settings: 0.25 and 16
    keep the state within 1e-8 and the energy within 1e-6 (relative) of a 1,024-sub-step integration for the
    Knowm presets with 10 % D2D, and within 1e-7 and 2e-4 for the fast-switching reference parameters (tested).
    """

    r_on_ohm: float = 500.0
    """Resistance of a device with every switch on (x = 1), Ω (Knowm ``memristor_knowm.sub`` default)."""
    r_off_ohm: float = 1500.0
    """Resistance with every switch off (x = 0), Ω (Knowm ``memristor_knowm.sub`` default)."""
    v_on_v: float = 0.27
    """Switching-on threshold V_on, V: switches turn on above +V_on (Knowm ``memristor_knowm.sub``)."""
    v_off_v: float = 0.27
    """Switching-off threshold V_off, V (a magnitude): switches turn off below −V_off (same source)."""
    tau_s: float = 1e-4
    """Time constant τ of the switch dynamics dx/dt = [(1 − x) p_on − x p_off] / τ, s (same source)."""
    temperature_k: float = 298.5
    """Temperature, K, for the thermal voltage V_T = kT/q of p_on/p_off (same source)."""
    phi: float = 1.0
    """Share φ ∈ [0, 1] of the current through the switches; 1 − φ flows through the diode path (1 = plain MSS; Molter & Nugent, CNNA 2016)."""
    sfa_a: float = 0.0
    """Forward diode prefactor a_f of I_d = a_f e^(b_f V) − a_r e^(−b_r V), A (0: no diode; Knowm Xyce example 8e-4)."""
    sfb_per_v: float = 0.0
    """Forward diode exponent b_f, 1/V (Knowm Xyce example 4)."""
    sra_a: float = 0.0
    """Reverse diode prefactor a_r, A (Knowm Xyce example 8e-4)."""
    srb_per_v: float = 0.0
    """Reverse diode exponent b_r, 1/V (Knowm Xyce example 4)."""
    x_init: float = 0.0
    """Initial share of switches on, x0 ∈ [0, 1] (``memristor_knowm.sub``: 0)."""
    n_switches: int | None = None
    """Number of metastable switches per device: None = mean field (deterministic); an integer draws binomial switching per step, which gives cycle-to-cycle noise (numerics of the model, Molter & Nugent 2016)."""
    d2d_std: float = 0.0
    """Device-to-device spread: log-std of the log-normal draws (median = nominal) of the per-device fields R_on, R_off, V_on, V_off and τ; 0.1 ≈ 10 %. Placeholder — calibrate."""
    read_noise_rel: float = 0.0
    """Read noise per device read, RELATIVE to g_max (0.01 = 1 % of g_max; ``read_noise_std`` before 2026-12)."""
    set_voltage_v: float = 1.0
    """SET pulse amplitude, V (> 0; Knowm measurement board default ±1 V)."""
    reset_voltage_v: float = -1.0
    """RESET pulse amplitude, V, SIGNED (< 0: the drive's polarity; ``pulse_scheme`` gives its magnitude)."""
    pulse_width_s: float = 1e-3
    """Programming pulse width, s. Placeholder — calibrate (board period 5 ms)."""
    pulse_gap_s: float = 4e-3
    """Gap after each pulse, s (width + gap = the board's 5 ms period). Placeholder — calibrate."""
    read_voltage_v: float = 0.05
    """Read voltage, V: far below V_on, so a read barely disturbs the state (board default)."""
    series_resistance_ohm: float = 0.0
    """Board resistor in series with the device while programming, Ω (the Knowm board uses 1 kΩ; 0 = ideal source). Board setting, not device physics."""
    series_substeps: int = 16
    """Numerics: most predictor–corrector sub-steps per pulse behind the series resistor (see class docstring)."""
    series_step_rate: float = 0.25
    """Numerics: largest sub-step, in switching time constants (see class docstring)."""
    dtype: str = "float64"
    """Numerics: dtype of the device state, "float64" or "float32"."""

    def __post_init__(self) -> None:
        check_range("r_on_ohm", self.r_on_ohm, 0.0, low_inclusive=False)
        check_range("r_off_ohm", self.r_off_ohm, 0.0, low_inclusive=False)
        if not self.r_on_ohm < self.r_off_ohm:
            raise ValueError(f"r_on_ohm must be below r_off_ohm: got {self.r_on_ohm!r} >= {self.r_off_ohm!r}")
        check_range("v_on_v", self.v_on_v, 0.0, low_inclusive=False)
        check_range("v_off_v", self.v_off_v, 0.0, low_inclusive=False)
        check_range("tau_s", self.tau_s, 0.0, low_inclusive=False)
        check_range("temperature_k", self.temperature_k, 0.0, low_inclusive=False)
        check_range("phi", self.phi, 0.0, 1.0)
        for name in ("sfa_a", "sfb_per_v", "sra_a", "srb_per_v"):
            check_range(name, getattr(self, name), 0.0)
        check_range("x_init", self.x_init, 0.0, 1.0)
        if self.n_switches is not None and (
            isinstance(self.n_switches, bool) or not isinstance(self.n_switches, int) or self.n_switches < 1
        ):
            raise ValueError(f"n_switches must be None or an integer >= 1, got {self.n_switches!r}")
        check_range("d2d_std", self.d2d_std, 0.0, 1.0)
        check_range("read_noise_rel", self.read_noise_rel, 0.0, 1.0)
        warn_if_absolute("read_noise_rel", self.read_noise_rel, "g_max")
        check_range("set_voltage_v", self.set_voltage_v, 0.0, low_inclusive=False)
        check_range("reset_voltage_v", self.reset_voltage_v, high=0.0, high_inclusive=False)
        check_range("pulse_width_s", self.pulse_width_s, 0.0, low_inclusive=False)
        check_range("pulse_gap_s", self.pulse_gap_s, 0.0)
        check_range("read_voltage_v", self.read_voltage_v, 0.0)
        check_range("series_resistance_ohm", self.series_resistance_ohm, 0.0)
        if (
            isinstance(self.series_substeps, bool)
            or not isinstance(self.series_substeps, int)
            or self.series_substeps < 1
        ):
            raise ValueError(f"series_substeps must be an integer >= 1, got {self.series_substeps!r}")
        check_range("series_step_rate", self.series_step_rate, 0.0, low_inclusive=False)
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")

    @property
    def thermal_voltage_v(self) -> float:
        return BOLTZMANN_J_PER_K * self.temperature_k / ELEMENTARY_CHARGE_C

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WaveformResult:
    """What driving devices with a waveform produced: final state, dissipated energy, optional traces."""

    state: DeviceState
    energy_j: torch.Tensor
    current_a: torch.Tensor | None = None
    x: torch.Tensor | None = None


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
    """A tensor of generalized MSS memristors (see the module docstring)."""

    family = "mss"

    def __init__(self, params: MSSParams | None = None, **overrides) -> None:
        self.params = resolve_params(MSSParams, params, overrides)

    def __repr__(self) -> str:
        return f"MSSDevice({self.params})"

    # nominal figures ----------------------------------------------------------------------------------------------
    @property
    def g_min_s(self) -> float:
        return 1.0 / self.params.r_off_ohm

    @property
    def g_max_s(self) -> float:
        return 1.0 / self.params.r_on_ohm

    @property
    def nominal_step_s(self) -> float:
        """Mean-field change of one SET pulse from the low bound (no switching noise: it is a planning figure)."""
        device = self if self.params.n_switches is None else MSSDevice(self.params, n_switches=None)
        state = device.init_state((1,))
        state = device.set_conductance(state, torch.tensor([device.g_min_s]))
        after = device.apply_pulses(state, torch.ones(1))
        return float(device.conductance(after) - device.conductance(state))

    @property
    def pulse_period_s(self) -> float:
        return self.params.pulse_width_s + self.params.pulse_gap_s

    @property
    def pulse_scheme(self) -> PulseScheme:
        p = (
            self.params
        )  # MSSParams keeps a signed reset voltage (the drive's polarity); the scheme its magnitude
        return PulseScheme(
            p.set_voltage_v, -p.reset_voltage_v, p.pulse_width_s, self.pulse_period_s, p.read_voltage_v
        )

    @property
    def read_noise_std_s(self) -> float:
        return self.params.read_noise_rel * self.g_max_s

    # state --------------------------------------------------------------------------------------------------------
    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState:
        p = self.params
        shape = tuple(shape)
        dtype = getattr(torch, p.dtype)
        state = {"x": torch.full(shape, p.x_init, dtype=dtype)}
        for name in _FIELDS_WITH_D2D:
            nominal = getattr(p, name)
            if p.d2d_std == 0.0:
                state[name] = torch.full(shape, nominal, dtype=dtype)
            else:  # log-normal with median `nominal` and log-std d2d_std
                noise = torch.randn(shape, generator=generator, dtype=torch.float64)
                state[name] = (nominal * torch.exp(p.d2d_std * noise)).to(dtype)
        # a device whose drawn R_on is not below its R_off would be no memristor: keep a 1 % window at least
        state["r_off_ohm"] = torch.maximum(state["r_off_ohm"], 1.01 * state["r_on_ohm"])
        return state

    def conductance(self, state: DeviceState) -> torch.Tensor:
        x = state["x"]
        return x / state["r_on_ohm"] + (1.0 - x) / state["r_off_ohm"]

    def set_conductance(self, state: DeviceState, target_s: torch.Tensor) -> DeviceState:
        check_conductances(target_s, state["x"].shape)
        g_on, g_off = 1.0 / state["r_on_ohm"], 1.0 / state["r_off_ohm"]
        x = ((target_s.to(g_on.dtype) - g_off) / (g_on - g_off)).clamp(0.0, 1.0)
        return {**state, "x": x}

    def current(self, state: DeviceState, voltage_v: torch.Tensor | float) -> torch.Tensor:
        """Instantaneous device current (A) at ``voltage_v`` (broadcast against the devices)."""
        v = torch.as_tensor(voltage_v, dtype=state["x"].dtype)
        return _current_and_slope(self.params, v, self.conductance(state))[0]

    # dynamics -----------------------------------------------------------------------------------------------------
    def _rates(self, state: DeviceState, voltage_v) -> tuple[torch.Tensor, torch.Tensor]:
        """Switching rates ``a = p_on / τ`` and ``b = p_off / τ`` (1/s) at the given voltage."""
        vt = self.params.thermal_voltage_v
        v = torch.as_tensor(voltage_v, dtype=state["x"].dtype)
        a = torch.sigmoid((v - state["v_on_v"]) / vt) / state["tau_s"]
        b = torch.sigmoid(-(v + state["v_off_v"]) / vt) / state["tau_s"]
        return a, b

    def _relax(
        self, state: DeviceState, voltage_v, duration_s: float, generator: torch.Generator | None
    ) -> torch.Tensor:
        """State after ``duration_s`` at constant voltage: exact mean relaxation, plus binomial noise if the model
        has ``n_switches``."""
        a, b = self._rates(state, voltage_v)
        return _relaxed(state["x"], a, b, duration_s, self.params.n_switches, generator)

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
        final state, the energy ``∫ V I dt`` each device dissipated (trapezoid rule on the samples) and, with
        ``record``, the current and state at every sample.
        """
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
        if self.params.series_resistance_ohm > 0:
            return self._waveform_series(state, steps, voltages_v, record, generator)
        if self.params.n_switches is not None or voltages_v.dim() > 1:
            return self._waveform_general(state, steps, voltages_v, record, generator)
        return self._waveform_shared(state, steps, voltages_v.tolist(), record)

    def _waveform_shared(self, state: DeviceState, steps: torch.Tensor, volts: list[float], record: bool):
        """Fast path: one waveform for all devices, mean dynamics; per-device constants hoisted out of the loop.

        The logistic rates factor into a per-device constant and a per-step scalar:
        ``a = σ((V − V_on)/V_T)/τ = 1 / (τ + τ e^{V_on/V_T} · e^{−V/V_T})`` and likewise
        ``b = 1 / (τ + τ e^{V_off/V_T} · e^{V/V_T})``, so a step costs one exponential per device (the decay)
        instead of three. Where ``τ e^{V_on/V_T}`` overflows the dtype the step falls back to the logistic form.
        """
        p = self.params
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
        current = self._current_from_conductance(g, volts[0])
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
            next_current = self._current_from_conductance(g, volts[k + 1])
            energy.add_(current, alpha=0.5 * dt * volts[k]).add_(next_current, alpha=0.5 * dt * volts[k + 1])
            current = next_current
            if record:
                x_trace.append(x.clone())
                i_trace.append(current)
        state = {**state, "x": x}
        if record:
            return WaveformResult(state, energy, torch.stack(i_trace), torch.stack(x_trace))
        return WaveformResult(state, energy)

    def _waveform_series(self, state, steps, voltages_v, record, generator):
        """Waveform through the series resistor; energy is the source's, ∫ V_source I dt."""
        path = _SeriesPath(self, state)
        return self._waveform_loop(
            state,
            steps,
            voltages_v,
            record,
            lambda x, v, dt: path.step(x, v, dt, generator),
            path.source_current,
        )

    def _series_pulses(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        amplitude_v,
        width_s=None,
        gap_s=None,
        generator: torch.Generator | None = None,
        noisy: bool = True,
    ):
        """``|n|`` periods behind the series resistor, pulse by pulse (vectorized over devices): (x, energy).

        With ``n_switches`` (and ``noisy``) every sub-step and gap carries binomial switching noise from
        ``generator``."""
        p = self.params
        width_s = p.pulse_width_s if width_s is None else width_s
        gap_s = p.pulse_gap_s if gap_s is None else gap_s
        x = state["x"]
        if amplitude_v is None:
            v_source = torch.where(pulses > 0, p.set_voltage_v, p.reset_voltage_v).to(x.dtype)
        else:
            v_source = torch.sign(pulses).to(x.dtype) * amplitude_v.abs().to(x.dtype)
        remaining = pulses.abs()
        energy = torch.zeros_like(x)
        longest = float(torch.as_tensor(width_s).max()) if torch.is_tensor(width_s) else width_s
        fastest = float(state["tau_s"].min()) if state["tau_s"].numel() else p.tau_s
        substeps = min(p.series_substeps, max(1, math.ceil(longest / fastest / p.series_step_rate)))
        dt = width_s / substeps
        path = _SeriesPath(self, state, noisy)
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

    def _current_from_conductance(self, g: torch.Tensor, volt: float) -> torch.Tensor:
        p = self.params
        if p.phi == 1.0:
            return g * volt
        diode = p.sfa_a * math.exp(p.sfb_per_v * volt) - p.sra_a * math.exp(-p.srb_per_v * volt)
        return (g * (p.phi * volt)).add_((1.0 - p.phi) * diode)

    def _waveform_general(self, state, steps, voltages_v, record, generator):
        """Per-device waveforms and/or stochastic switching: the straightforward loop over time steps."""
        return self._waveform_loop(
            state,
            steps,
            voltages_v,
            record,
            lambda x, v, dt: self._relax({**state, "x": x}, v, dt, generator),
            lambda x, v: self.current({**state, "x": x}, v),
        )

    @staticmethod
    def _waveform_loop(state, steps, voltages_v, record, step, current_of) -> WaveformResult:
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

    def _pulse_train(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        amplitude_v: torch.Tensor | None = None,
        width_s: float | None = None,
        gap_s: float | None = None,
    ):
        """Closed form of ``|n|`` periods (pulse at V_set or V_reset, then the gap at 0 V) for every device.

        Over one period the state map is affine, ``x → A x + B``; after ``n`` periods
        ``x_n = x* + A^n (x_0 − x*)`` with ``x* = B / (1 − A)``. Returns the final state and ``Σ_j x_j`` over the
        states at the start of each pulse, which the energy needs.
        """
        p = self.params
        width_s = p.pulse_width_s if width_s is None else width_s
        gap_s = p.pulse_gap_s if gap_s is None else gap_s
        x0 = state["x"]
        n = pulses.abs().to(x0.dtype)
        if amplitude_v is None:
            voltage = torch.where(pulses > 0, p.set_voltage_v, p.reset_voltage_v).to(x0.dtype)
        else:
            voltage = torch.sign(pulses).to(x0.dtype) * amplitude_v.abs().to(x0.dtype)
        a, b = self._rates(state, voltage)
        k_pulse = a + b
        x_pulse = a / k_pulse
        rise_pulse = -torch.expm1(-k_pulse * width_s)  # 1 − e^{−k w}, accurate when k w is tiny
        a0, b0 = self._rates(state, 0.0)
        k_gap = a0 + b0
        x_gap = a0 / k_gap
        log_slope = -(k_pulse * width_s + k_gap * gap_s)
        one_minus_slope = -torch.expm1(log_slope)
        # period map (pulse then gap): x → A x + B with A = e^{log_slope}
        offset = torch.exp(-k_gap * gap_s) * x_pulse * rise_pulse - x_gap * torch.expm1(-k_gap * gap_s)
        frozen = one_minus_slope <= 0  # no switching at all within float precision
        safe = torch.where(frozen, torch.ones_like(one_minus_slope), one_minus_slope)
        fixed = torch.where(frozen, x0, offset / safe)
        x_n = fixed + torch.exp(n * log_slope) * (x0 - fixed)
        # Σ_{j<n} x_j = n x* + (x0 − x*)(1 − A^n)/(1 − A), whose limit for A → 1 is n x0
        geometric = torch.where(frozen, n, -torch.expm1(n * log_slope) / safe)
        sum_starts = n * fixed + (x0 - fixed) * geometric
        return x_n, sum_starts, n, voltage, k_pulse, x_pulse, rise_pulse, width_s

    #: a long bias (reset, relaxation at 0 V), per-device pulse amplitude (ISPP) and width, arbitrary waveforms
    capabilities = frozenset({"hold", "amplitude", "width", "waveform"})

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
        if self.params.series_resistance_ohm > 0:
            x = self._series_pulses(state, pulses, amplitude_v, width_s, generator=generator)[0]
            return {**state, "x": x}
        if self.params.n_switches is None:
            x_n = self._pulse_train(state, pulses, amplitude_v, width_s)[0]
            return {**state, "x": x_n.clamp(0.0, 1.0)}
        # stochastic switching: step pulse by pulse (vectorized over devices), all devices at once
        p = self.params
        remaining = pulses.abs().to(torch.int64)
        if amplitude_v is None:
            voltage = torch.where(pulses > 0, p.set_voltage_v, p.reset_voltage_v).to(state["x"].dtype)
        else:
            voltage = torch.sign(pulses).to(state["x"].dtype) * amplitude_v.abs()
        width = p.pulse_width_s if width_s is None else width_s
        for _ in range(int(remaining.max()) if remaining.numel() else 0):
            active = remaining > 0
            pulsed = self._relax(state, voltage, width, generator)
            rested = self._relax({**state, "x": pulsed}, 0.0, p.pulse_gap_s, generator)
            state = {**state, "x": torch.where(active, rested, state["x"])}
            remaining = remaining - active.to(remaining.dtype)
        return state

    def pulse_energy_j(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        amplitude_v: torch.Tensor | None = None,
        width_s: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``Σ ∫ V I dt`` over the pulses, in closed form (the gaps at 0 V dissipate nothing). With stochastic
        switching this is the energy along a noise-free trajectory; behind a series resistor
        :meth:`pulse_with_energy` gives the energy of the noisy trajectory it also returns."""
        _check_drive(state, pulses, amplitude_v, width_s)
        if self.params.series_resistance_ohm > 0:
            return self._series_pulses(state, pulses, amplitude_v, width_s, noisy=False)[1]
        return self._train_energy(state, self._pulse_train(state, pulses, amplitude_v, width_s))

    def pulse_with_energy(
        self,
        state: DeviceState,
        pulses: torch.Tensor,
        generator: torch.Generator | None = None,
        amplitude_v: torch.Tensor | None = None,
        width_s: torch.Tensor | None = None,
    ) -> tuple[DeviceState, torch.Tensor]:
        """New state and energy of the pulses, integrating the series-resistor path only once."""
        if self.params.series_resistance_ohm > 0:
            _check_drive(state, pulses, amplitude_v, width_s)
            x, energy = self._series_pulses(state, pulses, amplitude_v, width_s, generator=generator)
            return {**state, "x": x}, energy
        energy = self.pulse_energy_j(state, pulses, amplitude_v, width_s)
        return self.apply_pulses(state, pulses, generator, amplitude_v, width_s), energy

    def pulse_with_total_energy(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[DeviceState, torch.Tensor]:
        """One integration for the new state and its summed energy (see :meth:`pulse_with_energy`)."""
        new, energy = self.pulse_with_energy(state, pulses, generator)
        return new, energy.sum()

    def _train_energy(self, state: DeviceState, train) -> torch.Tensor:
        p = self.params
        _, sum_starts, n, voltage, k_pulse, x_pulse, rise_pulse, width_s = train
        # ∫ over one pulse of x(t) dt = x∞ w + (x_j − x∞)(1 − e^{−k w}) / k, summed over the pulses
        x_integral = n * x_pulse * width_s + (sum_starts - n * x_pulse) * rise_pulse / k_pulse
        g_on, g_off = 1.0 / state["r_on_ohm"], 1.0 / state["r_off_ohm"]
        conductance_integral = g_off * n * width_s + (g_on - g_off) * x_integral
        energy = p.phi * voltage**2 * conductance_integral
        if p.phi < 1.0:
            diode = p.sfa_a * torch.exp(p.sfb_per_v * voltage) - p.sra_a * torch.exp(-p.srb_per_v * voltage)
            energy = energy + (1.0 - p.phi) * voltage * diode * n * width_s
        return energy

    def hold(
        self, state: DeviceState, voltage_v: float, duration_s: float
    ) -> tuple[DeviceState, torch.Tensor]:
        """Hold every device at ``voltage_v`` for ``duration_s`` (e.g. a long RESET): new state and energy (J).

        Mean-field even with ``n_switches``: a hold long enough to matter ends at a bound of the window, where the
        binomial switching noise vanishes."""
        check_range("duration_s", duration_s, 0.0, low_inclusive=False)
        ones = torch.ones_like(state["x"])
        amplitude = torch.full_like(state["x"], abs(voltage_v))
        if self.params.series_resistance_ohm > 0:
            sign = 1.0 if voltage_v >= 0 else -1.0
            x, energy = self._series_pulses(state, ones * sign, amplitude, duration_s, 0.0, noisy=False)
            return {**state, "x": x}, energy
        train = self._pulse_train(state, ones * (1.0 if voltage_v >= 0 else -1.0), amplitude, duration_s, 0.0)
        return {**state, "x": train[0].clamp(0.0, 1.0)}, self._train_energy(state, train)


def _relaxed(
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
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x_new = x_new + variance.clamp(min=0.0).sqrt() * noise
    return x_new.clamp(0.0, 1.0)


def _current_and_slope(
    p: MSSParams, v_device: torch.Tensor, g: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Device current ``φ V G + (1 − φ)(s_fa e^{s_fb V} − s_ra e^{−s_rb V})`` and its slope ``dI/dV``."""
    if p.phi == 1.0:
        return v_device * g, g
    forward = p.sfa_a * torch.exp(p.sfb_per_v * v_device)
    reverse = p.sra_a * torch.exp(-p.srb_per_v * v_device)
    current = p.phi * (v_device * g) + (1.0 - p.phi) * (forward - reverse)
    slope = p.phi * g + (1.0 - p.phi) * (p.sfb_per_v * forward + p.srb_per_v * reverse)
    return current, slope


#: Newton steps solving the series divider with the diode path; quadratic convergence from the memristive guess
_DIVIDER_NEWTON_STEPS = 8


class _SeriesPath:
    """A tensor of devices behind the series resistor, its per-device constants computed once per drive.

    A step is a predictor at the divider voltage ``V / (1 + R_s G)`` of the start state and a corrector at that of
    the midpoint state (second order), each an exact relaxation at constant voltage; with ``n_switches`` the binomial
    noise is drawn once per step, at the corrector's rates.
    """

    def __init__(self, device: MSSDevice, state: DeviceState, noisy: bool = True) -> None:
        self.device, self.state, self.params = device, state, device.params
        self.r_s = self.params.series_resistance_ohm
        self.n_switches = self.params.n_switches if noisy else None
        self.g_off = 1.0 / state["r_off_ohm"]
        self.g_span = 1.0 / state["r_on_ohm"] - self.g_off

    def _divider(self, g: torch.Tensor, v_source) -> torch.Tensor:
        """Voltage across devices of conductance ``g``: ``V_d + R_s I(V_d) = V_s``. Closed form for the plain MSS;
        with the diode path (φ < 1) Newton's method from the memristive-path divider, which converges because the
        left side rises with slope ≥ 1."""
        phi = self.params.phi
        if phi == 1.0:
            return v_source / (1.0 + self.r_s * g)
        v = v_source / (1.0 + self.r_s * phi * g)
        for _ in range(_DIVIDER_NEWTON_STEPS):
            current, slope = _current_and_slope(self.params, v, g)
            v = v - (v + self.r_s * current - v_source) / (1.0 + self.r_s * slope)
        return v

    def _device_voltage(self, x: torch.Tensor, v_source) -> torch.Tensor:
        return self._divider(torch.addcmul(self.g_off, self.g_span, x), v_source)

    def _rates(self, v_device: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.device._rates(self.state, v_device)

    def relax(self, x, v_device, duration_s, generator, noisy: bool = True) -> torch.Tensor:
        a, b = self._rates(v_device)
        return _relaxed(x, a, b, duration_s, self.n_switches if noisy else None, generator)

    def _corrector_rates(self, x: torch.Tensor, v_source, dt) -> tuple[torch.Tensor, torch.Tensor]:
        """Rates at the divider voltage of the midpoint state, the predictor's (noise-free) step giving the end."""
        predicted = self.relax(x, self._device_voltage(x, v_source), dt, None, noisy=False)
        return self._rates(self._device_voltage(0.5 * (x + predicted), v_source))

    def step(self, x: torch.Tensor, v_source, dt, generator: torch.Generator | None) -> torch.Tensor:
        a, b = self._corrector_rates(x, v_source, dt)
        return _relaxed(x, a, b, dt, self.n_switches, generator)

    def step_with_energy(self, x, v_source, dt, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`step` and the source's energy ``∫ V_s I dt`` over it, by Simpson's rule on the corrector's mean
        trajectory (start, half-way and end states), fourth order in the step where the trapezoid rule is second."""
        a, b = self._corrector_rates(x, v_source, dt)
        trajectory: list[torch.Tensor] = []
        x_new = _relaxed(x, a, b, dt, self.n_switches, generator, trajectory)
        half, end = trajectory
        current = self.source_current(x, v_source) + 4.0 * self.source_current(half, v_source)
        energy = v_source * (current + self.source_current(end, v_source)) * (dt / 6.0)
        return x_new, energy

    def source_current(self, x: torch.Tensor, v_source) -> torch.Tensor:
        g = torch.addcmul(self.g_off, self.g_span, x)
        if self.params.phi == 1.0:
            return v_source * g / (1.0 + self.r_s * g)
        return _current_and_slope(self.params, self._divider(g, v_source), g)[0]


def sine_waveform(amplitude_v: float, frequency_hz: float, duration_s: float, step_s: float):
    """Sample times and voltages of ``amplitude · sin(2π f t)``."""
    n = int(round(duration_s / step_s)) + 1
    t = torch.linspace(0.0, duration_s, n, dtype=torch.float64)
    return t, amplitude_v * torch.sin(2 * math.pi * frequency_hz * t)
