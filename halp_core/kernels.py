"""Numba kernels shared by the solvers: dot products, updates, prefetching and the read-bandwidth
kernel (the fixed-point quantizers are halp_core.fixed_point's).

Public functions (``dot``, ``axpy``, ``read_words``) check their arguments (dtypes, shapes,
lengths, contiguity, writeable outputs) and then call the ``@njit`` kernel of the same name with
``_kernel`` appended (``dot_kernel``, ...), which trusts its input and is what other Numba code
(the benchmarks' timing loops) calls. ``vector_dot``, ``prefetch_row`` and ``next_sample`` exist
only inside Numba code (the solvers' epoch kernels use them); ``sample_table`` is the layout of a
linear model's per-sample values that the linear epoch kernels read.

Integer dot products accumulate in int32 (that is what makes LLVM emit vpmaddwd for int8:
tests/halp_core/test_kernel_assembly.py; the natural int64 accumulator vectorizes at about half
the speed) in blocks short enough that the int32 sums cannot overflow, then add the blocks in
int64. Float reductions use reassociation (``fastmath`` without the no-NaN/no-inf flags, so a
diverging run still shows inf/NaN).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from . import validate

# Float flags: reassociation lets reductions vectorize; NaN/inf semantics are kept.
FAST = {"reassoc", "contract", "arcp", "nsz"}

# Bytes per cache line, the stride of prefetch_row.
CACHE_LINE = 64
# A prefetched row of at most L1_ROW_LINES lines goes to L1 whole; a longer one sends its first
# L1_HEAD_LINES lines to L1 and the rest to L2 only. Measured at 100 MiB (Zen 4, PREFETCH_AHEAD
# steps ahead): wide float32 rows prefetched whole into L1 slowed SVRG-fp32's inner steps by
# about 40% at d = 512 and 1024 (32 and 64 lines) against this split, while short rows (int8
# at d <= 1024, float32 at d = 128) step fastest from L1.
L1_ROW_LINES = 16
L1_HEAD_LINES = 2

# int8 * int8 products are at most 2**14, so 2**17 - 1 of them fit an int32 sum.
_I8_BLOCK = (1 << 17) - 1
# int8 * int16 products are at most 2**22, so 2**9 - 1 of them fit an int32 sum.
_I8_I16_BLOCK = (1 << 9) - 1


@njit(cache=True)
def _int_dot(a, b):
    """Exact integer a . b (int64) of two 1-D int8/int16 vectors of equal length.

    Blocks are taken as slices with their own 0-based loop: written with a start/stop range
    instead, LLVM leaves the int32 reduction scalar (17x slower, measured)."""
    n = a.shape[0]
    total = np.int64(0)
    if a.itemsize + b.itemsize <= 3:
        block = _I8_BLOCK if a.itemsize + b.itemsize == 2 else _I8_I16_BLOCK
        for start in range(0, n, block):
            m = min(block, n - start)
            aa = a[start:start + m]
            bb = b[start:start + m]
            s = np.int32(0)
            for j in range(m):
                s = np.int32(s + np.int32(aa[j]) * np.int32(bb[j]))
            total += s
    else:
        for j in range(n):
            total += np.int64(a[j]) * np.int64(b[j])
    return total


@njit(cache=True, fastmath=FAST)
def _float_dot(a, b):
    """a . b of two 1-D vectors, a float, accumulated in a's dtype (reassociated, vectorized;
    a plain call, not an IR-inlined one, so these fastmath flags apply whoever calls it)."""
    s = a.dtype.type(0)
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


def vector_dot(a, b):
    """Generic a . b used inside kernels, chosen at compile time from the dtypes: two integer
    arrays go to the exact int kernel; otherwise the vectorized float kernel, accumulating in the
    float operand's dtype."""
    return np.dot(a, b)


@overload(vector_dot, inline="always")
def _vector_dot_overload(a, b):
    a_int, b_int = isinstance(a.dtype, types.Integer), isinstance(b.dtype, types.Integer)
    if a_int and b_int:
        return lambda a, b: _int_dot(a, b)
    if a_int:  # accumulate in the float operand's dtype
        return lambda a, b: _float_dot(b, a)
    return lambda a, b: _float_dot(a, b)


_INTS = (np.int8, np.int16)
_FLOATS = (np.float32, np.float64)


def dot(a, b):
    """Dot product of two 1-D C-contiguous arrays of one length.

    int8/int16 (any mix): exact, returned as int64. float32/float64 (both of one dtype): in that
    dtype, vectorized (NaN/inf propagate). Anything else raises TypeError / ValueError.
    """
    validate.kernel_array(a, "a", _INTS + _FLOATS)
    validate.kernel_array(b, "b", _INTS + _FLOATS)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one length, got {a.shape[0]} and {b.shape[0]}")
    if (a.dtype.kind == "f" or b.dtype.kind == "f") and a.dtype != b.dtype:
        raise TypeError(f"a and b must both be int8/int16 or both of one float dtype, got "
                        f"{a.dtype} and {b.dtype}")
    return dot_kernel(a, b)


@njit(cache=True)
def dot_kernel(a, b):
    """Kernel of :func:`dot` (no checks)."""
    return vector_dot(a, b)


def axpy(alpha, x, y):
    """y += alpha * x in place. x, y: 1-D C-contiguous float32/float64 arrays of one dtype and
    length (y writeable); alpha: finite number (cast to their dtype)."""
    alpha = validate.real(alpha, "alpha")
    validate.kernel_array(x, "x", _FLOATS)
    validate.kernel_array(y, "y", _FLOATS, writeable=True)
    if x.dtype != y.dtype:
        raise TypeError(f"x and y must have one dtype, got {x.dtype} and {y.dtype}")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one length, got {x.shape[0]} and {y.shape[0]}")
    axpy_kernel(alpha, x, y)


@njit(cache=True, fastmath=FAST)
def axpy_kernel(alpha, x, y):
    """Kernel of :func:`axpy` (no checks)."""
    a = y.dtype.type(alpha)
    for j in range(y.shape[0]):
        y[j] += a * x[j]


def _prefetch_row_ir(context, builder, aty, value, row):
    """Emit one ``llvm.prefetch`` per 64-byte line of row ``row`` (an intp) of the C-contiguous
    1-D or 2-D array ``value`` of Numba type ``aty``: into L1 for a row of at most L1_ROW_LINES
    lines, else its first L1_HEAD_LINES lines into L1 and the rest into L2."""
    array = context.make_array(aty)(context, builder, value)
    row_bytes = cgutils.unpack_tuple(builder, array.strides)[0]
    byte_ptr = ir.IntType(8).as_pointer()
    start = builder.gep(builder.bitcast(array.data, byte_ptr), [builder.mul(row, row_bytes)])
    i32 = ir.IntType(32)
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
        "llvm.prefetch.p0")
    intp = context.get_value_type(types.intp)
    short = builder.icmp_unsigned("<=", row_bytes, intp(L1_ROW_LINES * CACHE_LINE))
    l1_bytes = builder.select(short, row_bytes, intp(L1_HEAD_LINES * CACHE_LINE))
    # read access (0); locality 3 keeps the line in every level (L1 on), 2 from L2 on; data (1)
    for lo, hi, locality in ((intp(0), l1_bytes, 3), (l1_bytes, row_bytes, 2)):
        with cgutils.for_range_slice(builder, lo, hi, intp(CACHE_LINE)) as (pos, _):
            builder.call(prefetch, [builder.gep(start, [pos]), i32(0), i32(locality), i32(1)])


def _is_row_array(X):
    return isinstance(X, types.Array) and X.ndim in (1, 2) and X.layout == "C"


@intrinsic
def prefetch_row(typingctx, X, i):
    """Hint the CPU to start loading row ``i`` of the C-contiguous 1-D or 2-D array ``X`` into
    cache (one ``llvm.prefetch`` per 64-byte line of the row, or of element i of a 1-D array; no
    effect on any value)."""
    if not (_is_row_array(X) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        _prefetch_row_ir(context, builder, signature.args[0], args[0], row)
        return context.get_dummy_value()

    return types.void(X, i), codegen


def read_words(words):
    """Sum (mod 2**64) of a 1-D C-contiguous uint64 array: a STREAM-like read kernel that loads
    every byte once and does one vector add per 32 bytes, so its speed is the machine's read
    bandwidth for that working set. Used by the bandwidth benchmark as the limit an epoch is
    compared with."""
    return read_words_kernel(validate.kernel_array(words, "words", (np.uint64,)))


@njit(cache=True)
def read_words_kernel(words):
    """Kernel of :func:`read_words` (no checks)."""
    total = np.uint64(0)
    for j in range(words.shape[0]):
        total += words[j]
    return total


PREFETCH_AHEAD = 4
"""How many steps ahead ``next_sample`` prefetches a sampled step's rows."""
SAMPLE_Y, SAMPLE_A, SAMPLE_R = 0, 1, 2
"""Columns of a linear model's per-sample table (n, 3) float64 (``sample_table``): the label,
the cached x_i^T center and the anchor's loss derivative, side by side so that a sampled step
finds all three in one cache line and one page."""


def sample_table(y, a=0.0, r=0.0):
    """A linear model's per-sample table for the labels y ((n,) float): (n, 3) float64 with the
    labels in column SAMPLE_Y, a (the cached x_i^T center) in SAMPLE_A and r (the anchor's loss
    derivatives) in SAMPLE_R ((n,) floats or one number; 0 by default)."""
    table = np.empty((y.shape[0], 3))
    table[:, SAMPLE_Y] = y
    table[:, SAMPLE_A] = a
    table[:, SAMPLE_R] = r
    return table


@intrinsic
def next_sample(typingctx, idx, t, arrays):
    """Sample idx[t] of an epoch's order idx (int64, (T,)), after prefetching the rows of
    sample idx[t + PREFETCH_AHEAD] in each array of the tuple ``arrays`` (the data, and the
    per-sample labels and cached anchor values; 1-D or 2-D, C-contiguous). A sampled step's loads
    are random: its data row, and scalars that sit on its critical path (the loss derivative);
    arrays of n values outgrow L2 and every page of them the TLB, so left to stall they took about
    a fifth of a HALP-8 epoch at 400 MiB (docs/performance.md, "What changed"). Issued several
    steps ahead, the misses of the steps between overlap. An intrinsic, not an inlined function:
    the arrays are read in place, with none of the reference counting that binding them to new
    variables costs at every step. Numba only."""
    if not (isinstance(idx, types.Array) and idx.ndim == 1 and isinstance(idx.dtype, types.Integer)
            and isinstance(t, types.Integer) and isinstance(arrays, types.BaseTuple)
            and all(_is_row_array(a) for a in arrays)):
        return None

    def codegen(context, builder, signature, args):
        order = context.make_array(signature.args[0])(context, builder, args[0])
        length = cgutils.unpack_tuple(builder, order.shape)[0]
        t_now = context.cast(builder, args[1], signature.args[1], types.intp)
        t_ahead = builder.add(t_now, t_now.type(PREFETCH_AHEAD))

        def sample(pos):
            ptr = cgutils.get_item_pointer(context, builder, signature.args[0], order, [pos])
            value = builder.load(ptr)
            return context.cast(builder, value, signature.args[0].dtype, types.intp)

        with builder.if_then(builder.icmp_signed("<", t_ahead, length)):
            row = sample(t_ahead)
            values = cgutils.unpack_tuple(builder, args[2])
            for aty, value in zip(signature.args[2], values):
                _prefetch_row_ir(context, builder, aty, value, row)
        return context.cast(builder, sample(t_now), types.intp, signature.return_type)

    return idx.dtype(idx, t, arrays), codegen
