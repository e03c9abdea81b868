"""Standard normal draws for the read noise of every inference: a compiled ziggurat, about twice torch's speed.

A noisy read needs one Gaussian per output and sample (``batch × outputs`` per layer and forward pass), and on the
CPU torch's generator, not the matrix product, then sets the pace. This module draws them with the ziggurat method
of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000; 128 layers), compiled with numba and split over threads in fixed
blocks of ``BLOCK`` values. Each block runs its own SplitMix64 stream (Steele, Lea & Flood, OOPSLA 2014) seeded from
a key and the block's index, so the values depend on the key alone — not on the thread count or the schedule. The
key is one 63-bit draw from the caller's ``torch.Generator``, so a tile's stream (and its ``state_dict``) still
decides every value, and a call advances that generator by exactly one draw.

Unlike the original ziggurat, the layer index and the value come from disjoint bits of one 64-bit word (the low 7
bits and the high 32), which removes the correlation between them that Doornik (2005) pointed out. The distribution
is tested in ``tests/test_gaussian.py``: moments, tail shares and a Kolmogorov–Smirnov test on 2·10⁶ draws.

Off the CPU, or without numba, :func:`standard_normal` is ``torch.randn`` on the generator (a different stream).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._compiled import AVAILABLE, run_parallel
from ._compiled import threads as compiled_threads
from ._rng import generator_device

if AVAILABLE:
    from numba import njit, prange

#: values drawn per block, each block from its own stream (the unit of parallel work)
BLOCK = 4096
#: up to this many values one thread draws them all (same values: the blocks do not depend on the threads)
_SERIAL_UP_TO = 2 * BLOCK
_R = 3.442619855899  # start of the tail: the right edge of the base layer
_V = 9.91256303526217e-3  # area of each layer


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang's 128-layer tables: integer thresholds ``k``, widths ``w`` per unit of a signed 32-bit
    integer, and the density ``f`` at each layer's edge."""
    k = np.zeros(128, np.int64)
    w = np.zeros(128, np.float64)
    f = np.zeros(128, np.float64)
    scale = 2.0**31
    edge = tail = _R
    q = _V / math.exp(-0.5 * edge * edge)
    k[0] = int(edge / q * scale)
    w[0], w[127] = q / scale, edge / scale
    f[0], f[127] = 1.0, math.exp(-0.5 * edge * edge)
    for i in range(126, 0, -1):
        edge = math.sqrt(-2.0 * math.log(_V / edge + math.exp(-0.5 * edge * edge)))
        k[i + 1] = int(edge / tail * scale)
        tail = edge
        f[i], w[i] = math.exp(-0.5 * edge * edge), edge / scale
    return k, w, f


_K, _W, _F = _tables()

if AVAILABLE:
    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)

    @njit(inline="always")
    def _mix(z):
        """SplitMix64's output function of one 64-bit word."""
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    @njit(inline="always")
    def _unit(z):
        """A double in (0, 1) from the top 53 bits of a word."""
        return ((z >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740993.0)

    @njit(inline="always", boundscheck=False)
    def _fill_block(out, key, block, k, w, f):  # pragma: no cover - compiled; covered through standard_normal
        """The values of one block, from its own SplitMix64 stream."""
        state = _mix(np.uint64(key) ^ _mix(np.uint64(block) * _GOLDEN + _GOLDEN))
        for i in range(block * BLOCK, min(out.size, (block + 1) * BLOCK)):
            while True:
                state += _GOLDEN
                z = _mix(state)
                layer = np.int64(z & np.uint64(127))
                signed = np.int64(np.int32(np.uint32(z >> np.uint64(32))))
                if abs(signed) < k[layer]:  # inside the layer's rectangle: ~98.8 % of draws
                    out[i] = signed * w[layer]
                    break
                if layer == 0:  # the tail beyond R, by Marsaglia's exponential rejection
                    while True:
                        state += _GOLDEN
                        x = -math.log(_unit(_mix(state))) / _R
                        state += _GOLDEN
                        y = -math.log(_unit(_mix(state)))
                        if y + y >= x * x:
                            break
                    out[i] = _R + x if signed > 0 else -_R - x
                    break
                x = signed * w[layer]  # the wedge between the rectangle and the density
                state += _GOLDEN
                u = _unit(_mix(state))
                if f[layer] + u * (f[layer - 1] - f[layer]) < math.exp(-0.5 * x * x):
                    out[i] = x
                    break

    @njit(parallel=True, cache=True, boundscheck=False)
    def _fill(out, key, k, w, f):  # pragma: no cover - compiled; covered through standard_normal
        for block in prange((out.size + BLOCK - 1) // BLOCK):
            _fill_block(out, key, block, k, w, f)

    @njit(cache=True, boundscheck=False)
    def _fill_serial(out, key, k, w, f):  # pragma: no cover - compiled; the same values as _fill
        for block in range((out.size + BLOCK - 1) // BLOCK):
            _fill_block(out, key, block, k, w, f)


def standard_normal(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Standard normal values of ``shape`` on ``device`` (default: the generator's), keyed by one draw from
    ``generator`` (torch's global generator if None).

    float32 and float64 on the CPU come from the ziggurat (module docstring); anything else from ``torch.randn``.
    """
    on = (
        torch.device(device)
        if device is not None
        else generator_device(generator) or torch.get_default_device()
    )
    if not AVAILABLE or on.type != "cpu" or dtype not in (torch.float32, torch.float64):
        return torch.randn(shape, generator=generator, dtype=dtype, device=on)
    key = int(torch.randint(0, 2**63 - 1, (1,), generator=generator, device=on))
    out = np.empty(math.prod(shape), dtype=np.float32 if dtype == torch.float32 else np.float64)
    if not run_parallel(
        out.size, _SERIAL_UP_TO
    ):  # too few values to pay for starting the threads, or one thread
        _fill_serial(out, key, _K, _W, _F)
    else:
        with compiled_threads():
            _fill(out, key, _K, _W, _F)
    return torch.from_numpy(out).reshape(shape)
