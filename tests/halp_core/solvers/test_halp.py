"""Multinomial HALP removes its anchor's class mean after every epoch (halp_core.solvers,
HalpSolver._end_epoch): exact, and it lets HALP-8 use its bits on digits."""

import numpy as np
import pytest

from halp_core import datasets, make_solver

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
