"""halp_core.solvers.halp: HALP's first epochs against the NumPy twin (tests/solver_twins.py)
through make_solver; mu="auto" without lam; an anchor beyond float32's range (float64 takes over)
and beyond float64's (a loud divergence); the multinomial anchor's class mean, removed after
every epoch: exact, and it lets HALP-8 use its bits on digits; and the moved-anchor pass, as
accurate as the float64 pass it stands in for."""

import numpy as np
import pytest
import solver_twins

from halp_core import datasets, make_solver, solve
from halp_core.problems import LeastSquares


@pytest.mark.parametrize("kind", solver_twins.KINDS)
@pytest.mark.parametrize("precision", [16, 8, 4])
def test_solver_epochs_match_reference(kind, precision):
    solver_twins.check_epochs(kind, "halp", precision)

EPOCHS = 50
SEEDS = range(5)


@pytest.fixture(scope="module")
def digits():
    prob = datasets.digits(lam=1e-3)
    prob.w_star  # noqa: B018
    return prob


def test_removing_the_class_mean_leaves_the_softmax_and_only_lowers_the_l2_term(digits):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(digits.weight_shape)
    mean = w.mean(axis=1, keepdims=True)
    centred = w - mean
    data = digits.loss(w) - 0.5 * digits.lam * np.sum(w * w)
    data_centred = digits.loss(centred) - 0.5 * digits.lam * np.sum(centred * centred)
    assert data_centred == pytest.approx(data, rel=1e-13)
    drop = 0.5 * digits.lam * digits.n_classes * np.sum(mean * mean)
    assert digits.loss(w) - digits.loss(centred) == pytest.approx(drop, rel=1e-9)
    # the optimum of the lam-regularized objective has zero class mean
    assert np.abs(digits.w_star.mean(axis=1)).max() < 1e-9 * np.abs(digits.w_star).max()


def _final(prob, seed, remove):
    run = make_solver(prob, "halp", precision=8, step=1.0 / prob.L_max, seed=seed)
    run.remove_class_mean = remove
    for _ in range(EPOCHS):
        run.run_epoch()
        if remove:
            assert np.abs(run.center.mean(axis=1)).max() <= 1e-12 * np.abs(run.center).max()
    return prob.suboptimality(run.w)


def test_halp8_on_digits_improves_and_reaches_1e_8(digits):
    """Median over five seeds of f - f* after 50 epochs (mu="auto", step 1 / L_max); measured
    3.8e-9 with the centring against 2.2e-8 without."""
    kept = np.median([_final(digits, s, True) for s in SEEDS])
    plain = np.median([_final(digits, s, False) for s in SEEDS])
    print(f"HALP-8 on digits, median f - f* after {EPOCHS} epochs: {kept:.2e} with the class "
          f"mean removed, {plain:.2e} without")
    assert kept < plain / 2
    assert kept <= 1e-8


def test_halp_without_lambda_uses_auto_mu_and_refuses_mu_zero():
    prob = LeastSquares(np.eye(3), np.ones(3), 0.0)
    res = solve(prob, "halp", precision=8, step=0.1, epochs=1)   # mu="auto" needs no lam
    assert res.settings["mu"] == "auto" and np.isfinite(res.history.loss).all()
    with pytest.raises(ValueError, match="mu must be a finite number > 0"):
        solve(prob, "halp", precision=8, step=0.1, epochs=1, mu=0.0)


def test_anchor_beyond_float32_range_uses_float64_and_overflow_is_a_loud_divergence():
    """A diverging HALP run grows its anchor past float32's range long before float64's: the
    float32 pass then overflows and the float64 one gives the gradient (it used to crash the
    auto-mu update with 'g_new contains NaN'): the epoch's mu and grid scale are finite. When even
    float64 overflows, the iterate becomes NaN, and solve() reports the divergence and stops."""
    prob = datasets.synthetic_least_squares(200, 8, lam=1e-2, noise=0.1, seed=1)
    s = make_solver(prob, "halp", precision=8, step=0.5 / prob.L_max)
    s.run_epoch()
    s.center[...] = 1e35
    s.run_epoch()
    assert np.isfinite(s.w).all() and np.isfinite(s.scale) and s.scale > 0
    assert np.isfinite(s.mus[-1])   # the auto rule ran on a finite gradient
    s.center[...] = 1e306
    s.run_epoch()
    assert np.isnan(s.w).all()


def _moved_anchor_errors(prob, precision, monkeypatch, epochs=40):
    """(errors, gradient norms, solver): for every moved-anchor pass of a HALP run (step 0.5 /
    L_max), ||g~ - grad f(center)|| against float64's gradient at the anchor it stands for."""
    from halp_core.solvers import halp

    found, norms = [], []
    real = halp.moved_grad_linear
    run = None

    def spy(*args, **kw):
        out = real(*args, **kw)
        if run is None:   # make_solver compiling it
            return out
        want = prob.grad(run.center)
        found.append(float(np.linalg.norm(args[9] - want)))
        norms.append(float(np.linalg.norm(want)))
        return out

    monkeypatch.setattr(halp, "moved_grad_linear", spy)
    run = make_solver(prob, "halp", precision=precision, step=0.5 / prob.L_max, seed=1)
    for _ in range(epochs):
        run.run_epoch()
    return np.array(found), np.array(norms), run


@pytest.mark.parametrize("precision", [8, 16])
@pytest.mark.parametrize("kind", ["least_squares", "logistic"])
def test_the_moved_anchor_gradient_is_as_accurate_as_the_float64_pass_needs(kind, precision,
                                                                            monkeypatch):
    """Once the anchor's gradient is float64 for good, a linear model's takes the moved-anchor
    pass (integer dots of the offset, float32 sums of the derivatives' changes): each g~ is
    within 1 / FLOAT32_MARGIN (x2, the error estimate's slack) of float64's gradient at the
    anchor, or at float64's own resolution of it, and HALP ends at float64's floor. With the
    estimate of the float32 sums' error 16 times smaller (no sqrt(FLUSH_ROWS)), g~ carries 1e-12
    while ||g|| falls to 1e-10: this fails."""
    from halp_core.solvers import low_precision

    prob = (datasets.synthetic_least_squares(2000, 30, lam=1e-3, noise=0.1, seed=2)
            if kind == "least_squares" else datasets.synthetic_logistic(2000, 30, lam=1e-3, seed=2))
    errors, norms, run = _moved_anchor_errors(prob, precision, monkeypatch)
    assert len(errors) >= 20                                   # most epochs after the switch
    resolution = 100 * np.finfo(float).eps * np.linalg.norm(prob.grad(np.zeros(prob.d)))
    allowed = np.maximum(2 * norms / low_precision.FLOAT32_MARGIN, resolution)
    assert (errors <= allowed).all(), np.column_stack([errors, norms])[errors > allowed]
    assert np.linalg.norm(prob.grad(run.w)) <= 10 * resolution


def test_the_moved_anchor_pass_is_for_fixed_point_linear_models_only(monkeypatch):
    """A float-format offset (its values are not integers) and a multinomial anchor (its class
    mean moves it by more than s k) keep the float64 pass: both runs reach a gradient float32
    could not resolve, so they were in the float64 phase, without a moved-anchor pass."""
    from halp_core.problems import Multinomial

    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 8))
    labels = np.argmax(X @ rng.standard_normal((8, 4)) + rng.gumbel(size=(400, 4)), axis=1)
    cases = ((datasets.synthetic_least_squares(2000, 30, lam=1e-3, noise=0.1, seed=2), "bf16"),
             (Multinomial(X, labels, 5e-2, n_classes=4), 8))
    for prob, precision in cases:
        moved, _, run = _moved_anchor_errors(prob, precision, monkeypatch)
        assert len(moved) == 0
        assert np.linalg.norm(prob.grad(run.w)) < 1e-12
