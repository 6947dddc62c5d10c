"""halp_core.kernels: the checked public kernels (dot, axpy, read_words, the quantizers) against
their NumPy twins (tests/reference.py) on random inputs, and every bad argument refused with a
message naming it; calls that would read or write out of bounds without their checks run in a
subprocess, so a crash fails that case instead of the whole session."""

import numba
import numpy as np
import pytest
from refusals import fresh_process_refusal_test, ones, read_only, refusal_test
import reference as ref

from halp_core import kernels


@pytest.mark.parametrize("da,db", [(np.int8, np.int8), (np.int8, np.int16), (np.int16, np.int8),
                                   (np.int16, np.int16)])
@pytest.mark.parametrize("n", [1, 37, 1000, 300_001])
def test_integer_dot_is_exact(da, db, n):
    rng = np.random.default_rng(n)
    a = rng.integers(np.iinfo(da).min, np.iinfo(da).max + 1, n).astype(da)
    b = rng.integers(np.iinfo(db).min, np.iinfo(db).max + 1, n).astype(db)
    assert kernels.dot(a, b) == int(a.astype(np.int64) @ b.astype(np.int64))


@pytest.mark.parametrize("db", [np.int8, np.int16])
def test_integer_dot_does_not_overflow_at_the_extremes(db):
    """All products at their largest over more terms than one int32 block holds."""
    a = np.full(400_000, -128, dtype=np.int8)
    b = np.full(400_000, np.iinfo(db).min, dtype=db)
    assert kernels.dot(a, b) == 400_000 * 128 * -int(np.iinfo(db).min)


def test_read_words_wraps_like_numpy():
    words = np.random.default_rng(4).integers(0, 2**64, 10_003, dtype=np.uint64)
    assert kernels.read_words(words) == ref.read_words(words)
    assert kernels.read_words(np.full(3, 2**63, dtype=np.uint64)) == np.uint64(2**63)


def test_prefetch_changes_nothing():
    X = np.arange(5 * 300, dtype=np.float32).reshape(5, 300)

    @numba.njit
    def prefetched_row_sum(X, i):
        kernels.prefetch_row(X, i)
        return X[i].sum()

    assert prefetched_row_sum(X, 3) == X[3].sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dot_and_axpy(dtype):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(10_001).astype(dtype), rng.standard_normal(10_001).astype(dtype)
    result = kernels.dot(a, b)
    signature = [sig for sig in kernels.dot_kernel.nopython_signatures if sig.args[0].dtype.name == np.dtype(dtype).name]
    assert signature[0].return_type.name == np.dtype(dtype).name  # no silent float64 promotion
    np.testing.assert_allclose(result, a.astype(float) @ b.astype(float),
                               rtol=1e-4 if dtype == np.float32 else 1e-12)
    y = b.copy()
    kernels.axpy(0.5, a, y)
    np.testing.assert_allclose(y, b + dtype(0.5) * a, rtol=1e-6)


@pytest.mark.parametrize("public,private,args", [
    ("dot", "dot_kernel", lambda: (np.ones(5, np.int8), np.ones(5, np.int16))),
    ("read_words", "read_words_kernel", lambda: (np.arange(7, dtype=np.uint64),)),
])
def test_checked_kernel_returns_what_its_unchecked_kernel_does(public, private, args):
    """The checked public functions add nothing but their checks (and Python ints)."""
    assert getattr(kernels, public)(*args()) == getattr(kernels, private)(*args())


# ---- bad arguments ---------------------------------------------------------------------------

f32, f64, i8 = np.float32, np.float64, np.int8


# (id, call, exception, words the message must contain)
# (id, call, exception, words the message must contain)
KERNEL_CASES = [
    ("dot-list", lambda: kernels.dot([1.0, 2.0], [1.0, 2.0]), TypeError, "a must be a NumPy array"),
    ("dot-2d", lambda: kernels.dot(np.ones((2, 2)), np.ones((2, 2))), ValueError, "a must be 1-D"),
    ("dot-f32-f64", lambda: kernels.dot(ones(3, f32), ones(3, f64)), TypeError, "one float dtype"),
    ("dot-int8-f64", lambda: kernels.dot(ones(3, i8), ones(3, f64)), TypeError, "one float dtype"),
    ("dot-int32", lambda: kernels.dot(ones(3, np.int32), ones(3, np.int32)), TypeError,
     "a must have dtype"),
    ("dot-int64", lambda: kernels.dot(ones(3, np.int64), ones(3, i8)), TypeError, "a must have dtype"),
    ("dot-uint8", lambda: kernels.dot(ones(3, i8), ones(3, np.uint8)), TypeError, "b must have dtype"),
    ("dot-bool", lambda: kernels.dot(ones(3, bool), ones(3, bool)), TypeError, "a must have dtype"),
    ("dot-complex", lambda: kernels.dot(ones(3, complex), ones(3, complex)), TypeError,
     "a must have dtype"),
    ("dot-strided", lambda: kernels.dot(ones(6, f64)[::2], ones(3, f64)), ValueError,
     "a must be C-contiguous"),
    ("dot-none", lambda: kernels.dot(None, ones(3, f64)), TypeError, "a must be a NumPy array"),
    ("dot-scalar", lambda: kernels.dot(np.float64(1), np.float64(1)), TypeError,
     "a must be a NumPy array"),
    ("axpy-dtypes", lambda: kernels.axpy(1.0, ones(3, f32), ones(3, f64)), TypeError,
     "x and y must have one dtype"),
    ("axpy-read-only", lambda: kernels.axpy(1.0, ones(3, f64), read_only(ones(3, f64))),
     ValueError, "y is read-only"),
    ("axpy-int-y", lambda: kernels.axpy(1.0, ones(3, f64), ones(3, np.int64)), TypeError,
     "y must have dtype"),
    ("axpy-alpha-nan", lambda: kernels.axpy(np.nan, ones(3, f64), ones(3, f64)), ValueError,
     "alpha must be a finite number"),
    ("axpy-alpha-str", lambda: kernels.axpy("1", ones(3, f64), ones(3, f64)), TypeError,
     "alpha must be a number"),
    ("axpy-alpha-none", lambda: kernels.axpy(None, ones(3, f64), ones(3, f64)), TypeError,
     "alpha must be a number"),
    ("axpy-alpha-complex", lambda: kernels.axpy(1j, ones(3, f64), ones(3, f64)), TypeError,
     "alpha must be a number"),
    ("axpy-2d", lambda: kernels.axpy(1.0, np.ones((2, 2)), np.ones((2, 2))), ValueError,
     "x must be 1-D"),
    ("axpy-strided-y", lambda: kernels.axpy(1.0, ones(3, f64), ones(6, f64)[::2]), ValueError,
     "y must be C-contiguous"),
    ("read-int64", lambda: kernels.read_words(ones(4, np.int64)), TypeError,
     "words must have dtype uint64"),
    ("read-float", lambda: kernels.read_words(ones(4, f64)), TypeError, "words must have dtype"),
    ("read-2d", lambda: kernels.read_words(np.ones((2, 2), np.uint64)), ValueError,
     "words must be 1-D"),
    ("read-list", lambda: kernels.read_words([1, 2]), TypeError, "words must be a NumPy array"),
    ("read-strided", lambda: kernels.read_words(ones(8, np.uint64)[::2]), ValueError,
     "C-contiguous"),
]


test_bad_argument_is_refused = refusal_test(KERNEL_CASES)


ISOLATED_CASES = [
    ("dot-lengths", "kernels.dot(np.ones(10, np.int8), np.ones(1_000_000, np.int8)[:1].copy())",
     "ValueError: a and b must have one length"),
    ("dot-float-lengths", "kernels.dot(np.ones(100_000), np.ones(3))",
     "ValueError: a and b must have one length"),
    ("axpy-lengths", "kernels.axpy(1.0, np.ones(3), np.ones(100_000))",
     "ValueError: x and y must have one length"),
    ("axpy-short-x", "kernels.axpy(1.0, np.ones(100_000), np.ones(3))",
     "ValueError: x and y must have one length"),
]


test_memory_unsafe_call_is_refused = fresh_process_refusal_test(ISOLATED_CASES, "kernels")
