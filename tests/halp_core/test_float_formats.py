"""halp_core.float_formats: every format's bit patterns against ml_dtypes (decode of every
pattern, round to nearest), its stochastic rounding against the NumPy twin (tests/reference.py)
and unbiased over 1e6 roundings on normal, subnormal and near-overflow values, saturation and NaN.
(The epoch kernels with a float-format iterate: solvers/test_float_grid.py; data in a format:
test_problems.py; the formats' registry entries: test_registry.py.)"""

import ml_dtypes
import numpy as np
import pytest
from numba import njit

import reference as ref
from halp_core import float_formats, registry

FORMATS = tuple(registry.FORMATS)


def _dtype(name):
    """The format's independent definition: its ml_dtypes (or NumPy) dtype."""
    reference = registry.format_spec(name).reference
    return np.dtype(getattr(ml_dtypes, reference, None) or reference)


@njit
def _round_many(v, r, fmt):
    out = np.empty(v.shape[0], dtype=np.uint32)
    clamped = 0
    for j in range(v.shape[0]):
        p, c = float_formats.encode_stochastic_value(v[j], r[j], fmt)
        out[j] = p
        clamped += c
    return out, clamped


def _round(name, v, r, general=False):
    """Stochastic rounding of float32 values v with random bits r (uint32), as values."""
    patterns, clamped = _round_many(v, r, float_formats.params(name, general=general))
    return float_formats.decode(patterns.astype(float_formats.storage_dtype(name)), name), clamped


@pytest.mark.parametrize("name", FORMATS)
def test_decode_matches_ml_dtypes_on_every_pattern(name):
    dtype = _dtype(name)
    width = dtype.itemsize * 8
    patterns = np.arange(2 ** width, dtype=np.uint64).astype(f"u{width // 8}")
    with np.errstate(invalid="ignore"):
        want = patterns.view(dtype).astype(np.float64)
        got = float_formats.decode(patterns, name)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), patterns[~same][:5]
    assert float_formats.max_finite(name) == float(ml_dtypes.finfo(dtype).max)
    assert float_formats.storage_dtype(name).itemsize == dtype.itemsize


@pytest.mark.parametrize("name", FORMATS)
def test_round_to_nearest_matches_ml_dtypes(name):
    dtype = _dtype(name)
    rng = np.random.default_rng(1)
    largest = float_formats.max_finite(name)
    grid = ref.format_values(dtype)
    midpoints = (grid[1:] + grid[:-1]) / 2          # ties: round half to even
    x = np.concatenate([rng.standard_normal(200_000) * 10.0 ** rng.uniform(-45, 39, 200_000),
                        grid, -grid, midpoints, -midpoints])
    x = x[np.abs(x) <= largest].astype(np.float32)
    patterns, clamped = float_formats.encode(x, name)
    assert clamped == 0
    assert np.array_equal(patterns, x.astype(dtype).view(patterns.dtype))


@pytest.mark.parametrize("name", FORMATS)
def test_stochastic_rounding_matches_the_numpy_twin(name):
    entry = registry.format_spec(name)
    rng = np.random.default_rng(2)
    largest = float_formats.max_finite(name)
    v = (rng.standard_normal(300_000) * 10.0 ** rng.uniform(-45, np.log10(largest), 300_000))
    v = np.concatenate([np.clip(v, -3.4e38, 3.4e38), [min(largest * 1.5, 3.4e38), -3.4e38, 0.0,
                                                      -0.0]]).astype(np.float32)
    r = rng.integers(0, 2 ** 32, v.size, dtype=np.uint64).astype(np.uint32)
    got, clamped = _round(name, v, r)
    want = ref.round_format_stochastic(v, r, _dtype(name), entry.mantissa_bits, entry.bias)
    assert np.array_equal(got, want)
    # clamped: the rounding went above the largest value (certain at one step beyond it)
    grid = ref.format_values(_dtype(name))
    a = np.abs(v.astype(np.float64))
    assert np.sum(a >= 2 * grid[-1] - grid[-2]) <= clamped <= np.sum(a > largest)
    assert clamped >= 2


def test_bf16_short_form_is_the_general_form():
    """bf16's own kernels (a 16-bit shift; 16 random bits added to the float32 pattern) give the
    general kernels' patterns bit for bit, NaN and saturation included."""
    rng = np.random.default_rng(3)
    v = (rng.standard_normal(500_000) * 10.0 ** rng.uniform(-45, 38, 500_000)).astype(np.float32)
    v[:4] = [np.inf, -np.inf, np.nan, 3.4e38]
    r = rng.integers(0, 2 ** 32, v.size, dtype=np.uint64).astype(np.uint32)
    short, c1 = _round("bf16", v, r)
    general, c2 = _round("bf16", v, r, general=True)
    assert np.array_equal(short, general, equal_nan=True) and c1 == c2 >= 3
    assert isinstance(float_formats.params("bf16"), float_formats.TopHalfParams)


def _unbiased_cases(name):
    """(label, value) to round: normal on and off the grid, either sign, subnormal, near the
    largest finite value."""
    grid = ref.format_values(_dtype(name))
    tiny = grid[1]                           # the smallest subnormal
    return [("normal", 1.3), ("negative", -0.7071), ("on grid", float(grid[-40])),
            ("subnormal", 2.6 * tiny), ("negative subnormal", -0.3 * tiny),
            ("near overflow", float(0.6 * grid[-2] + 0.4 * grid[-1]))]


@pytest.mark.parametrize("name", FORMATS)
def test_stochastic_rounding_is_unbiased(name):
    """A million roundings of one value average to it within 3 standard errors (the standard
    error of the two neighbours' Bernoulli mix), for every kind of value."""
    m = 1_000_000
    for case, value in _unbiased_cases(name):
        x = np.full(m, value)
        patterns, clamped = float_formats.encode(x, name, rounding="stochastic", seed=11)
        got = float_formats.decode(patterns, name)
        assert clamped == 0
        v32 = float(np.float32(value))
        spread = got.std()
        if spread == 0:                       # on the grid: never moves
            assert np.all(got == v32), case
            continue
        assert abs(got.mean() - v32) <= 3 * spread / np.sqrt(m), (case, got.mean(), v32)
        assert np.unique(got).size == 2, case   # only the two neighbours


@pytest.mark.parametrize("name", FORMATS)
def test_saturation_and_nan(name):
    largest = float_formats.max_finite(name)
    x = np.array([largest * 3, -largest * 3, 1e300, largest])
    for rounding in ("nearest", "stochastic"):
        patterns, clamped = float_formats.encode(x, name, rounding=rounding)
        values = float_formats.decode(patterns, name)
        assert np.array_equal(values, [largest, -largest, largest, largest]) and clamped == 3
    nan, _ = _round(name, np.array([np.nan], np.float32), np.zeros(1, np.uint32))
    assert np.isnan(nan).all()


def test_encode_refuses_bad_input():
    with pytest.raises(ValueError, match="unknown format 'fp4'"):
        float_formats.encode([1.0], "fp4")
    with pytest.raises(ValueError, match="NaN"):
        float_formats.encode([np.nan], "bf16")
    with pytest.raises(ValueError, match="rounding"):
        float_formats.encode([1.0], "bf16", rounding="up")
    with pytest.raises(TypeError, match="uint16"):
        float_formats.decode(np.zeros(3, np.uint8), "bf16")
