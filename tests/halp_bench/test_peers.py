"""halp_bench.peers: every peer solves our objective (its lam convention checked numerically), the
trajectories have halp_core.solve's columns, missing peers are skipped with a reason, and on
binary MNIST with one step our SVRG and every same-step peer SVRG / SAGA agree after 10 epochs."""

import functools
import importlib

import numba
import numpy as np
import pytest

from refusals import refusal_test
from halp_bench import peers
from halp_core import BinaryLogistic, LeastSquares, Multinomial, datasets, solve
from halp_core.trajectory import HISTORY_COLUMNS

INSTALLED = peers.available_peers()


@pytest.fixture(scope="module")
def small():
    """Well-conditioned small problems of both kinds, where every peer converges in 200 epochs."""
    return {
        "logistic": datasets.synthetic_logistic(600, 10, lam=1e-1, seed=1),
        "least_squares": datasets.synthetic_least_squares(600, 10, lam=1e-1, noise=0.1, seed=1),
    }


def _cases():
    return [(name, kind) for name in INSTALLED for kind in peers.PEERS[name].kinds
            if peers.PEERS[name].algorithm != "sgd"]


@pytest.mark.parametrize("name, kind", _cases())
def test_peer_converges_to_our_optimum(small, name, kind):
    """The lam convention: a peer run to convergence lands on our w* (a wrong factor of n or 2 in
    the regularization would move it far more than the tolerance)."""
    prob = small[kind]
    res = peers.solve_peer(prob, name, step=0.5 / prob.L_max, epochs=200, seed=0)
    tol = 1e-3 if peers.PEERS[name].precision == "fp32" else 1e-6
    assert np.linalg.norm(res.w - prob.w_star) <= tol * np.linalg.norm(prob.w_star)
    assert res.history["loss"].iloc[-1] == pytest.approx(prob.loss(res.w), rel=1e-12)


@pytest.mark.skipif("sklearn-sgd" not in INSTALLED, reason="scikit-learn is not installed")
@pytest.mark.parametrize("kind", peers.KINDS)
def test_sklearn_sgd_convention_on_one_sample(kind):
    """With n = 1, constant-step SGD is gradient descent on f itself, so it must reach our w*."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1, 6))
    if kind == "logistic":
        prob = BinaryLogistic(X, np.array([1.0]), 0.5, data_bits=None)
    else:
        prob = LeastSquares(X, np.array([0.7]), 0.5, data_bits=None)
    res = peers.solve_peer(prob, "sklearn-sgd", step=0.5 / prob.L_max, epochs=300)
    np.testing.assert_allclose(res.w, prob.w_star, rtol=1e-8, atol=1e-10)


@pytest.mark.skipif("sklearn-sag" not in INSTALLED, reason="scikit-learn is not installed")
def test_sklearn_public_estimators_match_the_documented_mapping(small):
    """LogisticRegression(C = 1/(n lam)) and Ridge(alpha = n lam) solve our objective."""
    from sklearn.linear_model import LogisticRegression, Ridge

    lg, ls = small["logistic"], small["least_squares"]
    for solver in ("sag", "saga", "lbfgs"):
        w = LogisticRegression(solver=solver, C=1 / (lg.n * lg.lam), fit_intercept=False,
                               tol=1e-12, max_iter=10000).fit(lg.X, lg.y).coef_.ravel()
        np.testing.assert_allclose(w, lg.w_star, rtol=1e-6, atol=1e-8)
    for solver in ("sag", "saga"):
        w = Ridge(alpha=ls.n * ls.lam, solver=solver, fit_intercept=False, tol=1e-12,
                  max_iter=10000).fit(ls.X, ls.y).coef_
        np.testing.assert_allclose(w, ls.w_star, rtol=1e-6, atol=1e-8)


@pytest.mark.skipif(not INSTALLED, reason="no peer is installed")
def test_history_has_solve_columns_and_restart_grid(small):
    prob = small["logistic"]
    ours = solve(prob, "svrg", precision="fp64", step=0.5 / prob.L_max, epochs=3).history
    for name in INSTALLED:
        hist = peers.solve_peer(prob, name, step=0.5 / prob.L_max, epochs=7, seed=0).history
        assert list(hist.columns) == list(ours.columns) == list(HISTORY_COLUMNS)
        assert hist["epoch"].iloc[0] == 0 and hist["seconds"].iloc[0] == 0.0
        expected = peers.restart_grid(7) if peers.PEERS[name].trajectory == "restarted" else list(range(1, 8))
        assert hist["epoch"].iloc[1:].tolist() == expected, name
        assert (hist["seconds"].iloc[1:] > 0).all(), name
        assert hist["subopt"].iloc[-1] < hist["subopt"].iloc[0], name


def test_restart_grid():
    assert peers.restart_grid(1) == [1]
    assert peers.restart_grid(7) == [1, 2, 3, 4, 5, 6, 7]
    grid = peers.restart_grid(60)
    assert grid[:5] == [1, 2, 3, 4, 5] and grid[-1] == 60
    assert all(b / a <= 1.25 or b - a == 1 for a, b in zip(grid, grid[1:]))


def test_seconds_per_epoch_and_time_to_target():
    import pandas as pd

    hist = pd.DataFrame({"epoch": [0, 1, 2, 4], "seconds": [0.0, 5.0, 6.0, 8.0],
                         "subopt": [1.0, 1e-3, 1e-5, 1e-9]})
    assert peers.seconds_per_epoch(hist) == pytest.approx(1.0)
    assert peers.time_to_target(hist, 1e-4) == 6.0
    assert peers.time_to_target(hist, 1e-12) == float("inf")
    assert np.isnan(peers.seconds_per_epoch(hist.iloc[:2]))


def test_missing_library_is_skipped_with_a_reason(monkeypatch, small):
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "copt":
            raise ImportError("No module named 'copt'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    status = peers.peer_status()
    assert set(status) == set(peers.PEERS)
    assert "copt" in status["copt-svrg"] and "halp-core[peers]" in status["copt-svrg"]
    assert "copt-svrg" not in peers.available_peers()
    with pytest.raises(peers.PeerUnavailable, match="copt-svrg is skipped"):
        peers.solve_peer(small["logistic"], "copt-svrg", step=0.1, epochs=1)


def test_float32_exact_step_and_tick_float32_lam():
    step = peers.float32_exact_step(1 / 73.22, 1e-4)
    assert step * 1e-4 == pytest.approx(11 * 2.0**-23, rel=1e-12) and step <= 1 / 73.22
    assert peers.tick_float32_lam(step, 1e-4) == pytest.approx(1e-4, rel=1e-6)
    assert peers.tick_float32_lam(1 / 73.22, 1e-4) == pytest.approx(0.9601 * 1e-4, rel=1e-3)
    with pytest.raises(ValueError, match="below float32's resolution"):
        peers.float32_exact_step(1e-3, 1e-5)


@pytest.mark.skipif("tick-svrg-fp32" not in INSTALLED, reason="tick is not installed")
def test_tick_float32_prox_is_what_tick_float32_lam_says():
    """tick's float32 L2 prox, called directly, shrinks by 1 / (1 + step * tick_float32_lam)."""
    from tick.prox import ProxL2Sq

    for step in (1 / 73.22, peers.float32_exact_step(1 / 73.22, 1e-4), 0.3):
        prox = ProxL2Sq(strength=1e-4).astype(np.dtype("float32"))
        shrink = 1 - float(prox.call(np.ones(3, dtype=np.float32), step)[0])
        expected = 1 - 1 / (1 + step * peers.tick_float32_lam(step, 1e-4))
        assert shrink == pytest.approx(expected, rel=1e-6, abs=1e-9), step
    prob = datasets.synthetic_logistic(200, 5, lam=1e-4, seed=1)
    with pytest.warns(RuntimeWarning, match="it solves lam"):
        peers.solve_peer(prob, "tick-svrg-fp32", step=1 / 73.22, epochs=1)


# ---- the cross-check on binary MNIST (slow) ------------------------------------------------------
#
# Statistic: the mean of f - f* after 10 epochs over seeds 0, 1, 2, for each peer and for our
# SVRG-fp64 run with the peer's sampling scheme (PeerSpec.sampling: tick and copt shuffle once per
# epoch, lightning samples with replacement). Our SVRG-fp64 spreads over seeds by 0.6%
# (permutation) and 4% (with replacement); the mean of three keeps a 5% check about 3 standard
# deviations or more away from noise. Measured (docs/peers.md, "Cross-check"): every peer is within 1.3%
# of ours except lightning's SAGA, +5.6%.
#
# Step: float32_exact_step(1 / L_max, lam) = 0.960 / L_max, the largest step <= 1 / L_max at which
# tick's float32 L2 prox applies exactly our lam. At 1 / L_max itself tick's float32 solvers solve
# lam_eff = 0.960 lam (1 + alpha lam rounds to 1 + 11 * 2^-23) and land 8% below ours; tick's
# float64 solvers given 0.960 lam reproduce that to 0.5% (docs/peers.md), so it is that rounding,
# not float32 arithmetic at large.
#
# lightning's SAGA is textbook SAGA: its gradient table starts at the gradients of w = 0 (tick's
# starts at zero). That variant is measurably slower here: +5.6% over our SVRG at this step,
# +6.7% at 1 / L_max (3-seed means), while a reference SAGA with a zero table and lightning's
# sampling is +0.2%. So it is held to 5% against a reference SAGA of its own variant on our objective (below; that
# check is what proves its conventions) and to 8% against our SVRG (5.6% measured + 2.5 standard
# deviations of the difference of the two 3-seed means, 1%).

MNIST_EPOCHS = 10
MNIST_SEEDS = (0, 1, 2)
TOLERANCE = 0.05
SAGA_TABLE_AT_W0_TOLERANCE = 0.08
TABLE_AT_W0 = ("lightning-saga",)
CROSS_CHECK = [n for n in INSTALLED
               if peers.PEERS[n].step == "same" and peers.PEERS[n].algorithm in ("svrg", "saga")]


@functools.lru_cache(maxsize=None)
def _mnist():
    prob = datasets.mnist(lam=1e-4, binary=True)
    return prob, peers.float32_exact_step(1.0 / prob.L_max, prob.lam)


@functools.lru_cache(maxsize=None)
def _mnist_subopt(contender):
    """f - f* after MNIST_EPOCHS epochs for each seed of MNIST_SEEDS; contender: a peer name,
    "ours-uniform" / "ours-permutation" (our SVRG-fp64) or "reference-saga-table-at-w0"."""
    prob, step = _mnist()
    out = []
    for seed in MNIST_SEEDS:
        if contender.startswith("ours-"):
            w = solve(prob, "svrg", precision="fp64", step=step, epochs=MNIST_EPOCHS, seed=seed,
                      sampling=contender[len("ours-"):]).w
        elif contender == "reference-saga-table-at-w0":
            w = _reference_saga(prob, step, MNIST_EPOCHS, seed)
        else:
            w = peers.solve_peer(prob, contender, step=step, epochs=MNIST_EPOCHS, seed=seed).w
        out.append(prob.suboptimality(w))
    return np.array(out)


@numba.njit
def _saga_table_at_w0(X, y, lam, step, draws):
    n, d = X.shape
    w, table, mean = np.zeros(d), np.empty(n), np.zeros(d)
    for i in range(n):
        table[i] = -y[i] / 2.0  # l'(0, y) = -y sigma(0)
        mean += table[i] / n * X[i]
    for j in draws.ravel():
        g = -y[j] / (1.0 + np.exp(y[j] * (X[j] @ w)))  # l'(a, y) = -y sigma(-y a)
        w -= step * ((g - table[j]) * X[j] + mean + lam * w)
        mean += (g - table[j]) / n * X[j]
        table[j] = g
    return w


def _reference_saga(prob, step, epochs, seed):
    """Textbook SAGA on our binary logistic objective, the variant lightning runs: table at the
    gradients of w = 0, uniform sampling with replacement from RandomState(seed) (the stream
    lightning's randomkit draws), w <- w - step (dl_j x_j - table_j x_j + mean table + lam w)."""
    rng = np.random.RandomState(seed)
    draws = np.stack([rng.randint(0, prob.n, prob.n) for _ in range(epochs)])
    X = np.ascontiguousarray(prob.X, dtype=np.float64)
    return _saga_table_at_w0(X, prob.y.astype(np.float64), prob.lam, step, draws)


def _mean_gap(contender, reference):
    return _mnist_subopt(contender).mean() / _mnist_subopt(reference).mean() - 1


@pytest.mark.slow
@pytest.mark.skipif(not CROSS_CHECK, reason="no same-step SVRG/SAGA peer is installed")
def test_cross_check_on_binary_mnist():
    """Same step, 10 epochs on binary MNIST (50000 x 784, lam = 1e-4, 8-bit data): every same-step
    peer SVRG / SAGA reaches our SVRG-fp64's f - f* (mean over 3 seeds, same sampling scheme)
    within 5%, lightning's textbook SAGA within 8% (see the comment above): the objectives, the
    lam conventions and the step semantics agree."""
    gaps, off = {}, {}
    for name in CROSS_CHECK:
        reference = "ours-" + peers.PEERS[name].sampling
        tol = SAGA_TABLE_AT_W0_TOLERANCE if name in TABLE_AT_W0 else TOLERANCE
        gaps[name] = (reference, _mean_gap(name, reference))
        if abs(gaps[name][1]) > tol:
            off[name] = gaps[name]
    report = {n: f"{g:+.2%} vs {r}" for n, (r, g) in gaps.items()}
    print(f"\nbinary MNIST, step {_mnist()[1]:.6g}, f - f* after {MNIST_EPOCHS} epochs, seeds "
          f"{MNIST_SEEDS} (pytest -s shows this):")
    for name in ["ours-uniform", "ours-permutation"] + CROSS_CHECK:
        v = _mnist_subopt(name)
        gap = f"{gaps[name][1]:+.1%} vs {gaps[name][0]}" if name in gaps else ""
        print(f"  {name:18s} mean {v.mean():.4e}  seeds {' '.join(f'{x:.4e}' for x in v)}  {gap}")
    assert not off, f"peers off: {off}; all: {report}"


@pytest.mark.slow
@pytest.mark.skipif("lightning-saga" not in INSTALLED, reason="lightning is not installed")
def test_lightning_saga_is_textbook_saga_on_our_objective():
    """lightning's SAGA against a reference SAGA of the same variant (table at w = 0, sampling with
    replacement) on our objective and step: within 5% (measured: equal to 4 digits per seed)."""
    gap = _mean_gap("lightning-saga", "reference-saga-table-at-w0")
    v = _mnist_subopt("reference-saga-table-at-w0")
    print(f"\n  reference SAGA (table at w = 0, with replacement) mean {v.mean():.4e}  seeds "
          f"{' '.join(f'{x:.4e}' for x in v)}  lightning-saga {gap:+.2%}")
    assert abs(gap) <= TOLERANCE, (gap, _mnist_subopt("lightning-saga"),
                                   _mnist_subopt("reference-saga-table-at-w0"))


# ---- bad arguments: a ValueError / TypeError whose message names the argument -----------------

@pytest.fixture(scope="module")
def lsq():
    return datasets.synthetic_least_squares(40, 4, lam=0.1, noise=0.1, seed=0)


# (id, call on the lsq problem, exception, words the message must contain)
PEER_CASES = [
    ("check-dict", lambda p: peers.check_peer({"lam": 0.1}, "sklearn-sgd"), TypeError,
     "problem must be a halp_core Problem"),
    ("solve-dict", lambda p: peers.solve_peer({"lam": 0.1}, "sklearn-sgd", step=0.1, epochs=1),
     TypeError, "problem must be a halp_core Problem"),
    ("unknown", lambda p: peers.check_peer(p, "adam"), ValueError, "unknown peer 'adam'"),
    ("unknown-solve", lambda p: peers.solve_peer(p, "nope", step=0.1, epochs=1), ValueError,
     "unknown peer 'nope'"),
    ("lbfgs-least-squares", lambda p: peers.solve_peer(p, "sklearn-lbfgs", epochs=1), ValueError,
     "solves logistic"),
    ("name-none", lambda p: peers.check_peer(p, None), ValueError, "unknown peer None"),
    ("name-list", lambda p: peers.check_peer(p, ["sklearn-sgd"]), ValueError, "unknown peer"),
    ("kind-multinomial", lambda p: peers.available_peers("multinomial"), ValueError, "peers solve"),
    ("kind-int", lambda p: peers.available_peers(5), ValueError, "peers solve"),
    ("multinomial-problem", lambda p: peers.check_peer(Multinomial(np.eye(3), [0, 1, 2], 0.1), "sklearn-sgd"), ValueError,
     "solves logistic and least_squares problems"),
    ("epochs-0", lambda p: peers.solve_peer(p, "sklearn-sgd", step=0.1, epochs=0), ValueError,
     "epochs must be >= 1"),
    ("seed-none", lambda p: peers.solve_peer(p, "sklearn-sgd", step=0.1, epochs=1, seed=None),
     TypeError, "seed must be an int"),
    ("step-missing", lambda p: peers.solve_peer(p, "sklearn-sgd", epochs=1), ValueError,
     "takes our step"),
    ("step-neg", lambda p: peers.solve_peer(p, "sklearn-sgd", step=-1.0, epochs=1), ValueError,
     "step must be a finite number > 0"),
    ("grid-0", lambda p: peers.restart_grid(0), ValueError, "epochs must be >= 1"),
    ("grid-none", lambda p: peers.restart_grid(None), TypeError, "epochs must be an int"),
    ("tick-lam-step-0", lambda p: peers.tick_float32_lam(0.0, 1e-3), ValueError,
     "step must be a finite number > 0"),
    ("tick-lam-neg", lambda p: peers.tick_float32_lam(0.1, -1.0), ValueError,
     "lam must be a finite number >= 0"),
    ("seconds-dict", lambda p: peers.seconds_per_epoch({"epoch": [1]}), TypeError,
     "history must be a pandas DataFrame"),
    ("target-columns", lambda p: peers.time_to_target(
        solve(p, "sgd", precision="fp64", step=0.01, epochs=1).history[["epoch"]], 1e-3),
     ValueError, r"history lacks the column\(s\) seconds, subopt"),
    ("target-str", lambda p: peers.time_to_target(
        solve(p, "sgd", precision="fp64", step=0.01, epochs=1).history, "1e-3"),
     TypeError, "target must be a number"),
]


test_bad_argument_is_refused = refusal_test(PEER_CASES, "lsq")
