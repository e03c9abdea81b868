"""Compiled sparse pulse planning: the pulse counts of a weight change, only where they are not zero.

The dense planner of :meth:`Cell.plan_pulses` writes a count for every weight and then searches it for the few
that pulse (``nonzero``, ``take``): several full passes over the weights and their temporaries per update. Here the
first pass computes every count into a reused buffer and counts the non-zero ones per row (branch-free, so the
compiler vectorises it); the second scans that buffer 64 bits (two counts) at a time, skipping the all-zero words,
and writes, row by row (so in ``nonzero``'s order), the flat device indices and signed pulses of every device plane
of the cell (device ``p · weights + w`` of weight ``w`` gets ``sign_p · n_w``) and each row's largest SET and RESET
count, which the tile's programming time needs.

The arithmetic is the dense planner's, operation for operation in float32, so the counts are bit-identical to it
(``tests/test_sparse_plan.py``): nearest rounding is ``rint(Δw · scale)`` (half to even, as ``torch.round``);
rank-1 dither is ``floor(fma(Δw, scale · 2²⁴, A_i XOR B_j) · 2⁻²⁴)`` — torch's vectorised ``add`` with ``alpha``
is a fused multiply-add, and the kernel calls one explicitly.
Rows are split over threads; the results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from .._compiled import AVAILABLE

NEAREST, RANK1 = 0, 1
#: below this many weights one thread plans them all (starting the threads costs more than the work)
SERIAL_UP_TO = 16_384

if AVAILABLE:
    from numba import njit, prange

    from .._compiled import fma

    _options = {"cache": True, "boundscheck": False}

    def _counts_rank1(delta, a, b, scale, inv_levels, cap, out, row_nnz):  # pragma: no cover - compiled
        rows, cols = delta.shape
        for i in prange(rows):
            ai = a[i]
            nnz = 0
            for j in range(cols):
                n = np.floor(fma(scale, delta[i, j], np.float32(ai ^ b[j])) * inv_levels)
                if cap > 0:
                    n = min(max(n, -cap), cap)
                out[i, j] = n
                nnz += np.int64(n != 0)
            row_nnz[i] = nnz

    def _counts_nearest(delta, a, b, scale, inv_levels, cap, out, row_nnz):  # pragma: no cover - compiled
        rows, cols = delta.shape
        for i in prange(rows):
            nnz = 0
            for j in range(cols):
                n = np.rint(delta[i, j] * scale)
                if cap > 0:
                    n = min(max(n, -cap), cap)
                out[i, j] = n
                nnz += np.int64(n != 0)
            row_nnz[i] = nnz

    @njit(inline="always")
    def _emit(n, w, at, total, signs, planes_apart, index, pulses, weight_counts):  # pragma: no cover - compiled
        """Write pulsed weight ``w`` (count ``n``) at position ``at`` of every device plane."""
        weight_counts[at] = n
        for p in range(signs.size):
            index[p * total + at] = p * planes_apart + w
            pulses[p * total + at] = signs[p] * n

    def _compact(
        counts, words, cols, start, signs, planes_apart, index, pulses, weight_counts, row_set, row_reset
    ):  # pragma: no cover - compiled
        rows = start.size
        total = weight_counts.size
        pairs = words.shape[1]
        for i in prange(rows):
            at = start[i]
            up = np.float32(0.0)
            down = np.float32(0.0)
            for word in range(pairs):
                if words[i, word] == 0:  # both counts zero (a -0.0 only costs a look)
                    continue
                j = 2 * word
                n = counts[i, j]
                if n != 0:
                    _emit(n, i * cols + j, at, total, signs, planes_apart, index, pulses, weight_counts)
                    at += 1
                    up = max(up, n)
                    down = max(down, -n)
                n = counts[i, j + 1]  # the padding column is zero
                if n != 0:
                    _emit(n, i * cols + j + 1, at, total, signs, planes_apart, index, pulses, weight_counts)
                    at += 1
                    up = max(up, n)
                    down = max(down, -n)
            row_set[i] = up
            row_reset[i] = down

    _kernels = {
        (mode, parallel): (njit(parallel=parallel, **_options)(counts), njit(parallel=parallel, **_options)(_compact))
        for mode, counts in ((NEAREST, _counts_nearest), (RANK1, _counts_rank1))
        for parallel in (False, True)
    }


def scratch_shape(rows: int, cols: int) -> tuple[int, int]:
    """Shape of the zero-filled float32 buffer the planner of a (rows × cols) change writes its counts into: rows
    padded to whole 64-bit words."""
    return rows, cols + cols % 2


def plan_sparse(
    delta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    mode: int,
    scale: float,
    cap: int | None,
    signs: np.ndarray,
    scratch: np.ndarray,
    parallel: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Device indices (int64) and signed pulses (float32) of the pulsed weights of the (rows × cols) float32 change
    ``delta``, plane after plane (``signs``: float32, the cell's pulse sign per device plane; plane 0's indices are
    the weights' own flat indices), the weights' counts, and each row's largest SET and RESET count (float32, ≥ 0).

    ``mode`` is ``NEAREST`` (``scale`` = pulses per unit of change) or ``RANK1`` (``scale`` = pulses per unit ·
    2²⁴; ``a``: one 24-bit int32 per row, ``b`` one per column). ``cap`` bounds |count| (None: no cap).
    ``scratch``: shaped :func:`scratch_shape`, reused between calls (its padding column stays zero).
    """
    rows, cols = delta.shape
    row_nnz = np.empty(rows, np.int64)
    counts_kernel, compact_kernel = _kernels[mode, parallel]
    # the kernels take the whole (C-contiguous) buffer and use its first cols columns: faster than a sliced view
    counts_kernel(delta, a, b, np.float32(scale), np.float32(2.0**-24), np.float32(cap or 0), scratch, row_nnz)
    start = np.zeros(rows, np.int64)
    np.cumsum(row_nnz[:-1], out=start[1:])
    total = int(start[-1] + row_nnz[-1]) if rows else 0
    k = signs.size
    index = np.empty(total * k, np.int64)
    pulses = np.empty(total * k, np.float32)
    weight_counts = np.empty(total, np.float32)
    row_set = np.empty(rows, np.float32)
    row_reset = np.empty(rows, np.float32)
    words = scratch.view(np.uint64)
    compact_kernel(
        scratch, words, cols, start, signs, rows * cols, index, pulses, weight_counts, row_set, row_reset
    )
    return index, pulses, weight_counts, row_set, row_reset
