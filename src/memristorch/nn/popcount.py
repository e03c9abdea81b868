"""Compiled kernels of the bit-packed XNOR-popcount engine (numba), with the NumPy reference they must equal.

Rows of ±1 values are packed one bit per element into uint64 words (bit ``k`` of a row is bit ``k % 64`` of word
``k // 64``; +1 ↔ 1; padding bits are 0 in inputs, weights and masks alike, so they never count). The kernels
compute, for every input row b and weight row n, ``popcount(x_b XOR w_n [AND mask_n])`` summed over words — the
number of disagreeing ±1 products — with LLVM's ``ctpop`` on each 64-bit word (one instruction, vectorised where the
CPU has AVX-512 VPOPCNTDQ). A hidden layer's kernel also folds the integer threshold and packs its ±1 outputs
straight into the next layer's input words, so nothing between two layers is ever unpacked.

numba compiles these on first use (cached on disk); :data:`AVAILABLE` says whether it is installed. Every kernel is
checked against :func:`mismatches_numpy` in the tests, bit for bit.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._compiled import threads as compiled_threads

try:
    from numba import njit, prange

    from .._compiled import popcount64

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a declared dependency; the NumPy path stays as the fallback
    AVAILABLE = False


def pack_signs_numpy(values: np.ndarray) -> np.ndarray:
    """Pack ``values >= 0`` (bool or numbers) of each row into uint64 words, zero padded to whole words."""
    bits = values if values.dtype == np.bool_ else values >= 0
    packed = np.packbits(bits, axis=-1, bitorder="little")
    pad = (-packed.shape[-1]) % 8
    if pad:
        packed = np.pad(packed, [(0, 0)] * (packed.ndim - 1) + [(0, pad)])
    return np.ascontiguousarray(packed).view(np.uint64)


def _chunk_mismatches(x: np.ndarray, w_t: np.ndarray, mask_t: np.ndarray | None) -> np.ndarray:
    """Word by word: XOR one column of input words with one row of (transposed) weight words, count, accumulate."""
    rows, n_out = x.shape[0], w_t.shape[1]
    acc = np.zeros((rows, n_out), dtype=np.uint16 if w_t.shape[0] * 64 < 65536 else np.int32)
    diff = np.empty((rows, n_out), dtype=np.uint64)
    count = np.empty((rows, n_out), dtype=np.uint8)
    for j in range(w_t.shape[0]):
        np.bitwise_xor(x[:, j, None], w_t[j][None, :], out=diff)
        if mask_t is not None:
            np.bitwise_and(diff, mask_t[j][None, :], out=diff)
        np.bitwise_count(diff, out=count)
        acc += count
    return acc.astype(np.int32)


def mismatches_numpy(
    x: np.ndarray, w: np.ndarray, mask: np.ndarray | None = None, pool: ThreadPoolExecutor | None = None
) -> np.ndarray:
    """Reference: popcount(x_b XOR w_n [AND mask_n]) for every input row b and weight row n, as int32 (B, N).

    The loop runs over words with whole (B, N) planes per step, so no (B, N, words) intermediate is built; row
    blocks go to ``pool`` threads (NumPy releases the GIL in its element-wise loops).
    """
    w_t = np.ascontiguousarray(w.T)
    mask_t = np.ascontiguousarray(mask.T) if mask is not None else None
    n_out = w.shape[0]
    chunk = max(1, (1 << 18) // max(1, n_out))
    starts = range(0, x.shape[0], chunk)
    if pool is None:
        parts = [_chunk_mismatches(x[s : s + chunk], w_t, mask_t) for s in starts]
    else:
        parts = list(pool.map(lambda s: _chunk_mismatches(x[s : s + chunk], w_t, mask_t), starts))
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, n_out), dtype=np.int32)


if AVAILABLE:

    @njit(inline="always", boundscheck=False)
    def _row_mismatches(x, b, w_t, mask_t, acc):
        """acc[n] = Σ_j popcount(x[b, j] XOR w_t[j, n] [AND mask_t[j, n]]); the inner loop runs over outputs."""
        n_out = w_t.shape[1]
        acc[:] = 0
        if mask_t.shape[0] == 0:
            for j in range(w_t.shape[0]):
                word = x[b, j]
                for n in range(n_out):
                    acc[n] += np.int32(popcount64(word ^ w_t[j, n]))
        else:
            for j in range(w_t.shape[0]):
                word = x[b, j]
                for n in range(n_out):
                    acc[n] += np.int32(popcount64((word ^ w_t[j, n]) & mask_t[j, n]))

    @njit(parallel=True, cache=True, boundscheck=False)
    def _mismatches_kernel(x, w_t, mask_t):
        rows, n_out = x.shape[0], w_t.shape[1]
        out = np.empty((rows, n_out), np.int32)
        for b in prange(rows):
            acc = np.empty(n_out, np.int32)
            _row_mismatches(x, b, w_t, mask_t, acc)
            out[b, :] = acc
        return out

    @njit(parallel=True, cache=True, boundscheck=False)
    def _threshold_kernel(x, w_t, mask_t, nonzeros, direction, threshold):
        """Hidden layer: A = nnz − 2·mismatches; output +1 iff direction·A ≥ threshold, packed into words."""
        rows, n_out = x.shape[0], w_t.shape[1]
        words = (n_out + 63) // 64
        out = np.empty((rows, words), np.uint64)
        for b in prange(rows):
            acc = np.empty(n_out, np.int32)
            _row_mismatches(x, b, w_t, mask_t, acc)
            for word in range(words):  # build each output word in a register, store it once
                bits = np.uint64(0)
                start = word * 64
                for n in range(start, min(n_out, start + 64)):
                    a = np.int64(nonzeros[n]) - 2 * np.int64(acc[n])
                    bits |= np.uint64(direction[n] * a >= threshold[n]) << np.uint64(n - start)
                out[b, word] = bits
        return out

    @njit(parallel=True, cache=True, boundscheck=False)
    def _pack_signs_kernel(values):
        """Bit k of row b set iff values[b, k] >= 0 (the ±1 convention sign(0) = +1)."""
        rows, n = values.shape
        words = (n + 63) // 64
        out = np.empty((rows, words), np.uint64)
        for b in prange(rows):
            for word in range(words):
                bits = np.uint64(0)
                start = word * 64
                for k in range(start, min(n, start + 64)):
                    bits |= np.uint64(values[b, k] >= 0) << np.uint64(k - start)
                out[b, word] = bits
        return out


_NO_MASK = np.zeros((0, 0), dtype=np.uint64)


def _check_words(x: np.ndarray, w_t: np.ndarray, mask_t: np.ndarray | None) -> None:
    """The kernels run without bounds checks: inputs must carry exactly the weights' words per row."""
    if x.ndim != 2 or x.shape[1] != w_t.shape[0]:
        raise ValueError(
            f"x must hold {w_t.shape[0]} packed words per row (the weights'), got shape {tuple(x.shape)}"
        )
    if mask_t is not None and mask_t.shape != w_t.shape:
        raise ValueError(f"mask_t must be shaped like w_t {tuple(w_t.shape)}, got {tuple(mask_t.shape)}")


def mismatches(x: np.ndarray, w_t: np.ndarray, mask_t: np.ndarray | None, threads: int) -> np.ndarray:
    """Compiled popcount(x_b XOR w_n [AND mask_n]) as int32 (B, N); ``w_t``/``mask_t`` are (words, N), contiguous."""
    _check_words(x, w_t, mask_t)
    with compiled_threads(threads):
        return _mismatches_kernel(x, w_t, _NO_MASK if mask_t is None else mask_t)


def threshold_layer(
    x: np.ndarray,
    w_t: np.ndarray,
    mask_t: np.ndarray | None,
    nonzeros: np.ndarray,
    direction: np.ndarray,
    threshold: np.ndarray,
    threads: int,
) -> np.ndarray:
    """Compiled hidden layer: packed ±1 outputs (B, ⌈N/64⌉ words) of ``direction·(nnz − 2·mismatches) ≥ threshold``."""
    _check_words(x, w_t, mask_t)
    with compiled_threads(threads):
        return _threshold_kernel(
            x, w_t, _NO_MASK if mask_t is None else mask_t, nonzeros, direction, threshold
        )


def pack_signs(values: np.ndarray, threads: int) -> np.ndarray:
    """Compiled :func:`pack_signs_numpy` for a 2-D float array."""
    with compiled_threads(threads):
        return _pack_signs_kernel(np.ascontiguousarray(values))
