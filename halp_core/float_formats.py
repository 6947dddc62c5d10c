"""Low-precision float formats (bf16, fp16, fp8-e4m3, fp8-e5m2; docs/design.md section 3) and
their Numba kernels: bit patterns in uint16 / uint8, converted to and from float32 by integer
operations on the float32 bit pattern.

The formats are declared once, in ``halp_core.registry`` (``FormatSpec``: exponent and mantissa
bits, bias, largest finite pattern); everything here is derived from those entries.

A value is stored as its bit pattern: sign, E exponent bits of bias B, M mantissa bits. With
D = 23 - M, a *normal* value's pattern is the float32 pattern with the exponent re-biased and
the low D mantissa bits dropped; a *subnormal* one (below 2^(1-B)) counts steps of the smallest
subnormal 2^(1-B-M). Patterns of one sign are in the order of the values, and consecutive
patterns are consecutive representable values, so:

* **decode** (``_decode``): normal: float32 bits = ((p << D) + ((127 - B) << 23)) | sign;
  subnormal: p * 2^(1-B-M), exact in float32 (bf16, with float32's exponent range, has only the
  first form: float32's own subnormals).
* **stochastic rounding** (``_encode_stochastic``), for a float32 v and 32 random bits r: normal
  range: add the top D bits of r to |v|'s float32 pattern (re-biased) and shift the D bits out,
  which rounds |v| up with probability (|v| - lower) / (upper - lower) exactly, a carry into the
  exponent included; subnormal range: x = |v| 2^(B-1+M) is exact in float32, and the result is
  floor(x) + [u < x - floor(x)] with u = 24 bits of r, unbiased to 2^-24 of a subnormal step. So
  E[decode(encode(v))] = v for every float32 v inside the range.
* **round to nearest** (``_encode_nearest``, ties to even) for data copies; it matches ml_dtypes'
  conversion bit for bit inside the range (tests/halp_core/test_float_formats.py).
* **saturation**: values beyond the largest finite one become it (the update is counted as
  clamped); NaN input gives the format's NaN, and no finite input gives inf or NaN.

Kernel constants travel as one tuple, ``params(name)`` (``FormatParams``); fixed-point data uses
``NO_FORMAT`` (ints convert to float32 directly).

Grid top: a float format has no fixed grid, but the solvers still size their scale s the way the
fixed-point formats do (halp_core.bit_centering, LP-SGD's default scale) with ``top(name)``: the
largest power of two not above the largest finite value, capped at 2^15 so that float32 dot
products of data and iterate stay far below float32's range. Values up to the largest finite one
are headroom; below top the relative precision is 2^-(M+1) down to 2^(1-B), then subnormal.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from . import _validate, fixed_point, registry

TOP_CAP = 2 ** 15


class FormatParams(NamedTuple):
    """Kernel constants of one format (all derived from its registry entry).

    drop: D = 23 - M, float32 mantissa bits dropped; rebias: (127 - B) << 23; min_normal32: the
    float32 pattern of the smallest normal value 2^(1-B); max_pattern, nan_pattern: the format's
    largest finite magnitude and its NaN; inf_pattern: +inf (or a value above every pattern when
    the format has none); sign_shift: E + M; subnormal: 1 when the format's subnormals lie above
    float32's (B < 127); up: 2^(B-1+M) (float32, 0 without subnormal branch); down: 2^(1-B-M)."""

    drop: int
    rebias: int
    min_normal32: int
    max_pattern: int
    nan_pattern: int
    inf_pattern: int
    sign_shift: int
    subnormal: int
    up: float
    down: float


NO_FORMAT = FormatParams(0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0)
"""``FormatParams`` of fixed-point (integer) data: unused, integers convert directly."""


def params(name):
    """The ``FormatParams`` of the registered format ``name`` (ValueError for another name)."""
    entry = registry.format_spec(name)
    m, b = entry.mantissa_bits, entry.bias
    sub = b < 127
    return FormatParams(
        drop=23 - m, rebias=(127 - b) << 23, min_normal32=(128 - b) << 23,
        max_pattern=entry.max_pattern, nan_pattern=entry.nan_pattern,
        inf_pattern=entry.inf_pattern if entry.inf_pattern is not None else 1 << 16,
        sign_shift=entry.exponent_bits + m, subnormal=int(sub),
        up=float(2.0 ** (b - 1 + m)) if sub else 0.0, down=float(2.0 ** (1 - b - m)))


def storage_dtype(name):
    """uint16 for a 16-bit format, uint8 for an 8-bit one."""
    entry = registry.format_spec(name)
    return np.dtype(np.uint16 if 1 + entry.exponent_bits + entry.mantissa_bits == 16 else np.uint8)


def max_finite(name):
    """The largest finite value of the format (float)."""
    return float(decode(np.array([registry.format_spec(name).max_pattern],
                                 dtype=storage_dtype(name)), name)[0])


def top(name):
    """The grid top of the format (see the module docstring): a power of two (float)."""
    largest = max_finite(name)
    return float(min(2.0 ** np.floor(np.log2(largest)), TOP_CAP))


def data_scale(peak, name):
    """Power-of-two scale of a data copy in the format: peak (max |X|, float >= 0) / scale lies in
    (top / 2, top], so the copy uses the format's range without saturating. 1.0 for peak 0."""
    if peak == 0:
        return 1.0
    return float(2.0 ** (np.ceil(np.log2(peak / top(name)))))


# ---- Numba kernels -----------------------------------------------------------------------------

_SIGN = np.uint32(0x80000000)
_MAG = np.uint32(0x7FFFFFFF)
_EXP32 = np.uint32(0x7F800000)
_UNIT24 = np.float32(1.0 / (1 << 24))


@njit(cache=True, inline="always")
def _finish(p, mag, sign, fmt):
    """Saturate the magnitude pattern p (uint32), give NaN input the format's NaN and attach the
    sign; returns (pattern, clamped)."""
    clamped = p > np.uint32(fmt.max_pattern)
    p = min(p, np.uint32(fmt.max_pattern))
    if mag > _EXP32:
        p = np.uint32(fmt.nan_pattern)
    return p | (sign << np.uint32(fmt.sign_shift)), clamped


@njit(cache=True, inline="always")
def _encode_stochastic(v, r, fmt):
    """Stochastically round float32 v to the format ``fmt`` (FormatParams) with 32 random bits r
    (uint32); returns (pattern as uint32, clamped: whether |v| was above the largest finite
    value)."""
    bits = np.float32(v).view(np.uint32)
    sign = bits >> np.uint32(31)
    mag = bits & _MAG
    drop = np.uint32(fmt.drop)
    p = np.uint32((mag - np.uint32(fmt.rebias) + (np.uint32(r) >> (np.uint32(32) - drop))) >> drop)
    if fmt.subnormal and mag < np.uint32(fmt.min_normal32):
        x = np.float32(abs(np.float32(v))) * np.float32(fmt.up)
        whole = np.floor(x)
        u = np.float32(np.uint32(r) >> np.uint32(8)) * _UNIT24
        p = np.uint32(whole) + np.uint32(u < x - whole)
    return _finish(p, mag, sign, fmt)


@njit(cache=True, inline="always")
def _encode_nearest(v, fmt):
    """Round float32 v to the nearest value of ``fmt``, ties to even; returns (pattern as
    uint32, clamped)."""
    bits = np.float32(v).view(np.uint32)
    sign = bits >> np.uint32(31)
    mag = bits & _MAG
    drop = np.uint32(fmt.drop)
    lsb = (mag >> drop) & np.uint32(1)
    half = (np.uint32(1) << (drop - np.uint32(1))) - np.uint32(1) + lsb
    p = np.uint32((mag - np.uint32(fmt.rebias) + half) >> drop)
    if fmt.subnormal and mag < np.uint32(fmt.min_normal32):
        p = np.uint32(np.rint(np.float32(abs(np.float32(v))) * np.float32(fmt.up)))
    return _finish(p, mag, sign, fmt)


@njit(cache=True, inline="always")
def _decode(pattern, fmt):
    """The float32 value of the bit pattern ``pattern`` (uint8/uint16/uint32) of ``fmt``."""
    p = np.uint32(pattern)
    sign = (p >> np.uint32(fmt.sign_shift)) & np.uint32(1)
    pm = p & ((np.uint32(1) << np.uint32(fmt.sign_shift)) - np.uint32(1))
    out = np.uint32(((pm << np.uint32(fmt.drop)) + np.uint32(fmt.rebias))
                    | (sign << np.uint32(31))).view(np.float32)
    if fmt.subnormal and pm < (np.uint32(1) << np.uint32(23 - fmt.drop)):
        out = np.float32(pm) * np.float32(fmt.down) * (np.float32(-1) if sign else np.float32(1))
    if pm > np.uint32(fmt.max_pattern):
        out = np.float32(np.inf) if pm == np.uint32(fmt.inf_pattern) else np.float32(np.nan)
        out = -out if sign else out
    return out


def _data_value(x, fmt):
    """A data entry as float32: integers (fixed-point data) convert directly, unsigned patterns
    (a float format's data copy) are decoded with ``fmt``. Numba only."""


@overload(_data_value, inline="always")
def _data_value_impl(x, fmt):
    if isinstance(x, types.Integer) and not x.signed:
        return lambda x, fmt: _decode(x, fmt)
    return lambda x, fmt: np.float32(x)


def _data_row(X, i, fmt, decoded):
    """Row i of the data X as a vector of numbers: X[i] itself for float or fixed-point (int)
    data, and for a float format's patterns (unsigned) the row decoded into ``decoded`` (a float
    array of length d), which is returned. Numba only."""


@overload(_data_row, inline="always")
def _data_row_impl(X, i, fmt, decoded):
    if isinstance(X.dtype, types.Integer) and not X.dtype.signed:
        def decode_row(X, i, fmt, decoded):
            for j in range(X.shape[1]):
                decoded[j] = _decode(X[i, j], fmt)
            return decoded
        return decode_row
    return lambda X, i, fmt, decoded: X[i]


@njit(cache=True)
def _encode_array(x, fmt, key, stochastic, out):
    """out[j] = the pattern of x[j] (flat float32/float64 arrays), rounded to nearest or
    stochastically with _lane_hash(key, j); returns the number of clamped entries."""
    clamped = 0
    for j in range(x.shape[0]):
        v = np.float32(x[j])
        if stochastic:
            p, c = _encode_stochastic(v, np.uint32(fixed_point._lane_hash(key, j)), fmt)
        else:
            p, c = _encode_nearest(v, fmt)
        out[j] = p
        clamped += c
    return clamped


@njit(cache=True)
def _decode_array(p, fmt, out):
    for j in range(p.shape[0]):
        out[j] = _decode(p[j], fmt)


# ---- public API ---------------------------------------------------------------------------------

def encode(x, name, *, rounding="nearest", seed=0):
    """Round a real array to the format ``name`` and return its bit patterns.

    x: finite real array of any shape (rounded from float32: float64 input is first rounded to
    float32, to nearest); name: a registered format ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2");
    rounding: "nearest" (ties to even) or "stochastic" (unbiased, counter-hash random bits from
    ``seed``). Returns (patterns of x's shape, uint16 or uint8; the number of entries that
    saturated at the largest finite value).
    """
    fmt = params(name)
    rounding = _validate.choice(rounding, "rounding", ("nearest", "stochastic"))
    x = _validate.real_array(x, "x", ndim=None, empty=True)
    _validate.finite(x, "x")
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    out = np.empty(flat.shape, dtype=storage_dtype(name))
    key = fixed_point.seed_key(seed)
    clamped = _encode_array(flat, fmt, key, rounding == "stochastic", out)
    return out.reshape(x.shape), int(clamped)


def decode(patterns, name):
    """The values (float64 array of the same shape) of bit patterns of the format ``name``
    (a uint16 / uint8 array, as ``encode`` returns)."""
    fmt = params(name)
    dtype = storage_dtype(name)
    p = np.asarray(patterns)
    if p.dtype != dtype:
        raise TypeError(f"{name} patterns must be {dtype}, got {p.dtype}")
    out = np.empty(p.size, dtype=np.float32)
    _decode_array(np.ascontiguousarray(p).reshape(-1), fmt, out)
    return out.reshape(p.shape).astype(np.float64)
