"""Each solver's first epochs against the NumPy reference assembled from tests/reference.py, and
the contract of solve(): history columns, passes, timing, determinism, divergence."""

import numba
import numpy as np
import pandas as pd
import pytest
import reference as ref

from halp_core import SOLVERS, datasets, fixed_point, make_solver, random_bits, solve
from halp_core.problems import Multinomial


def _problem(kind):
    if kind == "least_squares":
        return datasets.synthetic_least_squares(120, 8, lam=0.05, noise=0.1, seed=0)
    if kind == "logistic":
        return datasets.synthetic_logistic(120, 8, lam=0.05, seed=0)
    rng = np.random.default_rng(0)
    return Multinomial(rng.standard_normal((120, 8)), rng.integers(0, 3, 120), 0.05)


def _indices(seed, n, epochs, sampling):
    rng = np.random.default_rng(seed)
    if sampling == "uniform":
        return [rng.integers(0, n, size=n) for _ in range(epochs)]
    return [rng.permutation(n) for _ in range(epochs)]


def _reference_run(prob, solver, bits, step, epochs, mu, scale, seed, sampling):
    """The solvers of docs/design.md section 4, written with the NumPy reference kernels."""
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
    for epoch, idx in enumerate(_indices(seed, prob.n, epochs, sampling)):
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


CASES = [("sgd", "fp64"), ("sgd", "fp32"), ("svrg", "fp64"), ("svrg", "fp32"),
         ("lp-sgd", 16), ("lp-svrg", 16), ("halp", 16), ("lp-sgd", 8), ("lp-svrg", 8), ("halp", 8),
         ("halp", 4)]


@pytest.mark.parametrize("kind", ["least_squares", "logistic", "multinomial"])
@pytest.mark.parametrize("solver,precision", CASES)
def test_solver_epochs_match_reference(kind, solver, precision):
    prob = _problem(kind)
    step, mu, scale, seed = 0.2 / prob.L_max, 0.2, 0.02, 3
    bits = precision if isinstance(precision, int) else None
    kwargs = dict(mu=mu) if solver == "halp" else dict(scale=scale) if solver.startswith("lp") else {}
    run = make_solver(prob, solver, precision=precision, step=step, seed=seed, **kwargs)
    run.run_epoch()
    run.run_epoch()
    expected = _reference_run(prob, solver, bits, step, 2, mu, scale, seed, "uniform")
    if precision == "fp64":
        np.testing.assert_allclose(run.w, expected, rtol=1e-9, atol=1e-12)
    elif precision == "fp32":
        np.testing.assert_allclose(run.w, expected, rtol=1e-3, atol=1e-5)
    elif bits == 16:  # a 16-bit grid step is tiny: float32 rounding flips no integer here, but
        # HALP's anchor gradient (float32 far from the optimum, docs/design.md) moves its grid
        # scale s, and with it every offset, by about float32's resolution
        rtol = 1e-6 if solver == "halp" else 1e-9
        np.testing.assert_allclose(run.w, expected, rtol=rtol, atol=1e-12)
    else:  # coarse grids: rare one-step flips from float32 rounding (see test_kernels.test_lp_epoch)
        grid = scale if solver != "halp" else np.abs(expected).max() / 2 ** (bits - 1)
        assert np.abs(run.w - expected).max() <= 4 * max(grid, 1e-3)


def test_permutation_sampling_matches_reference():
    prob = _problem("least_squares")
    run = make_solver(prob, "svrg", precision="fp64", step=0.1 / prob.L_max, seed=5,
                      sampling="permutation")
    run.run_epoch()
    expected = _reference_run(prob, "svrg", None, 0.1 / prob.L_max, 1, None, None, 5, "permutation")
    np.testing.assert_allclose(run.w, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver,precision", [("sgd", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8),
                                              ("lp-svrg", 8), ("halp", 8)])
def test_history_contract(solver, precision):
    prob = _problem("logistic")
    res = solve(prob, solver, precision=precision, step=0.5 / prob.L_max, epochs=4, seed=1)
    h = res.history
    assert isinstance(h, pd.DataFrame)
    assert list(h.columns) == ["epoch", "passes", "seconds", "loss", "subopt", "grad_norm", "dist"]
    assert h.epoch.tolist() == [0, 1, 2, 3, 4]
    per_epoch = 2.0 if solver in ("svrg", "lp-svrg", "halp") else 1.0
    assert np.allclose(h.passes, per_epoch * h.epoch)
    assert h.seconds.iloc[0] == 0 and (np.diff(h.seconds) > 0).all()
    assert np.isclose(h.subopt.iloc[0], prob.loss(np.zeros(prob.d)) - prob.f_star)
    assert np.isclose(h.loss.iloc[-1], prob.loss(res.w))
    assert np.isclose(h.dist.iloc[-1], np.linalg.norm(res.w - prob.w_star))
    assert np.isclose(h.grad_norm.iloc[-1], np.linalg.norm(prob.grad(res.w)))
    assert res.w.dtype == np.float64 and res.w.shape == prob.weight_shape
    assert len(res.saturations) == 4
    assert h.attrs["solver"] == solver
    assert not res.diverged and h.attrs["diverged_epoch"] is None and h.attrs["divergence"] == ""


def test_solve_is_deterministic_given_the_seed():
    prob = _problem("multinomial")
    runs = [solve(prob, "halp", precision=8, step=0.1, epochs=3, seed=s, mu=0.2) for s in (7, 7, 8)]
    cols = ["loss", "subopt", "grad_norm", "dist"]
    pd.testing.assert_frame_equal(runs[0].history[cols], runs[1].history[cols])
    np.testing.assert_array_equal(runs[0].w, runs[1].w)
    assert not np.array_equal(runs[0].w, runs[2].w)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("solver,precision", [("sgd", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8),
                                              ("lp-svrg", 16), ("halp", 8), ("halp", 16)])
@pytest.mark.parametrize("kind", ["least_squares", "multinomial"])
def test_threads_run_hogwild_and_make_the_same_progress(solver, precision, kind):
    """Two threads: the full gradient in two row blocks and the inner steps Hogwild! (lock-free on
    the shared iterate). Not bit-reproducible, but the same progress: f - f* after 6 epochs within
    a factor 10 of one thread's (or both at the noise of the float format)."""
    prob = _problem(kind)
    runs = [solve(prob, solver, precision=precision, step=0.1, epochs=6, threads=t, seed=3)
            for t in (1, 2)]
    assert runs[1].settings["threads"] == 2 and runs[0].settings["threads"] == 1
    one, two = (run.history["subopt"].iloc[-1] for run in runs)
    assert np.isfinite(two) and runs[1].diverged_epoch is None
    assert max(one, two) <= 1e-12 or abs(np.log10(max(two, 1e-300) / max(one, 1e-300))) <= 1, (one, two)


def test_hogwild_chunks_cover_every_step_once():
    """threads = 3: the epoch's steps are cut into 3 contiguous chunks, each run once with its
    offset (the LP kernels number their random keys from it), and their counts are summed."""
    prob = _problem("least_squares")
    s = make_solver(prob, "halp", precision=8, step=0.01, threads=min(3, numba.config.NUMBA_NUM_THREADS))
    seen = []

    def run(chunk, first):
        seen.append((first, chunk.copy()))
        return chunk.shape[0]

    assert s.run_steps(run, np.arange(11, 22)) == 11
    seen.sort(key=lambda item: item[0])
    assert len(seen) == s.threads
    np.testing.assert_array_equal(np.concatenate([chunk for _, chunk in seen]), np.arange(11, 22))
    assert [first for first, _ in seen] == [int(np.sum([len(c) for _, c in seen[:m]]))
                                           for m in range(len(seen))]


@pytest.mark.parametrize("solver,precision,itemsize,passes", [
    ("sgd", "fp32", 4, 1), ("svrg", "fp64", 8, 2), ("lp-sgd", 8, 1, 1),
    ("halp", 16, 1, 2)])  # halp-16: 16-bit iterate, the problem's 8-bit data
def test_bytes_per_epoch(solver, precision, itemsize, passes):
    prob = _problem("least_squares")
    s = make_solver(prob, solver, precision=precision, step=0.01)
    assert s.data.itemsize == itemsize and s.data.shape == prob.X.shape
    assert s.bytes_per_epoch == passes * prob.X.size * itemsize


def test_lp_solvers_refuse_more_coordinates_than_float32_counts_exactly(monkeypatch):
    from halp_core.solvers import low_precision
    monkeypatch.setattr(low_precision, "MAX_F32_COORDS", 8)
    prob = _problem("multinomial")   # 8 x 3 weights
    for solver, bits in (("halp", 8), ("lp-sgd", 16)):
        with pytest.raises(ValueError, match="at most 8 weight coordinates"):
            make_solver(prob, solver, precision=bits, step=0.01)
    make_solver(_problem("least_squares"), "halp", precision=16, step=0.01)   # d = 8 fits


def test_every_solver_name_is_accepted():
    prob = _problem("least_squares")
    for solver in SOLVERS:
        precision = "fp64" if solver in ("sgd", "svrg") else 8
        assert solve(prob, solver, precision=precision, step=0.01, epochs=1).history.shape[0] == 2


def test_steps_per_epoch_and_callback():
    prob = _problem("least_squares")
    seen = []
    res = solve(prob, "sgd", precision="fp64", step=0.01, epochs=3, steps_per_epoch=30,
                callback=lambda epoch, row: seen.append((epoch, row["passes"])))
    assert seen == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert res.history.passes.iloc[-1] == 0.75


def test_divergence_stops_with_a_warning():
    prob = _problem("least_squares")
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = solve(prob, "sgd", precision="fp64", step=1e3, epochs=50)
    assert len(res.history) < 51
    assert not np.isfinite(res.history.loss.iloc[-1])
    assert res.diverged_epoch == len(res.history) - 1   # recorded at the epoch it stopped


def test_lp_default_scale_covers_the_optimum():
    prob = _problem("least_squares")
    run = make_solver(prob, "lp-sgd", precision=8, step=0.01)
    assert np.isclose(run.scale * 127, 2 * np.abs(prob.w_star).max())


def test_anchor_gradient_is_float32_far_from_the_optimum_and_float64_near_it(monkeypatch):
    """The low-precision solvers' full gradient reads the int8 data with a float32 anchor while
    ||g|| is large against float32's measured error, and in float64 once it is not, so HALP
    still reaches SVRG-fp64's floor (f - f* far below anything float32 could resolve)."""
    from halp_core.solvers import base

    prob = datasets.synthetic_least_squares(400, 20, lam=1e-2, noise=0.1, seed=5)
    dtypes = []
    real = base.full_grad_linear

    def spy(X, x_scale, y, w, *args, **kw):
        dtypes.append(w.dtype)
        return real(X, x_scale, y, w, *args, **kw)

    monkeypatch.setattr(base, "full_grad_linear", spy)
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    s = make_solver(prob, "halp", precision=16, step=0.5 / prob.L_max)
    dtypes.clear()
    s.run_epoch()
    assert dtypes == [f32, f64]          # the first pass measures float32's error
    s.run_epoch()
    assert dtypes == [f32, f64, f32]     # then float32 alone while ||g|| is large
    for _ in range(38):
        s.run_epoch()
    assert s._exact and dtypes[-2:] == [f64, f64]   # exact for good once near the optimum
    assert prob.suboptimality(s.w) <= 1e-20


def test_anchor_beyond_float32_range_uses_float64_and_overflow_is_a_loud_divergence():
    """A diverging HALP run grows its anchor past float32's range long before float64's: the
    float32 pass then overflows and the float64 one gives the gradient (it used to crash the
    auto-mu update with 'g_new contains NaN'). When even float64 overflows, the iterate becomes
    NaN, and solve() reports the divergence and stops."""
    prob = datasets.synthetic_least_squares(200, 8, lam=1e-2, noise=0.1, seed=1)
    s = make_solver(prob, "halp", precision=8, step=0.5 / prob.L_max)
    s.run_epoch()
    s.center[...] = 1e35
    s.run_epoch()
    assert np.isfinite(s._g).all() and np.isfinite(s.w).all()
    assert np.isfinite(s.mus[-1])   # the auto rule ran on a finite gradient
    s.center[...] = 1e306
    s.run_epoch()
    assert np.isnan(s.w).all()
    lp = make_solver(prob, "lp-svrg", precision=8, step=0.5 / prob.L_max)
    lp.scale = 1e306 / 127
    lp._k[...] = 127
    lp.run_epoch()
    assert np.isnan(lp.w).all()


def test_diverging_halp_with_a_coarse_grid_is_reported_not_raised():
    """HALP-4 on an ill-conditioned problem (kappa about 1e4, 16-bit data) diverges; solve must
    warn and record it, whatever precision the anchor's gradient pass ran in."""
    prob = datasets.synthetic_least_squares(2000, 40, lam=1e-3, noise=0.1, seed=0, data_bits=16,
                                            cond=1e4)
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = solve(prob, "halp", precision=4, step=0.5 / prob.L_max, epochs=60, seed=0)
    assert res.diverged_epoch is not None
