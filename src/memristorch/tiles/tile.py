"""One weight matrix on an array of devices: reads through the periphery, writes through the cell, and a ledger.

The tile keeps the device state packed by dtype, device-major: one buffer (``device_state``, then
``device_state_1``, …) of shape ``(weights, devices_per_weight, n_fields)`` per dtype, so that the fields of both
devices of a weight lie side by side in memory (one or two cache lines for a pulsed weight, where a field-major
layout touches one line per field and device). :attr:`state` presents it as the device model's named fields, each
a view shaped ``(devices_per_weight, *weight_shape)``. Beside it lies the state of the tile's random generator, so
``state_dict`` holds everything needed to continue a run bit for bit (a ``state_dict`` saved in the earlier
field-major layout, ``(n_fields, devices_per_weight, *weight_shape)``, loads too).

An update touches only the devices that receive pulses: the cell plans the pulsed weights
(:meth:`~memristorch.cells.cells.Cell.plan_sparse`) and the device model applies, books and writes back their pulses
in one commit step (:meth:`~memristorch.devices.base.DeviceModel.pulse_at`). An update is all-or-nothing: the plan
and every check come first, and device buffers are written only once nothing more can fail.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import torch

from .._rng import GeneratorOwner
from .._validation import MAX_PULSES_PER_CALL, check_finite, check_finite_tensor, check_range
from ..cells.cells import SparsePlan
from ..ledger import Ledger
from .config import TileConfig
from .periphery import quantize_ste
from .programming import ProgramReport, VerifyConfig, program_and_verify

_finite_number = check_finite  # by another name where a parameter is called check_finite
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)

#: calibration keeps at most this many |values| per read (evenly strided beyond it): enough for a 99.99th percentile
_CALIBRATION_SAMPLE = 200_000


def _abs_sample(values: torch.Tensor) -> torch.Tensor:
    flat = values.detach().abs().reshape(-1).float()
    if flat.numel() <= _CALIBRATION_SAMPLE:
        return flat.clone()
    step = flat.numel() // _CALIBRATION_SAMPLE + 1
    return flat[::step].clone()  # evenly strided: deterministic, no random stream touched


class PlannedUpdate(NamedTuple):
    """An update :meth:`AnalogTile.plan_update` checked and planned: the cell's plan and the generator state before
    it (for :meth:`AnalogTile.discard_plan`)."""

    plan: SparsePlan
    generator_state: torch.Tensor


class AnalogTile(GeneratorOwner):
    """Devices storing one weight tensor of shape ``weight_shape`` (first dimension = output rows)."""

    def __init__(self, weight_shape: tuple[int, ...], config: TileConfig) -> None:
        super().__init__()
        self.config = config
        self.device_model = config.device
        self.cell = config.make_cell()
        self.periphery = config.periphery
        self.weight_shape = tuple(weight_shape)
        self._row_length = math.prod(self.weight_shape[1:])
        self.generator = torch.Generator().manual_seed(int(config.seed))
        device_shape = (self.cell.devices_per_weight, *self.weight_shape)
        state = self.device_model.init_state(device_shape, self.generator)
        groups: dict[torch.dtype, list[str]] = {}
        for name, value in state.items():
            if tuple(value.shape) != device_shape:
                raise ValueError(
                    f"device state field {name!r} has shape {tuple(value.shape)}, expected {device_shape}"
                )
            groups.setdefault(value.dtype, []).append(name)
        # (buffer name, field names) per dtype; names by position, since .double() & co. may change the dtype
        self._groups = tuple(
            ("device_state" if i == 0 else f"device_state_{i}", tuple(names))
            for i, names in enumerate(groups.values())
        )
        weights, k = math.prod(self.weight_shape), self.cell.devices_per_weight
        for buffer, names in self._groups:
            # (k, weights, fields), stored as (weights, k, fields)
            packed = torch.stack([state[n].reshape(k, weights) for n in names], dim=-1)
            self.register_buffer(buffer, packed.transpose(0, 1).contiguous())
        self._register_rng_state()
        self.ledger = Ledger(device_shape)
        # drift: per-device parameters drawn once (the devices' own spread), the time the tile is read at, and the
        # digital output scale of drift compensation
        self.drift = config.drift
        self._drift_names = self.drift.parameter_names if self.drift is not None else ()
        if self.drift is not None:
            for name, value in self.drift.sample(device_shape, self.generator).items():
                self.register_buffer(f"drift_{name}", value)
        # conductance error after program-and-verify: its persistent share, one draw per device
        self.programming_error = config.programming_error
        if self.programming_error is not None:
            dtype = self.device_model.conductance(state).dtype
            persistent = self.programming_error.sample(device_shape, self.generator, dtype)
            self.register_buffer("programming_error_persistent", persistent)
        self.register_buffer("read_time_s", torch.zeros((), dtype=torch.float64))
        self.register_buffer("output_scale", torch.ones(()))
        # per-output digital scale of per-column weight mapping (ones: every output shares the tile's range)
        self.register_buffer("column_scale", torch.ones(self.weight_shape[0]))
        self.column_scaled = False
        self.compensated = False
        self._read_time = 0.0  # host copy of read_time_s (no device sync per update)
        # DAC/ADC ranges: the config's until calibrated (memristorch.calibrate); host copies for the read path
        self.register_buffer(
            "input_range", torch.tensor(float(self.periphery.input_range), dtype=torch.float64)
        )
        self.register_buffer(
            "output_range", torch.tensor(float(self.periphery.output_range), dtype=torch.float64)
        )
        self._ranges = (float(self.periphery.input_range), float(self.periphery.output_range))
        self.name = ""  # the layer's path in its model (set by convert), for messages
        self._calibration: dict[str, list[torch.Tensor]] | None = None
        # the weights as read through the wires (IR drop), kept until the devices or the read time change
        self._ir_weight: torch.Tensor | None = None
        self._warned: set[str] = set()
        self._reads_watched = 0
        self._state_views: tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]] | None = None

    # -- state -------------------------------------------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        """The torch device the tile's state, ledger and generator live on (``model.to(...)`` moves them)."""
        return self._buffers[self._groups[0][0]].device

    def _check_on_device(self, name: str, tensor: torch.Tensor) -> None:
        if tensor.device != self.torch_device:
            raise ValueError(
                f"{name} is on {tensor.device}, the tile on {self.torch_device}; move one of them "
                "(model.to(device)) — nothing was applied"
            )

    @property
    def state(self) -> dict[str, torch.Tensor]:
        buffers = tuple(self._buffers[buffer] for buffer, _ in self._groups)
        cached = self._state_views
        if cached is None or any(a is not b for a, b in zip(cached[0], buffers, strict=True)):
            shape = self.weight_shape
            views = {
                name: packed.select(2, i).t().unflatten(1, shape)
                for packed, (_, names) in zip(buffers, self._groups, strict=True)
                for i, name in enumerate(names)
            }
            cached = self._state_views = (buffers, views)  # kept while the buffers are the same tensors
        return dict(cached[1])

    def conductances(self) -> torch.Tensor:
        """Noise-free conductances, shaped ``(devices_per_weight, *weight_shape)``."""
        return self.device_model.conductance(self.state)

    # -- IR drop ----------------------------------------------------------------------------------------------------
    @property
    def has_ir_drop(self) -> bool:
        return self.periphery.wire_resistance_ohm > 0

    def _through_wires(self, g: torch.Tensor) -> torch.Tensor:
        """The weights conductances ``g`` (planes × weight shape) give when read through resistive wires: each plane
        is an (outputs × inputs) crossbar, a convolution's kernel unrolled into its inputs."""
        from .ir_drop import effective_conductances

        r = self.periphery.wire_resistance_ohm
        planes = g.reshape(g.shape[0], self.weight_shape[0], -1)
        read = torch.stack([effective_conductances(plane, r) for plane in planes]).reshape(g.shape)
        return self.cell.weight(read)

    def read_weight(self) -> torch.Tensor:
        """The weights a read sees: with IR drop, the circuit's effective weights (cached until the devices or the
        read time change); without, ``None`` — the layer's mirror is exact then."""
        if not self.has_ir_drop:
            return None
        if self._ir_weight is None:
            self._ir_weight = self._through_wires(self.conductances())
        return self._ir_weight

    def effective_weight(self) -> torch.Tensor:
        """The weights the devices hold now (noise-free read)."""
        return self.cell.weight(self.conductances())

    @torch.no_grad()
    def program(self, weight: torch.Tensor) -> torch.Tensor:
        """Ideal write: place each device at the conductance storing ``weight``; returns the stored weights.

        This models a perfect write (not counted in the ledger); :meth:`program_and_verify` is the closed-loop write
        with its pulse cost.
        """
        if tuple(weight.shape) != self.weight_shape:
            raise ValueError(f"weight must have shape {self.weight_shape}, got {tuple(weight.shape)}")
        check_finite_tensor("weight", weight)
        target = self.cell.target_conductances(weight.detach().to(self.torch_device, torch.float32))
        state = self.state
        self._write_state(self.device_model.set_conductance(state, target))
        self._set_read_time(0.0)  # freshly written: read at programming time
        return self.effective_weight()

    @torch.no_grad()
    def program_and_verify(
        self, weight: torch.Tensor, config: VerifyConfig | None = None, settle: bool = True
    ) -> ProgramReport:
        """Write ``weight`` by closed-loop program-and-verify (:func:`~memristorch.tiles.programming.program_and_verify`),
        device by device; every pulse, read, second and joule goes into the ledger. Returns the per-device report.

        With a programming error (``TileConfig.programming_error``) the devices then settle away from their
        verified conductances (:meth:`settle`); ``settle=False`` leaves that to a later explicit call. Targets a
        device cannot reach are reported (``report.reachable``), not raised. Bad input raises before any device
        changes.
        """
        if tuple(weight.shape) != self.weight_shape:
            raise ValueError(f"weight must have shape {self.weight_shape}, got {tuple(weight.shape)}")
        check_finite_tensor("weight", weight)
        if not isinstance(settle, bool):
            raise TypeError(f"settle must be True or False, got {settle!r}")
        state = self.state
        first = state[next(iter(state))]
        target = self.cell.target_conductances(weight.detach().to(first.device, first.dtype))
        new, report = program_and_verify(self.device_model, state, target, config, self.generator)
        self._write_state(new)
        self._set_read_time(0.0)
        index = torch.arange(report.pulses.numel(), device=report.pulses.device)
        self.ledger.record(index, report.pulses.reshape(-1), report.energy_j.sum(), report.time_s.sum())
        self.ledger.reads.add_(report.reads.sum())
        if settle and self.programming_error is not None:
            self.settle()
        return report

    @torch.no_grad()
    def settle(self, error: float | None = None) -> None:
        """Let the devices settle by the tile's programming error (``error`` overrides its relative size; the
        persistent share and the per-device draws stay the tile's): see :mod:`~memristorch.tiles.programming_error`.
        The settled conductances are the new device state."""
        if self.programming_error is None:
            raise ValueError(
                "this tile has no programming error model (TileConfig.programming_error is None); nothing to settle"
            )
        state = self.state
        new = self.programming_error.settle(
            self.device_model, state, self.programming_error_persistent, self.generator, error
        )
        if new is not state:
            self._write_state(new)

    def _write_state(self, new: dict[str, torch.Tensor]) -> None:
        """Copy a whole new device state into the buffers (a state the device model returned for every device)."""
        for name, value in self.state.items():
            value.copy_(new[name])
        self._ir_weight = None

    @torch.no_grad()
    def measure(self, config: VerifyConfig | None = None) -> torch.Tensor:
        """Read every device's conductance once, with the device's read noise (the read-back of chip-in-the-loop
        training), shaped ``(devices_per_weight, *weight_shape)``; each read takes ``config.read_time_s`` and
        dissipates V_read² G t_read (G noise-free), booked in the ledger with the read count."""
        config = VerifyConfig() if config is None else config
        if not isinstance(config, VerifyConfig):
            raise TypeError(f"config must be a VerifyConfig or None, got {type(config).__name__}")
        state = self.state
        read = self.device_model.read(state, self.generator)
        read_v = self.device_model.pulse_scheme.read_voltage_v
        self.ledger.reads.add_(read.numel())
        self.ledger.time_s.add_(read.numel() * config.read_time_s)
        # the dissipation is the devices' own (noise-free) conductance's; the noise is the sense circuit's
        conductance = self.device_model.conductance(state).double()
        self.ledger.energy_j.add_((read_v**2 * config.read_time_s * conductance).sum())
        return read

    # -- drift over time ----------------------------------------------------------------------------------------------
    def drift_parameters(self) -> dict[str, torch.Tensor]:
        return {name: self._buffers[f"drift_{name}"] for name in self._drift_names}

    @torch.no_grad()
    def redraw_drift(self, generator: torch.Generator | None = None) -> None:
        """Draw the per-device drift parameters afresh (another chip of the same devices); default: the tile's stream."""
        if self.drift is None:
            return
        shape = (self.cell.devices_per_weight, *self.weight_shape)
        for name, value in self.drift.sample(shape, generator or self.generator).items():
            self._buffers[f"drift_{name}"].copy_(value)

    @torch.no_grad()
    def weight_at(
        self, t_s: float, compensate: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The weights the devices read ``t_s`` seconds after programming; the tile is then read at that time.

        The programmed state is untouched (drift is a view of it). With ``compensate`` the tile also sets a digital
        output scale from a calibration read — all-ones input, summed absolute outputs — at programming over the same
        read now (global drift compensation), applied to every later output; without it the scale is 1.
        """
        from .drift import parse_duration

        t_s = parse_duration(t_s)
        if self.drift is None and t_s > 0:
            raise ValueError(
                "this tile has no drift model (TileConfig.drift is None); it cannot be read over time"
            )
        if not isinstance(compensate, bool):
            raise TypeError(f"compensate must be True or False, got {compensate!r}")
        programmed = self.effective_weight()
        if t_s == 0:
            weight = programmed
        else:
            g = self.drift.conductance(
                self.device_model, self.state, self.drift_parameters(), t_s, generator or self.generator
            )
            weight = self.cell.weight(g)
            if self.has_ir_drop:
                through = self._through_wires(g)
        scale = 1.0
        if compensate:
            dims = tuple(range(1, programmed.dim()))
            now = weight.sum(dim=dims).abs().sum()
            scale = float(programmed.sum(dim=dims).abs().sum() / now) if float(now) > 0 else 1.0
        self._set_read_time(t_s, scale)
        if self.has_ir_drop and t_s > 0:
            self._ir_weight = through  # the drifted devices, read through the wires
        return weight

    @torch.no_grad()
    def set_column_scale(self, scale: torch.Tensor | None) -> None:
        """Set the digital scale of each output (per-column weight mapping; ``None`` = all ones): outputs are
        multiplied by it after the ADC, so each column's devices can span the whole window. Finite and > 0."""
        if scale is None:
            self.column_scale.fill_(1.0)
        else:
            if not isinstance(scale, torch.Tensor) or tuple(scale.shape) != (self.weight_shape[0],):
                shape = tuple(scale.shape) if isinstance(scale, torch.Tensor) else type(scale).__name__
                raise ValueError(
                    f"column scale must be a tensor of shape ({self.weight_shape[0]},), got {shape}"
                )
            check_finite_tensor("column scale", scale)
            if bool((scale <= 0).any()):
                raise ValueError("column scale must be > 0 for every output")
            self.column_scale.copy_(scale)
        self.column_scaled = bool((self.column_scale != 1).any())

    def digital_scale(self, y: torch.Tensor, dim: int) -> torch.Tensor:
        """``y`` times the digital output scales after the ADC: drift compensation's global one and the per-column
        ones, outputs along ``dim`` (negative, counted from the end: −1 for a linear layer, −3 for a 2-D conv)."""
        if self.compensated:
            y = y * self.output_scale
        if self.column_scaled:
            y = y * self.column_scale.to(y.dtype).view(-1, *([1] * (-dim - 1)))
        return y

    def _set_read_time(self, t_s: float, scale: float = 1.0) -> None:
        self._ir_weight = None
        self.read_time_s.fill_(t_s)
        self.output_scale.fill_(scale)
        self._read_time, self.compensated = t_s, scale != 1.0

    # -- read --------------------------------------------------------------------------------------------------------
    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        periphery = self.periphery
        if self._calibration is not None:
            self._calibration["input"].append(_abs_sample(x))
            return periphery.prepare_input(x, self.generator, quantize=False)
        if periphery.dac_bits is not None:
            self._watch_clipping(x, self._ranges[0], "DAC inputs", "input_range")
        return periphery.prepare_input(x, self.generator, self._ranges[0])

    def finish_output(self, y: torch.Tensor, input_norm: torch.Tensor | None) -> torch.Tensor:
        periphery = self.periphery
        y = periphery.add_read_noise(y, input_norm, self.cell.read_noise_weight_std, self.generator)
        if self._calibration is not None:
            self._calibration["output"].append(_abs_sample(y))
            return y
        if periphery.adc_bits is None:
            return y
        self._watch_clipping(y, self._ranges[1], "ADC outputs", "output_range")
        return quantize_ste(y, periphery.adc_bits, self._ranges[1])

    def _watch_clipping(self, values: torch.Tensor, limit: float, what: str, field: str) -> None:
        """Warn once per tile and converter when more than ``clip_warning_fraction`` of one read clips (checked on
        every read of the first 100, then on every 50th read of each converter)."""
        share = self.periphery.clip_warning_fraction
        self._reads_watched += 1
        if share >= 1.0 or field in self._warned or values.numel() == 0:
            return
        if self._reads_watched > 200 and self._reads_watched % 100:  # every read at first, then every 100th
            return
        clipped = float((values.detach().abs() > limit).sum()) / values.numel()
        if clipped > share:
            self._warned.add(field)
            where = f"layer {self.name!r}" if self.name else f"the tile of weight shape {self.weight_shape}"
            warnings.warn(
                f"{where}: {clipped:.1%} of its {what} clip at {field} {limit:g} (warning above "
                f"{share:.1%}); set the range from data with memristorch.calibrate(model, batches)",
                stacklevel=3,
            )

    # -- calibration of the converters ---------------------------------------------------------------------------
    def start_calibration(self) -> None:
        """Record |inputs| and |outputs| of the following reads, with the DAC and ADC bypassed."""
        self._calibration = {"input": [], "output": []}

    @torch.no_grad()
    def finish_calibration(self, percentile: float = 99.99) -> tuple[float, float]:
        """Set the DAC input range and the ADC output range to ``percentile`` of the recorded |values|; returns them.

        A converter the periphery does not have keeps its range (it is not used). Raises if nothing was recorded.
        """
        check_range("percentile", percentile, 0.0, 100.0, low_inclusive=False)
        record, self._calibration = self._calibration, None
        if not record or not record["input"]:
            raise ValueError(
                f"{self.name or 'tile'}: no read was recorded between start and finish of calibration"
            )
        ranges = []
        for key, current in zip(("input", "output"), self._ranges, strict=True):
            values = torch.cat(record[key])
            level = float(torch.quantile(values.double(), percentile / 100.0)) if values.numel() else 0.0
            if level <= 0 and values.numel():
                warnings.warn(
                    f"{self.name or 'tile'}: every recorded {key} was 0 at the {percentile:g}th percentile; "
                    f"its {key}_range stays {current:g}",
                    stacklevel=3,
                )
            ranges.append(level if level > 0 else current)
        self.set_ranges(*ranges)
        return ranges[0], ranges[1]

    def set_ranges(self, input_range: float | None = None, output_range: float | None = None) -> None:
        """Set the DAC input range and/or ADC output range of this tile (finite, > 0)."""
        new = list(self._ranges)
        for i, (name, value) in enumerate((("input_range", input_range), ("output_range", output_range))):
            if value is not None:
                new[i] = check_range(name, value, 0.0, low_inclusive=False)
        self.input_range.fill_(new[0])
        self.output_range.fill_(new[1])
        self._ranges = (new[0], new[1])
        self._warned.clear()

    @property
    def needs_input_norm(self) -> bool:
        return self.periphery.read_noise and self.cell.read_noise_weight_std > 0

    # -- write -------------------------------------------------------------------------------------------------------
    @torch.inference_mode()  # cheaper per op than no_grad; only buffers and the weight mirror change in place
    def update(
        self,
        delta_w: torch.Tensor,
        weight: torch.Tensor | None = None,
        *,
        alpha: float = 1.0,
        check_finite: bool = True,
    ) -> int:
        """Apply the weight change ``alpha · delta_w`` as pulses; returns how many weights received pulses.

        If ``weight`` is given (the layer's mirror of the stored weights) its changed entries are refreshed with what
        the devices now hold. A step :meth:`check_update` refuses raises ``ValueError`` and changes nothing;
        ``check_finite=False`` skips the separate pass of that check where the planner does not read it on the way,
        for a caller that has just made it. This is :meth:`plan_update` followed by :meth:`apply_plan`.
        """
        return self.apply_plan(self.plan_update(delta_w, alpha, check_finite=check_finite), weight)

    @torch.inference_mode()
    def plan_update(
        self, delta_w: torch.Tensor, alpha: float = 1.0, *, check_finite: bool = True
    ) -> PlannedUpdate:
        """Check and plan the weight change ``alpha · delta_w`` without changing any device: the first half of
        :meth:`update`, for callers that plan several tiles before applying any (:class:`~memristorch.InSituSGD`).

        The plan advances the tile's generator (its rounding draws); :meth:`discard_plan` puts it back. A step
        :meth:`check_update` refuses raises ``ValueError`` with the generator as it was. The compiled planner reads
        the checks' extremes on its way through ``delta_w``; elsewhere :meth:`check_update` runs first.
        """
        if self._read_time != 0.0:
            raise ValueError(
                f"the tile is being read {self._read_time:g} s after programming (weight_at); "
                "read it at 0 s before updating its devices"
            )
        if not isinstance(delta_w, torch.Tensor):
            raise TypeError(f"delta_w must be a torch.Tensor, got {type(delta_w).__name__}")
        if tuple(delta_w.shape) != self.weight_shape:
            raise ValueError(f"delta_w must have shape {self.weight_shape}, got {tuple(delta_w.shape)}")
        self._check_on_device("delta_w", delta_w)
        alpha = _finite_number("alpha", alpha)
        self._check_scale(alpha)
        delta = delta_w.detach().float()
        before = self.generator.get_state()
        plan = self.cell.plan_sparse(delta, self.generator, alpha)
        try:
            # where the planner read the extremes on its way: the same check, without another pass
            if plan.largest is not None:
                self._check_extremes(delta_w, alpha, plan.largest, plan.non_finite > 0)
            elif check_finite:
                self.check_update(delta_w, alpha)
        except ValueError:
            self.generator.set_state(before)
            raise
        return PlannedUpdate(plan, before)

    def discard_plan(self, planned: PlannedUpdate) -> None:
        """Undo :meth:`plan_update`'s draws: the generator goes back to where it was before that plan."""
        self.generator.set_state(planned.generator_state)

    @torch.inference_mode()
    def apply_plan(self, planned: PlannedUpdate, weight: torch.Tensor | None = None) -> int:
        """Apply a plan of :meth:`plan_update` (the commit: nothing here fails on a valid plan); returns how many
        weights received pulses. ``weight``: the layer's mirror, whose changed entries are refreshed."""
        plan = planned.plan
        if plan.weight_index.numel() == 0:
            self.ledger.updates.add_(1)
            return 0
        pulses = plan.pulses
        state_dtype = self._buffers[self._groups[0][0]].dtype
        if pulses.dtype != state_dtype and state_dtype.is_floating_point:  # e.g. after model.double()
            pulses = pulses.to(state_dtype)
        elapsed = self._programming_time(plan)
        energy, g = self.device_model.pulse_at(
            self.state, plan.device_index, pulses, self.generator, self.ledger.write_cycles
        )
        self._ir_weight = None
        self.ledger.record_update(energy, elapsed)
        if weight is not None:
            stored = self.cell.weight(g.view(self.cell.devices_per_weight, -1))
            weight.view(-1).put_(
                plan.weight_index, stored if stored.dtype == weight.dtype else stored.to(weight.dtype)
            )
        return int(plan.weight_index.numel())

    def check_update(self, delta_w: torch.Tensor, alpha: float = 1.0) -> None:
        """Raise ``ValueError`` (nothing changes) unless ``alpha · delta_w`` is a step this tile can plan.

        ``delta_w`` must have the weight's shape and be finite, ``alpha`` a finite number, and without a pulse cap
        (``max_pulses``) no device may be asked for more than 2**24 pulses in one update — the largest count that
        float32 planning carries exactly (a step of 1e30 would otherwise wrap around to negative pulse counts).
        """
        if not isinstance(delta_w, torch.Tensor):
            raise TypeError(f"delta_w must be a torch.Tensor, got {type(delta_w).__name__}")
        if tuple(delta_w.shape) != self.weight_shape:
            raise ValueError(f"delta_w must have shape {self.weight_shape}, got {tuple(delta_w.shape)}")
        self._check_on_device("delta_w", delta_w)
        alpha = check_finite("alpha", alpha)
        self._check_scale(alpha)
        if not delta_w.numel():
            return
        # one reduction, no temporary (a fresh |Δw| costs page faults that exceed the arithmetic); NaN and inf
        # propagate through both extremes
        low, high = (float(v) for v in torch.aminmax(delta_w.detach()))
        self._check_extremes(
            delta_w, alpha, max(-low, high), not (math.isfinite(low) and math.isfinite(high))
        )

    def _check_scale(self, alpha: float) -> None:
        """``alpha`` in pulses per unit of weight change must be a float32 number (with the 2²⁴ levels of the rank-1
        dither), or planning would multiply by infinity."""
        largest = _FLOAT32_MAX / 2.0**24 * self.cell.weight_per_pulse
        if abs(alpha) > largest:
            raise ValueError(
                f"alpha {alpha!r} asks for more pulses on one device per unit of weight change than a float32 plan "
                f"holds: |alpha| must be at most {largest:.3g} for this tile (one pulse changes a weight by "
                f"{self.cell.weight_per_pulse:.3g}); nothing was applied"
            )

    def _check_extremes(self, delta_w: torch.Tensor, alpha: float, largest: float, non_finite: bool) -> None:
        """The value checks of :meth:`check_update`, given the largest |Δw| and whether any Δw is not finite."""
        if non_finite:
            check_finite_tensor("delta_w", delta_w)  # raises, counting the bad entries
        if self.cell.max_pulses is None:
            peak = largest * abs(alpha) / self.cell.weight_per_pulse
            if peak > MAX_PULSES_PER_CALL - 1:  # stochastic rounding may add one
                raise ValueError(
                    f"alpha·delta_w asks for up to {peak:.3g} pulses on one device in one update; a tile plans at "
                    f"most {MAX_PULSES_PER_CALL - 1:,} — set TileConfig.max_pulses or take a smaller step; "
                    "nothing was applied"
                )

    def _programming_time(self, plan) -> torch.Tensor | float:
        """Seconds the write of ``plan`` (a :class:`~memristorch.cells.cells.SparsePlan`) takes under the configured
        scheme.

        A positive count on a weight means SET pulses on some of its devices and RESET pulses on the others (the
        differential cell), so each device plane needs, per row, as many SET slots as the largest positive count
        and as many RESET slots as the largest negative one; SET and RESET phases run one after the other, and the
        device planes of a cell one after the other.
        """
        period = self.device_model.pulse_period_s * self.cell.devices_per_weight
        rows = self.weight_shape[0]
        if plan.row_set is not None and plan.row_set.numel() == rows:  # the planner's own row maxima
            row_set, row_reset = plan.row_set.numpy(), plan.row_reset.numpy()
            if self.config.write_scheme == "parallel":
                return float(row_set.max() + row_reset.max()) * period
            return (float(row_set.sum(dtype=np.float64)) + float(row_reset.sum(dtype=np.float64))) * period
        weight_index, weight_counts = plan.weight_index, plan.counts
        if self.config.write_scheme == "parallel":
            low, high = torch.aminmax(weight_counts)
            return (high.clamp(min=0) - low.clamp(max=0)).double() * period
        # slot r: SET pulses of row r; slot rows + r: RESET pulses of row r
        slot = torch.div(weight_index, self._row_length, rounding_mode="floor")
        slot.add_((weight_counts < 0).long(), alpha=rows)
        longest = torch.zeros(2 * rows, device=slot.device)
        longest.scatter_reduce_(0, slot, weight_counts.abs(), "amax")
        return longest.sum().double().mul_(period)

    # -- torch devices and serialization ------------------------------------------------------------------------------
    def _on_device_change(self) -> None:
        self._ir_weight = None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # earlier versions saved the cell's pulse signs, a constant of the cell, not state
        state_dict.pop(prefix + "pulse_signs", None)
        k = self.cell.devices_per_weight
        for buffer, names in self._groups:  # the field-major layout of earlier versions: made device-major
            saved = state_dict.get(prefix + buffer)
            if saved is not None and tuple(saved.shape) == (len(names), k, *self.weight_shape):
                state_dict[prefix + buffer] = saved.reshape(len(names), k, -1).permute(2, 1, 0).contiguous()
        # tiles saved before drift existed have no read time or output scale: read at programming, unscaled
        state_dict.setdefault(prefix + "read_time_s", torch.zeros((), dtype=torch.float64))
        state_dict.setdefault(prefix + "output_scale", torch.ones(()))
        state_dict.setdefault(prefix + "column_scale", torch.ones(self.weight_shape[0]))
        state_dict.setdefault(prefix + "input_range", self.input_range.clone())
        state_dict.setdefault(prefix + "output_range", self.output_range.clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)  # restores the generator too
        self._read_time, self.compensated = float(self.read_time_s), float(self.output_scale) != 1.0
        self.column_scaled = bool((self.column_scale != 1).any())
        self._ranges = (float(self.input_range), float(self.output_range))
        self._ir_weight = None

    def extra_repr(self) -> str:
        return (
            f"weight_shape={self.weight_shape}, cell={type(self.cell).__name__}, device={self.device_model!r}"
        )
