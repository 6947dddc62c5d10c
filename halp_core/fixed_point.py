"""Fixed-point number format (docs/design.md section 3) and its Numba kernels.

A b-bit fixed-point number with scale ``s > 0`` stores an integer ``k`` in
``[-2**(b-1), 2**(b-1) - 1]`` and means ``s * k``. Integers live in int8 for b <= 8 and in
int16 for b <= 16. Rounding is to nearest (``k = floor(x/s + 1/2)``) or stochastic
(``k = floor(x/s + u)``, ``u ~ U[0, 1)``), and values outside the range saturate (clamp) and are
counted.

Stochastic rounding (``_round_stochastic``): k = clamp(floor(x + u)) for a target x in grid units and
u uniform on [0, 1) with 24 random bits, so E[k] = x inside the range (to 2**-24 of a grid step).
Inside the solvers (``_round_offset``) the target is k - m with k the current integer and m the
step's move, both in grid units, and the result is k + floor(u - m), computed in float32 for every
width. Rounding u - m to nearest before the floor moves the probability of rounding up by at most
half an ulp of |u - m|, always upward: 2**-25 of a grid step when |u - m| < 1, at most
2**-24 |u - m| in general, whatever the size of k (forming k - m + u first would cost up to
2**-17 at |k| ~ 128 and 2**-9 at |k| ~ 2**15). The move m itself carries float32's relative
error, at most about 2**-24 |m| per term.

Random source: stateless counter hashes. A 32-bit key comes from the seed (``seed_key``).
``quantize_stochastic`` draws u for element j from the top 24 bits of _hash32(key ^ j * 0x9E3779B9).
Inside the solvers every step t has its own key ``_step_key(key, t)`` and every coordinate of the step
its own random bits, ``_lane_hash(step key, counter)`` (lowbias32 of key + counter * 0x9E3779B9,
computed in 32-bit lanes so it vectorizes): independent per coordinate
and per step, never shared through a table (a shared table of uniforms read through shifted windows
is unbiased only on average over seeds: within one run a constant move drifts all coordinates
together). ``_lane_uniform`` turns the bits into u on [0, 1) with 24 bits for the float-lane update;
halp_core.int_lanes uses one byte per coordinate.
"""

import numpy as np
from numba import njit

from . import _validate, u32

MIN_BITS = 2
MAX_BITS = 16

_M32 = np.uint64(0xFFFFFFFF)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S8 = np.uint64(8)
_C1 = np.uint64(0x7FEB352D)
_C2 = np.uint64(0x846CA68B)
_GOLDEN = np.uint64(0x9E3779B9)
_UNIT24 = 1.0 / (1 << 24)


def storage_dtype(bits):
    """Integer dtype that holds b-bit fixed-point values: int8 for b <= 8, int16 for b <= 16."""
    check_bits(bits)
    return np.dtype(np.int8) if bits <= 8 else np.dtype(np.int16)


def check_seed(seed):
    """Raise a clear error unless ``seed`` is an int in [0, 2**64) (None is refused: results must
    be reproducible); return it as int."""
    return _validate.integer(seed, "seed", 0, 2**64 - 1)


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
def _hash32(x):
    """lowbias32 integer hash of the low 32 bits of uint64 ``x``; returns a uint64 below 2**32."""
    x = x & _M32
    x ^= x >> _S16
    x = (x * _C1) & _M32
    x ^= x >> _S15
    x = (x * _C2) & _M32
    x ^= x >> _S16
    return x


@njit(cache=True, inline="always")
def _step_key(seed_key, step):
    """32-bit key of one solver step: mixes the seed's key with the (64-bit) step counter."""
    s = np.uint64(step)
    return _hash32(seed_key ^ _hash32(s ^ _hash32(s >> np.uint64(32))))


@njit(cache=True, inline="always")
def _uniform_bits(key, j):
    """24 random bits (uint64 in [0, 2**24)) for element ``j`` under ``key``."""
    return _hash32(key ^ ((np.uint64(j) * _GOLDEN) & _M32)) >> _S8


@njit(cache=True, inline="always")
def _epoch_key(seed_key, step0):
    """Key of the per-epoch dithers of an epoch starting at step ``step0`` (distinct from every
    step key's use)."""
    return _hash32(_step_key(seed_key, step0) ^ np.uint64(0x6A09E667))


def seed_key(seed):
    """32-bit key (np.uint64) from an integer seed, 0 <= seed < 2**64."""
    seed = check_seed(seed)
    low = np.uint64((seed ^ 0x5BD1E995) & 0xFFFFFFFF)
    high = np.uint64((seed >> 32) & 0xFFFFFFFF)
    return np.uint64(int(_hash32(low ^ _hash32(high ^ _GOLDEN))))


@njit(cache=True, inline="always")
def _round_stochastic(target, u, bounds):
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
def _round_offset(k, move, u, bounds):
    """Stochastically round the target ``k - move`` where ``k`` is integer-valued (the current
    iterate) and ``move`` the step, both in grid units (float32 or float64), as k + floor(u - move)
    clamped to ``bounds``; u uniform on [0, 1). Returns (q, saturated) like _round_stochastic.
    Rounding u - move, not k - move + u, keeps the float error relative to the step, not to |k|."""
    q = k + np.floor(u - move)
    kq = min(max(q, bounds[0]), bounds[1])
    return kq, kq != q


def rounding_bounds(bits, dtype):
    """The ``bounds`` argument of _round_stochastic for b-bit integers: (lo, hi) in ``dtype``,
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


@njit(cache=True, inline="always")
def _lane_hash(key, counter):
    """32 random bits (uint32) for ``counter`` under a step key: _hash32 of
    key + counter * 0x9E3779B9 (mod 2**32), in 32-bit arithmetic (halp_core.u32) so that loops
    over coordinates vectorize in 32-bit lanes. halp_core.int_lanes computes the same function in
    its own vector lanes; tests/reference.py has its NumPy twin."""
    x = u32.add(key, u32.mul(counter, 0x9E3779B9))
    x = u32.xor(x, u32.shr(x, 16))
    x = u32.mul(x, 0x7FEB352D)
    x = u32.xor(x, u32.shr(x, 15))
    x = u32.mul(x, 0x846CA68B)
    return u32.xor(x, u32.shr(x, 16))


@njit(cache=True, inline="always")
def _lane_uniform(key, counter):
    """u on [0, 1) (float64 with 24 random bits, so exact in float32) for ``counter`` under a
    step key."""
    return np.float64(_lane_hash(key, counter) >> _S8) * _UNIT24


def make_rounding(seed, bits, dtype):
    """What the LP kernels need to round stochastically: (seed key, ``rounding_bounds``) for b-bit
    integers and float-lane arithmetic in ``dtype`` (float32 or float64). seed: int >= 0."""
    return seed_key(seed), rounding_bounds(bits, dtype)


def quantize_nearest(x, scale, bits, out):
    """Round ``x / scale`` to the nearest b-bit integer, saturating; write into ``out``.

    x: finite float32/float64 array, any shape, C-contiguous; scale: finite float > 0 (value of
    one integer step); bits: 2..16; out: writeable C-contiguous int8 (bits <= 8) or int16 array
    of x's shape. Returns the number of saturated entries (int).
    Ties round up (``floor(x/s + 1/2)``: _round_stochastic with u fixed at 1/2).
    """
    scale, bits = _check_quantize(x, scale, bits, out)
    return int(_quantize_nearest(x, scale, bits, out))


def quantize_stochastic(x, scale, bits, out, key):
    """Stochastically round ``x / scale`` to b-bit integers (unbiased inside the range, to
    2**-24 of a grid step).

    x, scale, bits, out: as in :func:`quantize_nearest`; key: random key, an int in [0, 2**64)
    (``seed_key(seed)``). Element j draws its random bits from ``_uniform_bits(key, j)``.
    Returns the number of saturated entries (int).
    """
    scale, bits = _check_quantize(x, scale, bits, out)
    key = np.uint64(_validate.integer(key, "key", 0, 2**64 - 1))
    return int(_quantize_stochastic(x, scale, bits, out, key))


def _check_quantize(x, scale, bits, out):
    """Checks of the quantizers' common arguments; returns (scale, bits) as float, int."""
    bits = check_bits(bits)
    scale = _validate.real(scale, "scale", positive=True)
    if not np.isfinite(1.0 / scale):
        raise ValueError(f"scale must be at least {1 / np.finfo(np.float64).max:.3g} (1 / scale "
                         f"overflows), got {scale}")
    _validate.kernel_array(x, "x", (np.float32, np.float64), ndim=None)
    _validate.kernel_array(out, "out", (np.int8, np.int16), ndim=None, writeable=True)
    if out.shape != x.shape:
        raise ValueError(f"out must have x's shape {x.shape}, got {out.shape}")
    if out.itemsize < storage_dtype(bits).itemsize:
        raise ValueError(f"{bits}-bit integers need {storage_dtype(bits)} storage; out is {out.dtype}")
    _validate.finite(x, "x")
    return scale, bits


@njit(cache=True)
def _quantize_nearest(x, scale, bits, out):
    """Kernel of :func:`quantize_nearest` (no checks)."""
    return _quantize(x, scale, bits, out, np.uint64(0), False)


@njit(cache=True)
def _quantize_stochastic(x, scale, bits, out, key):
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
        u = np.float64(_uniform_bits(key, j)) * _UNIT24 if stochastic else 0.5
        k, sat = _round_stochastic(xf[j] * inv, u, (lo, hi))
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
    rounding = _validate.choice(rounding, "rounding", ("nearest", "stochastic"))
    x = _validate.real_array(x, "x", ndim=None, empty=True)
    out = np.empty(x.shape, dtype=storage_dtype(bits))
    if rounding == "nearest":
        return out, quantize_nearest(x, scale, bits, out)
    return out, quantize_stochastic(x, scale, bits, out, seed_key(seed))
