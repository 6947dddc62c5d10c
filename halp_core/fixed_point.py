"""Fixed-point number format (docs/design.md section 3) and its Numba kernels.

A b-bit fixed-point number with scale ``s > 0`` stores an integer ``k`` in
``[-2**(b-1), 2**(b-1) - 1]`` and means ``s * k``. Integers live in int8 for b <= 8 and in
int16 for b <= 16. Rounding is to nearest (``k = floor(x/s + 1/2)``) or stochastic
(``k = floor(x/s + u)``, ``u ~ U[0, 1)``), and values outside the range saturate (clamp) and are
counted.

Stochastic rounding (``round_stochastic``): k = clamp(floor(x + u)) for a target x in grid units and
u uniform on [0, 1) with 24 random bits, so E[k] = x inside the range (to 2**-24 of a grid step).
Inside the solvers (``round_offset``) the target is k - m with k the current integer and m the
step's move, both in grid units, and the result is k + floor(u - m), computed in float32 for every
width. Rounding u - m to nearest before the floor moves the probability of rounding up by at most
half an ulp of |u - m|, always upward: 2**-25 of a grid step when |u - m| < 1, at most
2**-24 |u - m| in general, whatever the size of k (forming k - m + u first would cost up to
2**-17 at |k| ~ 128 and 2**-9 at |k| ~ 2**15). The move m itself carries float32's relative
error, at most about 2**-24 |m| per term.

Random bits: halp_core.random_bits. ``quantize_stochastic`` draws element j's u from
``uniform_bits(key, j)``; inside the solvers every coordinate of every step has its own bits,
``lane_uniform(step key, j)`` (never a shared table: a table of uniforms read through shifted
windows is unbiased only on average over seeds, and within one run a constant move drifts all
coordinates together).
"""

import numpy as np
from numba import njit

from . import random_bits, validate
from .random_bits import UNIT24, uniform_bits

MIN_BITS = 2
MAX_BITS = 16


def storage_dtype(bits):
    """Integer dtype that holds b-bit fixed-point values: int8 for b <= 8, int16 for b <= 16."""
    check_bits(bits)
    return np.dtype(np.int8) if bits <= 8 else np.dtype(np.int16)


def check_seed(seed):
    """Raise a clear error unless ``seed`` is an int in [0, 2**64) (None is refused: results must
    be reproducible); return it as int."""
    return validate.integer(seed, "seed", 0, 2**64 - 1)


def check_bits(bits):
    """Raise a clear error unless ``bits`` is an int in [2, 16]; return it as int."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"bits must be an int between {MIN_BITS} and {MAX_BITS}, got {bits!r}")
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be between {MIN_BITS} and {MAX_BITS}, got {bits}")
    return int(bits)


def grid_limits(bits):
    """(lowest, highest) integer of a b-bit signed fixed-point number."""
    bits = check_bits(bits)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


@njit(cache=True, inline="always")
def round_stochastic(target, u, bounds):
    """Stochastically round ``target`` (grid units, float32 or float64) to an integer-valued float.

    u: uniform on [0, 1) in target's dtype; bounds: the tuple (lo, hi) of
    the grid's ends in target's dtype (a tuple of scalars, not an array, so that LLVM keeps them in
    registers and vectorizes the caller's loop). Returns (k, saturated): k = clamp(floor(target + u))
    and saturated = True when k was clamped.
    """
    q = np.floor(target + u)
    k = min(max(q, bounds[0]), bounds[1])
    return k, k != q


@njit(cache=True, inline="always")
def round_offset(k, move, u, bounds):
    """Stochastically round the target ``k - move`` where ``k`` is integer-valued (the current
    iterate) and ``move`` the step, both in grid units (float32 or float64), as k + floor(u - move)
    clamped to ``bounds``; u uniform on [0, 1). Returns (q, saturated) like round_stochastic.
    Rounding u - move, not k - move + u, keeps the float error relative to the step, not to |k|."""
    q = k + np.floor(u - move)
    kq = min(max(q, bounds[0]), bounds[1])
    return kq, kq != q


def rounding_bounds(bits, dtype):
    """The ``bounds`` argument of round_stochastic for b-bit integers: (lo, hi) in ``dtype``,
    float32 or float64."""
    lo, hi = grid_limits(bits)
    cast = _float_dtype(dtype).type
    return cast(lo), cast(hi)


def _float_dtype(dtype):
    """``dtype`` as np.dtype if it is float32 or float64; TypeError otherwise."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None  # np.dtype(None) is float64
    except TypeError:
        dt = None
    if dt is None or dt.name not in ("float32", "float64"):
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def make_rounding(seed, bits, dtype):
    """What the LP kernels need to round stochastically: (seed key, ``rounding_bounds``) for b-bit
    integers and float-lane arithmetic in ``dtype`` (float32 or float64). seed: int >= 0."""
    return random_bits.seed_key(seed), rounding_bounds(bits, dtype)


def quantize_nearest(x, scale, bits, out):
    """Round ``x / scale`` to the nearest b-bit integer, saturating; write into ``out``.

    x: finite float32/float64 array, any shape, C-contiguous; scale: finite float > 0 (value of
    one integer step); bits: 2..16; out: writeable C-contiguous int8 (bits <= 8) or int16 array
    of x's shape. Returns the number of saturated entries (int).
    Ties round up (``floor(x/s + 1/2)``: round_stochastic with u fixed at 1/2).
    """
    scale, bits = _check_quantize(x, scale, bits, out)
    return int(quantize_nearest_kernel(x, scale, bits, out))


def quantize_stochastic(x, scale, bits, out, key):
    """Stochastically round ``x / scale`` to b-bit integers (unbiased inside the range, to
    2**-24 of a grid step).

    x, scale, bits, out: as in :func:`quantize_nearest`; key: random key, an int in [0, 2**64)
    (``seed_key(seed)``). Element j draws its random bits from ``uniform_bits(key, j)``.
    Returns the number of saturated entries (int).
    """
    scale, bits = _check_quantize(x, scale, bits, out)
    key = np.uint64(validate.integer(key, "key", 0, 2**64 - 1))
    return int(quantize_stochastic_kernel(x, scale, bits, out, key))


def _check_quantize(x, scale, bits, out):
    """Checks of the quantizers' common arguments; returns (scale, bits) as float, int."""
    bits = check_bits(bits)
    scale = validate.real(scale, "scale", positive=True)
    if not np.isfinite(1.0 / scale):
        raise ValueError(f"scale must be at least {1 / np.finfo(np.float64).max:.3g} (1 / scale "
                         f"overflows), got {scale}")
    validate.kernel_array(x, "x", (np.float32, np.float64), ndim=None)
    validate.kernel_array(out, "out", (np.int8, np.int16), ndim=None, writeable=True)
    if out.shape != x.shape:
        raise ValueError(f"out must have x's shape {x.shape}, got {out.shape}")
    if out.itemsize < storage_dtype(bits).itemsize:
        raise ValueError(f"{bits}-bit integers need {storage_dtype(bits)} storage; out is {out.dtype}")
    validate.finite(x, "x")
    return scale, bits


@njit(cache=True)
def quantize_nearest_kernel(x, scale, bits, out):
    """Kernel of :func:`quantize_nearest` (no checks)."""
    return _quantize(x, scale, bits, out, np.uint64(0), False)


@njit(cache=True)
def quantize_stochastic_kernel(x, scale, bits, out, key):
    """Kernel of :func:`quantize_stochastic` (no checks; key a np.uint64)."""
    return _quantize(x, scale, bits, out, key, True)


@njit(cache=True, inline="always")
def _quantize(x, scale, bits, out, key, stochastic):
    """out = clamp(floor(x / scale + u)) with u = 1/2, or u ~ U[0, 1) per element; returns the
    number of clamped entries."""
    lo = -(2.0 ** (bits - 1))
    hi = 2.0 ** (bits - 1) - 1
    xf = x.reshape(-1)
    of = out.reshape(-1)
    inv = 1.0 / scale
    saturated = 0
    for j in range(xf.shape[0]):
        u = np.float64(uniform_bits(key, j)) * UNIT24 if stochastic else 0.5
        k, sat = round_stochastic(xf[j] * inv, u, (lo, hi))
        of[j] = np.int32(k)
        saturated += sat
    return saturated


def quantize(x, bits, scale, *, rounding="nearest", seed=0):
    """Quantize an array to b-bit fixed point.

    x: finite real array of any shape (converted to float64); bits: 2..16; scale: float > 0;
    rounding: "nearest" or "stochastic"; seed: int >= 0 for stochastic rounding. Returns
    ``(k, saturated)``: the int8/int16 array of x's shape (value ``scale * k``) and the number of
    entries that were clamped.
    """
    rounding = validate.choice(rounding, "rounding", ("nearest", "stochastic"))
    x = validate.real_array(x, "x", ndim=None, empty=True)
    out = np.empty(x.shape, dtype=storage_dtype(bits))
    if rounding == "nearest":
        return out, quantize_nearest(x, scale, bits, out)
    return out, quantize_stochastic(x, scale, bits, out, random_bits.seed_key(seed))
