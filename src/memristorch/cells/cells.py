"""How one weight lives in devices, and how a weight change becomes programming pulses.

Two cells:

* :class:`SingleDeviceCell` — one device read against a fixed reference conductance ``g_ref`` (a reference column
  or a current offset in the periphery): ``w = gain (G − g_ref)``.
* :class:`DifferentialCell` — a pair read as ``w = gain (G⁺ − G⁻)``; an update of ``n`` pulses potentiates one
  device and depresses the other by ``n`` pulses each (symmetric push–pull).

``gain`` maps the nominal conductance window onto the weight range ``[−w_max, w_max]``.

The controller plans pulses open-loop from the *nominal* step of the device, as a real array controller does:
``n = Δw / Δw_pulse`` rounded to an integer and capped. Rounding is ``nearest`` or ``stochastic``
(``floor(x + r)`` with ``r`` uniform, unbiased: E[n] = x). Stochastic rounding needs a uniform number per weight per
update, which on a CPU costs more than the float training step itself. The default ``dither="rank1"`` draws one
24-bit random integer per row, ``A_i``, and one per column, ``B_j``, and uses ``r_ij = (A_i XOR B_j) / 2^24``. Each
``r_ij`` is exactly uniform on the 24-bit grid, and any two of them are independent (XOR with an independent uniform
word is uniform whatever the other operand), so every pulse count keeps its exact distribution; only four-way
combinations are tied (``r_ij ⊕ r_il ⊕ r_kj ⊕ r_kl = 0``). ``dither="independent"`` draws one number per weight.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np
import torch

from .._compiled import run_parallel, threads_for
from .._validation import MAX_PULSES_PER_CALL, check_choice, check_int, check_range
from ..devices.base import DeviceModel
from . import _plan_kernel

ROUNDINGS = ("nearest", "stochastic")
DITHERS = ("rank1", "independent")
_DITHER_LEVELS = 1 << 24
_NO_DITHER = np.zeros(1, np.int32)


class SparsePlan(NamedTuple):
    """The pulses of one update, on the pulsed weights only.

    ``weight_index`` (int64, ascending) and ``counts`` (float32) are the pulsed weights and their signed counts;
    ``device_index`` and ``pulses`` the same for every device of those weights, device plane after plane (plane
    ``p`` of weight ``w`` is flat device ``p · weights + w``, with ``pulse_signs[p] · count`` pulses). ``row_set``
    and ``row_reset``: each weight row's largest SET and RESET count (float32), where the planner had them at hand,
    else ``None``.
    """

    weight_index: torch.Tensor
    counts: torch.Tensor
    device_index: torch.Tensor
    pulses: torch.Tensor
    row_set: torch.Tensor | None = None
    row_reset: torch.Tensor | None = None
    #: the largest finite |Δw| and the count of non-finite Δw, where the planner read them on the way (else None)
    largest: float | None = None
    non_finite: int | None = None


class Cell(ABC):
    """Weight ↔ conductance mapping and pulse planning for one weight."""

    #: number of devices storing one weight
    devices_per_weight: int = 1
    #: pulse direction of each device for a positive pulse count on the weight
    pulse_signs: tuple[int, ...] = (1,)

    def __init__(
        self,
        device: DeviceModel,
        w_max: float = 1.0,
        rounding: str = "stochastic",
        dither: str = "rank1",
        max_pulses: int | None = None,
    ) -> None:
        self.device = device
        self.w_max = check_range("w_max", w_max, 0.0, low_inclusive=False)
        self.rounding = check_choice("rounding", rounding, ROUNDINGS)
        self.dither = check_choice("dither", dither, DITHERS)
        if max_pulses is not None:
            check_int("max_pulses", max_pulses, 1, MAX_PULSES_PER_CALL)
        self.max_pulses = max_pulses
        self._nominal_step_s: float | None = None  # computed on first use: it can cost a device simulation
        self._signs = np.asarray(self.pulse_signs, dtype=np.float32)  # for the compiled planner
        self._plan_scratch: np.ndarray | None = None  # its buffer of pulse bits, reused (not state)
        self._dense_buffers: tuple[torch.Tensor, torch.Tensor] | None = None  # the dense planner's, reused

    @property
    @abstractmethod
    def gain(self) -> float:
        """Weight units per siemens."""

    @property
    def weight_per_pulse(self) -> float:
        """Nominal weight change of one pulse count on the weight (all its devices pulsed)."""
        if self._nominal_step_s is None:
            self._nominal_step_s = self.device.nominal_step_s
        return self.gain * self._nominal_step_s * len(self.pulse_signs)

    @abstractmethod
    def weight(self, g: torch.Tensor) -> torch.Tensor:
        """Weights from conductances shaped ``(devices_per_weight, *weight_shape)``."""

    @abstractmethod
    def target_conductances(self, w: torch.Tensor) -> torch.Tensor:
        """Conductances ``(devices_per_weight, *w.shape)`` that store ``w`` (clipped to the weight range)."""

    @property
    def read_noise_weight_std(self) -> float:
        """Weight-domain std of one read's noise: independent noise of each device, scaled by the gain."""
        return self.gain * self.device.read_noise_std_s * self.devices_per_weight**0.5

    def plan_pulses(
        self,
        delta_w: torch.Tensor,
        generator: torch.Generator | None = None,
        alpha: float = 1.0,
        scratch: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Signed integer pulse count per weight (float tensor) realizing ``alpha · delta_w`` on the nominal device.

        ``scratch`` — an int32 and a float32 tensor shaped like ``delta_w`` — lets a caller that plans every step
        reuse memory (the result is then written into the float one); fresh large allocations each step cost page
        faults that can exceed the arithmetic.
        """
        scale = alpha / self.weight_per_pulse
        int_buffer, out = scratch if scratch is not None else (None, None)
        if self.rounding == "nearest":
            n = torch.mul(delta_w, scale, out=out).round_()
        elif self.dither == "independent":
            noise = torch.rand(delta_w.shape, generator=generator, dtype=delta_w.dtype, device=delta_w.device)
            n = torch.add(noise, delta_w, alpha=scale, out=out).floor_()
        else:
            cols = delta_w.view(delta_w.shape[0], -1) if delta_w.dim() > 1 else delta_w.view(1, -1)
            on = {"generator": generator, "dtype": torch.int32, "device": delta_w.device}
            a = torch.randint(0, _DITHER_LEVELS, (cols.shape[0], 1), **on)
            b = torch.randint(0, _DITHER_LEVELS, (1, cols.shape[1]), **on)
            xor = torch.bitwise_xor(a, b, out=None if int_buffer is None else int_buffer.view(cols.shape))
            # floor(x + r) with r = (a XOR b) / 2^24, computed as floor((a XOR b + 2^24 x) / 2^24): exact scaling
            dithered = torch.add(
                xor, cols, alpha=scale * _DITHER_LEVELS, out=None if out is None else out.view(cols.shape)
            )
            n = dithered.mul_(1.0 / _DITHER_LEVELS).floor_().view(delta_w.shape)
        if self.max_pulses is not None:
            n.clamp_(-self.max_pulses, self.max_pulses)
        return n

    def _dense_scratch(self, delta_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """An int32 and a float32 buffer shaped and placed like ``delta_w`` for :meth:`plan_pulses`, kept between
        calls (made again when the shape or the torch device changes)."""
        buffers = self._dense_buffers
        if buffers is None or buffers[1].shape != delta_w.shape or buffers[1].device != delta_w.device:
            on = {"device": delta_w.device}
            buffers = self._dense_buffers = (
                torch.empty(delta_w.shape, dtype=torch.int32, **on),
                torch.empty(delta_w.shape, dtype=torch.float32, **on),
            )
        return buffers

    def plan_sparse(
        self,
        delta_w: torch.Tensor,
        generator: torch.Generator | None = None,
        alpha: float = 1.0,
        scratch: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> SparsePlan:
        """The non-zero counts of :meth:`plan_pulses` (same counts, same random draws) and the pulses they put on
        this cell's devices, without the dense plan where it can be avoided.

        On the CPU, for a float32 change of two or more dimensions with nearest rounding or rank-1 dither, a
        compiled planner (:mod:`~memristorch.cells._plan_kernel`) does it in two passes; otherwise the dense plan is
        searched for them. ``scratch`` as for :meth:`plan_pulses`; by default the dense path reuses buffers of its own.
        """
        weights = delta_w.numel()
        compiled = (
            _plan_kernel.AVAILABLE
            and delta_w.device.type == "cpu"
            and delta_w.dtype == torch.float32
            and delta_w.dim() >= 2
            and (self.rounding == "nearest" or self.dither == "rank1")
        )
        if not compiled:
            buffers = scratch if scratch is not None else self._dense_scratch(delta_w)
            counts = self.plan_pulses(delta_w, generator, alpha, buffers).view(-1)
            weight_index = torch.nonzero(counts).squeeze(1)
            weight_counts = counts.take(weight_index)
            on = counts.device
            plane = torch.arange(self.devices_per_weight, device=on).unsqueeze(1) * weights
            signs = torch.tensor(self.pulse_signs, dtype=weight_counts.dtype, device=on).unsqueeze(1)
            device_index = (plane + weight_index).view(-1)
            return SparsePlan(weight_index, weight_counts, device_index, (signs * weight_counts).view(-1))
        rows = delta_w.view(delta_w.shape[0], -1)
        scale = alpha / self.weight_per_pulse
        if self.rounding == "nearest":
            mode, a, b = _plan_kernel.NEAREST, _NO_DITHER, _NO_DITHER
        else:  # the dense planner's draws, in its order
            on = {"generator": generator, "dtype": torch.int32, "device": delta_w.device}
            a = torch.randint(0, _DITHER_LEVELS, (rows.shape[0],), **on).numpy()
            b = torch.randint(0, _DITHER_LEVELS, (rows.shape[1],), **on).numpy()
            mode, scale = _plan_kernel.RANK1, scale * _DITHER_LEVELS
        if self._plan_scratch is None or self._plan_scratch.shape != _plan_kernel.scratch_shape(*rows.shape):
            self._plan_scratch = np.zeros(_plan_kernel.scratch_shape(*rows.shape), np.uint64)
        parallel = run_parallel(weights, _plan_kernel.SERIAL_UP_TO)
        with threads_for(parallel):
            device_index, pulses, counts, row_set, row_reset, largest, non_finite = _plan_kernel.plan_sparse(
                rows.contiguous().numpy(),
                a,
                b,
                mode,
                scale,
                self.max_pulses,
                self._signs,
                self._plan_scratch,
                parallel,
            )
        device_index = torch.from_numpy(device_index)
        return SparsePlan(
            device_index[: counts.size],
            torch.from_numpy(counts),
            device_index,
            torch.from_numpy(pulses),
            torch.from_numpy(row_set),
            torch.from_numpy(row_reset),
            float(largest),
            int(non_finite),
        )


class SingleDeviceCell(Cell):
    """One device against a reference conductance ``g_ref`` (default: the middle of the nominal window)."""

    devices_per_weight = 1
    pulse_signs = (1,)

    def __init__(
        self, device: DeviceModel, w_max: float = 1.0, g_ref_s: float | None = None, **kwargs
    ) -> None:
        super().__init__(device, w_max, **kwargs)
        mid = 0.5 * (device.g_min_s + device.g_max_s)
        self.g_ref_s = mid if g_ref_s is None else g_ref_s
        check_range(
            "g_ref_s", self.g_ref_s, device.g_min_s, device.g_max_s, low_inclusive=False, high_inclusive=False
        )

    @property
    def gain(self) -> float:
        half_window = min(self.device.g_max_s - self.g_ref_s, self.g_ref_s - self.device.g_min_s)
        return self.w_max / half_window

    def weight(self, g: torch.Tensor) -> torch.Tensor:
        return (g[0] - self.g_ref_s) * self.gain

    def target_conductances(self, w: torch.Tensor) -> torch.Tensor:
        w = w.clamp(-self.w_max, self.w_max)
        return (self.g_ref_s + w / self.gain).unsqueeze(0)


class DifferentialCell(Cell):
    """A device pair read as ``gain (G⁺ − G⁻)``; updates push one device up and the other down."""

    devices_per_weight = 2
    pulse_signs = (1, -1)

    @property
    def gain(self) -> float:
        return self.w_max / (self.device.g_max_s - self.device.g_min_s)

    def weight(self, g: torch.Tensor) -> torch.Tensor:
        return (g[0] - g[1]) * self.gain

    def target_conductances(self, w: torch.Tensor) -> torch.Tensor:
        w = w.clamp(-self.w_max, self.w_max)
        g_min = self.device.g_min_s
        dg = w / self.gain
        return torch.stack((g_min + dg.clamp(min=0), g_min + (-dg).clamp(min=0)))


CELLS = {"single": SingleDeviceCell, "differential": DifferentialCell}


def make_cell(kind: str, device: DeviceModel, **kwargs) -> Cell:
    check_choice("cell", kind, tuple(CELLS))
    return CELLS[kind](device, **kwargs)
