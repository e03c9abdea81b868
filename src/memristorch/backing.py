"""Which parameters live in devices, and in what: the one link between a layer's parameter and its array.

A memristive layer attaches its array to its ``weight`` parameter with :func:`attach`; an optimizer asks
:func:`backing_of` and dispatches on what the array can do, by protocol, never by attribute name:

* :class:`PulseProgrammable` — takes a weight change and turns it into pulses (``AnalogTile``: in-situ SGD);
* :class:`PulseCountProgrammable` — takes signed pulse counts per weight (weak-RESET pair arrays: pulse Adam).

An optimizer given a parameter whose array it cannot drive raises instead of updating the float mirror alone.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

#: the attribute :func:`attach` sets on a parameter (older code read it directly as ``TILE_ATTRIBUTE``)
ATTRIBUTE = "_memristorch_backing"


@runtime_checkable
class PulseProgrammable(Protocol):
    """An array that applies a weight change ``alpha · delta_w`` as pulses, all or nothing: in one call
    (``update``) or planned and checked first, then applied or discarded (``plan_update``, ``apply_plan``,
    ``discard_plan``), so that an optimizer can check every array before it changes any."""

    def check_update(self, delta_w: torch.Tensor, alpha: float = 1.0) -> None: ...

    def plan_update(self, delta_w: torch.Tensor, alpha: float = 1.0, *, check_finite: bool = True): ...

    def apply_plan(self, planned, weight: torch.Tensor | None = None) -> int: ...

    def discard_plan(self, planned) -> None: ...

    def update(
        self,
        delta_w: torch.Tensor,
        weight: torch.Tensor | None = None,
        *,
        alpha: float = 1.0,
        check_finite: bool = True,
    ) -> int: ...


@runtime_checkable
class PulseCountProgrammable(Protocol):
    """An array that applies signed pulse counts per weight and reads its weights back."""

    def apply_pulses(self, pulses: torch.Tensor) -> None: ...

    def weight(self) -> torch.Tensor: ...


def attach(parameter: torch.Tensor, array: PulseProgrammable | PulseCountProgrammable) -> None:
    """Record that ``parameter`` mirrors what ``array`` holds."""
    if not isinstance(array, (PulseProgrammable, PulseCountProgrammable)):
        raise TypeError(f"array must be pulse-programmable, got {type(array).__name__}")
    setattr(parameter, ATTRIBUTE, array)


def backing_of(parameter: torch.Tensor) -> PulseProgrammable | PulseCountProgrammable | None:
    """The array ``parameter`` mirrors, or None for an ordinary (digital) parameter."""
    return getattr(parameter, ATTRIBUTE, None)


_KINDS: dict[type, tuple[bool, bool]] = {}


def _kind(array) -> tuple[bool, bool]:
    """(pulse-programmable, pulse-count-programmable) of ``array``'s class, decided once per class: a runtime
    protocol check inspects every member and costs microseconds, which an optimizer step would pay per parameter."""
    kind = _KINDS.get(type(array))
    if kind is None:
        kind = _KINDS[type(array)] = (
            isinstance(array, PulseProgrammable),
            isinstance(array, PulseCountProgrammable),
        )
    return kind


def is_pulse_programmable(array) -> bool:
    """Whether ``array`` (not None) is a :class:`PulseProgrammable` (decided once per class)."""
    return _kind(array)[0]


def is_pulse_count_programmable(array) -> bool:
    """Whether ``array`` (not None) is a :class:`PulseCountProgrammable` (decided once per class)."""
    return _kind(array)[1]
