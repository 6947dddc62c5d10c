"""halp_core.solvers.low_precision: LP-SGD's and LP-SVRG's first epochs against the NumPy twin
(tests/solver_twins.py) through make_solver, their default grid scale, what they refuse (data
they cannot read, more coordinates than float32 counts), and an anchor beyond float64's range
reported as a divergence. (The float32 anchor pass: test_float32_anchor.py.)"""

import numpy as np
import pytest
import solver_twins

from halp_core import datasets, make_solver, solve
from halp_core.problems import LeastSquares


@pytest.mark.parametrize("kind", solver_twins.KINDS)
@pytest.mark.parametrize("solver,precision", [("lp-sgd", 16), ("lp-svrg", 16), ("lp-sgd", 8),
                                              ("lp-svrg", 8)])
def test_solver_epochs_match_reference(kind, solver, precision):
    solver_twins.check_epochs(kind, solver, precision)


def test_lp_default_scale_covers_the_optimum():
    prob = solver_twins.problem("least_squares")
    run = make_solver(prob, "lp-sgd", precision=8, step=0.01)
    assert np.isclose(run.scale * 127, 2 * np.abs(prob.w_star).max())


def test_lp_solvers_refuse_more_coordinates_than_float32_counts_exactly(monkeypatch):
    from halp_core.solvers import low_precision
    monkeypatch.setattr(low_precision, "MAX_F32_COORDS", 8)
    prob = solver_twins.problem("multinomial")   # 8 x 3 weights
    for solver, bits in (("halp", 8), ("lp-sgd", 16)):
        with pytest.raises(ValueError, match="at most 8 weight coordinates"):
            make_solver(prob, solver, precision=bits, step=0.01)
    make_solver(solver_twins.problem("least_squares"), "halp", precision=16, step=0.01)   # d = 8 fits


def test_lp_solver_needs_quantized_data():
    prob = LeastSquares(np.eye(3), np.ones(3), 0.1, data_bits=None)
    with pytest.raises(ValueError, match="data_bits"):
        solve(prob, "lp-sgd", precision=8, step=0.1, epochs=1, scale=0.1)


def test_fixed_point_solvers_refuse_float_format_data():
    prob = datasets.synthetic_least_squares(40, 5, lam=1e-2, noise=0.1, seed=0, data_bits="bf16")
    with pytest.raises(ValueError, match="carries bf16 data"):
        make_solver(prob, "halp", precision=8, step=0.1)


def test_anchor_gradient_beyond_float64s_range_makes_the_iterate_nan():
    """An LP-SVRG anchor far beyond float64's range of a full gradient (a huge step saturates every
    coordinate, then the grid scale is set to 1e306 / 127): the anchor's gradient overflows, and
    the iterate becomes NaN, so that solve() reports the divergence and stops instead of rounding
    NaN moves into integers."""
    prob = datasets.synthetic_least_squares(200, 8, lam=1e-2, noise=0.1, seed=1)
    lp = make_solver(prob, "lp-svrg", precision=8, step=1e3 / prob.L_max)
    lp.run_epoch()
    assert set(np.abs(lp.w / lp.scale)) <= {127.0, 128.0}   # every coordinate saturated
    lp.scale = 1e306 / 127
    lp.run_epoch()
    assert np.isnan(lp.w).all()
