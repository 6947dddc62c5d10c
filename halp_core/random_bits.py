"""Counter-based random bits of the low-precision solvers and quantizers (docs/design.md
section 3): stateless, so every coordinate of every step has its own bits and a run is
reproducible from its seed alone.

One hash, lowbias32 (x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B;
x ^= x >> 16, all mod 2^32), written once in :func:`lowbias32_in` over the arithmetic it is
given, and instantiated twice: :func:`hash32` for Numba code (halp_core.u32's 32-bit intrinsics,
so loops over coordinates vectorize in 32-bit lanes) and, inside halp_core.int_lanes' LLVM
vector code, over LLVM IR instructions.

Keys: a 32-bit key from the seed (:func:`seed_key`); step t of a run has the key
``step_key(seed key, t)``, an epoch's per-coordinate dithers ``epoch_key(seed key, first step)``.
Under a key, coordinate (counter) j gets ``lane_hash(key, j)`` = lowbias32(key + j * GOLDEN);
``lane_uniform`` turns those bits into u on [0, 1) with 24 bits; the quantizers of
halp_core.fixed_point draw element j's 24 bits from ``uniform_bits(key, j)`` =
lowbias32(key ^ j * GOLDEN) >> 8. tests/reference.py has the NumPy twins.
"""

import numpy as np
from numba import njit

from . import u32, validate

GOLDEN = 0x9E3779B9
"""The counter multiplier (2^32 / golden ratio): spreads consecutive counters over the key space."""
MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
"""lowbias32's two multipliers."""
UNIT24 = 1.0 / (1 << 24)
"""The value of one unit of 24 random bits as a fraction of 1."""


def lowbias32_in(mul, xor_shift):
    """lowbias32 as a function of one 32-bit value, built from ``mul(x, constant)`` (x times the
    constant mod 2^32) and ``xor_shift(x, n)`` (x ^ (x >> n), logical shift) of the caller's
    arithmetic: Numba scalars (:func:`hash32`) or LLVM vector IR (halp_core.int_lanes)."""
    first, second = MULTIPLIERS

    def lowbias32(x):
        x = xor_shift(x, 16)
        x = mul(x, first)
        x = xor_shift(x, 15)
        x = mul(x, second)
        return xor_shift(x, 16)

    return lowbias32


@njit(inline="always")
def _u32_xor_shift(x, n):
    return u32.xor(x, u32.shr(x, n))


hash32 = njit(inline="always")(lowbias32_in(u32.mul, _u32_xor_shift))
hash32.__doc__ = ("lowbias32 of the low 32 bits of an integer (Numba code; uint32). "
                  "See lowbias32_in.")


@njit(cache=True, inline="always")
def step_key(seed_key, step):
    """32-bit key (uint32) of one solver step: mixes the seed's key with the 64-bit step
    counter ``step`` (int >= 0)."""
    s = np.uint64(step)
    return hash32(u32.xor(seed_key, hash32(u32.xor(s, hash32(s >> np.uint64(32))))))


@njit(cache=True, inline="always")
def epoch_key(seed_key, step0):
    """Key (uint32) of the per-epoch dithers of an epoch starting at step ``step0`` (distinct
    from every step key's use)."""
    return hash32(u32.xor(step_key(seed_key, step0), 0x6A09E667))


@njit(cache=True, inline="always")
def lane_hash(key, counter):
    """32 random bits (uint32) for ``counter`` (a coordinate) under a step key:
    lowbias32(key + counter * GOLDEN mod 2^32)."""
    return hash32(u32.add(key, u32.mul(counter, GOLDEN)))


@njit(cache=True, inline="always")
def lane_uniform(key, counter):
    """u on [0, 1) (float64 with 24 random bits, so exact in float32) for ``counter`` under a
    step key."""
    return np.float64(lane_hash(key, counter) >> np.uint32(8)) * UNIT24


@njit(cache=True, inline="always")
def uniform_bits(key, j):
    """24 random bits (uint32 in [0, 2^24)) of element ``j`` under ``key`` (the quantizers'):
    lowbias32(key ^ j * GOLDEN mod 2^32) >> 8."""
    return hash32(u32.xor(key, u32.mul(j, GOLDEN))) >> np.uint32(8)


def seed_key(seed):
    """32-bit key (np.uint64) of an integer seed, 0 <= seed < 2^64 (ValueError otherwise)."""
    seed = validate.integer(seed, "seed", 0, 2**64 - 1)
    low = (seed ^ 0x5BD1E995) & 0xFFFFFFFF
    high = (seed >> 32) & 0xFFFFFFFF
    return np.uint64(int(hash32(low ^ int(hash32(high ^ GOLDEN)))))
