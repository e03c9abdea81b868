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
    cell: str = "single"
    w_max: float = 1.0
    rounding: str = "stochastic"
    dither: str = "rank1"
    max_pulses: int | None = None
    write_scheme: str = "row"
    periphery: PeripheryConfig = field(default_factory=PeripheryConfig)
    seed: int = 0
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
