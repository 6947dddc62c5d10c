"""halp_core.solvers.full_gradient: the full-gradient pass (linear and multinomial, float and
integer data, one or two row blocks) and the moved-anchor pass against the NumPy twin
(tests/reference.py)."""

import numba
import numpy as np
import pytest
import reference as ref

from halp_core.solvers.full_gradient import (full_grad_linear, full_grad_multinomial,
                                             moved_grad_linear)


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


@pytest.mark.parametrize("blocks", [1, TWO_THREADS])
@pytest.mark.parametrize("kind", [0, 1])
@pytest.mark.parametrize("data, offset", [("int8", "int8"), ("int8", "int16"), ("int16", "int16")])
def test_moved_grad_linear_is_the_pass_at_the_moved_anchor(kind, data, offset, blocks):
    """From the float64 pass at w, the moved-anchor pass gives the margins, derivatives and
    gradient at w + s k, as the twin computes them there, and returns ||r_new - r_old||. Its
    float32 sum rounds relative to the change of the derivatives, not to the gradient: after a
    large move, a move a million times smaller adds a million times less error."""
    rng = np.random.default_rng(7)
    n, d = 300, 45
    X = rng.integers(-100, 100, (n, d)).astype(data)
    x_scale = 0.01
    y = rng.standard_normal(n) if kind == 0 else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    w = rng.standard_normal(d) * 0.1
    a, r, g = np.zeros(n), np.zeros(n), np.zeros(d)
    full_grad_linear(X, x_scale, y, w, 0.1, kind, a, r, g)
    r_old = r.copy()
    k = rng.integers(-120, 121, d).astype(offset)
    allowed = 1e-15   # the error in g adds up over the moves
    for s in (1e-3, 1e-9):
        change = moved_grad_linear(X, x_scale, y, k, s, 0.1, kind, a, r, g, blocks=blocks)
        w = w + s * k
        a_ref, r_ref, g_ref = ref.full_grad_linear(X, x_scale, y, w, 0.1, kind)
        np.testing.assert_allclose(a, a_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r, r_ref, rtol=1e-12, atol=1e-12)
        assert change == pytest.approx(np.linalg.norm(r_ref - r_old), rel=1e-6)
        # float32 sums of changes of size |dr|: their rounding, not float32's of g itself
        allowed += 1e-6 * np.abs(r_ref - r_old).max() * np.abs(X).max() * x_scale
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=allowed)
        r_old = r.copy()
