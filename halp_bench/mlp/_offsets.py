"""The MLP's low-precision offsets K, read and stored inside the Numba kernels of
``halp_bench.mlp`` (``_lp_layer``), for either number format:

* fixed point: K holds b-bit integers (int8 / int16); ``spec`` is the (lo, hi) float32 bounds of
  ``fixed_point.make_rounding``; a store rounds k - move stochastically with the uniform
  ``fixed_point._lane_uniform(key, counter)`` (``fixed_point._round_offset``, clamped to the
  bounds);
* a float format (halp_bench.mlp.lowfloat): K holds its bit patterns (uint16 / uint8); ``spec``
  is its ``float_formats.params(name)`` (a NamedTuple); a store rounds k - move stochastically
  with the 32 random bits ``fixed_point._lane_hash(key, counter)``
  (``float_formats._encode_stochastic``: unbiased, saturating at the largest finite value).

The kernels pick the branch from ``spec``'s type when they are compiled (Numba overloads).
"""

import numpy as np
from numba import types
from numba.extending import overload

from halp_core import fixed_point
from halp_core.float_formats import _decode as decode
from halp_core.float_formats import _encode_stochastic as encode_stochastic


def _is_format(spec):
    """A float format's kernel constants (``float_formats.params``: a NamedTuple) rather than the
    fixed-point bounds (a plain tuple of two floats)."""
    return isinstance(spec, types.BaseNamedTuple)


def offset_value(k, spec):
    """The stored offset entry k as a float32 number of grid units. Numba only."""


@overload(offset_value)
def _offset_value(k, spec):
    if _is_format(spec):
        return lambda k, spec: decode(k, spec)
    return lambda k, spec: np.float32(k)


def store(kf, move, key, counter, spec):
    """Round the target kf - move (float32 grid units; kf the current value) stochastically with
    the random bits of ``counter`` under ``key``; returns (what K stores, its float32 value,
    whether it saturated). Numba only."""


@overload(store)
def _store(kf, move, key, counter, spec):
    if _is_format(spec):
        def to_format(kf, move, key, counter, spec):
            p, clamped = encode_stochastic(kf - move,
                                           np.uint32(fixed_point._lane_hash(key, counter)), spec)
            return p, decode(p, spec), clamped
        return to_format

    def to_integer(kf, move, key, counter, spec):
        u = np.float32(fixed_point._lane_uniform(key, counter))
        k, clamped = fixed_point._round_offset(kf, move, u, spec)
        return np.int32(k), np.float32(k), clamped
    return to_integer
