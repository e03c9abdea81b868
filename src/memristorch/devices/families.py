"""The two device families that do not fit the pulsed contract of :class:`~.base.DeviceModel`, each with its own
small interface, so that there is still one obvious way to add a device of either kind.

* :class:`OneWayPulsedDevice` — identical pulses that move a device in one direction only. Weak-RESET HfOx RRAM
  (Majumdar et al., IEEE TED 2021) is the example: a weak RESET only raises resistance and there is no SET in the
  regime, so a signed weight change needs a *pair* of devices (``tiles.WeakResetPairArray``), and the quantity the
  physics is written in is ln(R/R0), not a conductance window with two bounds. Its arrays, layers and optimizer
  (``PulseAdam``) take any object with these members.
* :class:`BitErrorMemory` — a binary memory described by what a write condition costs and how often the stored bit
  then reads wrong, with no per-device state a training loop evolves: binary HfOx RRAM read in a 1T1R or 2T2R cell
  (``cells.OneT1RCell``, ``cells.TwoT2RCell``; Hirtzlin et al., Front. Neurosci. 2020) and spin-torque MRAM
  (:class:`~.mram.STMRAM`; Hirtzlin et al., NANOARCH 2019). ``cells.SignFlips.of(memory, condition)`` turns any of
  them into the bit-error channel the BNN studies inject.

Both are :class:`typing.Protocol` classes, checked with ``isinstance`` once, where an array or channel is built.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch

from .base import DeviceState


@runtime_checkable
class OneWayPulsedDevice(Protocol):
    """A device that identical pulses move one way: ln(R/R0) grows (on average) with the pulse count.

    ``apply_pulses`` takes non-negative whole counts per device and returns a new state (the one passed in is never
    modified), drawing any noise from ``generator``; ``resistance`` and ``log_resistance_ratio`` are noise-free
    functions of the state; ``base_resistance`` is each device's R0, the resistance ln(R/R0) is measured from.
    """

    family: str

    def init_state(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> DeviceState: ...

    def apply_pulses(
        self, state: DeviceState, pulses: torch.Tensor, generator: torch.Generator | None = None
    ) -> DeviceState: ...

    def resistance(self, state: DeviceState) -> torch.Tensor: ...

    def log_resistance_ratio(self, state: DeviceState) -> torch.Tensor: ...

    def base_resistance(self, state: DeviceState) -> torch.Tensor: ...


@runtime_checkable
class BitErrorMemory(Protocol):
    """A binary memory whose bits, written under ``condition``, read wrong with probability ``bit_error_rate``
    and cost ``energy_per_bit_j`` joules each to write. Both take one condition object of the memory's own kind
    (``ProgrammingCondition`` for RRAM, ``MRAMWrite`` for ST-MRAM) and raise ``TypeError`` for any other."""

    def bit_error_rate(self, condition: Any) -> float: ...

    def energy_per_bit_j(self, condition: Any) -> float: ...


def require(obj: object, protocol: type, name: str) -> None:
    """Raise a ``TypeError`` naming ``name`` and the members of ``protocol`` that ``obj`` lacks."""
    if isinstance(obj, protocol):
        return
    declared = set(vars(protocol).get("__annotations__", {})) | {
        key for key, value in vars(protocol).items() if callable(value) and not key.startswith("_")
    }
    members = [m for m in declared if not hasattr(obj, m)]
    raise TypeError(
        f"{name} must be a {protocol.__name__} (memristorch.devices.families), got {type(obj).__name__}"
        + (f" without {', '.join(sorted(members))}" if members else "")
    )
