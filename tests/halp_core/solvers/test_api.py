"""halp_core.solvers.api: make_solver's and solve's contract (history columns, passes, timing,
settings, determinism, steps_per_epoch, the callback) and every bad argument refused with a
message naming it."""

import numpy as np
import pandas as pd
import pytest
import solver_twins

from refusals import refusal_test
from halp_core import SOLVERS, datasets, make_solver, solve


@pytest.mark.parametrize("solver,precision", [("sgd", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8),
                                              ("lp-svrg", 8), ("halp", 8)])
def test_history_contract(solver, precision):
    prob = solver_twins.problem("logistic")
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
    prob = solver_twins.problem("multinomial")
    runs = [solve(prob, "halp", precision=8, step=0.1, epochs=3, seed=s, mu=0.2) for s in (7, 7, 8)]
    cols = ["loss", "subopt", "grad_norm", "dist"]
    pd.testing.assert_frame_equal(runs[0].history[cols], runs[1].history[cols])
    np.testing.assert_array_equal(runs[0].w, runs[1].w)
    assert not np.array_equal(runs[0].w, runs[2].w)


def test_every_solver_name_is_accepted():
    prob = solver_twins.problem("least_squares")
    for solver in SOLVERS:
        precision = "fp64" if solver in ("sgd", "svrg") else 8
        assert solve(prob, solver, precision=precision, step=0.01, epochs=1).history.shape[0] == 2


def test_steps_per_epoch_and_callback():
    prob = solver_twins.problem("least_squares")
    seen = []
    res = solve(prob, "sgd", precision="fp64", step=0.01, epochs=3, steps_per_epoch=30,
                callback=lambda epoch, row: seen.append((epoch, row["passes"])))
    assert seen == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert res.history.passes.iloc[-1] == 0.75


# ---- bad arguments: a ValueError / TypeError whose message names the argument -----------------

@pytest.fixture(scope="module")
def lsq():
    return datasets.synthetic_least_squares(40, 4, lam=0.1, noise=0.1, seed=0)


_FIXTURE = object()  # stands for the lsq fixture


def _solve(problem=_FIXTURE, solver="sgd", **kw):
    args = dict(precision="fp64", step=0.01, epochs=1) | kw
    return lambda p: solve(p if problem is _FIXTURE else problem, solver, **args)


def _make(problem=_FIXTURE, solver="halp", **kw):
    args = dict(precision=8, step=0.01) | kw
    return lambda p: make_solver(p if problem is _FIXTURE else problem, solver, **args)


# (id, call on the lsq problem, exception, words the message must contain)
SOLVE_CASES = [
    ("make-dict", _make(problem={"lam": 0.1}), TypeError, "problem must be a halp_core Problem"),
    ("solve-dict", _solve(problem={"lam": 0.1}), TypeError, "problem must be a halp_core Problem"),
    ("make-none", _make(problem=None), TypeError, "problem must be a halp_core Problem"),
    ("solve-array", _solve(problem=np.eye(3)), TypeError, "problem must be a halp_core Problem"),
    ("make-str", _make(problem="lsq-20x3", solver="lp-sgd"), TypeError,
     "problem must be a halp_core Problem"),
    ("solver-none", _solve(solver=None), ValueError, "unknown solver None"),
    ("solver-list", _solve(solver=["sgd"]), ValueError, "unknown solver"),
    ("precision-none", _make(precision=None), TypeError, "bits must be an int"),
    ("precision-bool", _make(precision=True), TypeError, "bits must be an int"),
    ("precision-str-8", _make(precision="8"), ValueError, "precision must be an int number of bits"),
    ("step-none", _solve(step=None), TypeError, "step must be a number"),
    ("step-str", _solve(step="0.1"), TypeError, "step must be a number"),
    ("step-inf", _solve(step=np.inf), ValueError, "step must be a finite number > 0"),
    ("step-complex", _solve(step=0.1j), TypeError, "step must be a number"),
    ("epochs-none", _solve(epochs=None), TypeError, "epochs must be an int"),
    ("epochs-str", _solve(epochs="3"), TypeError, "epochs must be an int"),
    ("epochs-bool", _solve(epochs=True), TypeError, "epochs must be an int"),
    ("seed-none", _solve(seed=None), TypeError, "seed must be an int"),
    ("seed-str", _solve(seed="1"), TypeError, "seed must be an int"),
    ("seed-2**70", _make(seed=2**70, mu=1.0), ValueError, "seed must be <="),
    ("steps-0", _solve(steps_per_epoch=0), ValueError, "steps_per_epoch must be >= 1"),
    ("steps-float", _solve(steps_per_epoch=1.5), TypeError, "steps_per_epoch must be an int"),
    ("steps-huge", _solve(steps_per_epoch=10**15), ValueError, "steps_per_epoch=1000000000000000"),
    ("threads-none", _solve(threads=None), TypeError, "threads must be an int"),
    ("sampling-none", _solve(sampling=None), ValueError, "sampling must be one of"),
    ("sampling-case", _solve(sampling="UNIFORM"), ValueError, "sampling must be one of"),
    ("mu-str", _make(mu="fast"), ValueError, "mu must be a number > 0 or 'auto'"),
    ("mu-nan", _make(mu=np.nan), ValueError, "mu must be a finite number > 0"),
    ("mu-inf", _make(mu=np.inf), ValueError, "mu must be a finite number > 0"),
    ("scale-neg", _make(solver="lp-sgd", scale=-1.0), ValueError, "scale must be a finite number"),
    ("scale-str", _make(solver="lp-sgd", scale="a"), TypeError, "scale must be a number"),
    ("scale-nan", _make(solver="lp-svrg", scale=np.nan), ValueError, "scale must be a finite"),
    ("solve-callback-int", _solve(callback=3), TypeError, "callback must be callable"),
    ("solve-callback-str", _solve(callback="print"), TypeError, "callback must be callable"),
    ("adam-precision=fp64", _solve(solver="adam", precision="fp64"),
     ValueError, "unknown solver 'adam'"),
    ("halp-precision=1", _solve(solver="halp", precision=1),
     ValueError, "bits must be between 2 and 16"),
    ("lp-sgd-precision=17", _solve(solver="lp-sgd", precision=17),
     ValueError, "bits must be between 2 and 16"),
    ("sgd-precision=8", _solve(solver="sgd", precision=8),
     ValueError, "sgd runs in 'fp64' or 'fp32'"),
    ("svrg-precision=16", _solve(solver="svrg", precision=16),
     ValueError, "svrg runs in 'fp64' or 'fp32'"),
    ("halp-precision=fp32", _solve(solver="halp", precision="fp32"),
     ValueError, "low-precision solver"),
    ("lp-svrg-precision=fp64", _solve(solver="lp-svrg", precision="fp64"),
     ValueError, "low-precision solver"),
    ("halp-precision=8.0", _solve(solver="halp", precision=8.0), TypeError, "bits must be an int"),
    ("svrg-precision=fp16", _solve(solver="svrg", precision="fp16"),
     ValueError, "'fp64' or 'fp32'"),
    ("svrg-step=0.0", _solve(solver="svrg", precision="fp64", step=0.0),
     ValueError, "step must be a finite number > 0"),
    ("svrg-step=-1e-3", _solve(solver="svrg", precision="fp64", step=-1e-3),
     ValueError, "step must be"),
    ("svrg-step=nan", _solve(solver="svrg", precision="fp64", step=float("nan")),
     ValueError, "step must be"),
    ("svrg-epochs=0", _solve(solver="svrg", precision="fp64", epochs=0),
     ValueError, "epochs must be >= 1"),
    ("svrg-epochs=2.5", _solve(solver="svrg", precision="fp64", epochs=2.5),
     TypeError, "epochs must be an int"),
    ("halp-mu=-1.0", _solve(solver="halp", precision=8, mu=-1.0), ValueError, "mu must be"),
    ("svrg-mu=1.0", _solve(solver="svrg", precision="fp64", mu=1.0), ValueError, "takes no mu"),
    ("lp-sgd-scale=0.0", _solve(solver="lp-sgd", precision=8, scale=0.0),
     ValueError, "scale must be"),
    ("halp-scale=0.1", _solve(solver="halp", precision=8, scale=0.1),
     ValueError, "takes no scale"),
    ("sgd-sampling=cyclic", _solve(solver="sgd", precision="fp64", sampling="cyclic"),
     ValueError, "sampling must be one of"),
    ("sgd-seed=-1", _solve(solver="sgd", precision="fp64", seed=-1),
     ValueError, "seed must be >= 0"),
    ("svrg-threads=0", _solve(solver="svrg", precision="fp64", threads=0),
     ValueError, "threads must be >= 1"),
    ("halp-threads=2.0", _solve(solver="halp", precision=8, threads=2.0),
     TypeError, "threads must be an int"),
    ("halp-threads=10**6", _solve(solver="halp", precision=8, threads=10**6),
     ValueError, "threads must be at most"),
]


test_bad_argument_is_refused = refusal_test(SOLVE_CASES, "lsq")
