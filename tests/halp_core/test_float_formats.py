"""halp_core.float_formats: every format's bit patterns against ml_dtypes (decode of every
pattern, round to nearest), its stochastic rounding against the NumPy twin (tests/reference.py)
and unbiased over 1e6 roundings on normal, subnormal and near-overflow values, saturation, NaN,
and the solver kernels with a float-format iterate against their twin."""

import ml_dtypes
import numpy as np
import pytest
from numba import njit

import reference as ref
from halp_core import datasets, float_formats, make_solver, random_bits, registry, solve
from halp_core.solvers.full_gradient import full_grad_linear

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


def test_register_format_checks_the_layout():
    spec = registry.FormatSpec("fp12", "twelve", 5, 6, 15, 0x7BF, 0x7C0, 0x7E0, "float16")
    with pytest.raises(ValueError, match="must be 8 or 16"):
        registry.register_format(spec)
    with pytest.raises(ValueError, match="registered already"):
        registry.register_format(registry.format_spec("bf16"))


@pytest.mark.parametrize("name,data", [("bf16", "bf16"), ("fp8-e4m3", 8), ("fp16", "fp16"),
                                       ("fp8-e5m2", "fp8-e5m2")])
def test_lp_epoch_with_a_float_format_matches_the_twin(name, data):
    """The kernel's iterate after an epoch equals the NumPy twin's (float32 arithmetic may order
    one operation differently: then a coordinate lands on the neighbouring value, rarely)."""
    prob = datasets.synthetic_least_squares(60, 37, lam=1e-2, noise=0.1, seed=4, data_bits=data)
    run = make_solver(prob, "lp-svrg", precision=name, step=0.4 / prob.L_max, seed=5)
    run._begin_epoch()
    idx = np.random.default_rng(6).integers(0, prob.n, 150).astype(np.int64)
    k0 = float_formats.decode(run._k, name)
    entry = registry.format_spec(name)
    dtype = _dtype(name)

    def round_format(v, r):
        return ref.round_format_stochastic(v, r, dtype, entry.mantissa_bits, entry.bias)

    x_values = (float_formats.decode(prob.Xq, data) if isinstance(data, str)
                else prob.Xq.astype(np.float64))
    want, want_sat = ref.lpf_epoch_linear(x_values, prob.x_scale, prob.y, k0, run.scale, run._a,
                                          run._r, run._vg, prob.lam, run.step, idx, run.kind,
                                          run._rounding, run._step_count, round_format)
    sat = run._inner(idx)
    got = float_formats.decode(run._k, name)
    assert np.mean(got == want) >= 0.99
    grid = ref.format_values(dtype)
    steps = np.abs(np.searchsorted(grid, np.abs(got)) - np.searchsorted(grid, np.abs(want)))
    assert steps.max() <= 1 and abs(sat - want_sat) <= 2


def test_formats_are_registered_once_and_solvers_take_them():
    assert set(FORMATS) == {"bf16", "fp16", "fp8-e4m3", "fp8-e5m2"}
    for solver in registry.names("low"):
        assert set(FORMATS) <= set(registry.precisions(solver))
    for solver in registry.names("full"):
        assert not set(FORMATS) & set(registry.precisions(solver))
    prob = datasets.synthetic_least_squares(40, 5, lam=1e-2, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="float format .*'bf16'"):
        solve(prob, "halp", precision="bf17", step=0.1, epochs=1)
    with pytest.raises(ValueError, match="fp64' or 'fp32'"):
        solve(prob, "svrg", precision="bf16", step=0.1, epochs=1)


def test_fixed_point_solvers_refuse_float_format_data():
    prob = datasets.synthetic_least_squares(40, 5, lam=1e-2, noise=0.1, seed=0, data_bits="bf16")
    with pytest.raises(ValueError, match="carries bf16 data"):
        make_solver(prob, "halp", precision=8, step=0.1)
