"""Whole solvers against their NumPy twins (imported as ``solver_twins``: tests/ is on the path).

``reference_run`` writes each solver of docs/design.md section 4 with the kernel twins of
tests/reference.py; ``check_epochs`` runs the real solver through the public API
(``make_solver``, ``run_epoch``, ``w``) for two epochs and compares. The family test files
(tests/halp_core/solvers/test_full_precision.py, test_low_precision.py, test_halp.py) each run
their own solvers' cases.
"""

import numpy as np

import reference as ref
from halp_core import datasets, fixed_point, make_solver, random_bits
from halp_core.problems import Multinomial

KINDS = ("least_squares", "logistic", "multinomial")
STEP, MU, SCALE, SEED = 0.2, 0.2, 0.02, 3   # step in units of 1 / L_max


def problem(kind):
    """A 120 x 8 problem of ``kind`` (one of KINDS), lam 0.05, 8-bit data."""
    if kind == "least_squares":
        return datasets.synthetic_least_squares(120, 8, lam=0.05, noise=0.1, seed=0)
    if kind == "logistic":
        return datasets.synthetic_logistic(120, 8, lam=0.05, seed=0)
    rng = np.random.default_rng(0)
    return Multinomial(rng.standard_normal((120, 8)), rng.integers(0, 3, 120), 0.05)


def indices(seed, n, epochs, sampling):
    """The sample order of each epoch as halp_core.solvers.base.draw_indices draws it with T = n."""
    rng = np.random.default_rng(seed)
    if sampling == "uniform":
        return [rng.integers(0, n, size=n) for _ in range(epochs)]
    return [rng.permutation(n) for _ in range(epochs)]


def reference_run(prob, solver, bits, step, epochs, mu, scale, seed, sampling):
    """The iterate (float64, the weight shape) of ``solver`` after ``epochs`` epochs of n steps
    from w = 0, written with the NumPy reference kernels; bits: the fixed-point width (None for
    sgd / svrg)."""
    kind = "multinomial" if prob.kind == "multinomial" else (0 if prob.kind == "least_squares" else 1)
    y = prob.labels if prob.kind == "multinomial" else prob.y
    zeros_n = np.zeros((prob.n, prob.n_classes) if prob.kind == "multinomial" else prob.n)
    zeros_w = np.zeros(prob.weight_shape)
    key = random_bits.seed_key(seed)
    top = 2 ** (bits - 1) - 1 if bits else None

    def full_grad(X, x_scale, w):
        if kind == "multinomial":
            return ref.full_grad_multinomial(X, x_scale, y, w, prob.lam)
        return ref.full_grad_linear(X, x_scale, y, w, prob.lam, kind)

    k_dtype = fixed_point.storage_dtype(bits) if bits else None

    def lp_epoch(k, *args):
        """ref.lp_epoch on k of the storage dtype (the lane width follows it); multinomial
        iterates go in as K^T, as the kernel takes them."""
        if kind == "multinomial":
            out, sat = ref.lp_epoch(prob.Xq, prob.x_scale, y, k.T.astype(k_dtype), *args)
            return out.T, sat
        return ref.lp_epoch(prob.Xq, prob.x_scale, y, k.astype(k_dtype), *args)

    w, k, center = zeros_w.copy(), zeros_w.astype(np.int64), zeros_w.copy()
    for epoch, idx in enumerate(indices(seed, prob.n, epochs, sampling)):
        step0 = epoch * prob.n
        if solver == "sgd":
            w = ref.fp_epoch(prob.X, y, w, zeros_n, zeros_w, prob.lam, step, idx, kind)
        elif solver == "svrg":
            _, r, g = full_grad(prob.X, 1.0, w)
            w = ref.fp_epoch(prob.X, y, w, r, g - prob.lam * w, prob.lam, step, idx, kind)
        elif solver == "lp-sgd":
            k, _ = lp_epoch(k, scale, zeros_n, zeros_n, zeros_w, prob.lam, step, idx, kind, key,
                            step0, bits)
        elif solver == "lp-svrg":
            anchor = scale * k
            _, r, g = full_grad(prob.Xq, prob.x_scale, anchor)
            vg = step / scale * (g - prob.lam * anchor)
            k, _ = lp_epoch(k, scale, zeros_n, r, vg, prob.lam, step, idx, kind, key, step0,
                            bits)
        else:  # halp: bit centering, then the inner loop on the offset
            a, r, g = full_grad(prob.Xq, prob.x_scale, center)
            scale = np.linalg.norm(g) / (mu * top)
            z, _ = lp_epoch(np.zeros_like(k), scale, a, r, step / scale * g, prob.lam, step, idx,
                            kind, key, step0, bits)
            center = center + scale * z
            if kind == "multinomial":   # the anchor's class mean is removed (exact)
                center = center - center.mean(axis=1, keepdims=True)
    if solver in ("sgd", "svrg"):
        return w
    return center if solver == "halp" else scale * k


def check_epochs(kind, solver, precision):
    """Two epochs of ``solver`` at ``precision`` (step STEP / L_max, seed SEED, halp's mu MU,
    lp-sgd / lp-svrg's scale SCALE) on ``problem(kind)`` match ``reference_run``: to float64
    rounding for fp64 and 16 bits, float32's for fp32; on coarse grids within 4 grid steps (rare
    one-step flips from float32 rounding, see solvers/test_fixed_grid.py)."""
    prob = problem(kind)
    step = STEP / prob.L_max
    bits = precision if isinstance(precision, int) else None
    kwargs = (dict(mu=MU) if solver == "halp" else dict(scale=SCALE) if solver.startswith("lp")
              else {})
    run = make_solver(prob, solver, precision=precision, step=step, seed=SEED, **kwargs)
    run.run_epoch()
    run.run_epoch()
    expected = reference_run(prob, solver, bits, step, 2, MU, SCALE, SEED, "uniform")
    if precision == "fp64":
        np.testing.assert_allclose(run.w, expected, rtol=1e-9, atol=1e-12)
    elif precision == "fp32":
        np.testing.assert_allclose(run.w, expected, rtol=1e-3, atol=1e-5)
    elif bits == 16:  # a 16-bit grid step is tiny: float32 rounding flips no integer here, but
        # HALP's anchor gradient (float32 far from the optimum, docs/design.md) moves its grid
        # scale s, and with it every offset, by about float32's resolution
        rtol = 1e-6 if solver == "halp" else 1e-9
        np.testing.assert_allclose(run.w, expected, rtol=rtol, atol=1e-12)
    else:
        grid = SCALE if solver != "halp" else np.abs(expected).max() / 2 ** (bits - 1)
        assert np.abs(run.w - expected).max() <= 4 * max(grid, 1e-3)
