"""Conductance drift and retention after programming: what a tile reads a time ``t`` after it was written.

A drift model turns the programmed device state into the conductances read ``t`` seconds later. It is a view, not a
state change: the programmed state stays as written, so reading at 1 h and then at 1 y does not compound rounding,
and per-device drift parameters (device-to-device spread) are drawn once at programming and kept as tile buffers.

* :class:`PowerLawDrift` — phase-change-style structural relaxation, the peers' common reference:
  g(t) = g_prog · (t / t0)^(−ν) for t > t0, with the exponent ν ~ N(μ_ν, σ_ν) per device (clipped at 0), and a read
  noise that grows with time, σ(t) = g(t) · Q · sqrt(ln((t + t_read) / (2 t_read))), drawn once per time point.
  With ``state_dependent=True`` (default) μ_ν, σ_ν and Q follow the fits to a million-device PCM array of
  Nandakumar et al., ICECS 2019 (also in Joshi et al., Nat. Commun. 11, 2473, 2020), in g_T = g_prog / g_max:
  μ_ν = clip(0.0244 − 0.0155 ln g_T, 0.049, 0.1), σ_ν = clip(−0.0059 − 0.0125 ln g_T, 0.008, 0.045),
  Q = min(0.0088 g_T^−0.65, 0.2), t0 20 s, t_read 250 ns — low-conductance states drift faster and read noisier,
  which distorts weights beyond a global scale. With ``state_dependent=False``, ν ~ N(nu_mean, nu_std) and Q =
  read_noise_q for every state (placeholders, calibrate).
* :class:`RelaxationDrift` — filamentary RRAM retention loss: each device relaxes toward a resting conductance by a
  fraction that grows with log time, f(t) = min(1, r · log10(1 + t / t0)), r ~ N(r_mean, r_std) per device (clipped
  at 0). Relaxing toward the bottom of the window makes the loss state dependent: high-conductance states lose the
  most. The log-time form is the usual empirical description; r 0.02 ± 0.01 per decade and t0 1 s are
  placeholders — calibrate against your own retention bake.
* :class:`WeakResetRetention` — retention of the weak-RESET state of HfOx RRAM (the pair arrays of
  ``tiles.weak_reset_pair``, not a conductance tile): the resistance a device gained by weak RESET, ln(R/R0), relaxes
  back toward R0 (the filament partly regrows) by the same log-time fraction f(t) = min(1, r · log10(1 + t / t0)),
  r ~ N(r_mean, r_std) per device (clipped at 0). A weak-RESET step is a small change in ln R, so pairs whose two
  devices were pushed apart by few pulses lose their sign first. Majumdar et al. (IEEE TED 2021) give no retention
  data: r 0.05 ± 0.02 per decade and t0 1 s are placeholders — calibrate against a bake of weak-RESET states.
* :class:`ZeroBiasRelaxation` — the device model's own relaxation at 0 V over ``t`` (for the metastable-switch
  memristor, its switching rates at zero bias: the physics it already has, stepped in time); no free parameters.

Times are seconds; :func:`parse_duration` reads "1s", "10 min", "1h", "1d", "1y" (365.25 days) as well.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from .._rng import generator_device
from .._validation import check_range
from ..devices.base import DeviceModel, DeviceState

_UNITS_S = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "y": 365.25 * 86400.0,
    "year": 365.25 * 86400.0,
}


def parse_duration(value: float | int | str) -> float:
    """Seconds from a number (seconds) or a string like "1h", "30 min", "1.5d", "10y"; must be finite and ≥ 0."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        unit = match.group(2).lower() or "s" if match else ""
        if unit not in _UNITS_S and unit.endswith("s"):
            unit = unit[:-1]  # plurals: "hours", "days", "years"
        if match is None or unit not in _UNITS_S:
            raise ValueError(
                f"time {value!r} must be a number of seconds or a number with a unit among "
                f"{', '.join(sorted(_UNITS_S))}"
            )
        return float(match.group(1)) * _UNITS_S[unit]
    return check_range("time", value, 0.0)


class DriftModel(ABC):
    """What a programmed device reads ``t`` seconds later (module docstring)."""

    #: names of the per-device parameters :meth:`sample` draws (kept as tile buffers)
    parameter_names: tuple[str, ...] = ()

    def check_device(self, device: DeviceModel) -> None:
        """Raise ``ValueError`` if this model cannot work with ``device`` (checked once, by ``TileConfig``);
        every device works with the default."""
        return None

    def sample(self, shape: tuple[int, ...], generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        """Per-device drift parameters (device-to-device spread), drawn once when the devices are programmed."""
        return {}

    @abstractmethod
    def conductance(
        self,
        device: DeviceModel,
        state: DeviceState,
        parameters: dict[str, torch.Tensor],
        t_s: float,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Conductances (S) read ``t_s`` seconds after programming the devices into ``state``."""


def _clipped_normal(mean: float, std: float, shape, generator, dtype=torch.float32) -> torch.Tensor:
    draw = torch.randn(shape, generator=generator, dtype=dtype, device=generator_device(generator))
    draw.mul_(std).add_(mean)
    return draw.clamp_(min=0.0)


@dataclass(frozen=True)
class PowerLawDrift(DriftModel):
    """g(t) = g_prog (t/t0)^−ν with time-growing read noise (module docstring)."""

    state_dependent: bool = True
    """ν and Q from the programmed state (Nandakumar et al., ICECS 2019 fits); False: the constants below."""
    nu_mean: float = 0.05
    """Mean drift exponent ν, dimensionless (used when not state_dependent). Placeholder — calibrate."""
    nu_std: float = 0.02
    """Device-to-device std of ν, dimensionless (used when not state_dependent). Placeholder — calibrate."""
    t0_s: float = 20.0
    """Time (s) after programming from which drift counts (Nandakumar et al. 2019: 20 s)."""
    read_noise_q: float = 0.02
    """Read-noise factor Q, RELATIVE to the drifted conductance (used when not state_dependent). Placeholder."""
    t_read_s: float = 250e-9
    """Read duration (s) in the noise growth sqrt(ln((t + t_read)/(2 t_read))) (Nandakumar et al. 2019: 250 ns)."""

    parameter_names = ("nu_z",)

    def __post_init__(self) -> None:
        check_range("nu_mean", self.nu_mean, 0.0, 1.0)
        check_range("nu_std", self.nu_std, 0.0, 1.0)
        check_range("t0_s", self.t0_s, 0.0, low_inclusive=False)
        check_range("read_noise_q", self.read_noise_q, 0.0, 1.0)
        check_range("t_read_s", self.t_read_s, 0.0, low_inclusive=False)

    def sample(self, shape, generator):
        # a standard normal per device: ν = μ_ν + σ_ν·z once the programmed state (and so μ_ν, σ_ν) is known
        return {"nu_z": torch.randn(shape, generator=generator, device=generator_device(generator))}

    def exponent(self, g_target: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Drift exponent ν of each device (≥ 0) from its normalised programmed conductance and its draw z."""
        if not self.state_dependent:
            return (self.nu_mean + self.nu_std * z).clamp_(min=0.0)
        log_g = g_target.clamp(min=1e-6).log()
        mean = (0.0244 - 0.0155 * log_g).clamp_(0.049, 0.1)
        std = (-0.0059 - 0.0125 * log_g).clamp_(0.008, 0.045)
        return (mean + std * z).clamp_(min=0.0)

    def noise_q(self, g_target: torch.Tensor) -> torch.Tensor | float:
        if not self.state_dependent:
            return self.read_noise_q
        return (0.0088 * g_target.clamp(min=1e-6).pow(-0.65)).clamp_(max=0.2)

    def conductance(self, device, state, parameters, t_s, generator):
        g = device.conductance(state)
        if t_s <= self.t0_s:
            return g
        g_target = g / device.g_max_s
        nu = self.exponent(g_target, parameters["nu_z"].to(g.dtype))
        drifted = g * torch.exp(-nu * math.log(t_s / self.t0_s))
        if not self.state_dependent and self.read_noise_q == 0:
            return drifted  # no read noise: nothing to draw
        growth = math.sqrt(math.log((t_s + self.t_read_s) / (2 * self.t_read_s)))
        # drawn where the generator lives (a caller's may be on the CPU), used where the devices are
        noise = torch.randn(g.shape, generator=generator, dtype=g.dtype, device=generator_device(generator))
        noise = noise.to(g.device)
        return drifted.addcmul_(drifted * self.noise_q(g_target), noise, value=growth).clamp_(min=0.0)


@dataclass(frozen=True)
class RelaxationDrift(DriftModel):
    """Filamentary RRAM relaxing toward a resting conductance with log time (module docstring)."""

    rate_per_decade_mean: float = 0.02
    """Mean share of the distance to rest lost per decade of time, RELATIVE (placeholder — calibrate)."""
    rate_per_decade_std: float = 0.01
    """Device-to-device std of that share (placeholder — calibrate)."""
    t0_s: float = 1.0
    """Time (s) after programming where the log-time loss starts (placeholder — calibrate)."""
    rest: str = "g_min"
    """Where devices relax to: "g_min" (bottom of the window) or "middle"."""

    parameter_names = ("rate",)

    def __post_init__(self) -> None:
        check_range("rate_per_decade_mean", self.rate_per_decade_mean, 0.0, 1.0)
        check_range("rate_per_decade_std", self.rate_per_decade_std, 0.0, 1.0)
        check_range("t0_s", self.t0_s, 0.0, low_inclusive=False)
        if self.rest not in ("g_min", "middle"):
            raise ValueError(f"rest must be 'g_min' or 'middle', got {self.rest!r}")

    def sample(self, shape, generator):
        return {
            "rate": _clipped_normal(self.rate_per_decade_mean, self.rate_per_decade_std, shape, generator)
        }

    def conductance(self, device, state, parameters, t_s, generator):
        g = device.conductance(state)
        if t_s <= 0:
            return g
        rest = device.g_min_s if self.rest == "g_min" else 0.5 * (device.g_min_s + device.g_max_s)
        fraction = log_time_fraction(parameters["rate"].to(g.dtype), t_s, self.t0_s)
        return torch.lerp(g, torch.full_like(g, rest), fraction)


def log_time_fraction(rate: torch.Tensor, t_s: float, t0_s: float) -> torch.Tensor:
    """The share of a programmed change lost after ``t_s`` seconds: min(1, rate · log10(1 + t / t0))."""
    return (rate * math.log10(1.0 + t_s / t0_s)).clamp_(max=1.0)


@dataclass(frozen=True)
class WeakResetRetention:
    """Relaxation of weak-RESET HfOx states toward their pre-RESET resistance with time (module docstring)."""

    rate_per_decade_mean: float = 0.05
    """Mean share of ln(R/R0) lost per decade of time (placeholder, calibrate)."""
    rate_per_decade_std: float = 0.02
    """Device-to-device std of that share per decade (placeholder, calibrate)."""
    t0_s: float = 1.0
    """Time (s) after programming where the log-time loss starts (placeholder, calibrate)."""

    def __post_init__(self) -> None:
        check_range("rate_per_decade_mean", self.rate_per_decade_mean, 0.0, 1.0)
        check_range("rate_per_decade_std", self.rate_per_decade_std, 0.0, 1.0)
        check_range("t0_s", self.t0_s, 0.0, low_inclusive=False)

    def sample(self, shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        """Per-device loss rates (float64, ≥ 0)."""
        return _clipped_normal(
            self.rate_per_decade_mean, self.rate_per_decade_std, shape, generator, torch.float64
        )

    def log_ratio_at(self, log_ratio: torch.Tensor, rates: torch.Tensor, t_s: float) -> torch.Tensor:
        """ln(R/R0) ``t_s`` seconds after programming devices to ``log_ratio``."""
        if t_s <= 0:
            return log_ratio
        return log_ratio * (1.0 - log_time_fraction(rates.to(log_ratio.dtype), t_s, self.t0_s))


@dataclass(frozen=True)
class ZeroBiasRelaxation(DriftModel):
    """The device's own dynamics at 0 V for ``t`` (needs a device that can hold a voltage, e.g. the MSS model)."""

    def check_device(self, device: DeviceModel) -> None:
        if not device.supports("hold"):
            raise ValueError(
                f"ZeroBiasRelaxation needs a device that can hold a voltage (capability 'hold'); {device!r} cannot"
            )

    def conductance(self, device, state, parameters, t_s, generator):
        if t_s <= 0:
            return device.conductance(state)
        self.check_device(device)
        relaxed, _ = device.hold(state, 0.0, t_s)
        return device.conductance(relaxed)


DRIFT_MODELS = {"power-law": PowerLawDrift, "relaxation": RelaxationDrift, "zero-bias": ZeroBiasRelaxation}


def make_drift(name: str, **parameters) -> DriftModel:
    """A drift model by name ("power-law", "relaxation", "zero-bias") with its parameters."""
    if name not in DRIFT_MODELS:
        raise ValueError(f"drift must be one of {', '.join(DRIFT_MODELS)}; got {name!r}")
    return DRIFT_MODELS[name](**parameters)
