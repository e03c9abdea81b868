"""What the compiled (numba) kernels share: whether numba is there, and running them on torch's thread count.

numba compiles each kernel on first use and caches it on disk. A kernel runs its parallel loops on as many threads
as torch uses (``torch.set_num_threads`` governs both), restored afterwards, so a caller's numba setting is left as
it was. Every kernel is written so that its results do not depend on that count.
"""

from __future__ import annotations

import types as pytypes
from contextlib import AbstractContextManager, nullcontext

import torch

try:
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a declared dependency; the torch paths stay as the fallback
    numba = None
    AVAILABLE = False


def run_parallel(work: int, serial_up_to: int) -> bool:
    """Whether a kernel with ``work`` items should take its parallel variant: more than ``serial_up_to`` items and
    more than one torch thread. With one thread the serial variant runs, so that no numba thread pool is started
    (its waiting threads would compete with the other processes of a sweep)."""
    return work > serial_up_to and torch.get_num_threads() > 1


def serial_and_parallel(function, **options):
    """``function`` compiled twice, with ``prange`` run serially and in parallel, each cached on disk under its own
    name: numba's cache keys a function by its name and line, not by its options, so two variants of one function
    would overwrite each other's cached code (a serial kernel could then load the parallel one and start threads)."""
    from numba import njit

    variants = []
    for suffix, parallel in (("_serial", False), ("_parallel", True)):
        copy = pytypes.FunctionType(
            function.__code__, function.__globals__, function.__name__ + suffix, function.__defaults__
        )
        copy.__qualname__ = function.__qualname__ + suffix
        copy.__doc__ = function.__doc__
        variants.append(njit(parallel=parallel, cache=True, **options)(copy))
    return tuple(variants)


class threads:
    """Run numba's parallel loops on ``count`` threads (default: torch's) inside the block, then restore the
    previous count."""

    def __init__(self, count: int | None = None) -> None:
        self.count = torch.get_num_threads() if count is None else count

    def __enter__(self) -> int:
        self.previous = numba.get_num_threads()
        count = max(1, min(self.count, numba.config.NUMBA_NUM_THREADS))
        if count != self.previous:
            numba.set_num_threads(count)
        return count

    def __exit__(self, *exc) -> bool:
        if numba.get_num_threads() != self.previous:
            numba.set_num_threads(self.previous)
        return False


def threads_for(parallel: bool) -> AbstractContextManager:
    """:class:`threads` around a parallel kernel; nothing around a serial one (whose call must not start numba's
    thread pool, which asking for the thread count would)."""
    return threads() if parallel else nullcontext()


if AVAILABLE:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _prefetch_codegen(context, builder, signature, args):
        """Emit LLVM's ``prefetch`` (for writing, into every cache level) of the element of ``args[0]`` at the
        indices ``args[1:]``."""
        array_type, index_types = signature.args[0], signature.args[1:]
        array = context.make_array(array_type)(context, builder, args[0])
        indices = [
            context.cast(builder, i, t, types.intp) for i, t in zip(args[1:], index_types, strict=True)
        ]
        pointer = cgutils.get_item_pointer2(
            context,
            builder,
            array.data,
            cgutils.unpack_tuple(builder, array.shape),
            cgutils.unpack_tuple(builder, array.strides),
            array_type.layout,
            indices,
            wraparound=False,
        )
        byte_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0"
        )
        write, all_levels, data = (ir.Constant(i32, v) for v in (1, 3, 1))
        builder.call(function, [builder.bitcast(pointer, byte_pointer), write, all_levels, data])
        return context.get_dummy_value()

    @intrinsic
    def prefetch(typingctx, array, index):
        """Ask the CPU to fetch ``array[index]`` (1-D) into cache ahead of its use (a hint: no effect on results)."""
        if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(index, types.Integer):
            return None
        return types.void(array, index), _prefetch_codegen

    @intrinsic
    def prefetch2d(typingctx, array, row, col):
        """Ask the CPU to fetch ``array[row, col]`` (2-D, any strides) into cache ahead of its use."""
        if not isinstance(array, types.Array) or array.ndim != 2:
            return None
        if not (isinstance(row, types.Integer) and isinstance(col, types.Integer)):
            return None
        return types.void(array, row, col), _prefetch_codegen

    @intrinsic
    def fma(typingctx, a, b, c):
        """``a · b + c`` with one rounding (LLVM's ``fma``): what torch's vectorised CPU kernels compute where they
        use a fused multiply-add, so that a compiled kernel can match them bit for bit."""
        if not (isinstance(a, types.Float) and a == b == c):
            return None

        def codegen(context, builder, signature, args):
            return builder.fma(*args)

        return a(a, b, c), codegen

    @intrinsic
    def popcount64(typingctx, word):
        """The number of set bits of a uint64 (LLVM's ``ctpop``: the POPCNT instruction)."""
        if word != types.uint64:
            return None

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return types.uint64(types.uint64), codegen

    @intrinsic
    def trailing_zeros64(typingctx, word):
        """The index of the lowest set bit of a non-zero uint64 (LLVM's ``cttz``: the TZCNT instruction)."""
        if word != types.uint64:
            return None

        def codegen(context, builder, signature, args):
            return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

        return types.uint64(types.uint64), codegen
