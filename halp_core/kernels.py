"""Numba kernels shared by the solvers: dot products, updates, and the fixed-point quantizers.

Integer dot products accumulate in int32 (that is what makes LLVM emit vpmaddwd for int8; see
FIELD-NOTES) in blocks short enough that the int32 sums cannot overflow, then add the blocks in
int64. Float reductions use reassociation (``fastmath`` without the no-NaN/no-inf flags, so a
diverging run still shows inf/NaN).
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from .fixed_point import quantize_nearest, quantize_stochastic  # noqa: F401  (public kernels)

# Float flags: reassociation lets reductions vectorize; NaN/inf semantics are kept.
FAST = {"reassoc", "contract", "arcp", "nsz"}

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


@njit(cache=True)
def dot(a, b):
    """Dot product of two 1-D arrays of one length.

    int8/int16 (any mix): exact, returned as int64. float32/float64: in that dtype, vectorized.
    """
    return vector_dot(a, b)


@njit(cache=True, fastmath=FAST)
def axpy(alpha, x, y):
    """y += alpha * x in place. x, y: 1-D float arrays of one dtype; alpha: float (cast to it)."""
    a = y.dtype.type(alpha)
    for j in range(y.shape[0]):
        y[j] += a * x[j]
