"""Fixed-point number format (DESIGN.md section 3) and its Numba kernels.

A b-bit fixed-point number with scale ``s > 0`` stores an integer ``k`` in
``[-2**(b-1), 2**(b-1) - 1]`` and means ``s * k``. Integers live in int8 for b <= 8 and in
int16 for b <= 16. Rounding is to nearest (``k = floor(x/s + 1/2)``) or stochastic
(``k = floor(x/s + u)``, ``u ~ U[0, 1)``), and values outside the range saturate (clamp) and are
counted.

Random source for stochastic rounding: a stateless counter hash. A 32-bit key is derived from the
seed (and, inside solvers, from the step number); the uniform for element ``j`` is the top 24 bits
of ``hash32(key ^ (j * 0x9E3779B9 mod 2**32))`` times ``2**-24``, where ``hash32`` is the
"lowbias32" integer finalizer (xor-shift / multiply, 32-bit). It is reproducible from the seed,
needs no state, and vectorizes. ``E[floor(x + u)] = x`` up to the 2**-24 resolution of ``u`` and,
when rounding in float32, up to float32's resolution at the magnitude of ``x``.
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
_INV24 = 1.0 / 16777216.0


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


@njit(cache=True)
def quantize_nearest(x, scale, bits, out):
    """Round ``x / scale`` to the nearest b-bit integer, saturating; write into ``out``.

    x: float array, any shape (C-contiguous); scale: float > 0 (value of one integer step);
    bits: 2..16; out: int8/int16 array with x's shape. Returns the number of saturated entries.
    Ties round up (``floor(x/s + 1/2)``).
    """
    lo = -(2 ** (bits - 1))
    hi = 2 ** (bits - 1) - 1
    xf = x.reshape(-1)
    of = out.reshape(-1)
    inv = 1.0 / scale
    saturated = 0
    for j in range(xf.shape[0]):
        q = np.floor(xf[j] * inv + 0.5)
        if q > hi:
            q = hi
            saturated += 1
        elif q < lo:
            q = lo
            saturated += 1
        of[j] = q
    return saturated


@njit(cache=True)
def quantize_stochastic(x, scale, bits, out, key):
    """Stochastically round ``x / scale`` to b-bit integers (unbiased inside the range).

    x: float array (C-contiguous); scale: float > 0; bits: 2..16; out: int8/int16 array of x's
    shape; key: uint64 random key (``seed_key(seed)``). Element j uses ``uniform_bits(key, j)``.
    Returns the number of saturated entries.
    """
    lo = -(2 ** (bits - 1))
    hi = 2 ** (bits - 1) - 1
    xf = x.reshape(-1)
    of = out.reshape(-1)
    inv = 1.0 / scale
    saturated = 0
    for j in range(xf.shape[0]):
        u = np.float64(uniform_bits(key, j)) * _INV24
        q = np.floor(xf[j] * inv + u)
        if q > hi:
            q = hi
            saturated += 1
        elif q < lo:
            q = lo
            saturated += 1
        of[j] = q
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
