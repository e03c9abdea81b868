"""Compiled sparse pulse planning: the pulse counts of a weight change, only where they are not zero.

The dense planner of :meth:`Cell.plan_pulses` writes a count for every weight and then searches it for the few
that pulse (``nonzero``, ``take``): several full passes over the weights and their temporaries per update. Here the
first pass computes every count and keeps one bit per weight — pulsed or not — 64 weights to a word (a fixed trip
count without branches, which the compiler vectorises; no count is stored), and the pulsed per row by popcount.
The second visits only the set bits, lowest first (trailing-zero count), computes those counts again — the same
arithmetic, so the same values — and writes, row by row (so in ``nonzero``'s order), the flat device indices and
signed pulses of every device plane of the cell (device ``p · weights + w`` of weight ``w`` gets ``sign_p · n_w``)
and each row's largest SET and RESET count, which the tile's programming time needs. On its way the first pass also
reads what the tile's update check needs — the largest finite |Δw| and the number of non-finite entries — from the
floats' bits as integers (integer maxima and sums vectorise; float ones, without fast-math, do not), so a checked
update takes no extra pass.

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

    from .._compiled import fma, popcount64, serial_and_parallel, trailing_zeros64

    @njit(inline="always")
    def _emit(
        n, w, at, total, signs, planes_apart, index, pulses, weight_counts
    ):  # pragma: no cover - compiled
        """Write pulsed weight ``w`` (count ``n``) at position ``at`` of every device plane."""
        weight_counts[at] = n
        for p in range(signs.size):
            index[p * total + at] = p * planes_apart + w
            pulses[p * total + at] = signs[p] * n

    @njit(inline="always")
    def _count(rank1, delta, a, b, scale, inv_levels, cap):  # pragma: no cover - compiled
        """The dense planner's count of one weight (rank-1 dither or nearest rounding, then the cap)."""
        if rank1:
            n = np.floor(fma(scale, delta, np.float32(a ^ b)) * inv_levels)
        else:
            n = np.rint(delta * scale)
        if cap > 0:
            n = min(max(n, -cap), cap)
        return n

    @njit(inline="always")
    def _magnitude(bits):  # pragma: no cover - compiled
        """(1 if the float with these bits is not finite else 0, its |x| bits if finite else 0): |x| is x's bits
        without the sign, ordered as the floats are; x is not finite when its exponent is all ones."""
        magnitude = bits & np.int32(0x7FFFFFFF)
        finite = magnitude < np.int32(0x7F800000)
        return np.int64(not finite), magnitude if finite else np.int32(0)

    def _plan(delta, a, b, rank1, scale, inv_levels, cap, signs, masks):  # pragma: no cover - compiled
        """Both passes in one call (``rank1``: rank-1 dither, else nearest rounding; the branch is loop-invariant,
        so the compiled loop holds one formula). ``masks``: (rows, ⌈cols / 64⌉) uint64, overwritten."""
        rows, cols = delta.shape
        full = cols // 64
        words = masks.shape[1]
        row_nnz = np.empty(rows, np.int64)
        # the checks read the bits of Δw as integers (integer maxima and sums vectorise, float ones do not)
        bits = delta.view(np.int32)
        row_peak = np.empty(rows, np.int32)  # bits of the largest finite |Δw| of each row
        row_bad = np.empty(rows, np.int64)  # non-finite Δw of each row
        for i in prange(rows):  # pass 1: one bit per weight (pulsed or not), 64 weights a word, branch-free
            ai = a[i] if rank1 else 0
            nnz = 0
            bad = 0
            peak = np.int32(0)
            for word in range(words):  # whole words have a fixed trip count, which the compiler vectorises
                first = word * 64
                length = 64 if word < full else cols - first
                mask = np.uint64(0)
                for q in range(length):
                    j = first + q
                    not_finite, magnitude = _magnitude(bits[i, j])
                    bad += not_finite
                    peak = max(peak, magnitude)
                    n = _count(rank1, delta[i, j], ai, b[j] if rank1 else 0, scale, inv_levels, cap)
                    mask |= np.uint64(n != 0) << np.uint64(q)
                masks[i, word] = mask
                nnz += np.int64(popcount64(mask))
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
        planes_apart = rows * cols
        for i in prange(rows):  # pass 2: the set bits only, lowest first; each count computed again, exactly
            ai = a[i] if rank1 else 0
            at = start[i]
            up = np.float32(0.0)
            down = np.float32(0.0)
            for word in range(words):
                mask = masks[i, word]
                while mask:
                    j = word * 64 + np.int64(trailing_zeros64(mask))
                    mask &= mask - np.uint64(1)
                    n = _count(rank1, delta[i, j], ai, b[j] if rank1 else 0, scale, inv_levels, cap)
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
    """Shape of the uint64 buffer of pulse bits the planner of a (rows × cols) change writes (one bit per weight,
    64 a word)."""
    return rows, -(-cols // 64)


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
    ``scratch``: uint64, shaped :func:`scratch_shape`, reused between calls.
    """
    planner = _plan_parallel if parallel else _plan_serial
    rank1 = mode == RANK1
    return planner(
        delta, a, b, rank1, np.float32(scale), np.float32(2.0**-24), np.float32(cap or 0), signs, scratch
    )
