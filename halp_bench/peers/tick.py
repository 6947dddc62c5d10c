"""tick peers: its C++ SVRG and SAGA in float64 and float32, and the float32 L2-prox rounding."""

import warnings

import numpy as np

from halp_core import validate

from halp_core.trajectory import timed_epochs

def solve(problem, step, epochs, seed, algorithm, dtype):
    """tick's C++ SVRG / SAGA, one epoch per ``_solver.solve()`` call (the loop tick's own
    verbose mode runs), a new permutation per epoch: with tick's uniform sampling
    (rand_type="unif") its SAGA converged to a point 4.3e-3 (relative) away from w* on a
    600-sample problem whatever the step, as if one sample were never drawn (docs/peers.md).
    float32: the L2 prox rounds step * lam to a multiple of 2^-23 (see tick_float32_lam); a warning
    says when the lam it then solves is more than 1% off ours."""
    from tick.linear_model import ModelLinReg, ModelLogReg
    from tick.prox import ProxL2Sq
    from tick.solver import SAGA, SVRG

    if dtype == np.float32:
        lam_eff = tick_float32_lam(step, problem.lam)
        if abs(lam_eff / problem.lam - 1) > 0.01:
            warnings.warn(f"tick's float32 L2 prox rounds step * lam = {step * problem.lam:.4g} to "
                          f"a multiple of 2^-23: it solves lam = {lam_eff:.6g} "
                          f"({lam_eff / problem.lam:.4f} x ours); peers.float32_exact_step(step, "
                          f"lam) = {_exact_or_none(step, problem.lam)} avoids it", RuntimeWarning,
                          stacklevel=4)
    model_cls = ModelLogReg if problem.kind == "logistic" else ModelLinReg
    model = model_cls(fit_intercept=False).fit(problem.X.astype(dtype), problem.y.astype(dtype))
    solver = (SVRG if algorithm == "svrg" else SAGA)(step=step, tol=0.0, max_iter=epochs,
                                                     verbose=False, seed=seed, rand_type="perm")
    solver.set_model(model).set_prox(ProxL2Sq(strength=problem.lam))
    _, _, iterate, _ = solver._initialize_values(np.zeros(problem.d, dtype=dtype), step,
                                                  n_empty_vectors=1)
    solver._solver.set_starting_iterate(iterate)

    def current_w():
        solver._solver.get_minimizer(iterate)
        return iterate.astype(np.float64)

    return timed_epochs(solver._solver.solve, current_w, epochs)


_F32_ULP = 2.0 ** -23  # spacing of float32 numbers just above 1


def tick_float32_lam(step, lam):
    """The lam that tick's float32 solvers really apply at ``step``: their ProxL2Sq computes
    x / (1 + step * lam) in float32, where 1 + step * lam rounds to 1 + k 2^-23 (measured:
    step = 1/L_max on binary MNIST, lam = 1e-4, gives k = 11 for 11.46, lam_eff = 0.960 lam).
    step: finite > 0; lam: finite >= 0."""
    step, lam = validate.real(step, "step", positive=True), validate.real(lam, "lam", minimum=0)
    one_plus = np.float32(1.0) + np.float32(step) * np.float32(lam)
    return (float(one_plus) - 1.0) / step


def float32_exact_step(step, lam):
    """The largest step <= ``step`` with step * lam a whole multiple of 2^-23, at which tick's
    float32 L2 prox applies exactly lam (:func:`tick_float32_lam`). ValueError when
    step * lam < 2^-23 (the float32 prox would not regularize at all)."""
    step, lam = validate.real(step, "step", positive=True), validate.real(lam, "lam", positive=True)
    k = np.floor(step * lam / _F32_ULP)
    if k < 1:
        raise ValueError(f"step * lam = {step * lam:.3g} is below float32's resolution at 1 "
                         f"(2^-23 = {_F32_ULP:.3g}): no step <= {step:.3g} is exact")
    return float(k * _F32_ULP / lam)


def _exact_or_none(step, lam):
    try:
        return f"{float32_exact_step(step, lam):.6g}"
    except ValueError:
        return "none (step * lam < 2^-23)"
