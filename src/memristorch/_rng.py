"""A module that owns a random generator: the generator follows the module's buffers across torch devices, and its
state travels in ``state_dict`` as the ``rng_state`` buffer (always a CPU byte tensor, as ``get_state`` gives it).

A torch generator lives on one device and cannot be moved: CPU generators are Mersenne Twisters, CUDA ones Philox
counters, and their states do not convert. When ``model.to(device)`` moves the buffers to another device, the owner
therefore draws a seed from its current stream and starts a generator on the new device from it — deterministic for
a given history, but a different stream from the one the old device would have continued. Moves that keep the
device (``.double()``, ``.to("cpu")`` on the CPU) leave the generator and its stream untouched.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

#: seeds drawn for a moved generator lie in [0, 2**62): below every generator's limit
_SEED_LIMIT = 2**62


def generator_on(device: torch.device, source: torch.Generator) -> torch.Generator:
    """A generator on ``device`` seeded from ``source``'s stream (``source`` itself if it is on that device)."""
    device = torch.device(device)
    if source.device == device or (source.device.type == device.type and device.index is None):
        return source
    seed = int(torch.randint(0, _SEED_LIMIT, (1,), generator=source, device=source.device))
    return torch.Generator(device=device).manual_seed(seed)


class GeneratorOwner(nn.Module):
    """Base of modules holding ``self.generator`` and an ``rng_state`` buffer.

    Subclasses create ``self.generator`` and register the buffer with :meth:`_register_rng_state` after their
    other buffers; the generator then follows the device of the first other buffer.
    """

    generator: torch.Generator

    def _register_rng_state(self) -> None:
        self.register_buffer("rng_state", self.generator.get_state())

    def _anchor_device(self) -> torch.device | None:
        for name, buffer in self._buffers.items():
            if name != "rng_state" and buffer is not None:
                return buffer.device
        return None

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self._buffers["rng_state"] = self._buffers["rng_state"].cpu()  # generator states are CPU bytes
        device = self._anchor_device()
        if device is not None and self.generator.device != device:
            self.generator = generator_on(device, self.generator)
            self._on_device_change()
        return self

    def _on_device_change(self) -> None:
        """Hook for subclasses: drop caches tied to the old device."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        self.rng_state = self.generator.get_state()
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "rng_state")
        if isinstance(saved, torch.Tensor):  # states of another generator type have another length
            self._buffers["rng_state"] = torch.empty_like(saved, device="cpu")
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._restore_generator()

    def _restore_generator(self) -> None:
        """Continue the saved stream; a state saved by a generator of another device type seeds this one."""
        state = self.rng_state.clone()
        try:
            self.generator.set_state(state)
        except RuntimeError:
            seed = int.from_bytes(bytes(state[:8].tolist()), "little") % _SEED_LIMIT
            self.generator.manual_seed(seed)
            warnings.warn(
                f"{type(self).__name__}: the saved random state belongs to a generator of another device type "
                f"than this {self.generator.device.type} one; the stream restarts from a seed taken from it, so "
                "the run does not continue bit for bit",
                stacklevel=4,
            )


def generator_device(generator: torch.Generator | None) -> torch.device | None:
    """Where tensors drawn from ``generator`` must be made (``None`` without one: torch's default device)."""
    return None if generator is None else generator.device
