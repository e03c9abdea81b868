"""Named random streams: one independent seed per (base seed, purpose, replicate), never an offset sum.

Adding offsets to a seed makes streams collide across replicates (seed 16 + 1 and seed 0 + 17 are the same
stream). Here a stream's seed is a hash of its full name, so two different names give unrelated 63-bit seeds and
the same name always gives the same seed, on every machine and Python version (BLAKE2b, not ``hash()``).
"""

from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, purpose: str, *index: int) -> int:
    """The seed of stream ``purpose`` (with optional replicate indices) under base ``seed``: a 63-bit integer."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not isinstance(purpose, str) or not purpose:
        raise ValueError(f"purpose must be a non-empty string, got {purpose!r}")
    for i in index:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"stream indices must be ints, got {i!r}")
    name = "/".join([str(seed), purpose, *map(str, index)])
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def stream(seed: int, purpose: str, *index: int, device: torch.device | str | None = None) -> torch.Generator:
    """A ``torch.Generator`` seeded for stream ``purpose`` (e.g. ``stream(0, "batch-order", replicate)``)."""
    generator = torch.Generator(device=device) if device is not None else torch.Generator()
    return generator.manual_seed(derive_seed(seed, purpose, *index))
