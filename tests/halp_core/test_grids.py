"""halp_core.grids: one coordinate's stochastic step on either grid against its NumPy twin, bit for
bit: a fixed-point grid (k + floor(u - m), u = lane_uniform, clamped to the b-bit range) and a
float format (k - m rounded with the 32 bits lane_hash, tests/reference.py's
round_format_stochastic); and unbiased inside each grid over many counters."""

import numpy as np
import pytest
from numba import njit

import reference as ref
from halp_core import fixed_point, float_formats, grids, random_bits, registry

KEY = np.uint64(ref.step_key(random_bits.seed_key(5), 7))


@njit
def _steps(kf, shrink, gradient, vg, key, spec):
    """grids.step of coordinate j (counter j) for every j: (stored, value, clamped) arrays."""
    m = kf.shape[0]
    stored, values = np.empty(m, np.int64), np.empty(m, np.float32)
    clamped = np.empty(m, np.bool_)
    for j in range(m):
        q, v, c = grids.step(kf[j], shrink, gradient[j], vg[j], key, j, spec)
        stored[j], values[j], clamped[j] = q, v, c
    return stored, values, clamped


def _inputs(rng, m, kf, spread):
    """float32 (kf, gradient, vg) arrays: kf the given current values, the moves of size spread."""
    gradient = (rng.standard_normal(m) * spread).astype(np.float32)
    vg = (rng.standard_normal(m) * spread / 4).astype(np.float32)
    return kf.astype(np.float32), gradient, vg


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
def test_fixed_point_step_is_the_twin(bits):
    rng = np.random.default_rng(bits)
    lo, hi = fixed_point.grid_limits(bits)
    m = 20_000
    kf, gradient, vg = _inputs(rng, m, rng.integers(lo, hi + 1, m), spread=0.2 * 2 ** bits)
    shrink = np.float32(0.01)
    stored, values, clamped = _steps(kf, shrink, gradient, vg, KEY,
                                     fixed_point.rounding_bounds(bits, np.float32))
    move = shrink * kf + gradient + vg                       # float32, the kernel's order
    u = ref.lane_uniform(KEY, np.arange(m)).astype(np.float32)
    q = kf + np.floor(u - move)
    want = np.clip(q, lo, hi)
    assert np.array_equal(stored, want) and np.array_equal(values, want.astype(np.float32))
    assert np.array_equal(clamped, q != want)
    assert 0 < clamped.sum() < m   # the case covers both


@pytest.mark.parametrize("name", sorted(registry.FORMATS))
def test_float_format_step_is_the_twin(name):
    entry = registry.format_spec(name)
    dtype = ref.format_dtype(name)
    largest = float_formats.max_finite(name)
    rng = np.random.default_rng(len(name))
    m = 20_000
    magnitudes = 10.0 ** rng.uniform(-3, np.log10(largest) + 0.3, m)
    start = float_formats.decode(float_formats.encode(np.clip(magnitudes * rng.choice([-1, 1], m),
                                                              -largest, largest), name)[0], name)
    kf, gradient, vg = _inputs(rng, m, start, spread=1.0)
    gradient *= np.abs(kf) / 4
    shrink = np.float32(0.01)
    stored, values, clamped = _steps(kf, shrink, gradient, vg, KEY, float_formats.params(name))
    target = (kf - (shrink * kf + gradient + vg)).astype(np.float32)
    bits = ref.lane_hash(KEY, np.arange(m)).astype(np.uint32)
    want = ref.round_format_stochastic(target, bits, dtype, entry.mantissa_bits, entry.bias)
    assert np.array_equal(values.astype(np.float64), want)
    patterns = stored.astype(float_formats.storage_dtype(name))
    assert np.array_equal(patterns.astype(np.int64), stored)       # a pattern of the format
    assert np.array_equal(float_formats.decode(patterns, name), want)
    grid = ref.format_values(dtype)
    a = np.abs(target.astype(np.float64))
    assert not (clamped & (a <= largest)).any()                    # only beyond the largest value
    assert clamped[a >= 2 * grid[-1] - grid[-2]].all()            # and certain one step beyond
    assert clamped.sum() > 0


@pytest.mark.parametrize("spec", ["fixed-8", "fixed-16", *sorted(registry.FORMATS)])
def test_step_is_unbiased_inside_the_grid(spec):
    """2^18 counters step the same coordinate by the same move: the values average to kf - m within
    4 standard errors, and only the two neighbours of kf - m occur."""
    m = 2**18
    if spec.startswith("fixed"):
        grid_spec = fixed_point.rounding_bounds(int(spec[6:]), np.float32)
        kf, move = 5.0, 0.3141
    else:
        grid_spec = float_formats.params(spec)
        kf = float(float_formats.decode(float_formats.encode([1.5], spec)[0], spec)[0])
        move = 0.3141 * kf / 4
    ones = np.ones(m, np.float32)
    _, values, clamped = _steps(ones * np.float32(kf), np.float32(0), ones * np.float32(move),
                                ones * np.float32(0), KEY, grid_spec)
    target = float(np.float32(kf) - np.float32(move))
    spread = values.astype(np.float64).std()
    assert not clamped.any() and np.unique(values).size == 2
    assert abs(values.astype(np.float64).mean() - target) <= 4 * spread / np.sqrt(m)
