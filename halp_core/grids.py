"""The two grids a low-precision iterate lives on, and the one stochastic step of a coordinate
on either (docs/design.md sections 3 and 4). Numba code only: every low-precision kernel, the
solvers' (halp_core.solvers) and the networks' (halp_bench.mlp), steps its coordinates here.

A grid ``spec`` is either
* fixed point: the (lo, hi) float32 ends of a b-bit grid (``fixed_point.make_rounding``'s
  bounds); the stored entry k is an int8 / int16 integer, its value k grid units;
* a float format: its kernel constants ``float_formats.params(name)`` (a NamedTuple); the
  stored entry is the format's uint16 / uint8 bit pattern.

``step`` is the low-precision update of one coordinate in grid units (units of the scale s):
    k <- Q(k - m),  m = shrink k + gradient + vg
(shrink = a lam, gradient the step's data term, vg the epoch's (a / s) v), with Q stochastic
rounding that draws the coordinate's own random bits from ``counter`` under the step key:
fixed point rounds k + floor(u - m) (``fixed_point.round_offset``, u = lane_uniform(key,
counter): the float error stays relative to the move, not to |k|), a float format rounds k - m
with the 32 bits lane_hash(key, counter) (``float_formats.encode_stochastic_value``). Both are
unbiased inside the grid and saturate at its ends, reporting it.
"""

import numpy as np
from numba import types
from numba.extending import overload

from . import validate
from .fixed_point import round_offset
from .float_formats import decode_value, encode_stochastic_value
from .random_bits import lane_hash, lane_uniform


def is_float_format(spec):
    """Whether the Numba type of a grid ``spec`` is a float format's kernel constants (a
    NamedTuple) rather than fixed-point bounds."""
    return isinstance(spec, types.BaseNamedTuple)


def value(k, spec):
    """The stored entry k as a float32 number of grid units. Numba only: compiled from
    ``_value_impl``."""
    validate.numba_only("grids.value")


@overload(value, inline="always")
def _value_impl(k, spec):
    if is_float_format(spec):
        return lambda k, spec: decode_value(k, spec)
    return lambda k, spec: np.float32(k)


def step(kf, shrink, gradient, vg, key, counter, spec):
    """One coordinate's step k <- Q(kf - (shrink kf + gradient + vg)) (float32 grid units; kf
    the current value, see the module docstring) with the random bits of ``counter`` under the
    step key ``key``. Returns (what the iterate stores: an int32 integer or a uint32 pattern,
    its float32 value, whether it saturated). Numba only: compiled from ``_step_impl``."""
    validate.numba_only("grids.step")


@overload(step, inline="always")
def _step_impl(kf, shrink, gradient, vg, key, counter, spec):
    if is_float_format(spec):
        def to_format(kf, shrink, gradient, vg, key, counter, spec):
            p, clamped = encode_stochastic_value(kf - (shrink * kf + gradient + vg),
                                                 lane_hash(key, counter), spec)
            return p, decode_value(p, spec), clamped
        return to_format

    def to_integer(kf, shrink, gradient, vg, key, counter, spec):
        q, clamped = round_offset(kf, shrink * kf + gradient + vg,
                                  np.float32(lane_uniform(key, counter)), spec)
        return np.int32(q), np.float32(q), clamped
    return to_integer
