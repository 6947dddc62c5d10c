"""halp_core.bit_budget: the predicted bit requirement and the curvature it rests on."""

import math

import numpy as np
import pytest

from halp_core import bit_budget, datasets, problems
from halp_core.bit_budget import bits_for, bits_needed, smallest_curvature


@pytest.mark.parametrize("kappa, d, bits", [(1.0, 1, 2), (127.0, 1, 8), (127.01, 1, 9),
                                            (12.7, 100, 8), (1e4, 640, 19), (3.0, 1, 3)])
def test_bits_for_is_the_smallest_width_meeting_the_rule(kappa, d, bits):
    assert bits_for(kappa, d) == bits
    need = kappa * math.sqrt(d)
    assert 2 ** (bits - 1) - 1 >= need
    assert bits == 2 or 2 ** (bits - 2) - 1 < need


def test_least_squares_curvature_is_the_gram_matrix_smallest_eigenvalue_plus_lam():
    prob = datasets.synthetic_least_squares(300, 12, lam=1e-2, noise=0.1, seed=0, cond=50.0)
    expected = np.linalg.eigvalsh(prob.X.T @ prob.X / prob.n)[0] + prob.lam
    value, source = smallest_curvature(prob)
    assert value == pytest.approx(expected, rel=1e-10) and source.startswith("exact")
    budget = bits_needed(prob)
    assert budget.kappa == pytest.approx(prob.L_max / expected, rel=1e-10)
    assert budget.d == 12 and budget.bits == bits_for(budget.kappa, 12)
    assert budget.fits == (budget.bits <= 16) and budget.rule == bit_budget.RULE


def test_lanczos_agrees_with_the_dense_eigenvalues(monkeypatch):
    prob = datasets.synthetic_logistic(400, 30, lam=1e-2, seed=1, cond=20.0)
    dense = smallest_curvature(prob)[0]
    monkeypatch.setattr(bit_budget, "DENSE_MAX_D", 5)
    assert smallest_curvature(prob)[0] == pytest.approx(dense, rel=1e-6)


def test_logistic_bound_is_lam_and_below_the_exact_curvature():
    prob = datasets.synthetic_logistic(300, 10, lam=1e-3, seed=0)
    exact, _ = smallest_curvature(prob)
    bound, source = smallest_curvature(prob, method="bound")
    assert bound == prob.lam < exact and source == "lower bound: lam"
    assert bits_needed(prob, mu_min="bound").bits >= bits_needed(prob).bits


def test_multinomial_curvature_is_lam_along_class_means():
    """A class-mean direction V = v 1^T gets no curvature from the softmax: H V = lam V."""
    prob = datasets.digits(lam=1e-3)
    rng = np.random.default_rng(0)
    v = np.outer(rng.standard_normal(prob.d), np.ones(prob.n_classes))
    w = 0.1 * rng.standard_normal(prob.weight_shape)
    np.testing.assert_allclose(prob.hessp(w, v), prob.lam * v, rtol=1e-12, atol=1e-15)
    budget = bits_needed(prob)
    live = bit_budget.live_features(prob)
    assert live.sum() == prob.d - 3                    # three pixels are 0 in every image
    assert budget.mu_min == prob.lam and budget.d == live.sum() * prob.n_classes
    assert budget.bits == 20 and not budget.fits      # kappa ~ 1.15e4, kappa sqrt(640) ~ 2.9e5


def test_given_curvature_and_widths():
    prob = datasets.synthetic_least_squares(100, 5, lam=1e-2, noise=0.1, seed=0)
    budget = bits_needed(prob, mu_min=prob.L_max / 100.0, max_bits=8)
    assert budget.mu_source == "given" and budget.kappa == pytest.approx(100.0)
    assert budget.bits == bits_for(100.0, 5) == 9 and not budget.fits
    assert budget.kappa_sqrt_d == pytest.approx(100.0 * math.sqrt(5))


def test_bad_input_is_named():
    prob = datasets.synthetic_least_squares(100, 5, lam=1e-2, noise=0.1, seed=0)
    with pytest.raises(TypeError, match="problem"):
        bits_needed("digits")
    with pytest.raises(ValueError, match="method"):
        bits_needed(prob, mu_min="smallest")
    with pytest.raises(ValueError, match="multinomial"):
        smallest_curvature(prob, method="centered")
    with pytest.raises(ValueError, match="mu_min"):
        bits_needed(prob, mu_min=-1.0)
    with pytest.raises(ValueError, match="max_bits"):
        bits_needed(prob, max_bits=1)
    flat = problems.LeastSquares(np.ones((4, 3)), np.ones(4), 0.0, data_bits=None)
    with pytest.raises(ValueError, match="not strongly convex"):
        bits_needed(flat)
    with pytest.raises(ValueError, match="kappa"):
        bits_for(0.5, 3)


def test_features_zero_in_every_sample_are_left_out():
    """A zero column adds a lam-only direction, decoupled from the rest: it would set mu_min to lam,
    but its weight stays exactly 0, so it is left out of mu_min and d."""
    prob = datasets.synthetic_least_squares(200, 6, lam=1e-3, noise=0.1, seed=0, data_bits=None)
    X = np.hstack([prob.X, np.zeros((prob.n, 1))])
    padded = problems.LeastSquares(X, prob.y, prob.lam, data_bits=None)
    assert padded.hessp(np.zeros(7), np.eye(7)[6]) == pytest.approx(prob.lam * np.eye(7)[6])
    assert smallest_curvature(padded)[0] == pytest.approx(smallest_curvature(prob)[0])
    assert smallest_curvature(padded)[0] > 10 * prob.lam and bits_needed(padded).d == 6
    with pytest.raises(ValueError, match="every feature is zero"):
        bits_needed(problems.LeastSquares(np.zeros((3, 2)), np.ones(3), 1.0, data_bits=None))


# ---- library errors named, not leaked (issue 23) ----------------------------------------------

_RNG = np.random.default_rng(0)
_X, _Y = _RNG.standard_normal((50, 4)), _RNG.standard_normal(50)


def test_a_linear_algebra_failure_is_named(monkeypatch):
    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")
    monkeypatch.setattr(np.linalg, "eigvalsh", fail)
    with pytest.raises(ValueError, match=r"least_squares: the smallest curvature \(method='auto'\) "
                                         r"failed \(LinAlgError: Eigenvalues did not converge\)"
                       ) as caught:
        bits_needed(problems.LeastSquares(_X, _Y, 1e-2))
    assert type(caught.value) is ValueError


def test_huge_but_finite_settings_get_answers_not_library_errors():
    with pytest.raises(ValueError, match="overflows float64: no number of bits"):
        bit_budget.bits_for(1e308, 10**6)
    budget = bits_needed(problems.LeastSquares(_X, _Y, 1e308))   # lam + X^T X / n: no overflow
    assert budget.kappa == pytest.approx(1.0) and budget.bits == 3   # 2^2 - 1 >= 1 x sqrt(4)
