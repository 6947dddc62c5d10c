"""halp_core.solvers.full_precision: SGD's and SVRG's epoch kernels against the NumPy twin
(tests/reference.py) on random inputs, and the solvers' first epochs against the twin assembled
in tests/solver_twins.py, through make_solver."""

import numpy as np
import pytest
import reference as ref
import solver_twins

from halp_core.kernels import sample_table
from halp_core.solvers.full_precision import fp_epoch_linear, fp_epoch_multinomial


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
        fp_epoch_linear(X, sample_table(y, r=r), w, v, 0.05, 0.05, idx, kind)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(w, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", solver_twins.KINDS)
@pytest.mark.parametrize("solver,precision", [("sgd", "fp64"), ("sgd", "fp32"), ("svrg", "fp64"),
                                              ("svrg", "fp32")])
def test_solver_epochs_match_reference(kind, solver, precision):
    solver_twins.check_epochs(kind, solver, precision)
