"""Compiled in-place pulse update of generic pulsed devices (the commit step of a tile's update).

One pass over the pulsed devices reads each device's state where it lies, computes its Joule energy from the
conductance before the pulses, its new position (the closed forms of :mod:`~memristorch.devices.pulsed`, with the
cycle-to-cycle term from the same standard normal draws the torch path takes) and its conductance after, and
writes the position back, and adds the pulses to the device's write-cycle counter: no gathered copies, no
temporaries. Each pulsed device is a random access into the tile's state, so the kernel asks the CPU to prefetch
the state ``PREFETCH_AHEAD`` devices ahead (a hint that changes no result). Energy is summed in float64 per fixed
block of devices and the blocks added in order, so the total does not depend on the thread count.

The float32 arithmetic follows the torch path operation for operation (a fused multiply-add exactly where torch's
kernels use one, as in ``lerp``, and nowhere else), so the linear response is bit-identical to
:meth:`PulsedDevice.apply_pulses`; soft bounds keep ``(1 − s)^n`` of the distance to the bound, computed as
``1 − s`` for a single pulse (the common case) and as ``exp(n · log1p(−s))`` with LLVM's library functions
otherwise, where torch takes ``exp(n · log1p(−s))`` from its vectorised ones for every ``n``: the two differ in the
last bits, so those positions agree to within a few units in the last place (``tests/test_pulse_kernel.py``). The
energy, summed in float64, is closer to exact than torch's float32 sum.
"""

from __future__ import annotations

import math

import numpy as np

from .._compiled import AVAILABLE
from .._validation import MAX_PULSES_PER_CALL

LINEAR, SOFT_BOUNDS = 0, 1
#: devices per block of the energy sum (the unit of parallel work)
BLOCK = 4096
#: the largest step a soft-bounds pulse takes (as in ``PulsedDevice._mean_response``)
_STEP_CAP = np.float32(1.0 - 1e-7)

#: devices ahead whose state is prefetched (the state of a pulsed device is a random access into the tile)
PREFETCH_AHEAD = 32

if AVAILABLE:
    from numba import njit, prange

    from .._compiled import fma, prefetch, prefetch2d, serial_and_parallel

    @njit(inline="always")
    def _lerp(low, high, weight):  # pragma: no cover - compiled
        """torch.lerp as its vectorised CPU kernel computes it: one fused multiply-add from the nearer end."""
        if abs(weight) < 0.5:
            return fma(weight, high - low, low)
        return fma(weight - np.float32(1.0), high - low, high)

    @njit(inline="always")
    def _locate(d, row, cols):  # pragma: no cover - compiled
        """(row, column) of flat index ``d`` in rows of ``cols``, looked for from ``row`` on: indices mostly ascend,
        so the same or the next row saves a division."""
        col = d - row * cols
        if 0 <= col < cols:
            return row, col
        if cols <= col < 2 * cols:
            return row + 1, col - cols
        row = d // cols
        return row, d - row * cols

    @njit(boundscheck=False)
    def _invalid(index, pulses, devices, largest):  # pragma: no cover - compiled
        """How many entries are out of range (an index outside [0, devices), a count not a whole number of
        magnitude ≤ ``largest``, NaN included): checked before any device is written."""
        bad = 0
        for t in range(index.size):
            n = pulses[t]
            bad += (index[t] < 0) | (index[t] >= devices) | (n != np.floor(n)) | (abs(n) > largest)
        return bad

    @njit(inline="always", boundscheck=False)
    def _block(block, response, index, pulses, noise, c2c, fields, v2, g_after, cycles):  # pragma: no cover
        """The devices ``block · BLOCK`` … of one block; returns their energy. ``fields``: (u, g_min, g_max,
        step_up, step_down); ``v2``: V²·t_width of a SET and of a RESET pulse."""
        u, g_min, g_max, step_up, step_down = fields
        v2_set, v2_reset = v2
        one = np.float32(1.0)
        zero = np.float32(0.0)
        energy = 0.0
        cols = u.shape[1]
        first = block * BLOCK
        end = min(index.size, (block + 1) * BLOCK)
        r = index[first] // cols if first < index.size else 0
        for t in range(first, end):
            if t + PREFETCH_AHEAD < end:  # a hint only: results do not depend on it
                ahead = index[t + PREFETCH_AHEAD]
                row, col = _locate(ahead, r, cols)
                prefetch2d(u, row, col)
                if cycles.size:
                    prefetch(cycles, ahead)
            d = index[t]
            r, c = _locate(d, r, cols)
            n = pulses[t]
            n_abs = abs(n)
            up = n > 0
            old = u[r, c]
            low = g_min[r, c]
            high = g_max[r, c]
            energy += float(_lerp(low, high, old)) * float(n_abs) * (v2_set if up else v2_reset)
            if response == SOFT_BOUNDS:
                step = min(step_up[r, c] if up else step_down[r, c], _STEP_CAP)
                bound = one if up else zero
                # n pulses keep (1 − s)^n of the distance to the bound; one pulse (the common case) needs no exp/log
                keep = one - step if n_abs == one else np.exp(np.log1p(-step) * n_abs)
                new = keep * (old - bound) + bound
            else:
                step = step_up[r, c] if up else -step_down[r, c]
                new = min(max(fma(n_abs, step, old), zero), one)
            if c2c > 0:
                spread = abs(new - old) * (one / np.sqrt(max(n_abs, one)))
                new = fma(c2c * spread, noise[t], new)
            new = min(max(new, zero), one)
            u[r, c] = new
            g_after[t] = _lerp(low, high, new)
            if cycles.size:
                cycles[d] += np.int64(n_abs)
        return energy

    def _pulse(response, index, pulses, noise, c2c, fields, v2, g_after, cycles, partial):  # pragma: no cover
        for block in prange(partial.size):
            partial[block] = _block(block, response, index, pulses, noise, c2c, fields, v2, g_after, cycles)

    _pulse_serial, _pulse_parallel = serial_and_parallel(_pulse, boundscheck=False)


def check_commit(index: np.ndarray, pulses: np.ndarray, devices: int, cycles: np.ndarray) -> None:
    """Raise ``ValueError`` unless :func:`pulse_in_place` may run on these inputs: one count per index, a counter
    per device or none, every index in [0, ``devices``) and every count a whole number of magnitude at most
    ``MAX_PULSES_PER_CALL`` (no NaN or inf). One compiled pass; nothing is written."""
    if pulses.size != index.size or cycles.size not in (0, devices):
        raise ValueError(
            f"{index.size} device indices, {pulses.size} pulse counts and {cycles.size} cycle counters for "
            f"{devices} devices do not match; no device was changed"
        )
    bad = _invalid(index, pulses, devices, np.float32(MAX_PULSES_PER_CALL))
    if bad:
        raise ValueError(
            f"{bad} of {index.size} entries have a device index outside [0, {devices}) or a pulse count that is "
            f"not a whole number in [-{MAX_PULSES_PER_CALL}, {MAX_PULSES_PER_CALL}] (no NaN or inf); no device "
            "was changed"
        )


def pulse_in_place(
    response: int,
    index: np.ndarray,
    pulses: np.ndarray,
    noise: np.ndarray,
    c2c: float,
    fields: tuple[np.ndarray, ...],
    v2_width: tuple[float, float],
    cycles: np.ndarray,
    parallel: bool,
) -> tuple[float, np.ndarray]:
    """Apply signed ``pulses`` (float32) to the devices at row-major flat ``index`` (int64, distinct) of the 2-D
    float32 arrays ``fields`` = (u, g_min, g_max, step_up, step_down) (any strides, one shape), writing u in place;
    returns the energy (J) and the conductances after. ``noise``: one standard normal per device (float32; ignored
    if ``c2c`` is 0); ``v2_width``: V²·t_width of a SET and of a RESET pulse; ``cycles`` (int64, flat, one counter
    per device, or empty): each device's |pulses| is added to it. The kernels run without bounds checks: the caller
    passes inputs :func:`check_commit` accepted.
    """
    g_after = np.empty(index.size, np.float32)
    partial = np.zeros(math.ceil(index.size / BLOCK), np.float64)
    kernel = _pulse_parallel if parallel else _pulse_serial
    kernel(response, index, pulses, noise, np.float32(c2c), fields, v2_width, g_after, cycles, partial)
    return float(partial.sum()), g_after
