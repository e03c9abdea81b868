"""What a tile is made of: device, cell, periphery, update policy."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .._validation import check_choice, check_int, check_range
from ..cells import CELLS, Cell, make_cell
from ..devices import DeviceModel, get_device
from .drift import DriftModel
from .periphery import PeripheryConfig
from .programming_error import ProgrammingError

WRITE_SCHEMES = ("row", "parallel")


@dataclass(frozen=True)
class TileConfig:
    """Configuration shared by every tile that ``convert`` creates.

    ``device`` is a :class:`DeviceModel` or a preset name. ``write_scheme`` sets how programming time is counted:
    ``row`` programs one array row at a time (all its columns in parallel, SET and RESET phases apart), as a 1T1R
    array is written; ``parallel`` pulses the whole array at once (crossbar outer-product update, Gokmen & Vlasov
    2016), so an update takes as long as its largest pulse count.
    """

    device: DeviceModel | str = "soft-bounds"
    """The device model, or a preset name of ``memristorch.devices.PRESETS`` (default: the soft-bounds pulsed preset,
    a placeholder — calibrate)."""
    cell: str = "single"
    """How a weight sits on devices: "single" (one device against a mid-window reference) or "differential"
    (G⁺ − G⁻ on a pair)."""
    w_max: float = 1.0
    """Weight at the top of the device window (the weight ↔ conductance gain), > 0; ``convert`` sets it per layer
    (or per column) from the float weights."""
    rounding: str = "stochastic"
    """How a weight change becomes whole pulses: "stochastic" (unbiased on average, as aihwkit and Gokmen & Vlasov
    2016 do) or "nearest"."""
    dither: str = "rank1"
    """Random numbers of stochastic rounding: "rank1" (one draw per row and per column, combined; cheap, unbiased
    per device) or "independent" (one draw per device)."""
    max_pulses: int | None = None
    """Most pulses a device takes in one update, an integer in [1, 2²⁴], or None: no cap (a plan beyond 2²⁴ − 1
    pulses, the most one update applies, then raises an error naming that limit)."""
    write_scheme: str = "row"
    """How programming time is counted: "row" or "parallel" (see the class docstring)."""
    periphery: PeripheryConfig = field(default_factory=PeripheryConfig)
    """Input noise, DAC, ADC and read latency of the array's periphery (:class:`PeripheryConfig`)."""
    seed: int = 0
    """Seed of the tile's own random stream (D2D draws, rounding, noise), an integer in [0, 2⁶³ − 1]; ``convert``
    derives one per layer from it."""
    drift: DriftModel | None = None
    """How the programmed conductances change with time (``tiles.drift``); None: they stay as written."""
    programming_error: ProgrammingError | None = None
    """How far the devices settle from their verified conductance after each program-and-verify
    (``tiles.programming_error``); None: they stay where verification left them."""
    training_weight_noise: float = 0.0
    """Std of additive Gaussian weight noise, as a fraction of the layer's largest |weight| (the value per-layer
    mapping puts at the top of the window), drawn anew in every forward pass while the layer is in training mode —
    hardware-aware training by noise injection (Joshi et al., Nat. Commun. 2020, scale the noise the same way);
    0 in eval mode and by default."""

    def __post_init__(self) -> None:
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_range("training_weight_noise", self.training_weight_noise, 0.0, 10.0)
        object.__setattr__(self, "seed", int(self.seed))
        if self.drift is not None and not isinstance(self.drift, DriftModel):
            raise TypeError(f"drift must be a DriftModel or None, got {type(self.drift).__name__}")
        if self.programming_error is not None and not isinstance(self.programming_error, ProgrammingError):
            raise TypeError(
                f"programming_error must be a ProgrammingError or None, got {type(self.programming_error).__name__}"
            )
        if not isinstance(self.periphery, PeripheryConfig):
            raise TypeError(f"periphery must be a PeripheryConfig, got {type(self.periphery).__name__}")
        check_choice("cell", self.cell, tuple(CELLS))
        check_choice("write_scheme", self.write_scheme, WRITE_SCHEMES)
        if isinstance(self.device, str):
            object.__setattr__(self, "device", get_device(self.device))
        elif not isinstance(self.device, DeviceModel):
            raise ValueError(
                f"device must be a DeviceModel or a preset name, got {type(self.device).__name__}"
            )
        if self.drift is not None:
            self.drift.check_device(self.device)
        # build once to validate the cell arguments
        self.make_cell()

    def make_cell(self) -> Cell:
        return make_cell(
            self.cell,
            self.device,
            w_max=self.w_max,
            rounding=self.rounding,
            dither=self.dither,
            max_pulses=self.max_pulses,
        )

    def with_seed(self, seed: int) -> TileConfig:
        return replace(self, seed=seed)
