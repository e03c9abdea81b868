"""HfOx RRAM in its weak-RESET regime: noisy, progressive resistance increase (Majumdar et al., IEEE TED 2021).

After t cumulative weak-RESET pulses a device's resistance is R = R0 · exp(w_mean(t) + w_RTN + α · w_pink), the
model of Majumdar et al. as released by its authors (github.com/Atreya95/Learning-with-memory-device-imperfections,
``ConvNet/utils_device.py``; read, not copied):

* **mean drift** — two slopes with a kink at t*: w = m1 t + c1 for t < t*, m2 t + t*(m1 − m2) + c1 after;
* **device-to-device variability** — every device draws its own (m1, t*, c1, m2, R0) once, from the truncated
  distributions fitted in the paper (the table in ``_d2d_distributions``), by inverse-CDF sampling inside the
  truncation window;
* **random telegraph noise** — a two-state Markov chain per device stepped per pulse (low→high 8e-4, high→low 2e-3;
  n pulses use the closed form of the n-th matrix power); in the high state ln R is offset by U·A with U ~ U(0, 1)
  redrawn at every update and A ~ U(0, 0.5) fixed per device; steady-state high occupancy 8e-4/2.8e-3 ≈ 0.286;
* **1/f noise** — a 15-tap filter h0 = 1, h_k = h_{k−1}(k − ½)/k (the expansion of (1 − z)^(−1/2)) over a per-device
  history of random draws, one fresh draw shifted in per applied pulse, scaled by α = 0.025.

Each term can be switched off (``d2d``, ``rtn``, ``pink``). ``faithful=True`` keeps two quirks of the authors'
reference implementation: the 1/f draws are U(0, 1), not zero-mean (a bias of ≈ α·Σh/2 ≈ 0.05 in ln R once the
history is full), and a device that receives no pulse in an update still redraws its RTN offset if it is in the high
state. ``faithful=False`` (the default) draws zero-mean U(−½, ½) and leaves unpulsed devices untouched.
Random numbers are drawn only for the devices an update can change (the pulsed ones; with ``faithful`` also those in
the RTN high state), in flat device order — so an update that pulses every device draws exactly what a dense draw
would, and a sparse one costs in proportion to the pulsed devices.

Without D2D every device takes the medians of the *truncated* distributions, the values the D2D draws scatter
around: m1 4.924e-4, t* 515.1, c1 5.192e-3, m2 1.971e-5, R0 6996.8 Ω (the untruncated fits' medians, t* 542.5 and
R0 6988 Ω, were used before; the code and this text now agree). The device only moves up (RESET): there is no SET in this regime.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .._rng import generator_device
from .._validation import check_pulse_counts, check_range
from .base import resolve_params

DeviceState = dict[str, torch.Tensor]


def pink_filter(taps: int) -> torch.Tensor:
    """Coefficients of the truncated (1 − z)^(−1/2) expansion: 1, 0.5, 0.375, 0.3125, …"""
    h = [1.0]
    for k in range(1, taps):
        h.append(h[-1] * (k - 0.5) / k)
    return torch.tensor(h, dtype=torch.float64)


@dataclass(frozen=True)
class WeakResetParams:
    """Telegraph- and 1/f-noise constants of the weak-RESET model (Majumdar et al., IEEE TED 2021; the values are
    those of the authors' released code, ``ConvNet/utils_device.py``). The D2D drift fits are in
    ``_d2d_distributions``."""

    p_low_to_high: float = 8e-4
    """Probability per pulse that a device's RTN chain jumps from the low to the high state, in [0, 1] (authors' code)."""
    p_high_to_low: float = 2e-3
    """Probability per pulse of the jump back, high to low, in [0, 1] (authors' code); occupancy 8e-4/2.8e-3 ≈ 0.29."""
    rtn_amplitude_max: float = 0.5
    """Upper end of the per-device RTN amplitude A ~ U(0, max), in ln R units, ≥ 0 (authors' code)."""
    pink_alpha: float = 0.025
    """Scale α of the 1/f term α·w_pink added to ln R, ≥ 0 (authors' code)."""
    pink_taps: int = 15
    """Length of the 1/f filter and of each device's draw history, 1–1000 (authors' code: 15)."""

    def __post_init__(self) -> None:
        check_range("p_low_to_high", self.p_low_to_high, 0.0, 1.0)
        check_range("p_high_to_low", self.p_high_to_low, 0.0, 1.0)
        check_range("rtn_amplitude_max", self.rtn_amplitude_max, 0.0, None)
        check_range("pink_alpha", self.pink_alpha, 0.0, None)
        check_range("pink_taps", self.pink_taps, 1, 1000)

    def to_dict(self) -> dict:
        return asdict(self)


def _truncated(dist, low: float, high: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Inverse-CDF sample of a scipy distribution restricted to [low, high]."""
    u = rng.uniform(dist.cdf(low), dist.cdf(high), size)
    return np.clip(dist.ppf(u), low, high)


def _truncated_median(dist, low: float, high: float) -> float:
    """Median of a scipy distribution restricted to [low, high] (what the D2D draws scatter around)."""
    return float(np.clip(dist.ppf(0.5 * (dist.cdf(low) + dist.cdf(high))), low, high))


def _d2d_distributions():
    from scipy import stats

    return {
        "m1": (stats.expon(loc=3.7416e-5, scale=6.5647e-4), 3.74e-5, 7.6e-3),
        "t_star": (stats.lognorm(s=0.80338, loc=0.0, scale=542.54), 41.0, 2000.0),
        "c1": (stats.norm(loc=5.2931e-3, scale=5.3208e-2), -0.15, 0.15),
        "m2": (stats.expon(loc=0.0, scale=2.8891e-5), 0.0, 1.3e-4),
        "r0": (stats.norm(loc=6988.0, scale=381.7), 6252.0, 7897.0),
    }


class WeakResetRRAM:
    """Vectorized weak-RESET RRAM with pulse counter, RTN chain and 1/f history per device (module docstring); a
    :class:`~memristorch.devices.families.OneWayPulsedDevice`."""

    family = "weak-reset"

    def __init__(
        self,
        params: WeakResetParams | None = None,
        *,
        d2d: bool = True,
        rtn: bool = True,
        pink: bool = True,
        faithful: bool = False,
        **overrides,
    ) -> None:
        self.params = params = resolve_params(WeakResetParams, params, overrides)
        self.d2d, self.rtn, self.pink, self.faithful = bool(d2d), bool(rtn), bool(pink), bool(faithful)
        self._filter = pink_filter(params.pink_taps)

    def __repr__(self) -> str:
        return f"WeakResetRRAM(d2d={self.d2d}, rtn={self.rtn}, pink={self.pink}, faithful={self.faithful})"

    # -- state ------------------------------------------------------------------------------------------------
    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState:
        """Fresh devices: t = 0, RTN low, empty 1/f history, D2D parameters drawn (or medians without D2D)."""
        n = math.prod(shape)
        on = generator_device(generator)
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=on))
        rng = np.random.default_rng(seed)
        state: DeviceState = {}
        for name, (dist, low, high) in _d2d_distributions().items():
            if self.d2d:
                values = _truncated(dist, low, high, n, rng)
            else:
                values = np.full(n, _truncated_median(dist, low, high))
            state[name] = torch.from_numpy(values).reshape(shape).to(on)
        state["t"] = torch.zeros(shape, dtype=torch.float64, device=on)
        state["rtn_high"] = torch.zeros(shape, dtype=torch.bool, device=on)
        state["rtn_offset"] = torch.zeros(shape, dtype=torch.float64, device=on)
        amplitude = torch.rand(shape, generator=generator, dtype=torch.float64, device=on)
        state["rtn_amplitude"] = amplitude * self.params.rtn_amplitude_max
        state["pink_history"] = torch.zeros((*shape, self.params.pink_taps), dtype=torch.float64, device=on)
        return state

    def mean_log_drift(self, state: DeviceState, t: torch.Tensor | None = None) -> torch.Tensor:
        """w_mean(t) for every device (at its own pulse count, or at ``t``)."""
        t = state["t"] if t is None else t
        m1, m2, c1, t_star = state["m1"], state["m2"], state["c1"], state["t_star"]
        before = m1 * t + c1
        after = m2 * t + t_star * (m1 - m2) + c1
        return torch.where(t < t_star, before, after)

    def log_resistance_ratio(self, state: DeviceState) -> torch.Tensor:
        """ln(R/R0) with every active term."""
        w = self.mean_log_drift(state)
        if self.rtn:
            w = w + torch.where(state["rtn_high"], state["rtn_offset"], torch.zeros_like(w))
        if self.pink:
            w = w + self.params.pink_alpha * (state["pink_history"] @ self._filter)
        return w

    def base_resistance(self, state: DeviceState) -> torch.Tensor:
        """Each device's R0 (its drawn initial resistance), Ω."""
        return state["r0"]

    def resistance(self, state: DeviceState) -> torch.Tensor:
        return self.base_resistance(state) * torch.exp(self.log_resistance_ratio(state))

    def apply_pulses(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> DeviceState:
        """New state after ``pulses`` (non-negative integers) weak-RESET pulses per device; ``state`` is untouched."""
        check_pulse_counts(pulses, state["t"].shape)
        if bool((pulses < 0).any()):
            raise ValueError("pulses must be ≥ 0: weak RESET only raises resistance (no SET in this regime)")
        n = pulses.to(torch.float64)
        new = dict(state)
        new["t"] = state["t"] + n
        if self.rtn:
            new.update(self._step_rtn(state, n, generator))
        if self.pink:
            new["pink_history"] = self._step_pink(state["pink_history"], pulses, generator)
        return new

    def _step_rtn(self, state, n, generator):
        """Telegraph step of the devices that can change: the pulsed ones and, when ``faithful``, every device in
        the high state (it redraws its offset each update). Random numbers are drawn for those devices alone, in
        flat order: with every device pulsed the stream is the one a dense draw takes."""
        p, q = self.params.p_low_to_high, self.params.p_high_to_low
        stationary = p / (p + q) if p + q > 0 else 0.0
        moving = n > 0
        if self.faithful:
            moving = moving | state["rtn_high"]
        index = torch.nonzero(moving.reshape(-1)).squeeze(1)
        decay = (1.0 - p - q) ** n.reshape(-1).take(index)  # closed form of the n-th power of the 2×2 matrix
        start = state["rtn_high"].reshape(-1).take(index).to(torch.float64)
        p_high = stationary + (start - stationary) * decay
        high = torch.rand(index.shape, generator=generator, dtype=torch.float64, device=index.device) < p_high
        redraw = torch.rand(index.shape, generator=generator, dtype=torch.float64, device=index.device)
        offset = torch.where(high, redraw * state["rtn_amplitude"].reshape(-1).take(index), 0.0)
        # an unpulsed device keeps its state exactly (with no pulse the chain cannot move: p_high is 0 or 1)
        new_high, new_offset = state["rtn_high"].clone(), state["rtn_offset"].clone()
        new_high.view(-1).put_(index, high)
        new_offset.view(-1).put_(index, offset)
        return {"rtn_high": new_high, "rtn_offset": new_offset}

    def _step_pink(self, history: torch.Tensor, pulses: torch.Tensor, generator) -> torch.Tensor:
        """Shift ``min(n, taps)`` fresh draws into each pulsed device's 1/f history (newest first); draws are made
        for the pulsed devices alone, in flat order."""
        taps = history.shape[-1]
        rows = history.reshape(-1, taps)
        flat_pulses = pulses.reshape(-1)
        index = torch.nonzero(flat_pulses > 0).squeeze(1)
        fresh = torch.rand(
            (index.numel(), taps), generator=generator, dtype=torch.float64, device=index.device
        )
        if not self.faithful:
            fresh = fresh - 0.5
        shift = flat_pulses.take(index).to(torch.int64).clamp(max=taps).unsqueeze(-1)
        k = torch.arange(taps, device=index.device)
        # slot 0 is the newest draw: after n pulses, slots < n hold fresh draws, the rest move back by n
        source = (k - shift).clamp(min=0)
        pulsed_rows = rows.index_select(0, index)
        moved = torch.gather(pulsed_rows, -1, source.expand(pulsed_rows.shape))
        new = rows.clone()
        new.index_copy_(0, index, torch.where(k < shift, fresh, moved))
        return new.view(history.shape)
