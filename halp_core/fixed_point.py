"""Fixed-point number format (DESIGN.md section 3) and its Numba kernels.

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

Random source: a stateless counter hash, "lowbias32" (32-bit xor-shift / multiply). A 32-bit key
comes from the seed. ``quantize_stochastic`` draws u for element j from the top 24 bits of
hash32(key ^ j * 0x9E3779B9). Inside the solvers, hashing every coordinate of every step would cost
more than the update itself, so each solver draws once a table of ``RANDOM_SPAN + d`` such uniforms
(``random_table``), and step t reads the window starting at offset hash(key, t) mod RANDOM_SPAN.
Each coordinate still gets a uniform u independent of its target, so the rounding stays unbiased;
steps whose windows overlap share random values (shifted), a weak correlation of noise across
steps and coordinates that never moves its mean.
"""

import numpy as np
from numba import njit

MIN_BITS = 2
MAX_BITS = 16

_M32 = np.uint64(0xFFFFFFFF)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S8 = np.uint64(8)
_C1 = np.uint64(0x7FEB352D)
_C2 = np.uint64(0x846CA68B)
_GOLDEN = np.uint64(0x9E3779B9)
RANDOM_SPAN = 1 << 14  # offsets of the per-step window into the random table
_UNIT24 = 1.0 / (1 << 24)


def storage_dtype(bits):
    """Integer dtype that holds b-bit fixed-point values: int8 for b <= 8, int16 for b <= 16."""
    check_bits(bits)
    return np.dtype(np.int8) if bits <= 8 else np.dtype(np.int16)


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
def hash32(x):
    """lowbias32 integer hash of the low 32 bits of uint64 ``x``; returns a uint64 below 2**32."""
    x = x & _M32
    x ^= x >> _S16
    x = (x * _C1) & _M32
    x ^= x >> _S15
    x = (x * _C2) & _M32
    x ^= x >> _S16
    return x


@njit(cache=True, inline="always")
def step_key(seed_key, step):
    """32-bit key of one solver step: mixes the seed's key with the (64-bit) step counter."""
    s = np.uint64(step)
    return hash32(seed_key ^ hash32(s ^ hash32(s >> np.uint64(32))))


@njit(cache=True, inline="always")
def uniform_bits(key, j):
    """24 random bits (uint64 in [0, 2**24)) for element ``j`` under ``key``."""
    return hash32(key ^ ((np.uint64(j) * _GOLDEN) & _M32)) >> _S8


def seed_key(seed):
    """32-bit key (np.uint64) from an integer seed."""
    seed = int(seed)
    low = np.uint64((seed ^ 0x5BD1E995) & 0xFFFFFFFF)
    high = np.uint64((seed >> 32) & 0xFFFFFFFF)
    return np.uint64(int(hash32(low ^ hash32(high ^ _GOLDEN))))


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
    """The ``bounds`` argument of round_stochastic for b-bit integers, in ``dtype``."""
    lo, hi = grid_limits(bits)
    cast = np.dtype(dtype).type
    return cast(lo), cast(hi)


@njit(cache=True)
def random_table(key, out):
    """Fill ``out`` (1-D float32/float64) with uniforms on [0, 1) of 24 random bits each (exact in
    either dtype), entry m from ``uniform_bits(key, m)``."""
    for m in range(out.shape[0]):
        out[m] = np.float64(uniform_bits(key, m)) * _UNIT24


def make_rounding(seed, bits, size, dtype):
    """Everything the LP kernels need to round ``size`` coordinates per step stochastically:
    (random table of RANDOM_SPAN + size entries, key, ``rounding_bounds``), for b-bit integers and
    arithmetic in ``dtype``."""
    key = seed_key(seed)
    table = np.empty(RANDOM_SPAN + size, dtype=dtype)
    random_table(key, table)
    return table, key, rounding_bounds(bits, dtype)


@njit(cache=True, inline="always")
def window_offset(seed_key, step):
    """Start of step ``step``'s window into the random table, uniform on [0, RANDOM_SPAN)."""
    return np.int64(step_key(seed_key, step) & np.uint64(RANDOM_SPAN - 1))


@njit(cache=True)
def quantize_nearest(x, scale, bits, out):
    """Round ``x / scale`` to the nearest b-bit integer, saturating; write into ``out``.

    x: float array, any shape (C-contiguous); scale: float > 0 (value of one integer step);
    bits: 2..16; out: int8/int16 array with x's shape. Returns the number of saturated entries.
    Ties round up (``floor(x/s + 1/2)``: round_stochastic with u fixed at 1/2).
    """
    return _quantize(x, scale, bits, out, np.uint64(0), False)


@njit(cache=True)
def quantize_stochastic(x, scale, bits, out, key):
    """Stochastically round ``x / scale`` to b-bit integers (unbiased inside the range, to
    2**-24 of a grid step).

    x: float array (C-contiguous); scale: float > 0; bits: 2..16; out: int8/int16 array of x's
    shape; key: uint64 random key (``seed_key(seed)``). Element j draws its random bits from
    ``uniform_bits(key, j)``. Returns the number of saturated entries.
    """
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
        u = np.float64(uniform_bits(key, j)) * _UNIT24 if stochastic else 0.5
        k, sat = round_stochastic(xf[j] * inv, u, (lo, hi))
        of[j] = np.int32(k)
        saturated += sat
    return saturated


def quantize(x, bits, scale, *, rounding="nearest", seed=0):
    """Quantize an array to b-bit fixed point.

    x: float array of any shape (finite); bits: 2..16; scale: float > 0; rounding: "nearest" or
    "stochastic"; seed: int for stochastic rounding. Returns ``(k, saturated)``: the int8/int16
    array of x's shape (value ``scale * k``) and the number of entries that were clamped.
    """
    bits = check_bits(bits)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf")
    scale = float(scale)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale}")
    out = np.empty(x.shape, dtype=storage_dtype(bits))
    if rounding == "nearest":
        saturated = quantize_nearest(x, scale, bits, out)
    elif rounding == "stochastic":
        saturated = quantize_stochastic(x, scale, bits, out, seed_key(seed))
    else:
        raise ValueError(f"rounding must be 'nearest' or 'stochastic', got {rounding!r}")
    return out, int(saturated)
