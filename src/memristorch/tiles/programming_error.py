"""Conductance error after program-and-verify: the devices settle away from the conductance the verify step saw.

After a device passes verification its conductance still moves (relaxation right after the write, read-disturb,
short-term drift): the chip then computes with ``G (1 + e ε)``, ε ~ N(0, 1). Part of that error belongs to the
device and comes back every time it is programmed; part is new at every programming. The model splits ε as
``√ρ a + √(1 − ρ) b``: ``a`` is drawn once per device (a tile buffer, kept in ``state_dict``), ``b`` afresh at
every programming from the tile's stream, ``ρ`` = ``persistence``. ε stays unit-variance for every ρ, so ``error``
is the relative standard deviation of the conductance error whatever the split. A conductance never goes below 0.

Eslami et al. (2024) sweep the relative conductance error of the programmed chip; they do not say how much of it
persists from one programming to the next, so ``persistence`` (default 0.5) is a placeholder — calibrate it from two
programmings of the same devices (the correlation of their errors is ρ).

Unlike :mod:`.drift` (a view of the programmed state at a later time), this error changes the device state: a later
verify pass starts from where the devices settled.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._rng import generator_device
from .._validation import check_range
from ..devices.base import DeviceModel, DeviceState


@dataclass(frozen=True)
class ProgrammingError:
    """Relative conductance error after each program-and-verify, with a persistent per-device share."""

    error: float = 0.05
    """Relative standard deviation of each device's conductance after programming (0.05 = 5 %), ≥ 0; the on-chip
    study's default level (Eslami et al. 2024 sweep 0–30 %)."""
    persistence: float = 0.5
    """Share ρ of the error's variance that is the device's own and recurs at every programming, in [0, 1];
    placeholder — calibrate."""

    def __post_init__(self) -> None:
        check_range("error", self.error, 0.0, 10.0)
        check_range("persistence", self.persistence, 0.0, 1.0)

    def sample(
        self, shape: tuple[int, ...], generator: torch.Generator | None, dtype: torch.dtype
    ) -> torch.Tensor:
        """The persistent draws ``a`` (one per device), on the generator's device."""
        return torch.randn(shape, generator=generator, dtype=dtype, device=generator_device(generator))

    def settle(
        self,
        device: DeviceModel,
        state: DeviceState,
        persistent: torch.Tensor,
        generator: torch.Generator | None,
        error: float | None = None,
    ) -> DeviceState:
        """The state after the devices settle by ``error`` (default: this model's), fresh draws from ``generator``.

        An error of 0 returns ``state`` itself and draws nothing; so does a persistence of 1 draw nothing fresh.
        """
        error = self.error if error is None else check_range("error", error, 0.0, 10.0)
        if error == 0:
            return state
        g = device.conductance(state)
        rho = self.persistence
        epsilon = rho**0.5 * persistent.to(g.dtype)
        if rho < 1:  # a wholly persistent error draws nothing new
            fresh = torch.randn(
                g.shape, generator=generator, dtype=g.dtype, device=generator_device(generator)
            )
            epsilon = epsilon + (1 - rho) ** 0.5 * fresh.to(g.device)
        return device.set_conductance(state, g * (1 + error * epsilon).clamp(min=0.0))
