"""Adding a Numba solver is one module plus one registry entry: SAGA (tests/halp_core/solvers/
saga.py, an @njit epoch kernel) registered here is solved, validated, listed, run by the asv
suite and offered by the dashboard, and its kernel matches a NumPy twin through the public API."""

import importlib

import numpy as np
import pytest

import saga
from benchmarks import bench_epoch, common
from halp_core import datasets, make_solver, registry, solve
from halp_core.losses import LEAST_SQUARES, LOGISTIC


@pytest.fixture
def registered():
    """SAGA registered for one test; the benchmark and dashboard modules re-read the registry
    after it is registered and after it is removed."""
    registry.register(saga.SPEC)
    try:
        yield saga.SPEC
    finally:
        registry.unregister(saga.SPEC.name)
        importlib.reload(common)
        importlib.reload(bench_epoch)


def _twin(prob, precision, step, idx):
    """SAGA in NumPy, one step at a time, in the precision's dtype (the module docstring's
    formula)."""
    dtype = np.float64 if precision == "fp64" else np.float32
    X = prob.X.astype(dtype)
    kind = LEAST_SQUARES if prob.kind == "least_squares" else LOGISTIC
    w, u, phi = np.zeros(prob.d, dtype), np.zeros(prob.d, dtype), np.zeros(prob.n)
    for i in idx:
        a = float(X[i] @ w)
        c = a - prob.y[i] if kind == LEAST_SQUARES else -prob.y[i] / (1 + np.exp(prob.y[i] * a))
        change = c - phi[i]
        w = w - (dtype(step * prob.lam) * w + dtype(step * change) * X[i] + dtype(step) * u)
        u = u + dtype(change / prob.n) * X[i]
        phi[i] = c
    return w.astype(np.float64)


@pytest.mark.parametrize("kind", ["least_squares", "logistic"])
@pytest.mark.parametrize("precision", ["fp64", "fp32"])
def test_saga_matches_its_numpy_twin(registered, kind, precision):
    prob = (datasets.synthetic_least_squares(300, 12, lam=1e-2, noise=0.1, seed=1)
            if kind == "least_squares" else datasets.synthetic_logistic(300, 12, lam=1e-2, seed=1))
    step = 0.3 / prob.L_max
    run = make_solver(prob, "saga", precision=precision, step=step, seed=4)
    idx = np.random.default_rng(4).integers(0, prob.n, size=2 * prob.n)
    run.run_epoch()
    run.run_epoch()
    tol = 1e-12 if precision == "fp64" else 2e-5
    np.testing.assert_allclose(run.w, _twin(prob, precision, step, idx), rtol=tol, atol=tol)


def test_saga_is_solved_validated_listed_benchmarked_and_shown(registered, monkeypatch):
    prob = datasets.synthetic_least_squares(400, 10, lam=1e-2, noise=0.1, seed=0)
    # solved: it converges linearly towards w*, like SVRG, with the shared failure rules
    res = solve(prob, "saga", precision="fp64", step=0.3 / prob.L_max, epochs=15, seed=0)
    assert not res.failed and res.history["subopt"].iloc[-1] < 1e-8 * res.history["subopt"][0]
    with pytest.warns(RuntimeWarning, match=r"saga \(fp64\) diverged"):
        diverged = solve(prob, "saga", precision="fp64", step=50 / prob.L_max, epochs=3, seed=0)
    assert diverged.diverged and "saga (fp64) diverged" in diverged.divergence
    # validated: by make_solver from its registry entry, and by its own class
    with pytest.raises(ValueError, match="saga runs in 'fp64' or 'fp32'"):
        solve(prob, "saga", precision=8, step=0.1, epochs=1)
    with pytest.raises(ValueError, match="saga takes no mu"):
        make_solver(prob, "saga", precision="fp64", step=0.1, mu=1.0)
    with pytest.raises(ValueError, match="saga solves linear models"):
        make_solver(datasets.digits(lam=1e-3), "saga", precision="fp64", step=0.1)
    # listed
    assert registry.names()[-1] == "saga" and "saga" in registry.names("full")
    # benchmarked: bench_epoch's parameters come from the registry, appended after the old ones
    before = list(bench_epoch.EpochTime.params[0])
    importlib.reload(common)
    importlib.reload(bench_epoch)
    assert bench_epoch.EpochTime.params[0] == before + ["saga"]
    monkeypatch.setattr(common, "load_epoch_problem",
                        lambda paths, size_mb, precision=None, d=None: prob)
    bench = bench_epoch.EpochTime()
    bench.setup(None, "saga", "fp32", 1, common.EPOCH_D)
    bench.time_epoch(None, "saga", "fp32", 1, common.EPOCH_D)
    assert bench.solver.name == "saga" and bench.solver.epochs_done >= 1
    # shown: the dashboard's live panel offers every registered solver and runs it
    live = importlib.reload(importlib.import_module("dashboard.live"))
    try:
        assert "saga" in live.SOLVERS and "saga" in live.FULL_PRECISION_SOLVERS
        history = live.run("least squares, synthetic 500 × 20", "saga", "fp64", 0.01, None, 2)
        assert list(history["epoch"]) == [0, 1, 2]
    finally:
        registry.unregister("saga")
        importlib.reload(live)
        registry.register(saga.SPEC)   # the fixture removes it again
