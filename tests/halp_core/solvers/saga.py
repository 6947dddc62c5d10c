"""SAGA (Defazio, Bach and Lacoste-Julien 2014) as a halp_core solver: what adding a Numba solver
takes, and all it takes. This module (its class, its @njit epoch kernel) plus the registry entry
SPEC is the whole change; tests/halp_core/solvers/test_saga.py registers it and sees it solved,
validated, listed, benchmarked by asv and offered by the dashboard, with no other file edited.

Linear models (least squares, binary logistic), float64 or float32. SAGA keeps each sample's
last loss derivative phi_i (a table of n numbers, zero at the start) and their average
gradient u = (1/n) sum_j phi_j x_j. Step i, with c = l'(x_i^T w):
    w <- w - a (lam w + (c - phi_i) x_i + u),   u <- u + (c - phi_i) x_i / n,   phi_i <- c
"""

import numpy as np
from numba import njit

from halp_core import registry
from halp_core.kernels import FAST, vector_dot
from halp_core.losses import dloss
from halp_core.solvers import Solver


@njit(cache=True, fastmath=FAST, nogil=True)
def saga_epoch_linear(X, y, w, phi, u, lam, alpha, idx, kind):
    """One SAGA epoch in place on w (d,), phi (n,) float64 and u (d,): X (n, d) and w, u of one
    float dtype; y (n,) float64; idx (T,) int64 sample order; kind: the loss code."""
    F = w.dtype.type
    n = X.shape[0]
    shrink, av = F(alpha * lam), F(alpha)
    for t in range(idx.shape[0]):
        i = idx[t]
        c = dloss(kind, np.float64(vector_dot(X[i], w)), y[i])
        change = c - phi[i]
        coef, share = F(alpha * change), F(change / n)
        for j in range(w.shape[0]):
            w[j] -= shrink * w[j] + coef * X[i, j] + av * u[j]
            u[j] += share * X[i, j]
        phi[i] = c


class Saga(Solver):
    """``saga`` in float64 or float32 (dtype: ``check_precision``'s answer); linear models only
    (ValueError for a multinomial problem). Other arguments as ``Solver``'s."""

    def __init__(self, problem, name, dtype, **options):
        super().__init__(problem, name, dtype.name.replace("float", "fp"), **options)
        if self.multinomial:
            raise ValueError(f"{name} solves linear models (least squares, binary logistic); "
                             f"{problem.name} is a multinomial one")
        if self.threads > 1:
            raise ValueError(f"{name} runs on one thread (its table is not shared safely), "
                             f"got threads={self.threads}")
        self.X = problem.X if dtype == np.float64 else problem.X32
        self.iterate = np.zeros(problem.d, dtype=dtype)
        self._u = np.zeros(problem.d, dtype=dtype)
        self._phi = np.zeros(problem.n)
        self._epoch(np.zeros(0, dtype=np.int64))   # compile before any timing

    @property
    def data(self):
        return self.X

    def _epoch(self, idx):
        saga_epoch_linear(self.X, self.problem.y, self.iterate, self._phi, self._u, self.problem.lam,
                          self.alpha, idx, self.kind)

    def run_epoch(self):
        """One epoch: T SAGA steps."""
        self._epoch(self.sample_order())
        self.saturations.append(0)
        self.epochs_done += 1


SPEC = registry.SolverSpec("saga", "SAGA", "full", registry.FLOAT_PRECISIONS, None, False, (),
                           Saga)
