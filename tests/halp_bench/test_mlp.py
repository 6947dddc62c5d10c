"""The MLP of halp_bench.mlp: each Numba kernel against a plain NumPy reference on random inputs,
the NumPy full gradient against finite differences, validation, and short training runs."""

import warnings

import numpy as np
import pytest
from refusals import refusal_test
import reference as ref
import tiny_problems

from halp_bench import mlp
from halp_core import datasets, fixed_point, random_bits, schedules
from halp_core.problems import LeastSquares, Multinomial

D, H, C = 12, 7, 4


def _net(seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((D + 1, H)).astype(np.float32) * 0.5
    W2 = rng.standard_normal((H + 1, C)).astype(np.float32) * 0.5
    return W1, W2


def _data(n, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, D)).astype(np.float32)
    X[X < 0.3] = 0  # zero pixels, as in MNIST (the kernel skips them)
    return X, rng.integers(0, C, n).astype(np.int64)


def _sample_grad(x, label, W1, W2):
    """NumPy reference of one sample: (h with the trailing 1, d1, d2)."""
    xa = np.append(x, 1).astype(np.float64)
    z1 = xa @ W1
    h = np.append(np.maximum(z1, 0), 1)
    scores = h @ W2
    p = np.exp(scores - scores.max())
    p /= p.sum()
    p[label] -= 1
    return h, (W2[:-1] @ p) * (z1 > 0), p


def test_forward_backward_matches_numpy():
    W1, W2 = _net()
    X, labels = _data(5)
    xa, z1, h, d1, d2, scores, p = mlp.scratch_buffers(W1, W2)
    for i in range(5):
        xa[:D], xa[D] = X[i], 1
        mlp.forward_backward(xa, labels[i], W1, W2, z1, h, d1, d2, scores, p)
        h_ref, d1_ref, d2_ref = _sample_grad(X[i], labels[i], W1, W2)
        np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d1, d1_ref, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(d2, d2_ref, rtol=1e-5, atol=1e-6)


def test_full_gradient_matches_finite_differences_and_samples():
    W1, W2 = _net()
    X, labels = _data(40)
    lam = 0.01
    (G1, G2), Ha, D1, D2 = mlp.full_gradient([W1, W2], X, labels, lam)
    rng = np.random.default_rng(2)
    V1, V2 = rng.standard_normal(W1.shape), rng.standard_normal(W2.shape)
    eps = 1e-3
    f_plus, _ = mlp.loss_and_accuracy([(W1 + eps * V1).astype(np.float32),
                                       (W2 + eps * V2).astype(np.float32)], X, labels, lam)
    f_minus, _ = mlp.loss_and_accuracy([(W1 - eps * V1).astype(np.float32),
                                        (W2 - eps * V2).astype(np.float32)], X, labels, lam)
    directional = float(np.sum(G1 * V1) + np.sum(G2 * V2))
    assert (f_plus - f_minus) / (2 * eps) == pytest.approx(directional, rel=2e-2)
    # the mean of the per-sample gradients, and the cached anchor quantities
    parts = [_sample_grad(X[i], labels[i], W1, W2) for i in range(40)]
    xa = np.hstack([X, np.ones((40, 1))])
    G1_ref = np.mean([np.outer(xa[i], d1) for i, (_, d1, _) in enumerate(parts)], axis=0) + lam * W1
    G2_ref = np.mean([np.outer(h, d2) for h, _, d2 in parts], axis=0) + lam * W2
    np.testing.assert_allclose(G1, G1_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(G2, G2_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(Ha, [h for h, _, _ in parts], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(D1, [d1 for _, d1, _ in parts], rtol=1e-4, atol=1e-6)


def test_sgd_epoch_matches_numpy():
    W1, W2 = _net()
    X, labels = _data(30)
    idx = np.random.default_rng(3).integers(0, 30, 25)
    lam, alpha = 0.01, 0.1
    R1, R2 = W1.astype(np.float64), W2.astype(np.float64)
    for i in idx:
        h, d1, d2 = _sample_grad(X[i], labels[i], R1, R2)
        R1 = (1 - alpha * lam) * R1 - alpha * np.outer(np.append(X[i], 1), d1)
        R2 = (1 - alpha * lam) * R2 - alpha * np.outer(h, d2)
    mlp.sgd_epoch(X, labels, W1, W2, lam, alpha, idx, *mlp.scratch_buffers(W1, W2))
    np.testing.assert_allclose(W1, R1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(W2, R2, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("halp", [False, True], ids=["lp-sgd", "halp"])
def test_lp_epoch_matches_numpy(halp):
    """Integer offsets after a few steps, with the same random bits; a float32-vs-float64
    difference can flip a rounding only when the target lies within ~1e-5 of an integer."""
    bits, lam, alpha, n = 8, 0.01, 0.05, 30
    X, labels = _data(n)
    rng = np.random.default_rng(4)
    C1, C2 = _net(5) if halp else (np.zeros((D + 1, H), np.float32), np.zeros((H + 1, C), np.float32))
    s1, s2 = 0.01, 0.02
    K1 = rng.integers(-20, 20, (D + 1, H)).astype(np.int8)
    K2 = rng.integers(-20, 20, (H + 1, C)).astype(np.int8)
    if halp:
        VG1 = rng.standard_normal(K1.shape).astype(np.float32)
        VG2 = rng.standard_normal(K2.shape).astype(np.float32)
        _, Ht, D1t, D2t = mlp.full_gradient([C1, C2], X, labels, lam)
    else:
        VG1, VG2 = np.zeros(K1.shape, np.float32), np.zeros(K2.shape, np.float32)
        Ht, D1t, D2t = (np.zeros((n, H + 1), np.float32), np.zeros((n, H), np.float32),
                        np.zeros((n, C), np.float32))
    idx = rng.integers(0, n, 20)
    step0, seed = 100, 9
    rounding = fixed_point.make_rounding(seed, bits, np.float32)
    # NumPy reference
    k1, k2 = K1.astype(np.float64), K2.astype(np.float64)
    sat_ref = 0
    for t, i in enumerate(idx):
        W1, W2 = C1 + s1 * k1, C2 + s2 * k2
        h, d1, d2 = _sample_grad(X[i], labels[i], W1, W2)
        xa = np.append(X[i], 1)
        key_t = ref.step_key(random_bits.seed_key(seed), step0 + t)
        u = ref.lane_uniform(key_t, np.arange(K1.size + K2.size))
        t1 = (1 - alpha * lam) * k1 - alpha / s1 * (np.outer(xa, d1) - np.outer(xa, D1t[i])) - VG1
        t2 = (1 - alpha * lam) * k2 - alpha / s2 * (np.outer(h, d2) - np.outer(Ht[i], D2t[i])) - VG2
        q1, a = ref.round_stochastic(t1.ravel(), u[:K1.size], bits)
        q2, b = ref.round_stochastic(t2.ravel(), u[K1.size:], bits)
        k1, k2, sat_ref = q1.reshape(k1.shape), q2.reshape(k2.shape), sat_ref + a + b
    W1, W2 = C1 + s1 * K1, C2 + s2 * K2
    W1, W2 = W1.astype(np.float32), W2.astype(np.float32)
    sat = mlp.lp_epoch(X, labels, K1, K2, C1, C2, W1, W2, s1, s2, VG1, VG2, Ht, D1t, D2t, lam,
                       alpha, idx, rounding, step0, *mlp.scratch_buffers(W1, W2))
    mismatches = int(np.sum(K1 != k1) + np.sum(K2 != k2))
    assert mismatches <= 2 and np.abs(K1 - k1).max() <= 1 and np.abs(K2 - k2).max() <= 1
    assert abs(sat - sat_ref) <= 2
    np.testing.assert_allclose(W1, C1 + s1 * K1.astype(np.float32), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(W2, C2 + s2 * K2.astype(np.float32), rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def digits():
    prob = datasets.digits(lam=1e-3)
    prob.X_val, prob.y_val = prob.X[:500], prob.labels[:500]
    return prob


@pytest.mark.parametrize("method", mlp.METHODS)
def test_training_lowers_the_loss(digits, method):
    res = mlp.train(digits, method, hidden=16, epochs=2, step=0.05, mu=1.0)
    hist = res.history
    assert list(hist.columns) == list(mlp.HISTORY_COLUMNS) and len(hist) == 3
    assert hist.train_loss.iloc[-1] < 0.5 * hist.train_loss.iloc[0]
    assert hist.val_accuracy.iloc[-1] > 0.8
    assert hist.passes.iloc[-1] == (4 if method == "halp" else 2)
    assert (hist.saturations == 0).all() if method == "sgd" else hist.saturations.iloc[0] == 0


@pytest.mark.parametrize("method", mlp.METHODS)
def test_healthy_training_never_warns(digits, method):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        hist = mlp.train(digits, method, hidden=16, epochs=3, step=0.05, mu=1.0).history
    assert hist.attrs["diverged_epoch"] is None and hist.attrs["divergence"] == ""


@pytest.mark.parametrize("method,kwargs,seen,fix", [
    ("sgd", dict(step=50.0), "x its start", "smaller step"),
    ("halp", dict(step=5.0, mu=1e-3), "x its start", "larger mu (mu=0.001 here)"),
])
def test_diverging_training_warns_once_and_is_recorded(digits, method, kwargs, seen, fix):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = mlp.train(digits, method, hidden=16, epochs=4, **kwargs).history
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
                and "diverged" in str(w.message)]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"mlp {method} (") and seen in messages[0] and fix in messages[0]
    assert hist.attrs["diverged_epoch"] >= 1 and hist.attrs["divergence"] == messages[0]


def test_training_is_deterministic(digits):
    a = mlp.train(digits, "halp", hidden=8, epochs=1, step=0.05, seed=3).history
    b = mlp.train(digits, "halp", hidden=8, epochs=1, step=0.05, seed=3).history
    assert a.drop(columns="seconds").equals(b.drop(columns="seconds"))


# ---- learning-rate schedules (halp_core.schedules) ------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    return tiny_problems.mlp_problem()


def _tiny_run(problem, method, **kw):
    return mlp.train(problem, method, **(dict(hidden=5, epochs=3, step=0.1, mu=1.0) | kw))


def _same_run(a, b):
    """Bit-for-bit the same trajectory and final weights (training time aside)."""
    return (a.history.drop(columns="seconds").equals(b.history.drop(columns="seconds"))
            and all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights)))


@pytest.mark.parametrize("method", mlp.METHODS)
def test_constant_schedule_is_no_schedule(tiny, method):
    plain = _tiny_run(tiny, method)
    for schedule in ("constant", {"name": "step", "every": 1, "gamma": 1.0}):
        assert _same_run(plain, _tiny_run(tiny, method, schedule=schedule))
    assert plain.steps == [0.1] * 3
    assert plain.settings["schedule"] == plain.history.attrs["schedule"] == "constant"


@pytest.mark.parametrize("method", mlp.METHODS)
def test_a_schedule_sets_each_epochs_step(tiny, method):
    spec = {"name": "step", "every": 1, "gamma": 0.5}
    run = _tiny_run(tiny, method, schedule=spec)
    plain = _tiny_run(tiny, method)
    assert run.steps == [0.1 * f for f in schedules.factors(spec, 3)] == [0.1, 0.05, 0.025]
    assert run.settings["schedule"] == "step(every=1, gamma=0.5)"
    # epoch 0 has factor 1: the same first epoch as without a schedule, then the paths part
    columns = ["train_loss", "val_accuracy", "saturations"]
    assert run.history.loc[:1, columns].equals(plain.history.loc[:1, columns])
    assert run.history.train_loss.iloc[2] != plain.history.train_loss.iloc[2]
    assert not any(np.array_equal(u, v) for u, v in zip(run.weights, plain.weights))


@pytest.mark.parametrize("method", mlp.METHODS)
def test_the_kernels_take_the_scaled_step(tiny, method):
    """A one-epoch run whose schedule starts at low = 1/4 is the run with a quarter of the step,
    bit for bit (HALP's (alpha / s) G~ term included)."""
    spec = {"name": "triangular", "period": 2, "low": 0.25}
    scheduled = _tiny_run(tiny, method, epochs=1, step=0.1, schedule=spec)
    quarter = _tiny_run(tiny, method, epochs=1, step=0.1 * 0.25)
    assert scheduled.steps == quarter.steps == [0.1 * 0.25]
    assert _same_run(scheduled, quarter)


@pytest.mark.parametrize("schedule, error, match", [
    ("warmup", ValueError, "unknown schedule 'warmup'; known: constant"),
    ({"name": "cosine", "floor": 2.0}, ValueError, "floor must be in"),
    (0.5, TypeError, "schedule must be None, a name"),
])
def test_bad_schedule(tiny, schedule, error, match):
    with pytest.raises(error, match=match):
        mlp.train(tiny, "sgd", hidden=5, epochs=2, schedule=schedule)


# ---- bad arguments: a ValueError / TypeError whose message names the argument -----------------

def _train(problem=None, **kw):
    args = dict(method="sgd", epochs=1, hidden=4) | kw
    return lambda p: mlp.train(p if problem is None else problem, **args)


def _with_split(X_val=None, y_val=None):
    return lambda: tiny_problems.mlp_problem(X_val, y_val)


MLP_CASES = [
    ("dict", _train(problem={"lam": 0.1}), TypeError, "problem must be a halp_core Multinomial"),
    ("least-squares", _train(problem=LeastSquares(np.eye(3), np.ones(3), 0.1)), TypeError,
     "problem must be a halp_core Multinomial"),
    ("method", _train(method="adam"), ValueError, "method must be one of"),
    ("hidden-0", _train(hidden=0), ValueError, "hidden must be >= 1"),
    ("hidden-float", _train(hidden=2.5), TypeError, "hidden must be an int"),
    ("epochs-none", _train(epochs=None), TypeError, "epochs must be an int"),
    ("step-0", _train(step=0.0), ValueError, "step must be a finite number > 0"),
    ("lam-neg", _train(lam=-1.0), ValueError, "lam must be a finite number >= 0"),
    ("mu-0", _train(method="halp", mu=0.0), ValueError, "mu must be a finite number > 0"),
    ("mu-auto", _train(method="halp", mu="auto"), TypeError, "mu must be a number"),
    ("seed-none", _train(seed=None), TypeError, "seed must be an int"),
    ("seed-neg", _train(seed=-1), ValueError, "seed must be >= 0"),
    ("bits-1", _train(method="lp-sgd", bits=1), ValueError, "bits must be between"),
    ("val-columns", lambda p: _train()(_with_split(X_val=np.ones((10, 5)))()), ValueError,
     "X_val must be \\(m, 4\\)"),
    ("val-labels", lambda p: _train()(_with_split(y_val=np.full(10, 7))()), ValueError,
     "y_val must hold labels 0..2"),
    ("val-nan", lambda p: _train()(_with_split(X_val=np.full((10, 4), np.nan))()), ValueError,
     "X_val contains NaN"),
    ("no-split", lambda p: _train()(Multinomial(np.eye(3), [0, 1, 2], 0.1)), ValueError,
     "validation split"),
    ("init-classes-1", lambda p: mlp.init_weights(4, 8, 1, 0), ValueError, "classes must be >= 2"),
    ("init-seed-none", lambda p: mlp.init_weights(4, 8, 3, None), TypeError, "seed must be an int"),
    ("init-d-float", lambda p: mlp.init_weights(4.0, 8, 3, 0), TypeError, "d must be an int"),
]


test_bad_argument_is_refused = refusal_test(MLP_CASES, "tiny")
