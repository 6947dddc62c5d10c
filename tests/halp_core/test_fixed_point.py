"""halp_core.fixed_point: the Numba quantizers against the NumPy reference, unbiasedness of
stochastic rounding, exact nearest rounding, saturation at both ends of the range, and every
bad argument refused with a message naming it."""

import numpy as np
import pytest
from refusals import fresh_process_refusal_test, ones, read_only, refusal_test
import reference as ref

from halp_core import fixed_point, random_bits


@pytest.mark.parametrize("bits", [2, 4, 8, 12, 16])
def test_nearest_matches_reference(bits):
    rng = np.random.default_rng(bits)
    x = rng.normal(0, 2.0 ** (bits - 1), size=5000)  # some values saturate
    scale = 0.7
    k, sat = fixed_point.quantize(x * scale, bits, scale, rounding="nearest")
    k_ref, sat_ref = ref.quantize_nearest(x * scale, scale, bits)
    np.testing.assert_array_equal(k, k_ref)
    assert sat == sat_ref > 0
    assert k.dtype == (np.int8 if bits <= 8 else np.int16)


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
def test_stochastic_matches_reference_and_is_reproducible(bits):
    rng = np.random.default_rng(100 + bits)
    x = rng.normal(0, 2.0 ** (bits - 2), size=(70, 30))
    k, sat = fixed_point.quantize(x, bits, 1.0, rounding="stochastic", seed=42)
    k_ref, sat_ref = ref.quantize_stochastic(x, 1.0, bits, random_bits.seed_key(42))
    np.testing.assert_array_equal(k, k_ref)
    assert sat == sat_ref
    again, _ = fixed_point.quantize(x, bits, 1.0, rounding="stochastic", seed=42)
    other, _ = fixed_point.quantize(x, bits, 1.0, rounding="stochastic", seed=43)
    np.testing.assert_array_equal(k, again)
    assert (k != other).any()


@pytest.mark.parametrize("bits", [4, 8, 16])
def test_stochastic_rounding_is_unbiased(bits):
    """Mean of many roundings of one value lies within 4 standard errors of the value."""
    lo, hi = fixed_point.grid_limits(bits)
    scale = 0.01
    m = 200_000
    for value in (0.3, -1.71, lo + 0.5, hi - 0.123, 2.0 ** (bits - 2) + 0.77):
        x = np.full(m, value * scale)
        k, sat = fixed_point.quantize(x, bits, scale, rounding="stochastic", seed=7)
        assert sat == 0
        frac = value - np.floor(value)
        se = np.sqrt(frac * (1 - frac) / m)
        assert abs(k.mean() - value) <= 4 * se + 1e-12, (bits, value, k.mean())
        # Only the two neighbouring grid points occur.
        assert set(np.unique(k)) <= {np.floor(value), np.floor(value) + 1}


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_saturation_is_exact_at_both_ends(bits, rounding):
    lo, hi = fixed_point.grid_limits(bits)
    # Past the ends by 0.6 rounds outside the range for sure only with round-to-nearest.
    beyond = [0.6] if rounding == "nearest" else []
    offsets = beyond + [1.0, 1e6]
    x = np.array([lo, hi] + [lo - o for o in offsets] + [hi + o for o in offsets], dtype=float)
    k, sat = fixed_point.quantize(x, bits, 1.0, rounding=rounding, seed=1)
    np.testing.assert_array_equal(k, [lo, hi] + [lo] * len(offsets) + [hi] * len(offsets))
    assert sat == 2 * len(offsets)  # the exact end points are representable; the rest clamp


def test_nearest_rounds_half_up_and_is_exact():
    k, sat = fixed_point.quantize(np.array([0.5, -0.5, 1.49, -1.51, 2.0]), 8, 1.0)
    np.testing.assert_array_equal(k, [1, 0, 1, -2, 2])
    assert sat == 0


@pytest.mark.parametrize("bad", [1, 17, 0, -3])
def test_bits_out_of_range(bad):
    with pytest.raises(ValueError, match="bits must be between 2 and 16"):
        fixed_point.quantize(np.zeros(3), bad, 1.0)


@pytest.mark.parametrize("bits,dtype", [(4, np.float32), (8, np.float64), (12, np.float32),
                                        (16, np.float64)])
def test_public_quantizers_match_reference(bits, dtype):
    """fixed_point.quantize_nearest / quantize_stochastic (the checked public functions) against the
    NumPy twins, float32 and float64 input, into the narrowest storage and into int16."""
    rng = np.random.default_rng(bits)
    x = rng.normal(0, 2.0 ** (bits - 1), size=(40, 25)).astype(dtype)
    for storage in {fixed_point.storage_dtype(bits), np.dtype(np.int16)}:
        out = np.empty(x.shape, dtype=storage)
        sat = fixed_point.quantize_nearest(x, 0.5, bits, out)
        k_ref, sat_ref = ref.quantize_nearest(x.astype(np.float64), 0.5, bits)
        np.testing.assert_array_equal(out, k_ref)
        assert sat == sat_ref > 0 and isinstance(sat, int)
        key = random_bits.seed_key(5)
        sat = fixed_point.quantize_stochastic(x, 0.5, bits, out, key)
        k_ref, sat_ref = ref.quantize_stochastic(x.astype(np.float64), 0.5, bits, key)
        np.testing.assert_array_equal(out, k_ref)
        assert sat == sat_ref
        assert fixed_point.quantize_stochastic(x, 0.5, bits, out, int(key)) == sat  # a plain int key


def test_rounding_arguments():
    key, bounds = fixed_point.make_rounding(3, 8, np.float32)
    assert key == random_bits.seed_key(3)
    assert bounds == (np.float32(-128), np.float32(127))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        fixed_point.make_rounding(3, 8, None)


f64, i8 = np.float64, np.int8


# (id, call, exception, words the message must contain)
FIXED_POINT_CASES = [
    ("quantize-rounding", lambda: fixed_point.quantize(np.zeros(3), 8, 1.0, rounding="down"),
     ValueError, "rounding must be one of"),
    ("quantize-complex", lambda: fixed_point.quantize(np.array([1 + 2j]), 8, 1.0), TypeError,
     "x is complex"),
    ("quantize-strings", lambda: fixed_point.quantize(np.array(["a"]), 8, 1.0), TypeError,
     "x must be a numeric array"),
    ("quantize-seed-none", lambda: fixed_point.quantize(np.zeros(3), 8, 1.0, rounding="stochastic",
                                                        seed=None), TypeError, "seed must be an int"),
    ("quantize-seed-neg", lambda: fixed_point.quantize(np.zeros(3), 8, 1.0, rounding="stochastic",
                                                       seed=-1), ValueError, "seed must be >= 0"),
    ("quantize-seed-float", lambda: fixed_point.quantize(np.zeros(3), 8, 1.0, rounding="stochastic",
                                                         seed=1.5), TypeError, "seed must be an int"),
    ("quantize-bits-bool", lambda: fixed_point.quantize(np.zeros(3), True, 1.0), TypeError,
     "bits must be an int"),
    ("quantize-scale-str", lambda: fixed_point.quantize(np.zeros(3), 8, "1"), TypeError,
     "scale must be a number"),
    ("quantize-x-inf", lambda: fixed_point.quantize(np.array([np.inf]), 8, 1.0), ValueError,
     "x contains NaN or inf"),
    ("quantize-x-nan", lambda: fixed_point.quantize(np.array([1.0, np.nan]), 8, 1.0), ValueError,
     "x contains NaN or inf"),
    ("quantize-bits-float", lambda: fixed_point.quantize(np.zeros(3), 8.0, 1.0), TypeError,
     "bits must be an int"),
    ("quantize-scale-0", lambda: fixed_point.quantize(np.zeros(3), 8, 0.0), ValueError,
     "scale must be a finite number > 0"),
    ("storage-17", lambda: fixed_point.storage_dtype(17), ValueError, "bits must be between"),
    ("storage-none", lambda: fixed_point.storage_dtype(None), TypeError, "bits must be an int"),
    ("grid-1", lambda: fixed_point.grid_limits(1), ValueError, "bits must be between"),
    ("bounds-int8", lambda: fixed_point.rounding_bounds(8, np.int8), TypeError,
     "dtype must be float32 or float64"),
    ("bounds-complex", lambda: fixed_point.rounding_bounds(8, "complex128"), TypeError,
     "dtype must be float32 or float64"),
    ("bounds-nonsense", lambda: fixed_point.rounding_bounds(8, "nonsense"), TypeError,
     "dtype must be float32 or float64"),
    ("rounding-seed-none", lambda: fixed_point.make_rounding(None, 8, np.float32), TypeError,
     "seed must be an int"),
    ("rounding-seed-float", lambda: fixed_point.make_rounding(2.5, 8, np.float32), TypeError,
     "seed must be an int"),
    ("rounding-bits-99", lambda: fixed_point.make_rounding(0, 99, np.float32), ValueError,
     "bits must be between"),
    ("check-bits-str", lambda: fixed_point.check_bits("8"), TypeError, "bits must be an int"),
    ("qn-bits-20", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 20, np.empty(4, i8)),
     ValueError, "bits must be between 2 and 16"),
    ("qn-12-bits-in-int8", lambda: fixed_point.quantize_nearest(ones(4, f64) * 1000, 1.0, 12,
                                                             np.empty(4, i8)),
     ValueError, "12-bit integers need int16 storage"),
    ("qn-scale-0", lambda: fixed_point.quantize_nearest(ones(4, f64), 0.0, 8, np.empty(4, i8)),
     ValueError, "scale must be a finite number > 0"),
    ("qn-scale-neg", lambda: fixed_point.quantize_nearest(ones(4, f64), -1.0, 8, np.empty(4, i8)),
     ValueError, "scale must be"),
    ("qn-scale-nan", lambda: fixed_point.quantize_nearest(ones(4, f64), np.nan, 8, np.empty(4, i8)),
     ValueError, "scale must be"),
    ("qn-scale-inf", lambda: fixed_point.quantize_nearest(ones(4, f64), np.inf, 8, np.empty(4, i8)),
     ValueError, "scale must be"),
    ("qn-scale-subnormal", lambda: fixed_point.quantize_nearest(np.zeros(4), 5e-324, 8,
                                                             np.empty(4, i8)),
     ValueError, "1 / scale overflows"),
    ("qn-x-nan", lambda: fixed_point.quantize_nearest(np.array([1.0, np.nan]), 1.0, 8,
                                                   np.empty(2, i8)), ValueError, "x contains NaN"),
    ("qn-x-inf", lambda: fixed_point.quantize_nearest(np.array([np.inf, 1.0]), 1.0, 8,
                                                   np.empty(2, i8)), ValueError, "x contains NaN or inf"),
    ("qn-out-float", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 8, np.empty(4)),
     TypeError, "out must have dtype int8, int16"),
    ("qn-out-int32", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 8,
                                                      np.empty(4, np.int32)), TypeError, "out must have dtype"),
    ("qn-out-read-only", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 8,
                                                          read_only(np.empty(4, i8))),
     ValueError, "out is read-only"),
    ("qn-x-int", lambda: fixed_point.quantize_nearest(ones(4, np.int64), 1.0, 8, np.empty(4, i8)),
     TypeError, "x must have dtype float32, float64"),
    ("qn-x-strided", lambda: fixed_point.quantize_nearest(ones(8, f64)[::2], 1.0, 8, np.empty(4, i8)),
     ValueError, "x must be C-contiguous"),
    ("qn-bits-1", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 1, np.empty(4, i8)),
     ValueError, "bits must be between 2 and 16"),
    ("qn-bits-float", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, 8.0, np.empty(4, i8)),
     TypeError, "bits must be an int"),
    ("qn-bits-str", lambda: fixed_point.quantize_nearest(ones(4, f64), 1.0, "8", np.empty(4, i8)),
     TypeError, "bits must be an int"),
    ("qn-out-reshaped", lambda: fixed_point.quantize_nearest(ones(10, f64), 1.0, 8,
                                                         np.empty((2, 5), i8)),
     ValueError, "out must have x's shape"),
    ("qn-x-list", lambda: fixed_point.quantize_nearest([1.0, 2.0], 1.0, 8, np.empty(2, i8)), TypeError,
     "x must be a NumPy array"),
    ("qs-key-negative", lambda: fixed_point.quantize_stochastic(ones(4, f64), 1.0, 8, np.empty(4, i8),
                                                            -1), ValueError, "key must be >= 0"),
    ("qs-key-float", lambda: fixed_point.quantize_stochastic(ones(4, f64), 1.0, 8, np.empty(4, i8),
                                                         1.5), TypeError, "key must be an int"),
    ("qs-key-none", lambda: fixed_point.quantize_stochastic(ones(4, f64), 1.0, 8, np.empty(4, i8),
                                                        None), TypeError, "key must be an int"),
    ("qs-key-2**64", lambda: fixed_point.quantize_stochastic(ones(4, f64), 1.0, 8, np.empty(4, i8),
                                                         2**64), ValueError, "key must be <="),
    ("qs-9-bits-in-int8", lambda: fixed_point.quantize_stochastic(ones(4, f64), 1.0, 9,
                                                              np.empty(4, i8), 1),
     ValueError, "9-bit integers need int16"),
    ("qs-x-nan", lambda: fixed_point.quantize_stochastic(np.array([np.nan]), 1.0, 8, np.empty(1, i8), 1),
     ValueError, "x contains NaN"),
]


test_bad_argument_is_refused = refusal_test(FIXED_POINT_CASES)


def test_checked_quantizer_returns_what_its_unchecked_kernel_does():
    """The checked quantizer adds nothing but its checks (and a Python int)."""
    args = (np.linspace(-3, 3, 9), 0.1, 8)
    out, kernel_out = np.empty(9, np.int8), np.empty(9, np.int8)
    assert fixed_point.quantize_nearest(*args, out) == fixed_point.quantize_nearest_kernel(
        *args, kernel_out)
    np.testing.assert_array_equal(out, kernel_out)


ISOLATED_CASES = [
    ("qn-out-too-small", "fixed_point.quantize_nearest(np.full(100_000, 3.0), 1.0, 8, np.empty(1, np.int8))",
     "ValueError: out must have x's shape"),
    ("qs-out-too-small", "fixed_point.quantize_stochastic(np.full(100_000, 3.0), 1.0, 8, "
                         "np.empty(1, np.int8), 1)", "ValueError: out must have x's shape"),
]


test_memory_unsafe_call_is_refused = fresh_process_refusal_test(ISOLATED_CASES, "fixed_point")
