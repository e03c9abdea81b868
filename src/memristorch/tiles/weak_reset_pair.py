"""An array of binary weights, each stored in a pair of weak-RESET RRAM devices (Majumdar et al., IEEE TED 2021).

Weight w = sign(R_BL − R_BLb) (a tie reads +1). Learning applies only weak-RESET pulses, which raise resistance:
n > 0 pulses go to BL (pushing w toward +1), n < 0 to BLb (toward −1), at most ``max_pulses`` per update (14, the
1/f filter length − 1, as in the authors' learning rule). Fresh pairs start with one pulse on a randomly chosen side,
so that even identical devices (no D2D) begin with random signs. The array counts pulses and write cycles per device.

:meth:`WeakResetPairArray.weight_at` reads the weights a time after programming under a
:class:`~memristorch.tiles.drift.WeakResetRetention` model (each device's ln(R/R0) relaxes toward 0); like the
conductance tiles' drift it is a view, the programmed state stays as written.
"""

from __future__ import annotations

import torch

from .._rng import GeneratorOwner
from .._validation import check_int
from ..devices.families import OneWayPulsedDevice, require
from .drift import WeakResetRetention, parse_duration


class WeakResetPairArray(GeneratorOwner):
    """The pairs' device state as ordinary buffers (``bl_<field>``, ``blb_<field>``), the pulse and write-cycle
    counts and the generator's state, so ``state_dict`` carries everything and ``model.to(...)`` moves it (the
    generator too: on another torch device it is reseeded from its own stream, see :mod:`memristorch._rng`)."""

    def __init__(
        self,
        shape: tuple[int, ...],
        device: OneWayPulsedDevice,
        generator: torch.Generator | None = None,
        max_pulses: int = 14,
    ) -> None:
        super().__init__()
        require(device, OneWayPulsedDevice, "device")
        check_int("max_pulses", max_pulses, 1)
        self.shape = tuple(shape)
        self.device = device
        self.max_pulses = max_pulses
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        for side in ("bl", "blb"):
            self._store(side, device.init_state(self.shape, self.generator))
        self.register_buffer("pulses_total_count", torch.zeros((), dtype=torch.int64))
        self.register_buffer("write_cycles", torch.zeros((2, *self.shape), dtype=torch.int64))
        self._register_rng_state()
        side = torch.rand(self.shape, generator=self.generator) < 0.5
        self.apply_pulses(torch.where(side, 1, -1))

    def _store(self, side: str, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            if f"{side}_{name}" in self._buffers:
                self._buffers[f"{side}_{name}"] = value
            else:
                self.register_buffer(f"{side}_{name}", value)

    def _side(self, side: str) -> dict[str, torch.Tensor]:
        prefix = f"{side}_"
        return {k[len(prefix) :]: v for k, v in self._buffers.items() if k.startswith(prefix)}

    @property
    def bl(self) -> dict[str, torch.Tensor]:
        """State of the BL devices, by field (a view of the buffers)."""
        return self._side("bl")

    @property
    def blb(self) -> dict[str, torch.Tensor]:
        """State of the BLb devices, by field (a view of the buffers)."""
        return self._side("blb")

    @property
    def pulses_total(self) -> int:
        """Weak-RESET pulses applied so far, over both sides."""
        return int(self.pulses_total_count)

    def weight(self) -> torch.Tensor:
        diff = self.device.resistance(self.bl) - self.device.resistance(self.blb)
        return torch.where(diff >= 0, 1.0, -1.0).to(torch.float32)

    def weight_at(
        self, t_s: float | str, retention: WeakResetRetention | None = None, seed: int = 0
    ) -> torch.Tensor:
        """The ±1 weights read ``t_s`` (seconds, or "1h", "1y", …) after programming, every device's ln(R/R0)
        relaxed by ``retention`` (default :class:`WeakResetRetention`). The per-device loss rates come from a
        generator seeded with ``seed`` (BL's devices first, then BLb's), so reads at several times see the same
        devices, and the array's own random stream is untouched."""
        t = parse_duration(t_s)
        retention = WeakResetRetention() if retention is None else retention
        if not isinstance(retention, WeakResetRetention):
            raise TypeError(f"retention must be a WeakResetRetention or None, got {type(retention).__name__}")
        check_int("seed", seed, 0, 2**63 - 1)
        rng = torch.Generator().manual_seed(seed)
        rates = retention.sample((2, *self.shape), rng).to(self.write_cycles.device)  # the same on any device
        r = [
            self.device.base_resistance(side)
            * torch.exp(retention.log_ratio_at(self.device.log_resistance_ratio(side), rate, t))
            for side, rate in zip((self.bl, self.blb), rates, strict=True)
        ]
        return torch.where(r[0] - r[1] >= 0, 1.0, -1.0).to(torch.float32)

    def apply_pulses(self, pulses: torch.Tensor) -> None:
        """Signed pulse counts per weight, clipped to ±``max_pulses``; all-or-nothing on bad input."""
        if pulses.shape != self.shape:
            raise ValueError(f"pulses shape {tuple(pulses.shape)} must match the array {self.shape}")
        if pulses.dtype.is_floating_point:
            if not bool(torch.isfinite(pulses).all()):
                raise ValueError("pulses hold NaN or inf; no device was changed")
            pulses = pulses.round()
        n = pulses.to(torch.int64).clamp(-self.max_pulses, self.max_pulses)
        up, down = n.clamp(min=0), (-n).clamp(min=0)
        bl = self.device.apply_pulses(self.bl, up, self.generator)
        blb = self.device.apply_pulses(self.blb, down, self.generator)
        self._store("bl", bl)
        self._store("blb", blb)
        self.pulses_total_count += up.sum() + down.sum()
        self.write_cycles[0] += (up > 0).to(torch.int64)
        self.write_cycles[1] += (down > 0).to(torch.int64)

    def load_legacy_state(self, state: dict) -> None:
        """Load the dictionary older versions kept as the layer's extra state (before the array was a module)."""
        shape = tuple(state["bl"]["t"].shape)
        if shape != self.shape:
            raise ValueError(
                f"the saved pair array has shape {shape}, this one {self.shape}; nothing was loaded"
            )
        self._store("bl", {k: v.clone() for k, v in state["bl"].items()})
        self._store("blb", {k: v.clone() for k, v in state["blb"].items()})
        self.pulses_total_count.fill_(int(state["pulses_total"]))
        self.write_cycles.copy_(state["write_cycles"].to(torch.int64))  # saved before 2026-12 as int32
        self.generator.set_state(state["generator"])
        self.rng_state = self.generator.get_state()
