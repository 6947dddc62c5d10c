"""Every Numba kernel against its plain NumPy reference (tests/reference.py) on random inputs."""

import numba
import numpy as np
import pytest
import reference as ref

from halp_core import fixed_point, kernels, random_bits
from halp_core.solvers.fixed_grid import lp_epoch_linear, lp_epoch_multinomial
from halp_core.solvers.full_gradient import full_grad_linear, full_grad_multinomial
from halp_core.solvers.full_precision import fp_epoch_linear, fp_epoch_multinomial

INT_DTYPES = [np.int8, np.int16]


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
    ("quantize_nearest", "quantize_nearest_kernel", lambda: (np.linspace(-3, 3, 9), 0.1, 8,
                                                        np.empty(9, np.int8))),
])
def test_checked_kernel_returns_what_its_unchecked_kernel_does(public, private, args):
    """The checked public functions add nothing but their checks (and Python ints)."""
    assert getattr(kernels, public)(*args()) == getattr(kernels, private)(*args())


def test_public_kernels_refuse_what_would_read_or_write_out_of_bounds():
    """Unequal lengths and too-small outputs are refused before the kernel runs (the kernels
    themselves do not check: tests/halp_core/test_adversarial_core.py runs them unchecked in subprocesses)."""
    y = np.zeros(3)
    with pytest.raises(ValueError, match="x and y must have one length"):
        kernels.axpy(1.0, np.ones(4), y)
    assert not y.any()
    with pytest.raises(ValueError, match="a and b must have one length"):
        kernels.dot(np.ones(3, np.int8), np.ones(4, np.int8))
    with pytest.raises(ValueError, match="out must have x's shape"):
        kernels.quantize_nearest(np.ones(5), 1.0, 8, np.empty(4, np.int8))


TWO_THREADS = pytest.param(2, marks=pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here (NUMBA_NUM_THREADS)"))


@pytest.mark.parametrize("blocks", [1, TWO_THREADS])
@pytest.mark.parametrize("kind", [0, 1])
@pytest.mark.parametrize("data", ["float64", "float32", "int8", "int16"])
def test_full_grad_linear(kind, data, blocks):
    rng = np.random.default_rng(5)
    n, d = 300, 40
    if data.startswith("int"):
        X = rng.integers(-100, 100, (n, d)).astype(data)
        x_scale = 0.01
    else:
        X = rng.standard_normal((n, d)).astype(data)
        x_scale = 1.0
    y = rng.standard_normal(n) if kind == 0 else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    wdtype = np.float32 if data == "float32" else np.float64
    w = rng.standard_normal(d).astype(wdtype)
    a, r, g = np.zeros(n), np.zeros(n), np.zeros(d, dtype=wdtype)
    full_grad_linear(X, x_scale, y, w, 0.1, kind, a, r, g, blocks=blocks)
    a_ref, r_ref, g_ref = ref.full_grad_linear(X, x_scale, y, w.astype(float), 0.1, kind)
    tol = 1e-4 if data == "float32" else 1e-10
    np.testing.assert_allclose(a, a_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(r, r_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(g, g_ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("blocks", [1, TWO_THREADS])
@pytest.mark.parametrize("data", ["float64", "float32", "int8"])
def test_full_grad_multinomial(data, blocks):
    rng = np.random.default_rng(6)
    n, d, C = 200, 30, 4
    X = (rng.integers(-100, 100, (n, d)) if data == "int8" else rng.standard_normal((n, d)))
    X = X.astype(data)
    x_scale = 0.02 if data == "int8" else 1.0
    labels = rng.integers(0, C, n)
    wdtype = np.float32 if data == "float32" else np.float64
    W = rng.standard_normal((d, C)).astype(wdtype)
    A, R, G = np.zeros((n, C)), np.zeros((n, C)), np.zeros((d, C), dtype=wdtype)
    full_grad_multinomial(X, x_scale, labels, W, 0.1, A, R, G, blocks=blocks)
    A_ref, R_ref, G_ref = ref.full_grad_multinomial(X, x_scale, labels, W.astype(float), 0.1)
    tol = 1e-4 if data == "float32" else 1e-10
    for got, want in ((A, A_ref), (R, R_ref), (G, G_ref)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", [0, 1, "multinomial"])
@pytest.mark.parametrize("variance_reduced", [False, True])
def test_fp_epoch(dtype, kind, variance_reduced):
    """One SGD (r = v = 0) or SVRG epoch on a fixed index sequence."""
    rng = np.random.default_rng(7)
    n, d, C = 150, 12, 3
    X = (rng.standard_normal((n, d)) / 3).astype(dtype)
    shape = (d, C) if kind == "multinomial" else (d,)
    rshape = (n, C) if kind == "multinomial" else (n,)
    if kind == "multinomial":
        y = rng.integers(0, C, n)
    else:
        y = rng.standard_normal(n) if kind == 0 else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    w = (rng.standard_normal(shape) * 0.1).astype(dtype)
    r = rng.standard_normal(rshape) * 0.1 if variance_reduced else np.zeros(rshape)
    v = (rng.standard_normal(shape) * 0.1).astype(dtype) if variance_reduced else np.zeros(shape, dtype)
    idx = rng.integers(0, n, 2 * n)
    expected = ref.fp_epoch(X, y, w, r, v, 0.05, 0.05, idx, kind)
    if kind == "multinomial":
        fp_epoch_multinomial(X, y, w, r, v, 0.05, 0.05, idx)
    else:
        fp_epoch_linear(X, y, w, r, v, 0.05, 0.05, idx, kind)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(w, expected, rtol=tol, atol=tol)


def _lp_case(rng, kind, data_dtype, bits, n=120, d=24, C=3):
    """Random inputs of an LP epoch: integer data and iterate, cached a, r, grid-unit vg."""
    shape = (d, C) if kind == "multinomial" else (d,)
    rshape = (n, C) if kind == "multinomial" else (n,)
    lo, hi = fixed_point.grid_limits(bits)
    dmax = np.iinfo(data_dtype).max
    Xq = rng.integers(-dmax, dmax + 1, (n, d)).astype(data_dtype)
    x_scale = 1.0 / (dmax * np.sqrt(d))
    if kind == "multinomial":
        y = rng.integers(0, C, n)
    else:
        y = rng.standard_normal(n) if kind == 0 else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    k = rng.integers(lo // 2, hi // 2 + 1, shape).astype(fixed_point.storage_dtype(bits))
    s = 0.5 / hi
    a = rng.standard_normal(rshape) * 0.3
    r = rng.standard_normal(rshape) * 0.1
    compute = np.float32 if bits <= 8 else np.float64
    vg = (rng.standard_normal(shape) * 3.0).astype(compute)
    return Xq, x_scale, y, k, s, a, r, vg


@pytest.mark.parametrize("kind", [0, 1, "multinomial"])
@pytest.mark.parametrize("data_dtype,bits", [(np.int8, 4), (np.int8, 8), (np.int8, 16),
                                             (np.int16, 16)])
def test_lp_epoch(kind, data_dtype, bits):
    """An LP epoch (the kernel of LP-SGD, LP-SVRG and HALP) on a fixed index sequence, step by step.

    Integer-lane steps are exact; the float-lane update's per-coordinate arithmetic is float32
    (float64 in the reference), so a value within float32 rounding of a grid boundary may land one
    step apart (and a per-step dither within float rounding of an integer may differ): each step
    starts from the kernel's own state, and such flips must stay rare and +-1."""
    rng = np.random.default_rng(11)
    Xq, x_scale, y, k, s, a, r, vg = _lp_case(rng, kind, data_dtype, bits)
    n = Xq.shape[0]
    idx = rng.integers(0, n, n)
    key = random_bits.seed_key(9)
    rounding = fixed_point.make_rounding(9, bits, vg.dtype)
    alpha, lam = 0.3, 0.05
    flips = total_sat = total_sat_ref = 0
    for t in range(n):
        step = idx[t:t + 1]
        if kind == "multinomial":   # the kernel steps K^T
            kt = np.ascontiguousarray(k.T)
            expected, sat_ref = ref.lp_epoch(Xq, x_scale, y, kt, s, a, r, vg.astype(float), lam,
                                             alpha, step, kind, key, 1000 + t, bits)
            sat = lp_epoch_multinomial(Xq, x_scale, y, kt, s, a, r, vg, lam, alpha, step,
                                              rounding, 1000 + t)
            k[...] = kt.T
            expected = expected.T
        else:
            expected, sat_ref = ref.lp_epoch(Xq, x_scale, y, k, s, a, r, vg.astype(float), lam,
                                             alpha, step, kind, key, 1000 + t, bits)
            sat = lp_epoch_linear(Xq, x_scale, y, k, s, a, r, vg, lam, alpha, step, kind,
                                         rounding, 1000 + t)
        diff = np.abs(k.astype(np.int64) - expected)
        assert diff.max() <= 1
        flips += int(diff.sum())
        total_sat += sat
        total_sat_ref += sat_ref
    assert flips <= max(2, 1e-3 * n * k.size), flips
    assert abs(total_sat - total_sat_ref) <= flips + 2  # a flip at the edge changes only the count
    if bits <= 8:
        assert total_sat > 0  # the case exercises saturation
