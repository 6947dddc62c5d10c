"""Bad input gets a ValueError / TypeError whose message names the problem."""

import numpy as np
import pytest

from halp_core import datasets, solve
from halp_core.problems import BinaryLogistic, LeastSquares, Multinomial


@pytest.fixture(scope="module")
def prob():
    return datasets.synthetic_least_squares(50, 4, lam=0.1, noise=0.1, seed=0)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(solver="adam", precision="fp64"), ValueError, "unknown solver 'adam'"),
    (dict(solver="halp", precision=1), ValueError, "bits must be between 2 and 16"),
    (dict(solver="lp-sgd", precision=17), ValueError, "bits must be between 2 and 16"),
    (dict(solver="sgd", precision=8), ValueError, "sgd runs in 'fp64' or 'fp32'"),
    (dict(solver="svrg", precision=16), ValueError, "svrg runs in 'fp64' or 'fp32'"),
    (dict(solver="halp", precision="fp32"), ValueError, "low-precision solver"),
    (dict(solver="lp-svrg", precision="fp64"), ValueError, "low-precision solver"),
    (dict(solver="halp", precision=8.0), TypeError, "bits must be an int"),
    (dict(solver="svrg", precision="fp16"), ValueError, "'fp64' or 'fp32'"),
    (dict(solver="svrg", precision="fp64", step=0.0), ValueError, "step must be a finite number > 0"),
    (dict(solver="svrg", precision="fp64", step=-1e-3), ValueError, "step must be"),
    (dict(solver="svrg", precision="fp64", step=float("nan")), ValueError, "step must be"),
    (dict(solver="svrg", precision="fp64", epochs=0), ValueError, "epochs must be >= 1"),
    (dict(solver="svrg", precision="fp64", epochs=2.5), TypeError, "epochs must be an int"),
    (dict(solver="halp", precision=8, mu=-1.0), ValueError, "mu must be"),
    (dict(solver="svrg", precision="fp64", mu=1.0), ValueError, "takes no mu"),
    (dict(solver="lp-sgd", precision=8, scale=0.0), ValueError, "scale must be"),
    (dict(solver="halp", precision=8, scale=0.1), ValueError, "takes no scale"),
    (dict(solver="sgd", precision="fp64", sampling="cyclic"), ValueError, "sampling must be one of"),
    (dict(solver="sgd", precision="fp64", seed=-1), ValueError, "seed must be >= 0"),
    (dict(solver="svrg", precision="fp64", threads=0), ValueError, "threads must be >= 1"),
    (dict(solver="halp", precision=8, threads=2.0), TypeError, "threads must be an int"),
    (dict(solver="halp", precision=8, threads=10**6), ValueError, "threads must be at most"),
])
def test_bad_solver_arguments(prob, kwargs, error, match):
    args = dict(step=1e-2, epochs=1) | kwargs
    with pytest.raises(error, match=match):
        solve(prob, args.pop("solver"), **args)


def test_not_a_problem():
    with pytest.raises(TypeError, match="problem must be a halp_core Problem"):
        solve(np.zeros((3, 3)), "sgd", precision="fp64", step=0.1, epochs=1)


def test_halp_without_lambda_uses_auto_mu_and_refuses_mu_zero():
    prob = LeastSquares(np.eye(3), np.ones(3), 0.0)
    res = solve(prob, "halp", precision=8, step=0.1, epochs=1)   # mu="auto" needs no lam
    assert res.settings["mu"] == "auto" and np.isfinite(res.history.loss).all()
    with pytest.raises(ValueError, match="mu must be a finite number > 0"):
        solve(prob, "halp", precision=8, step=0.1, epochs=1, mu=0.0)


def test_lp_solver_needs_quantized_data():
    prob = LeastSquares(np.eye(3), np.ones(3), 0.1, data_bits=None)
    with pytest.raises(ValueError, match="data_bits"):
        solve(prob, "lp-sgd", precision=8, step=0.1, epochs=1, scale=0.1)


@pytest.mark.parametrize("X,y,match", [
    (np.array([[1.0, np.nan], [0.0, 1.0]]), [1.0, 2.0], "X contains NaN or inf"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), [1.0, 2.0], "X contains NaN or inf"),
    (np.eye(2), [1.0, np.nan], "y contains NaN or inf"),
    (np.eye(3), [1.0, 2.0], "X has 3 rows but y has 2 entries"),
    (np.zeros((0, 3)), [], "X is empty"),
    (np.zeros((3, 0)), [1.0, 2.0, 3.0], "X is empty"),
    (np.ones(3), [1.0, 2.0, 3.0], "X must be 2-D"),
    (np.eye(2), [[1.0, 2.0]], "y must be 1-D"),
    ([["a", "b"]], [1.0], "X must be a numeric array"),
])
def test_bad_data(X, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        LeastSquares(X, y, 0.1)


@pytest.mark.parametrize("lam,error", [(-0.1, ValueError), (float("nan"), ValueError),
                                        ("0.1", TypeError)])
def test_bad_lambda(lam, error):
    with pytest.raises(error, match="lam"):
        LeastSquares(np.eye(2), [1.0, 2.0], lam)
    with pytest.raises(error, match="lam"):
        datasets.digits(lam=lam)


def test_labels_outside_the_problem_set():
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        BinaryLogistic(np.eye(3), [0.0, 1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        Multinomial(np.eye(3), [0, 1, 3], 0.1, n_classes=3)
    with pytest.raises(ValueError, match="labels must lie in"):
        Multinomial(np.eye(3), [0, -1, 1], 0.1)
    with pytest.raises(ValueError, match="integers"):
        Multinomial(np.eye(3), [0, 1.5, 1], 0.1)


def test_bad_data_bits_and_sizes():
    with pytest.raises(ValueError, match="bits must be between 2 and 16"):
        LeastSquares(np.eye(2), [1.0, 2.0], 0.1, data_bits=1)
    with pytest.raises(ValueError, match="n must be >= 1"):
        datasets.synthetic_least_squares(0, 3, lam=0.1, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="noise must be"):
        datasets.synthetic_least_squares(10, 3, lam=0.1, noise=-1.0, seed=0)


def test_wrong_weight_shape(prob):
    with pytest.raises(ValueError, match="weights must have shape \\(4,\\)"):
        prob.loss(np.zeros(5))
