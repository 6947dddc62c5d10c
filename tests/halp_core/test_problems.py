"""halp_core.problems: loss and gradient against finite differences and plain formulas, the
reference optimum and its disk cache, the shared quantized data (fixed point and float formats)
and its loss report, and bad input: each gets a ValueError / TypeError whose message names the
argument, or a warning next to a correct result, never a library's error."""

import numpy as np
import pytest

import halp_core
from refusals import refusal_test
from halp_core import bits_needed, datasets, float_formats, problems, solve
from halp_core.problems import BinaryLogistic, LeastSquares, Multinomial
from halp_core.solvers.full_gradient import full_grad_linear


def _problems():
    return [
        datasets.synthetic_least_squares(300, 15, lam=1e-2, noise=0.1, seed=1),
        datasets.synthetic_logistic(300, 15, lam=1e-2, seed=2),
        Multinomial(np.random.default_rng(3).standard_normal((300, 15)),
                    np.random.default_rng(4).integers(0, 4, 300), 1e-2, data_bits=None),
    ]


@pytest.mark.parametrize("prob", _problems(), ids=lambda p: p.kind)
def test_gradient_matches_finite_differences(prob):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(prob.weight_shape) * 0.3
    g = prob.grad(w)
    for _ in range(5):
        v = rng.standard_normal(prob.weight_shape)
        h = 1e-6
        fd = (prob.loss(w + h * v) - prob.loss(w - h * v)) / (2 * h)
        assert abs(fd - np.sum(g * v)) <= 1e-6 * max(1.0, abs(fd))
        hv = prob.hessp(w, v)
        fd_h = (prob.grad(w + h * v) - prob.grad(w - h * v)) / (2 * h)
        np.testing.assert_allclose(hv, fd_h, rtol=1e-5, atol=1e-7)


def test_losses_match_plain_formulas():
    rng = np.random.default_rng(5)
    X, w = rng.standard_normal((50, 4)), rng.standard_normal(4)
    y = rng.standard_normal(50)
    lam = 0.3
    lsq = LeastSquares(X, y, lam, data_bits=None)
    assert np.isclose(lsq.loss(w), np.mean(0.5 * (X @ w - y) ** 2) + lam / 2 * w @ w)
    yb = np.where(y > 0, 1.0, -1.0)
    logi = BinaryLogistic(X, yb, lam, data_bits=None)
    assert np.isclose(logi.loss(w), np.mean(np.log1p(np.exp(-yb * (X @ w)))) + lam / 2 * w @ w)
    labels = rng.integers(0, 3, 50)
    W = rng.standard_normal((4, 3))
    multi = Multinomial(X, labels, lam, data_bits=None)
    s = X @ W
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    assert np.isclose(multi.loss(W), -np.mean(np.log(p[np.arange(50), labels])) + lam / 2 * np.sum(W * W))


@pytest.mark.parametrize("prob", _problems() + [datasets.digits(lam=1e-3)], ids=lambda p: p.name)
def test_reference_optimum_is_stationary(prob):
    assert np.linalg.norm(prob.grad(prob.w_star)) <= 1e-10
    assert prob.f_star == prob.loss(prob.w_star)
    assert prob.w_star is prob.w_star  # computed once, cached
    assert abs(prob.suboptimality(prob.w_star)) <= 1e-14
    w = prob.w_star + 0.01
    assert np.isclose(prob.suboptimality(w), prob.loss(w) - prob.f_star, rtol=1e-6, atol=1e-14)


def test_quantized_data_is_shared_and_exact():
    prob = datasets.synthetic_least_squares(200, 10, lam=0.1, noise=0.1, seed=0, data_bits=8)
    assert prob.Xq.dtype == np.int8
    assert np.abs(prob.Xq).max() == 127
    np.testing.assert_array_equal(prob.X, prob.Xq.astype(float) * prob.x_scale)
    assert prob.X32.dtype == np.float32
    raw = datasets.synthetic_least_squares(200, 10, lam=0.1, noise=0.1, seed=0, data_bits=None)
    assert raw.Xq is None
    assert np.abs(raw.X - prob.X).max() <= prob.x_scale / 2 + 1e-12
    assert datasets.synthetic_least_squares(20, 3, lam=0.1, noise=0.1, seed=0, data_bits=12).Xq.dtype == np.int16


def test_L_max():
    prob = datasets.synthetic_logistic(100, 5, lam=0.2, seed=0)
    assert np.isclose(prob.L_max, 0.25 * max(np.sum(prob.X ** 2, axis=1)) + 0.2)


def test_reference_optimum_is_cached_on_disk_for_large_problems(tmp_path, monkeypatch):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("halp_core.problems.DISK_CACHE_SIZE", 100)
    prob = datasets.synthetic_logistic(200, 5, lam=1e-2, seed=0)
    w = prob.w_star
    files = list((tmp_path / "optima").glob("logistic-*.npy"))
    assert len(files) == 1
    again = datasets.synthetic_logistic(200, 5, lam=1e-2, seed=0)
    monkeypatch.setattr(type(again), "_reference_optimum", lambda self: pytest.fail("recomputed"))
    np.testing.assert_array_equal(again.w_star, w)
    other = datasets.synthetic_logistic(200, 5, lam=2e-2, seed=0)  # another lam: another key
    monkeypatch.undo()
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("halp_core.problems.DISK_CACHE_SIZE", 100)
    assert not np.allclose(other.w_star, w)
    assert len(list((tmp_path / "optima").glob("*.npy"))) == 2


def test_quantization_report():
    """problem.quantization measures what the 8-bit copy lost, against a plain NumPy computation."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6))
    X[:, 5] *= 1e-4  # a column far below the scale set by the others: zeroed
    with pytest.warns(UserWarning, match="1 of 6 columns \\(5\\)"):
        prob = LeastSquares(X, rng.standard_normal(200), 0.1)
    q = prob.quantization
    s = np.abs(X).max() / 127
    Xq = np.clip(np.floor(X / s + 0.5), -128, 127)
    assert (q.bits, q.scale) == (8, s)
    assert np.isclose(q.relative_error, np.linalg.norm(X - Xq * s) / np.linalg.norm(X))
    assert np.isclose(q.zeroed_share, np.mean(Xq == 0))  # X has no zeros
    assert q.zeroed_columns == (5,)
    assert LeastSquares(X, np.ones(200), 0.1, data_bits=None).quantization is None


def test_typical_data_sets_quantize_quietly(recwarn):
    """Gaussian data and digits at 8 bits lose about 1% and no column: no warning."""
    for prob in (datasets.synthetic_least_squares(500, 20, lam=0.1, noise=0.1, seed=0, cond=100.0),
                 datasets.digits(lam=1e-3)):
        assert prob.quantization.relative_error < 0.02
        assert not prob.quantization.large
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


# ---- bad arguments: a ValueError / TypeError whose message names the argument -----------------


def _ls_problem(X=None, y=None, lam=0.1, **kw):
    X = np.eye(3) if X is None else X
    y = np.ones(3) if y is None else y
    return lambda: LeastSquares(X, y, lam, **kw)


def _multi(y=(0, 1, 2), **kw):
    return lambda: Multinomial(np.eye(3), list(y), 0.1, **kw)


# (id, call, exception, words the message must contain)
PROBLEM_CASES = [
    ("X-complex", _ls_problem(X=np.eye(3) * (1 + 1j)), TypeError, "X is complex"),
    ("X-object-none", _ls_problem(X=np.array([[1.0, None], [2.0, 3.0], [1.0, 1.0]])), TypeError,
     "X must be a numeric array"),
    ("X-ragged", _ls_problem(X=[[1.0, 2.0], [3.0]], y=[1.0, 2.0]), TypeError,
     "X must be a numeric array"),
    ("X-strings", _ls_problem(X=[["a", "b"]], y=[1.0]), TypeError, "X must be a numeric array"),
    ("X-nan", _ls_problem(X=np.array([[np.nan, 1.0], [0.0, 1.0], [1.0, 1.0]])), ValueError,
     "X contains NaN or inf"),
    ("X-inf", _ls_problem(X=np.array([[np.inf, 1.0], [0.0, 1.0], [1.0, 1.0]])), ValueError,
     "X contains NaN or inf"),
    ("X-empty", _ls_problem(X=np.zeros((0, 3)), y=[]), ValueError, "X is empty"),
    ("X-no-columns", _ls_problem(X=np.zeros((3, 0))), ValueError, "X is empty"),
    ("X-1d", _ls_problem(X=np.ones(3)), ValueError, "X must be 2-D"),
    ("X-3d", _ls_problem(X=np.ones((3, 1, 1))), ValueError, "X must be 2-D"),
    ("y-2d", _ls_problem(y=np.ones((3, 1))), ValueError, "y must be 1-D"),
    ("y-length", _ls_problem(y=np.ones(2)), ValueError, "X has 3 rows but y has 2 entries"),
    ("y-nan", _ls_problem(y=np.array([1.0, np.nan, 0.0])), ValueError, "y contains NaN"),
    ("y-complex", _ls_problem(y=np.ones(3) * 1j), TypeError, "y is complex"),
    ("lam-neg", _ls_problem(lam=-0.1), ValueError, "lam must be a finite number >= 0"),
    ("lam-nan", _ls_problem(lam=np.nan), ValueError, "lam must be a finite number"),
    ("lam-inf", _ls_problem(lam=np.inf), ValueError, "lam must be a finite number"),
    ("lam-str", _ls_problem(lam="0.1"), TypeError, "lam must be a number"),
    ("lam-none", _ls_problem(lam=None), TypeError, "lam must be a number"),
    ("lam-bool", _ls_problem(lam=True), TypeError, "lam must be a number"),
    ("lam-complex", _ls_problem(lam=1j), TypeError, "lam must be a number"),
    ("data-bits-1", _ls_problem(data_bits=1), ValueError, "bits must be between 2 and 16"),
    ("data-bits-17", _ls_problem(data_bits=17), ValueError, "bits must be between 2 and 16"),
    ("data-bits-float", _ls_problem(data_bits=8.0), TypeError, "bits must be an int"),
    ("data-bits-str", _ls_problem(data_bits="8"), ValueError, "a float format .*got '8'"),
    ("data-bits-bool", _ls_problem(data_bits=True), TypeError, "bits must be an int"),
    ("name-int", _ls_problem(name=5), TypeError, "name must be a str"),
    ("logistic-01", lambda: BinaryLogistic(np.eye(3), [0.0, 1.0, 1.0], 0.1), ValueError,
     "labels must be -1 or \\+1"),
    ("logistic-2", lambda: BinaryLogistic(np.eye(3), [2.0, 1.0, -1.0], 0.1), ValueError,
     "labels must be -1 or \\+1"),
    ("classes-str", _multi(n_classes="3"), TypeError, "n_classes must be an int"),
    ("classes-float", _multi(n_classes=3.7), TypeError, "n_classes must be an int"),
    ("classes-bool", _multi(n_classes=True), TypeError, "n_classes must be an int"),
    ("classes-1", _multi(y=(0, 0, 0), n_classes=1), ValueError, "n_classes must be >= 2"),
    ("classes-0", _multi(n_classes=0), ValueError, "n_classes must be >= 2"),
    ("classes-neg", _multi(n_classes=-2), ValueError, "n_classes must be >= 2"),
    ("labels-neg", _multi(y=(0, -1, 1)), ValueError, "labels must lie in"),
    ("labels-fraction", _multi(y=(0, 1.5, 1)), ValueError, "labels must be integers"),
    ("labels-above", _multi(y=(0, 1, 3), n_classes=3), ValueError, "labels must lie in 0..2"),
    ("labels-huge", _multi(y=(0, 1, 10**12)), ValueError, "1000000000001 classes"),
    ("labels-one-class", _multi(y=(0, 0, 0)), ValueError, "at least 2 classes"),
    ("problem-abstract", lambda: problems.Problem(np.eye(3), np.ones(3), 0.1), TypeError,
     "abstract"),
]


test_bad_argument_is_refused = refusal_test(PROBLEM_CASES)


@pytest.fixture(scope="module")
def lsq():
    return datasets.synthetic_least_squares(40, 4, lam=0.1, noise=0.1, seed=0)


WEIGHT_CASES = [
    ("loss-shape", lambda p: p.loss(np.zeros(5)), ValueError, "weights must have shape \\(4,\\)"),
    ("loss-complex", lambda p: p.loss(np.zeros(4) * 1j), TypeError, "weights must be a real array"),
    ("loss-strings", lambda p: p.loss(np.array(["a"] * 4)), TypeError, "weights must be a real"),
    ("grad-shape", lambda p: p.grad(np.zeros((4, 1))), ValueError, "weights must have shape"),
    ("hessp-shape", lambda p: p.hessp(np.zeros(4), np.zeros(3)), ValueError,
     "weights must have shape"),
]


test_bad_weights_are_refused = refusal_test(WEIGHT_CASES, "lsq")


# ---- silently lossy data: a report and a warning -------------------------------------------------


def _outlier_columns():
    X = np.random.default_rng(0).standard_normal((100, 3))
    X[0, 0] = 1e6
    return X


def _outlier_column():
    X = np.random.default_rng(1).standard_normal((300, 1))
    X[7, 0] = 1e6
    return X


def _scaled_columns():
    return np.random.default_rng(2).standard_normal((100, 5)) * np.logspace(0, -6, 5)


LOSSY_CASES = [
    ("outlier-zeroes-columns", _outlier_columns, 8, "2 of 3 columns"),
    ("outlier-zeroes-entries", _outlier_column, 8, "zeroed 99.7% of the nonzero entries"),
    ("columns-1-to-1e-6", _scaled_columns, 8, "3 of 5 columns \\(2, 3, 4\\)"),
    ("two-bit-gaussian", lambda: np.random.default_rng(3).standard_normal((200, 4)), 2,
     "2-bit data quantization .* relative error"),
    ("one-tiny-column", lambda: np.hstack([np.ones((50, 1)), np.full((50, 1), 1e-5)]), 16,
     "1 of 2 columns \\(1\\)"),
]


@pytest.mark.parametrize("name,make_X,bits,match", LOSSY_CASES,
                         ids=[case[0] for case in LOSSY_CASES])
def test_lossy_quantization_warns_with_the_fix(name, make_X, bits, match):
    X = make_X()
    with pytest.warns(UserWarning, match=match) as record:
        prob = LeastSquares(X, np.ones(X.shape[0]), 0.1, data_bits=bits)
    assert type(record[0].message).__name__ == "QuantizationWarning"
    assert "data_bits=16" in str(record[0].message) and "standardize" in str(record[0].message)
    q = prob.quantization
    assert q.relative_error > 0.1 or q.zeroed_share > 0.5 or q.zeroed_columns


@pytest.mark.parametrize("data", ["bf16", "fp16", "fp8-e4m3", "fp8-e5m2"])
def test_data_in_a_format(data):
    """A problem's data copy in a format: nearest rounding of X / x_scale with x_scale a power of
    two that puts max |X| just below the format's top; every solver sees the dequantized copy."""
    prob = datasets.synthetic_least_squares(300, 12, lam=1e-2, noise=0.1, seed=3, data_bits=data)
    assert prob.Xq.dtype == float_formats.storage_dtype(data)
    peak = np.abs(prob.X).max() / prob.x_scale
    assert float_formats.top(data) / 2 < peak <= float_formats.top(data)
    assert np.log2(prob.x_scale) == int(np.log2(prob.x_scale))
    assert np.array_equal(prob.X, float_formats.decode(prob.Xq, data) * prob.x_scale)
    relative = {"bf16": 2 ** -8, "fp16": 2 ** -11, "fp8-e4m3": 2 ** -4, "fp8-e5m2": 2 ** -3}[data]
    assert prob.quantization.relative_error <= relative
    g = np.zeros(12)
    full_grad_linear(prob.Xq, prob.x_scale, prob.y, np.ones(12), prob.lam, 0,
                             np.zeros(300), np.zeros(300), g, x_format=prob.x_format)
    assert np.allclose(g, prob.grad(np.ones(12)), rtol=1e-12, atol=1e-12)


def test_warning_classes_are_exported():
    assert issubclass(halp_core.QuantizationWarning, UserWarning)
    assert issubclass(halp_core.CacheWarning, RuntimeWarning)


# ---- the reference optimum's disk cache ----------------------------------------------------------


@pytest.fixture
def large(monkeypatch):
    """Problems of more than 100 entries count as large (their optimum is cached on disk)."""
    monkeypatch.setattr(problems, "DISK_CACHE_SIZE", 100)
    return lambda: datasets.synthetic_logistic(60, 4, lam=1e-2, seed=0)


def test_unwritable_optimum_cache_costs_only_time(monkeypatch, not_a_folder, large):
    monkeypatch.setenv("HALP_DATA_DIR", str(not_a_folder))
    prob = large()
    with pytest.warns(RuntimeWarning, match="could not be cached") as record:
        w = prob.w_star
    assert type(record[0].message).__name__ == "CacheWarning"
    monkeypatch.setattr(problems, "DISK_CACHE_SIZE", 10**9)
    np.testing.assert_allclose(w, large().w_star, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("content", ["garbage", "nan", "wrong-shape"])
def test_faulty_optimum_cache_file_is_recomputed(monkeypatch, tmp_path, large, content):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    good = large().w_star
    (path,) = (tmp_path / "optima").glob("*.npy")
    if content == "garbage":
        path.write_bytes(b"\x93NUMPY truncated")
    else:
        np.save(path, np.full(good.shape, np.nan) if content == "nan" else np.zeros(7))
    with pytest.warns(datasets.CacheWarning, match=f"cached reference optimum {path} is "
                                                    f"unusable .*computing it again"):
        np.testing.assert_array_equal(large().w_star, good)


# ---- library errors named, not leaked (issue 23) ----------------------------------------------


_RNG = np.random.default_rng(0)
_X, _Y = _RNG.standard_normal((50, 4)), _RNG.standard_normal(50)


@pytest.mark.parametrize("make", [
    lambda: LeastSquares(_X * 1e200, _Y, 1e-2, data_bits=None),
    lambda: BinaryLogistic(_X * 1e200, np.sign(_Y), 1e-2, data_bits=None),
    lambda: Multinomial(_X * 1e200, (_Y > 0).astype(int), 1e-2, data_bits=None),
    lambda: LeastSquares(_X, _Y * 1e300, 1e-2, data_bits=None),
], ids=["lsq-X", "logistic-X", "multinomial-X", "lsq-y"])
def test_data_beyond_float64s_range_are_refused_at_construction(make):
    """Finite data whose ||x_i||^2 or loss overflow float64 (they gave LAPACK's LinAlgError in
    bits_needed, an infinite f*, and a 'divergence' blamed on the step)."""
    with pytest.raises(ValueError, match="beyond float64's range .*rescale X and y"):
        make()


@pytest.mark.parametrize("call", [lambda p: bits_needed(p), lambda p: p.w_star,
                                  lambda p: solve(p, "svrg", precision="fp64", step=0.1, epochs=1)],
                         ids=["bits_needed", "w_star", "solve"])
def test_data_changed_to_nan_after_construction_are_named(call):
    prob = LeastSquares(_X, _Y, 1e-2)
    prob.X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"problem.X \(changed after construction\?\) contains "
                                         r"NaN or inf") as caught:
        call(prob)
    assert type(caught.value) is ValueError   # not numpy's LinAlgError (a ValueError subclass)
