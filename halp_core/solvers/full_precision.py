"""SGD and SVRG in full precision (float64 or float32: data, iterate and arithmetic in that
dtype; docs/design.md section 4): the class, its epoch kernels and its registry entries.

Per step i: c = l'(x_i^T w) - r_i, and w <- w - (a lam w + a c x_i + a v) (a lam is rounded to
the dtype itself: 1 - a lam in float32 would move lam by up to 2**-24 / (a lam), 13% at
a lam = 2e-7). SGD: r = 0, v = 0. SVRG: r_i = l'(x_i^T w~) cached by the full-gradient pass,
v = g~ - lam w~, which is exactly w <- w - a (grad f_i(w) - grad f_i(w~) + g~).
"""

import numpy as np
from numba import njit

from .. import registry
from ..kernels import FAST, SAMPLE_R, SAMPLE_Y, next_sample, sample_table, vector_dot
from ..losses import dloss, softmax_minus_onehot
from ..registry import FLOAT_PRECISIONS, SolverSpec
from .base import Solver

DTYPES = {"fp64": np.float64, "fp32": np.float32}
"""Full precisions -> numpy dtype."""


# ---- epoch kernels ---------------------------------------------------------------------------

@njit(cache=True, fastmath=FAST, nogil=True)
def fp_epoch_linear(X, S, w, v, lam, alpha, idx, kind):
    """One SGD/SVRG epoch on a linear model, in place on w.

    X (n, d) and w, v (d,) of one float dtype; S (n, 3) float64: the per-sample table
    (``kernels.sample_table``: labels y_i and, for SVRG, the anchor derivatives r_i, 0 for SGD);
    idx (T,) int64 sample order.
    """
    F = w.dtype.type
    shrink = F(alpha * lam)
    av = F(alpha)
    for t in range(idx.shape[0]):
        i = next_sample(idx, t, (X, S))
        c = dloss(kind, np.float64(vector_dot(X[i], w)), S[i, SAMPLE_Y]) - S[i, SAMPLE_R]
        coef = F(alpha * c)
        for j in range(w.shape[0]):
            w[j] -= shrink * w[j] + coef * X[i, j] + av * v[j]


@njit(cache=True, fastmath=FAST, nogil=True)
def fp_epoch_multinomial(X, labels, W, R, V, lam, alpha, idx):
    """One SGD/SVRG epoch on a multinomial model, in place on W (d, C).

    X (n, d), W, V (d, C) and R (n, C) of one float dtype; labels (n,) int64; R: anchor
    softmax - one-hot for SVRG, zeros for SGD; idx (T,) int64.
    """
    F = W.dtype.type
    d, C = W.shape
    shrink = F(alpha * lam)
    av = F(alpha)
    scores = np.empty(C, dtype=W.dtype)
    p = np.empty(C, dtype=W.dtype)
    coef = np.empty(C, dtype=W.dtype)
    for t in range(idx.shape[0]):
        i = next_sample(idx, t, (X, labels, R))
        scores[:] = 0
        for j in range(d):
            x = X[i, j]
            for c in range(C):
                scores[c] += x * W[j, c]
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            coef[c] = av * (p[c] - R[i, c])
        for j in range(d):
            x = X[i, j]
            for c in range(C):
                W[j, c] -= shrink * W[j, c] + coef[c] * x + av * V[j, c]


class FullPrecisionSolver(Solver):
    """``sgd`` and ``svrg`` in float64 or float32 (data, iterate and arithmetic in that dtype).
    dtype: np.float64 or np.float32 (``check_precision``'s answer for "fp64" / "fp32"); the other
    arguments as ``Solver``'s."""

    def __init__(self, problem, name, dtype, **options):
        super().__init__(problem, name, dtype.name.replace("float", "fp"), **options)
        self.X = problem.X if dtype == np.float64 else problem.X32
        self.iterate = np.zeros(problem.weight_shape, dtype=dtype)
        self._v = np.zeros(problem.weight_shape, dtype=dtype)
        self._g = np.zeros(problem.weight_shape, dtype=dtype)
        self._a, self._r = self.per_sample_arrays(dtype)
        # a linear model's inner steps read y_i and r_i from one table (one cache line per step)
        self._samples = None if self.multinomial else sample_table(problem.y)
        self._inner(np.zeros(0, dtype=np.int64))  # compile before any timing
        if self.variance_reduced:
            self.full_gradient(self.X[:1], 1.0, self.iterate, self._a[:1].copy(),
                               self._r[:1].copy(), self._g.copy())

    @property
    def data(self):
        return self.X

    def _inner(self, idx):
        p = self.problem

        def run(chunk, first):
            if self.multinomial:
                fp_epoch_multinomial(self.X, self.labels, self.iterate, self._r, self._v, p.lam,
                                     self.alpha, chunk)
            else:
                fp_epoch_linear(self.X, self._samples, self.iterate, self._v, p.lam, self.alpha,
                                chunk, self.kind)
            return 0

        self.run_steps(run, idx)

    def run_epoch(self):
        """One epoch: (SVRG) full gradient at the anchor w~ = w, then T inner steps."""
        idx = self.sample_order()
        if self.variance_reduced:
            self.timed_gradient(lambda: self.full_gradient(self.X, 1.0, self.iterate, self._a,
                                                           self._r, self._g))
            if self._samples is not None:   # r in the pass's dtype, widened exactly
                self._samples[:, SAMPLE_R] = self._r
            self._v[...] = self._g - self.problem.lam * self.iterate   # v = g~ - lam w~
        self._inner(idx)
        self.saturations.append(0)
        self.epochs_done += 1


registry.register(SolverSpec("sgd", "SGD", "full", FLOAT_PRECISIONS, None, False, (),
                             FullPrecisionSolver))
registry.register(SolverSpec("svrg", "SVRG", "full", FLOAT_PRECISIONS, None, True, (),
                             FullPrecisionSolver))
