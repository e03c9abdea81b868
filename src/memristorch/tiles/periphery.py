"""Peripheral circuits around an array read: input DACs, input noise, per-read device noise, output ADCs.

* Input noise: Gaussian of std ``input_noise_std`` (in input units) added to every input element of every read.
* DAC: inputs clipped to ``[−input_range, input_range]`` and quantized to ``2^dac_bits − 1`` symmetric levels.
* Read noise: each device read adds an independent Gaussian of std σ_G to its conductance. Its effect on output
  ``y_i = Σ_j w_ij x_j`` is exactly a Gaussian of std ``σ_w ‖x‖`` per output (σ_w = weight-domain std), so it is
  drawn per output, not per device — same statistics for one read, thousands of times fewer random numbers —
  by the compiled ziggurat of :mod:`memristorch._gaussian` on the CPU (about twice torch's speed).
* ADC: outputs clipped to ``[−output_range, output_range]`` and quantized to ``2^adc_bits − 1`` levels.

Quantizers pass gradients straight through (straight-through estimator). Defaults are ideal (all off).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .._gaussian import standard_normal
from .._validation import check_range


def _check_bits(name: str, bits: int | None) -> None:
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 24):
        raise ValueError(f"{name} must be None or an integer in [2, 24], got {bits!r}")


def quantize_ste(x: torch.Tensor, bits: int, limit: float) -> torch.Tensor:
    """Clip to ``±limit`` and round to ``2^bits − 1`` symmetric levels (0 and ±k·limit/(2^(bits−1) − 1));
    the gradient passes straight through (without autograd the levels are returned as they are)."""
    step = limit / (2 ** (bits - 1) - 1)
    q = x.detach().clamp(-limit, limit).div_(step).round_().mul_(step)  # one new tensor, then in place
    if not (x.requires_grad and torch.is_grad_enabled()):
        return q  # no gradient to pass: the levels themselves
    return x + (q - x).detach()


@dataclass(frozen=True)
class PeripheryConfig:
    """Non-idealities of the read path. Defaults: ideal periphery (placeholder values — calibrate when used)."""

    input_noise_std: float = 0.0
    """Std of Gaussian noise on every input element of every read, ABSOLUTE in input units (the units of the
    layer's input tensor, not a share of input_range); 0 = none. Placeholder — calibrate."""
    read_noise: bool = True
    """Apply the devices' read noise (the device's ``read_noise_rel``, a share of g_max) to every read."""
    dac_bits: int | None = None
    """DAC resolution in bits (2–24), symmetric levels over ±input_range; None = ideal analog inputs."""
    input_range: float = 1.0
    """DAC full scale in input units: inputs clip at ±input_range (``memristorch.calibrate`` sets it per tile)."""
    adc_bits: int | None = None
    """ADC resolution in bits (2–24), symmetric levels over ±output_range; None = ideal analog outputs."""
    output_range: float = 10.0
    """ADC full scale in output units (weight × input units, before any digital scale): outputs clip at
    ±output_range (``memristorch.calibrate`` sets it per tile)."""
    clip_warning_fraction: float = 0.01
    """A tile warns, naming its layer, when more than this share of one read's DAC inputs or ADC outputs clip
    (1 disables the check); ``memristorch.calibrate`` sets the ranges from data."""
    wire_resistance_ohm: float = 0.0
    """Resistance of one wire segment between neighbouring cross-points (row and column lines alike); > 0 solves
    every read as the whole circuit (``tiles.ir_drop``), re-solved whenever the conductances change. Placeholder —
    calibrate (a few Ω per segment for narrow metal lines)."""
    book_reads: bool = False
    """Book every inference read in the tile's ledger (costs one conductance evaluation per forward pass)."""
    read_voltage_v: float = 0.2
    """Read voltage of a full-scale input (|x| = input_range); inputs are applied as proportional amplitudes, so a
    device dissipates V² G t_read · |x|/input_range. Placeholder — calibrate."""
    read_time_s: float = 10e-9
    """Duration of one array read (one matrix-vector product). Placeholder — calibrate."""
    dac_energy_j: float = 50e-15
    """Energy per DAC conversion (one input element), booked only with a DAC (dac_bits). Placeholder — calibrate."""
    adc_energy_per_step_j: float = 10e-15
    """ADC energy per conversion step: one conversion costs this × 2^adc_bits (the Walden figure-of-merit form);
    10 fJ/step is an order of magnitude, not a datum. Placeholder — calibrate."""
    adc_time_s: float = 5e-9
    """Time of one ADC conversion, all columns converting in parallel. Placeholder — calibrate."""

    def __post_init__(self) -> None:
        check_range("clip_warning_fraction", self.clip_warning_fraction, 0.0, 1.0)
        check_range("wire_resistance_ohm", self.wire_resistance_ohm, 0.0, 1e9)
        for name in ("read_voltage_v", "read_time_s", "dac_energy_j", "adc_energy_per_step_j", "adc_time_s"):
            check_range(name, getattr(self, name), 0.0, 1e3)
        check_range("input_noise_std", self.input_noise_std, 0.0)
        _check_bits("dac_bits", self.dac_bits)
        _check_bits("adc_bits", self.adc_bits)
        check_range("input_range", self.input_range, 0.0, low_inclusive=False)
        check_range("output_range", self.output_range, 0.0, low_inclusive=False)

    def to_dict(self) -> dict:
        return asdict(self)

    def prepare_input(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None,
        input_range: float | None = None,
        quantize: bool = True,
    ) -> torch.Tensor:
        """Input noise, then the DAC at ``input_range`` (default: this config's; a tile passes its calibrated one)."""
        if self.input_noise_std > 0:
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            x = x + self.input_noise_std * noise
        if self.dac_bits is not None and quantize:
            x = quantize_ste(x, self.dac_bits, self.input_range if input_range is None else input_range)
        return x

    def finish_output(
        self,
        y: torch.Tensor,
        input_norm: torch.Tensor | None,
        weight_noise_std: float,
        generator: torch.Generator | None,
        output_range: float | None = None,
        quantize: bool = True,
    ) -> torch.Tensor:
        """Add read noise (``weight_noise_std · ‖x‖`` per output; ``input_norm`` broadcasts to ``y``) and the ADC."""
        y = self.add_read_noise(y, input_norm, weight_noise_std, generator)
        if self.adc_bits is not None and quantize:
            y = quantize_ste(y, self.adc_bits, self.output_range if output_range is None else output_range)
        return y

    def conversion_energy_j(self, inputs: int, outputs: int) -> float:
        """DAC and ADC energy of converting ``inputs`` input and ``outputs`` output elements (only the converters
        the periphery has)."""
        energy = 0.0
        if self.dac_bits is not None:
            energy += inputs * self.dac_energy_j
        if self.adc_bits is not None:
            energy += outputs * self.adc_energy_per_step_j * 2.0**self.adc_bits
        return energy

    def read_latency_s(self) -> float:
        """Latency of one matrix-vector product: the array read, then the ADC conversion if there is one."""
        return self.read_time_s + (self.adc_time_s if self.adc_bits is not None else 0.0)

    def add_read_noise(
        self,
        y: torch.Tensor,
        input_norm: torch.Tensor | None,
        weight_noise_std: float,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        if self.read_noise and weight_noise_std > 0 and input_norm is not None:
            noise = standard_normal(y.shape, generator, y.dtype, y.device)
            y = torch.addcmul(y, noise, input_norm.detach(), value=weight_noise_std)
        return y
