"""Objectives (docs/design.md section 2): f(w) = (1/n) sum_i l(x_i^T w, y_i) + (lam/2) ||w||^2.

A problem holds its data (optionally a b-bit copy, shared by every solver of a comparison), and
evaluates loss, gradient and suboptimality in float64 with NumPy. This evaluation is the one shared
yardstick for every solver; it runs outside any timed region. Its optimum ``w_star`` / ``f_star``
comes from a deterministic full-precision reference (closed form for least squares; L-BFGS then
Newton-CG to ||grad f|| <= 1e-10 otherwise), computed once and cached on the problem.
"""

import abc
import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse.linalg
from scipy.special import expit, logsumexp, softmax

from . import validate, fixed_point, float_formats, registry
from .cache_dir import CacheWarning, data_dir
from .losses import logistic_loss

GRAD_TOL = 1e-10
DISK_CACHE_SIZE = 10**6  # data entries from which the reference optimum is cached on disk


# A problem warns when its data quantization has a relative error above QUANTIZATION_WARN_ERROR,
# zeroes more than QUANTIZATION_WARN_ZEROED of the nonzero entries, or zeroes a nonzero column.
QUANTIZATION_WARN_ERROR = 0.10
QUANTIZATION_WARN_ZEROED = 0.5


class QuantizationWarning(UserWarning):
    """The b-bit copy of a problem's data lost much of it (see :class:`Quantization`)."""


@dataclass(frozen=True)
class Quantization:
    """What quantizing the data X (n, d) to ``bits`` bits with one scale lost
    (``Problem.quantization``).

    bits: data bits, or the name of the float format; scale: value of one integer step
    (``x_scale``; for a float format the power of two the stored values are multiplied by);
    relative_error:
    ||X - Xq * scale||_F / ||X||_F (0 for X = 0); zeroed_share: share of X's nonzero entries
    that became 0 (in [0, 1]); zeroed_columns: indices of the columns with a nonzero entry in X
    and none in Xq (features the solvers no longer see).
    """

    bits: int
    scale: float
    relative_error: float
    zeroed_share: float
    zeroed_columns: tuple

    @classmethod
    def _measure(cls, X, Xq, scale, bits, dequantized):
        """The report of X (float64) against its quantized copy Xq of one ``scale``
        (``dequantized`` = Xq * scale, float64)."""
        norm = float(np.linalg.norm(X))
        error = float(np.linalg.norm(X - dequantized)) / norm if norm > 0 else 0.0
        nonzero = X != 0
        kept = dequantized != 0
        count = int(nonzero.sum())
        share = int((nonzero & ~kept).sum()) / count if count else 0.0
        lost = np.flatnonzero(nonzero.any(axis=0) & ~kept.any(axis=0))
        return cls(bits, scale, error, share, tuple(int(j) for j in lost))

    @property
    def large(self):
        """True when the loss deserves a warning (the thresholds above): a large relative error
        (several features lost), most nonzero entries zeroed (one outlier sets the scale), or a
        nonzero column zeroed (columns of very different scales)."""
        return (self.relative_error > QUANTIZATION_WARN_ERROR
                or self.zeroed_share > QUANTIZATION_WARN_ZEROED or bool(self.zeroed_columns))

    def _message(self, d):
        """One sentence: what was lost, and the fixes."""
        cols = ", ".join(map(str, self.zeroed_columns[:10]))
        cols += ", ..." if len(self.zeroed_columns) > 10 else ""
        what = f"{self.bits}-bit" if isinstance(self.bits, int) else self.bits
        return (f"{what} data quantization (one scale {self.scale:.3g} for all of X) has "
                f"relative error {self.relative_error:.1%}, zeroed {self.zeroed_share:.1%} of the "
                f"nonzero entries and {len(self.zeroed_columns)} of {d} columns"
                + (f" ({cols})" if cols else "") + "; every solver sees this quantized copy. "
                "Fix: more data bits (data_bits=16), standardize the columns of X to one scale "
                "(and clip outliers) before building the problem, or data_bits=None (full "
                "precision)")


def check_data_bits(data_bits):
    """Validate a problem's data precision: None (float64), an int number of fixed-point bits
    (2..16) or the name of a registered float format ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2");
    return it (int, str or None)."""
    if data_bits is None:
        return None
    if isinstance(data_bits, str):
        if data_bits not in registry.FORMATS:
            raise ValueError(f"data_bits must be an int number of bits (2..16), a float format "
                             f"({', '.join(registry.FORMATS)}) or None, got {data_bits!r}")
        return data_bits
    return fixed_point.check_bits(data_bits)


class Problem(abc.ABC):
    """Base class of the three objectives.

    Arguments: X (n, d) and y (n,) finite real arrays (n, d >= 1); lam: L2 strength, a finite
    number >= 0; data_bits: 2..16 (quantize X with one scale, max|X| / (2^(b-1) - 1), rounding
    to nearest), a float format name ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2": X / x_scale rounded
    to nearest in that format, x_scale the power of two of ``float_formats.data_scale``) or None
    (keep X in float64); name: str or None; cache_key: None, or a str that determines X and y
    (e.g. a data file's sha256 and how it was read, as ``datasets.from_file`` gives it): the
    reference optimum is then always cached on disk, keyed by it (with kind, lam, the reference
    tolerance and the weight shape) instead of by a hash of the data.

    Attributes (shapes with n samples, d features, C classes):
      X (n, d) float64: the data every solver sees (the dequantized ``Xq * x_scale`` when
        ``data_bits`` is set); y (n,): targets; lam: L2 strength (>= 0); kind: "least_squares",
        "logistic" or "multinomial"; weight_shape: (d,) or (d, C); Xq (n, d) int8/int16 (fixed
        point), uint16/uint8 bit patterns (a float format) or None; x_scale: float, value of one
        integer step of Xq (1.0 without quantization); x_format: the kernels' FormatParams of a
        float-format Xq (float_formats.NO_FORMAT otherwise);
        quantization: a :class:`Quantization` report of what the b-bit copy lost (None without
        quantization). A QuantizationWarning is issued when that loss is large (relative error
        above 10%, more than half of the nonzero entries zeroed, or a nonzero column zeroed): an
        outlier or columns of very different scales leave most of the data at 0.
        ``w_star`` / ``f_star`` are those of the quantized data.
    """

    kind = ""
    smoothness = 1.0  # c_l in L_max = c_l * max ||x_i||^2 + lam

    def __init__(self, X, y, lam, *, data_bits=8, name=None, cache_key=None):
        X = validate.real_array(X, "X", 2)
        y = validate.real_array(y, "y", 1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
        self.n, self.d = X.shape
        self.lam = validate.real(lam, "lam", minimum=0)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {name!r}")
        if cache_key is not None and not isinstance(cache_key, str):
            raise TypeError(f"cache_key must be a str or None, got {cache_key!r}")
        self.cache_key = cache_key
        self.data_bits = check_data_bits(data_bits)
        self.y = self._check_labels(y)
        self.quantization = None
        self.x_format = float_formats.NO_FORMAT
        if self.data_bits is None:
            self.Xq, self.x_scale, self.X = None, 1.0, X
        elif isinstance(self.data_bits, str):
            name = self.data_bits
            self.x_scale = float_formats.data_scale(float(np.abs(X).max()), name)
            self.Xq, _ = float_formats.encode(X / self.x_scale, name)
            self.x_format = float_formats.params(name)
            self.X = float_formats.decode(self.Xq, name) * self.x_scale
            self.quantization = Quantization._measure(X, self.Xq, self.x_scale, name, self.X)
        else:
            top = 2 ** (self.data_bits - 1) - 1
            peak = float(np.abs(X).max())
            self.x_scale = peak / top if peak > 0 else 1.0
            self.Xq = np.empty(X.shape, dtype=fixed_point.storage_dtype(self.data_bits))
            fixed_point.quantize_nearest(X, self.x_scale, self.data_bits, self.Xq)
            self.X = self.Xq.astype(np.float64) * self.x_scale
            self.quantization = Quantization._measure(X, self.Xq, self.x_scale, self.data_bits,
                                                     self.X)
        self.name = name or self.kind
        with np.errstate(over="ignore", invalid="ignore"):
            start = self.loss(np.zeros(self.weight_shape))
        if not (np.isfinite(self.L_max) and np.isfinite(start)):
            raise ValueError(f"{self.name}: the data are beyond float64's range for this "
                             f"objective (L_max = {self.L_max:.3g}, f(0) = {start:.3g}: "
                             f"max ||x_i||^2 or the loss overflows); rescale X and y")
        if self.quantization is not None and self.quantization.large:
            warnings.warn(f"{self.name}: {self.quantization._message(self.d)}",
                          QuantizationWarning, stacklevel=3)

    # -- per-kind pieces -------------------------------------------------------------------
    def _check_labels(self, y):
        return y

    @property
    def weight_shape(self):
        return (self.d,)

    @abc.abstractmethod
    def _loss_grad_data(self, w, with_grad):
        """Data term (1/n) sum_i l(x_i^T w, y_i) and, if asked, its gradient (float64)."""

    @abc.abstractmethod
    def _hessp_data(self, w, v):
        """Hessian of the data term at w times direction v."""

    # -- public evaluation -----------------------------------------------------------------
    def check_data(self):
        """Raise a ValueError unless X and y are still finite: they were at construction, but
        the arrays can be changed in place later (the reference optimum and the bit budget call
        this before their library numerics)."""
        for part, array in (("X", self.X), ("y", self.y)):
            validate.finite(array, f"{self.name}: problem.{part} (changed after construction?)")

    def check_weights(self, w):
        """Return w as a float64 array of ``weight_shape`` (non-finite entries allowed: they give
        a non-finite loss); raise a clear error for another shape or a non-real array."""
        kind = np.asarray(w).dtype.kind
        if kind not in "biuf":
            raise TypeError(f"weights must be a real array, got dtype {np.asarray(w).dtype}")
        w = np.asarray(w, dtype=np.float64)
        if w.shape != self.weight_shape:
            raise ValueError(f"weights must have shape {self.weight_shape}, got {w.shape}")
        return w

    def loss(self, w):
        """f(w) (float64 scalar) for weights of ``weight_shape``."""
        w = self.check_weights(w)
        data, _ = self._loss_grad_data(w, with_grad=False)
        return data + 0.5 * self.lam * float(np.sum(w * w))

    def grad(self, w):
        """grad f(w), an array of ``weight_shape`` (float64)."""
        return self.loss_and_grad(w)[1]

    def loss_and_grad(self, w):
        """(f(w), grad f(w)) in one pass over the data."""
        w = self.check_weights(w)
        data, g = self._loss_grad_data(w, with_grad=True)
        return data + 0.5 * self.lam * float(np.sum(w * w)), g + self.lam * w

    def hessp(self, w, v):
        """Hessian of f at w times v (both of ``weight_shape``)."""
        w, v = self.check_weights(w), self.check_weights(v)
        return self._hessp_data(w, v) + self.lam * v

    def suboptimality(self, w):
        """f(w) - f* (float64, >= 0 up to rounding)."""
        return self.loss(w) - self.f_star

    @cached_property
    def L_max(self):
        """Largest per-sample smoothness constant c_l * max_i ||x_i||^2 + lam."""
        return self.smoothness * float(np.einsum("ij,ij->i", self.X, self.X).max()) + self.lam

    @cached_property
    def X32(self):
        """The data as a float32 array (n, d), for float32 solvers."""
        return self.X.astype(np.float32)

    # -- reference optimum -----------------------------------------------------------------
    @cached_property
    def w_star(self):
        """Minimizer of f (float64, ``weight_shape``), from the full-precision reference.

        Problems with at least DISK_CACHE_SIZE data entries (e.g. MNIST, minutes of L-BFGS)
        keep it on disk under data_dir()/optima, keyed by a hash of their data, lam and kind;
        problems with a ``cache_key`` (read from a file) keep it there whatever their size,
        keyed by the cache key, lam and kind.
        The cache is best-effort: a missing file is computed; an unreadable or corrupt one (or
        one of another shape, or not finite) is recomputed with a CacheWarning naming it; an
        unwritable folder costs a CacheWarning and the computation next time, never the result."""
        if self.cache_key is None and self.X.size < DISK_CACHE_SIZE:
            return self._checked_optimum()
        path = data_dir() / "optima" / f"{self.kind}-{self._content_hash()}.npy"
        try:
            w = np.load(path)
            if w.shape == self.weight_shape and np.isfinite(w).all():
                return w
            fault = f"shape {w.shape}, finite: {bool(np.isfinite(w).all())}"
        except FileNotFoundError:
            fault = None
        except (OSError, ValueError, EOFError) as exc:  # unreadable or corrupt
            fault = f"{type(exc).__name__}: {exc}"
        if fault is not None:
            warnings.warn(f"{self.name}: the cached reference optimum {path} is unusable "
                          f"({fault}); computing it again", CacheWarning, stacklevel=3)
        w = self._checked_optimum()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(partial, w)
            partial.replace(path)
        except OSError as exc:
            warnings.warn(f"{self.name}: the reference optimum could not be cached ({exc}); it "
                          f"will be computed again next time (set HALP_DATA_DIR to a writable "
                          f"folder)", CacheWarning, stacklevel=3)
        return w

    def _content_hash(self):
        """Hash of what determines the optimum: data and targets (or the cache key that stands
        for them), lam, kind, reference tolerance."""
        digest = hashlib.sha256(f"{self.kind}|{self.lam!r}|{GRAD_TOL!r}|{self.weight_shape}".encode())
        if self.cache_key is not None:
            digest.update(f"|cache key|{self.cache_key}".encode())
            return digest.hexdigest()[:24]
        for part in (self.X, self.y):
            digest.update(np.ascontiguousarray(part).data)
        return digest.hexdigest()[:24]

    @cached_property
    def f_star(self):
        """f(w_star), float64."""
        return self.loss(self.w_star)

    def _checked_optimum(self):
        """``_reference_optimum()`` on data checked to be finite, its library errors named."""
        self.check_data()
        with validate.numerics(f"{self.name}: the reference optimum"):
            return self._reference_optimum()

    def _reference_optimum(self):
        shape = self.weight_shape

        def fg(flat):
            f, g = self.loss_and_grad(flat.reshape(shape))
            return f, g.ravel()

        res = scipy.optimize.minimize(
            fg, np.zeros(int(np.prod(shape))), jac=True, method="L-BFGS-B",
            options={"maxiter": 20000, "maxcor": 30, "gtol": 1e-9, "ftol": 0.0},
        )
        w = res.x
        # Newton-CG polish: converges quadratically from the L-BFGS point.
        for _ in range(50):
            f, g = fg(w)
            gnorm = float(np.linalg.norm(g))
            if gnorm <= GRAD_TOL:
                break
            hess = scipy.sparse.linalg.LinearOperator(
                (w.size, w.size), dtype=np.float64,
                matvec=lambda v, w=w: self.hessp(w.reshape(shape), v.reshape(shape)).ravel(),
            )
            p, _ = scipy.sparse.linalg.cg(hess, -g, rtol=min(0.1, gnorm), maxiter=10 * w.size)
            t = 1.0
            while t > 1e-12:
                f_new, g_new = fg(w + t * p)
                if f_new <= f + 1e-4 * t * float(g @ p) or np.linalg.norm(g_new) < gnorm:
                    break
                t *= 0.5
            w = w + t * p
        gnorm = float(np.linalg.norm(fg(w)[1]))
        if gnorm > GRAD_TOL:
            warnings.warn(f"{self.name}: reference optimum reached ||grad f|| = {gnorm:.2e} > "
                          f"{GRAD_TOL:.0e}", RuntimeWarning, stacklevel=3)
        return w.reshape(shape)


class LeastSquares(Problem):
    """Least squares, l(a, y) = (a - y)^2 / 2, real targets y (n,)."""

    kind = "least_squares"
    smoothness = 1.0

    def _loss_grad_data(self, w, with_grad):
        r = self.X @ w - self.y
        data = 0.5 * float(r @ r) / self.n
        return data, (self.X.T @ r / self.n if with_grad else None)

    def _hessp_data(self, w, v):
        return self.X.T @ (self.X @ v) / self.n

    def _reference_optimum(self):
        # Closed form: (X^T X / n + lam I) w = X^T y / n.
        gram = self.X.T @ self.X / self.n
        rhs = self.X.T @ self.y / self.n
        if self.lam > 0:
            return scipy.linalg.solve(gram + self.lam * np.eye(self.d), rhs, assume_a="pos")
        return scipy.linalg.lstsq(self.X, self.y)[0]

    def suboptimality(self, w):
        """f(w) - f* computed as (1/2n)||X e||^2 + (lam/2)||e||^2 with e = w - w* (exact for a
        quadratic, free of the cancellation in f(w) - f* near the optimum)."""
        e = self.check_weights(w) - self.w_star
        xe = self.X @ e
        return 0.5 * float(xe @ xe) / self.n + 0.5 * self.lam * float(e @ e)


class BinaryLogistic(Problem):
    """Binary logistic regression, l(a, y) = log(1 + exp(-y a)), labels y in {-1, +1}."""

    kind = "logistic"
    smoothness = 0.25

    def _check_labels(self, y):
        bad = ~np.isin(y, (-1.0, 1.0))
        if bad.any():
            raise ValueError(f"binary logistic labels must be -1 or +1; found {np.unique(y[bad])[:5]}")
        return y

    def _loss_grad_data(self, w, with_grad):
        m = self.y * (self.X @ w)
        data = float(np.mean(logistic_loss(m)))
        if not with_grad:
            return data, None
        return data, self.X.T @ (-self.y * expit(-m)) / self.n

    def _hessp_data(self, w, v):
        p = expit(self.X @ w)
        return self.X.T @ (p * (1 - p) * (self.X @ v)) / self.n


class Multinomial(Problem):
    """Multinomial logistic regression (softmax cross-entropy), W of shape (d, C), y in {0..C-1}.

    n_classes: C, an int >= 2 above every label (default: the largest label + 1)."""

    kind = "multinomial"
    smoothness = 0.5

    def __init__(self, X, y, lam, *, n_classes=None, data_bits=8, name=None, cache_key=None):
        self._n_classes_arg = None if n_classes is None else validate.integer(
            n_classes, "n_classes", 2)
        super().__init__(X, y, lam, data_bits=data_bits, name=name, cache_key=cache_key)

    def _check_labels(self, y):
        if not np.all(y == np.round(y)):
            raise ValueError("multinomial labels must be integers 0..C-1")
        top = int(y.max())
        self.n_classes = top + 1 if self._n_classes_arg is None else self._n_classes_arg
        if y.min() < 0 or top >= self.n_classes or self.n_classes < 2:
            raise ValueError(f"multinomial labels must lie in 0..{self.n_classes - 1} with at "
                             f"least 2 classes; found min {y.min():g}, max {top}")
        validate.memory(8 * (self.n + self.d) * self.n_classes,
                         f"{self.n_classes} classes (per-sample scores and weights)")
        self.labels = y.astype(np.int64)
        return y

    @property
    def weight_shape(self):
        return (self.d, self.n_classes)

    def _loss_grad_data(self, w, with_grad):
        scores = self.X @ w
        rows = np.arange(self.n)
        data = float(np.mean(logsumexp(scores, axis=1) - scores[rows, self.labels]))
        if not with_grad:
            return data, None
        p = softmax(scores, axis=1)
        p[rows, self.labels] -= 1.0
        return data, self.X.T @ p / self.n

    def _hessp_data(self, w, v):
        p = softmax(self.X @ w, axis=1)
        xv = self.X @ v
        b = p * xv - p * np.sum(p * xv, axis=1, keepdims=True)
        return self.X.T @ b / self.n
