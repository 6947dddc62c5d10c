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

* **decode** (``decode_value``): normal: float32 bits = ((p << D) + ((127 - B) << 23)) | sign;
  subnormal: p * 2^(1-B-M), exact in float32 (bf16, with float32's exponent range, has only the
  first form: float32's own subnormals).
* **stochastic rounding** (``encode_stochastic_value``), for a float32 v and 32 random bits r: normal
  range: add the top D bits of r to |v|'s float32 pattern (re-biased) and shift the D bits out,
  which rounds |v| up with probability (|v| - lower) / (upper - lower) exactly, a carry into the
  exponent included; subnormal range: x = |v| 2^(B-1+M) is exact in float32, and the result is
  floor(x) + [u < x - floor(x)] with u = 24 bits of r, unbiased to 2^-24 of a subnormal step. So
  E[decode(encode(v))] = v for every float32 v inside the range.
* **round to nearest** (``encode_nearest_value``, ties to even) for data copies; it matches ml_dtypes'
  conversion bit for bit inside the range (tests/halp_core/test_float_formats.py).
* **saturation**: values beyond the largest finite one become it (the update is counted as
  clamped); NaN input gives the format's NaN, and no finite input gives inf or NaN.

The Numba functions (``decode_value``, ``encode_stochastic_value``, ``encode_nearest_value``,
``data_value``, ``data_row``) work on one value or row inside kernels; ``encode`` and ``decode``
are their checked NumPy-array forms. Kernel constants travel as one tuple, ``params(name)`` (``FormatParams``); fixed-point data uses
``NO_FORMAT`` (ints convert to float32 directly).

Grid top: a float format has no fixed grid, but the solvers still size their scale s the way the
fixed-point formats do (halp_core.bit_centering, LP-SGD's default scale) with ``top(name)``: the
largest power of two not above the largest finite value, capped at 2^15 so that float32 dot
products of data and iterate stay far below float32's range. Values up to the largest finite one
are headroom; below top the relative precision is 2^-(M+1) down to 2^(1-B), then subnormal.
"""

import functools
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from . import random_bits, registry, u32, validate

TOP_CAP = 2 ** 15


class FormatParams(NamedTuple):
    """Kernel constants of one format (all derived from its registry entry).

    drop: D = 23 - M, float32 mantissa bits dropped; rebias: (127 - B) << 23; min_normal32: the
    float32 pattern of the smallest normal value 2^(1-B) (0 when the format's subnormals are
    float32's, B = 127: no separate subnormal branch); sub_limit: 2^M, the first normal pattern
    (0 likewise); max_pattern, nan_pattern: the format's
    largest finite magnitude and its NaN; inf_pattern: +inf (or a value above every pattern when
    the format has none); sign_shift: E + M; up: 2^(B-1+M) (0 without a subnormal branch);
    down: 2^(1-B-M)."""

    drop: int
    rebias: int
    min_normal32: int
    sub_limit: int
    max_pattern: int
    nan_pattern: int
    inf_pattern: int
    sign_shift: int
    up: float
    down: float


class TopHalfParams(NamedTuple):
    """Kernel constants of a format that is the top 16 bits of a float32 (bf16: 8 exponent bits,
    bias 127, 7 mantissa bits). Its own type, so that Numba compiles the short forms: decode is a
    16-bit shift, stochastic rounding adds 16 random bits to the float32 pattern and keeps the top
    half (the same rounding as the general form, bit for bit)."""

    max_pattern: int
    nan_pattern: int


NO_FORMAT = FormatParams(0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0)
"""``FormatParams`` of fixed-point (integer) data: unused, integers convert directly."""


def params(name, general=False):
    """The kernel constants of the registered format ``name`` (ValueError for another name):
    ``TopHalfParams`` for a float32's top half (bf16) unless ``general``, ``FormatParams``
    otherwise."""
    entry = registry.format_spec(name)
    m, b = entry.mantissa_bits, entry.bias
    if not general and (entry.exponent_bits, m, b) == (8, 7, 127):
        return TopHalfParams(entry.max_pattern, entry.nan_pattern)
    sub = b < 127
    return FormatParams(
        drop=23 - m, rebias=(127 - b) << 23, min_normal32=(128 - b) << 23 if sub else 0,
        sub_limit=1 << m if sub else 0,
        max_pattern=entry.max_pattern, nan_pattern=entry.nan_pattern,
        inf_pattern=entry.inf_pattern if entry.inf_pattern is not None else 1 << 16,
        sign_shift=entry.exponent_bits + m,
        up=float(2.0 ** (b - 1 + m)) if sub else 0.0, down=float(2.0 ** (1 - b - m)))


def storage_dtype(name):
    """uint16 for a 16-bit format, uint8 for an 8-bit one."""
    entry = registry.format_spec(name)
    return np.dtype(np.uint16 if 1 + entry.exponent_bits + entry.mantissa_bits == 16 else np.uint8)


@functools.lru_cache(maxsize=None)   # formats are registered once and never change
def max_finite(name):
    """The largest finite value of the format (float)."""
    return float(decode(np.array([registry.format_spec(name).max_pattern],
                                 dtype=storage_dtype(name)), name)[0])


@functools.lru_cache(maxsize=None)
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

_MAG = np.uint32(0x7FFFFFFF)
_EXP32 = np.uint32(0x7F800000)
_UNIT24 = np.float32(1.0 / (1 << 24))
_INF32 = int(np.float32(np.inf).view(np.uint32))
_NAN32 = int(np.float32(np.nan).view(np.uint32))


@njit(cache=True, inline="always")
def _pick(cond, a, b):
    """a if cond else b for uint32 a, b, in arithmetic (a select without a branch; written as a
    conditional expression it trips Numba's IR checks once inlined twice)."""
    return u32.xor(b, u32.and_(u32.xor(a, b), u32.sub(0, np.int32(cond))))


@njit(cache=True, inline="always")
def _finish(p, mag, sign, fmt):
    """Saturate the magnitude pattern p (uint32), give NaN input the format's NaN and attach the
    sign; returns (pattern as uint32, clamped). Selects, no branches, so that the callers' loops
    vectorize."""
    top = np.uint32(fmt.max_pattern)
    clamped = p > top
    p = top if clamped else p
    p = np.uint32(fmt.nan_pattern) if mag > _EXP32 else p
    return u32.or_(p, u32.shl(sign, fmt.sign_shift)), clamped


@njit(cache=True, inline="always")
def _encode_stochastic_general(v, r, fmt):
    """encode_stochastic_value for FormatParams."""
    bits = np.float32(v).view(np.uint32)
    sign = u32.shr(bits, 31)
    mag = u32.and_(bits, _MAG)
    normal = u32.shr(u32.add(u32.sub(mag, fmt.rebias), u32.shr(r, 32 - fmt.drop)), fmt.drop)
    x = np.float32(abs(np.float32(v))) * np.float32(fmt.up)
    whole = np.floor(x)
    u = np.float32(np.int32(u32.shr(r, 8))) * _UNIT24
    sub = u32.add(np.int32(whole), np.int32(u < x - whole))
    # fmt.min_normal32 is 0 for a format without a subnormal branch: the select never takes it
    p = sub if mag < np.uint32(fmt.min_normal32) else normal
    return _finish(p, mag, sign, fmt)


@njit(cache=True, inline="always")
def _encode_nearest_general(v, fmt):
    """encode_nearest_value for FormatParams."""
    bits = np.float32(v).view(np.uint32)
    sign = u32.shr(bits, 31)
    mag = u32.and_(bits, _MAG)
    lsb = u32.and_(u32.shr(mag, fmt.drop), 1)
    half = u32.add(u32.sub(u32.shl(1, fmt.drop - 1), 1), lsb)
    normal = u32.shr(u32.add(u32.sub(mag, fmt.rebias), half), fmt.drop)
    sub = u32.add(np.int32(np.rint(np.float32(abs(np.float32(v))) * np.float32(fmt.up))), 0)
    p = sub if mag < np.uint32(fmt.min_normal32) else normal
    return _finish(p, mag, sign, fmt)


@njit(cache=True, inline="always")
def _decode_general(pattern, fmt):
    """decode_value for FormatParams."""
    p = u32.add(pattern, 0)
    sign = u32.shl(u32.shr(p, fmt.sign_shift), 31)
    pm = u32.and_(p, u32.sub(u32.shl(1, fmt.sign_shift), 1))
    normal = u32.or_(u32.add(u32.shl(pm, fmt.drop), fmt.rebias), sign)
    sub = u32.or_(np.float32(np.float32(np.int32(pm)) * np.float32(fmt.down)).view(np.uint32),
                  sign)
    # subnormal patterns lie below 1 << M; fmt.sub_limit is 0 without a subnormal branch
    out = _pick(pm < np.uint32(fmt.sub_limit), sub, normal)
    is_inf = np.int32(pm == np.uint32(fmt.inf_pattern))
    special = u32.or_(u32.sub(_NAN32, u32.mul(is_inf, _NAN32 - _INF32)), sign)
    out = _pick(pm > np.uint32(fmt.max_pattern), special, out)
    return np.uint32(out).view(np.float32)


@njit(cache=True, inline="always")
def _top_half_finish(q, mag, fmt):
    """Saturate / NaN for a top-half pattern q (uint32, sign included) of the float32 whose
    magnitude bits are ``mag``; returns (pattern, clamped)."""
    sign = u32.and_(q, 0x8000)
    clamped = u32.and_(q, 0x7FFF) > np.uint32(fmt.max_pattern)
    q = _pick(clamped, u32.or_(sign, fmt.max_pattern), q)
    return _pick(mag > _EXP32, u32.or_(sign, fmt.nan_pattern), q), clamped


def encode_stochastic_value(v, r, fmt):
    """Stochastically round float32 v to the format ``fmt`` (kernel constants from ``params``)
    with 32 random bits r (uint32); returns (pattern as uint32, clamped: whether |v| was above
    the largest finite value). Numba only."""
    validate.numba_only("float_formats.encode_stochastic_value")


def encode_nearest_value(v, fmt):
    """Round float32 v to the nearest value of ``fmt``, ties to even; returns (pattern as
    uint32, clamped). Numba only."""
    validate.numba_only("float_formats.encode_nearest_value")


def decode_value(pattern, fmt):
    """The float32 value of the bit pattern ``pattern`` (uint8/uint16/uint32) of ``fmt``. Numba
    only."""
    validate.numba_only("float_formats.decode_value")


def is_top_half(fmt):
    """Whether the Numba type ``fmt`` is ``TopHalfParams``' (bf16's kernel constants)."""
    return isinstance(fmt, types.BaseNamedTuple) and fmt.instance_class is TopHalfParams


@overload(encode_stochastic_value, inline="always")
def _encode_stochastic_impl(v, r, fmt):
    if not is_top_half(fmt):
        return lambda v, r, fmt: _encode_stochastic_general(v, r, fmt)

    def top_half(v, r, fmt):
        bits = np.float32(v).view(np.uint32)
        q = u32.shr(u32.add(bits, u32.shr(r, 16)), 16)
        return _top_half_finish(q, u32.and_(bits, _MAG), fmt)
    return top_half


@overload(encode_nearest_value, inline="always")
def _encode_nearest_impl(v, fmt):
    if not is_top_half(fmt):
        return lambda v, fmt: _encode_nearest_general(v, fmt)

    def top_half(v, fmt):   # stochastic rounding with 0x7FFF + lsb as the added 16 bits
        half = u32.add(0x7FFF, u32.and_(u32.shr(np.float32(v).view(np.uint32), 16), 1))
        return encode_stochastic_value(v, u32.shl(half, 16), fmt)
    return top_half


@overload(decode_value, inline="always")
def _decode_impl(pattern, fmt):
    if not is_top_half(fmt):
        return lambda pattern, fmt: _decode_general(pattern, fmt)
    return lambda pattern, fmt: np.uint32(u32.shl(pattern, 16)).view(np.float32)


def data_value(x, fmt):
    """A data entry as float32: integers (fixed-point data) convert directly, unsigned patterns
    (a float format's data copy) are decoded with ``fmt``. Numba only."""
    validate.numba_only("float_formats.data_value")


@overload(data_value, inline="always")
def _data_value_impl(x, fmt):
    if isinstance(x, types.Integer) and not x.signed:
        return lambda x, fmt: decode_value(x, fmt)
    return lambda x, fmt: np.float32(x)


def data_row(X, i, fmt, decoded):
    """Row i of the data X as a vector of numbers: X[i] itself for float or fixed-point (int)
    data, and for a float format's patterns (unsigned) the row decoded into ``decoded`` (a float
    array of length d), which is returned. Numba only."""
    validate.numba_only("float_formats.data_row")


@overload(data_row, inline="always")
def _data_row_impl(X, i, fmt, decoded):
    if isinstance(X.dtype, types.Integer) and not X.dtype.signed:
        def decode_row(X, i, fmt, decoded):
            for j in range(X.shape[1]):
                decoded[j] = decode_value(X[i, j], fmt)
            return decoded
        return decode_row
    return lambda X, i, fmt, decoded: X[i]


@njit(cache=True)
def _encode_array(x, fmt, key, stochastic, out):
    """out[j] = the pattern of x[j] (flat float32/float64 arrays), rounded to nearest or
    stochastically with random_bits.lane_hash(key, j); returns the number of clamped entries."""
    clamped = 0
    for j in range(x.shape[0]):
        v = np.float32(x[j])
        if stochastic:
            p, c = encode_stochastic_value(v, random_bits.lane_hash(key, j), fmt)
        else:
            p, c = encode_nearest_value(v, fmt)
        out[j] = p
        clamped += c
    return clamped


@njit(cache=True)
def _decode_array(p, fmt, out):
    for j in range(p.shape[0]):
        out[j] = decode_value(p[j], fmt)


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
    rounding = validate.choice(rounding, "rounding", ("nearest", "stochastic"))
    x = validate.real_array(x, "x", ndim=None, empty=True)
    validate.finite(x, "x")
    with np.errstate(over="ignore"):   # beyond float32: inf, which saturates like any large value
        flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    out = np.empty(flat.shape, dtype=storage_dtype(name))
    key = random_bits.seed_key(seed)
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
