"""Compiled sparse pulse planning: the pulse counts of a weight change, only where they are not zero.

The dense planner of :meth:`Cell.plan_pulses` writes a count for every weight and then searches it for the few
that pulse (``nonzero``, ``take``): several full passes over the weights and their temporaries per update. Here the
first pass computes every count into a reused buffer and counts the non-zero ones per row (branch-free, so the
compiler vectorises it); the second scans that buffer 64 bits (two counts) at a time, skipping the all-zero words,
and writes, row by row (so in ``nonzero``'s order), the flat device indices and signed pulses of every device plane
of the cell (device ``p · weights + w`` of weight ``w`` gets ``sign_p · n_w``) and each row's largest SET and RESET
count, which the tile's programming time needs. On its way the first pass also reads what the tile's update check
needs — the largest finite |Δw| and the number of non-finite entries — from the floats' bits as integers (integer
maxima and sums vectorise; float ones, without fast-math, do not), so a checked update takes no extra pass.

The arithmetic is the dense planner's, operation for operation in float32, so the counts are bit-identical to it
(``tests/test_sparse_plan.py``): nearest rounding is ``rint(Δw · scale)`` (half to even, as ``torch.round``);
rank-1 dither is ``floor(fma(Δw, scale · 2²⁴, A_i XOR B_j) · 2⁻²⁴)`` — torch's vectorised ``add`` with ``alpha``
is a fused multiply-add, and the kernel calls one explicitly. Rows are split over threads; the results do not
depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from .._compiled import AVAILABLE

NEAREST, RANK1 = 0, 1
#: below this many weights one thread plans them all (starting the threads costs more than the work)
SERIAL_UP_TO = 16_384

if AVAILABLE:
    from numba import njit, prange

    from .._compiled import fma, serial_and_parallel

    @njit(inline="always")
    def _emit(
        n, w, at, total, signs, planes_apart, index, pulses, weight_counts
    ):  # pragma: no cover - compiled
        """Write pulsed weight ``w`` (count ``n``) at position ``at`` of every device plane."""
        weight_counts[at] = n
        for p in range(signs.size):
            index[p * total + at] = p * planes_apart + w
            pulses[p * total + at] = signs[p] * n

    def _plan(delta, a, b, rank1, scale, inv_levels, cap, signs, scratch):  # pragma: no cover - compiled
        """Both passes in one call (``rank1``: rank-1 dither, else nearest rounding; the branch is loop-invariant,
        so the compiled loop holds one formula)."""
        rows, cols = delta.shape
        row_nnz = np.empty(rows, np.int64)
        # the checks read the bits of Δw as integers: |x| is x's bits without the sign, ordered as the floats are,
        # and x is not finite when its exponent is all ones — integer maxima and sums vectorise, float ones do not
        bits = delta.view(np.int32)
        row_peak = np.empty(rows, np.int32)  # bits of the largest finite |Δw| of each row
        row_bad = np.empty(rows, np.int64)  # non-finite Δw of each row
        for i in prange(rows):  # pass 1: every count into the buffer, branch-free, and the pulsed per row
            ai = a[i] if rank1 else 0
            nnz = 0
            bad = 0
            peak = np.int32(0)
            for j in range(cols):
                magnitude = bits[i, j] & np.int32(0x7FFFFFFF)
                finite = magnitude < np.int32(0x7F800000)
                bad += np.int64(not finite)
                peak = max(peak, magnitude if finite else np.int32(0))
                if rank1:
                    n = np.floor(fma(scale, delta[i, j], np.float32(ai ^ b[j])) * inv_levels)
                else:
                    n = np.rint(delta[i, j] * scale)
                if cap > 0:
                    n = min(max(n, -cap), cap)
                scratch[i, j] = n
                nnz += np.int64(n != 0)
            row_nnz[i] = nnz
            row_peak[i] = peak
            row_bad[i] = bad
        start = np.zeros(rows, np.int64)
        for i in range(1, rows):
            start[i] = start[i - 1] + row_nnz[i - 1]
        total = start[rows - 1] + row_nnz[rows - 1] if rows else 0
        k = signs.size
        index = np.empty(total * k, np.int64)
        pulses = np.empty(total * k, np.float32)
        weight_counts = np.empty(total, np.float32)
        row_set = np.zeros(rows, np.float32)
        row_reset = np.zeros(rows, np.float32)
        words = scratch.view(np.uint64)
        planes_apart = rows * cols
        for i in prange(rows):  # pass 2: only the words (two counts) that hold a pulse
            at = start[i]
            up = np.float32(0.0)
            down = np.float32(0.0)
            for word in range(words.shape[1]):
                if words[i, word] == 0:  # both counts zero (a -0.0 only costs a look)
                    continue
                for j in (2 * word, 2 * word + 1):  # the padding column is zero
                    n = scratch[i, j]
                    if n != 0:
                        _emit(n, i * cols + j, at, total, signs, planes_apart, index, pulses, weight_counts)
                        at += 1
                        up = max(up, n)
                        down = max(down, -n)
            row_set[i] = up
            row_reset[i] = down
        largest = row_peak.view(np.float32).max() if rows else np.float32(0.0)
        return index, pulses, weight_counts, row_set, row_reset, largest, row_bad.sum()

    _plan_serial, _plan_parallel = serial_and_parallel(_plan, boundscheck=False)


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
) -> tuple:
    """Device indices (int64) and signed pulses (float32) of the pulsed weights of the (rows × cols) float32 change
    ``delta``, plane after plane (``signs``: float32, the cell's pulse sign per device plane; plane 0's indices are
    the weights' own flat indices), the weights' counts, each row's largest SET and RESET count (float32, ≥ 0), the
    largest finite |delta| and the number of non-finite entries (the checks of an update, read on the way).

    ``mode`` is ``NEAREST`` (``scale`` = pulses per unit of change) or ``RANK1`` (``scale`` = pulses per unit ·
    2²⁴; ``a``: one 24-bit int32 per row, ``b`` one per column). ``cap`` bounds |count| (None: no cap).
    ``scratch``: shaped :func:`scratch_shape`, reused between calls (its padding column stays zero).
    """
    planner = _plan_parallel if parallel else _plan_serial
    rank1 = mode == RANK1
    return planner(
        delta, a, b, rank1, np.float32(scale), np.float32(2.0**-24), np.float32(cap or 0), signs, scratch
    )
