"""LP-SGD and HALP for the MLP with float-format weights / offsets (halp_bench.mlp.lowfloat):
each stochastically rounded store against the NumPy target, the grid of HALP's bit centering,
training, and the precision / bits arguments."""

import numpy as np
import pytest
import reference as ref

from halp_bench import mlp
from halp_bench.mlp import lowfloat
from halp_core import bit_centering, datasets, float_formats, registry

D, H, C = 12, 7, 4


def _net(seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((D + 1, H)) * 0.5).astype(np.float32),
            (rng.standard_normal((H + 1, C)) * 0.5).astype(np.float32))


def _spacing(target, name):
    """The gap between the two values of the format around each target (float64 array)."""
    entry = registry.format_spec(name)
    m, smallest = entry.mantissa_bits, 2.0 ** (1 - entry.bias - entry.mantissa_bits)
    exponent = np.floor(np.log2(np.maximum(np.abs(target), 2.0 ** (1 - entry.bias))))
    return np.maximum(2.0 ** (exponent - m), smallest)


@pytest.mark.parametrize("name", ["bf16", "fp16", "fp8-e4m3", "fp8-e5m2"])
@pytest.mark.parametrize("method", ["lp-sgd", "halp"])
def test_lp_epoch_in_a_float_format_rounds_each_store_next_to_its_target(name, method):
    """Steps of LowFloat.run (mlp.lp_epoch on patterns) from random offsets, around the anchor
    of a bit-centering pass for HALP; each stored value must be one of the two format values
    around the float64 NumPy target, and W = C + s decode(K)."""
    rng = np.random.default_rng(4)
    n, lam, alpha, mu = 30, 0.01, 0.05, 0.5
    X = rng.random((n, D)).astype(np.float32)
    labels = rng.integers(0, C, n).astype(np.int64)
    weights = list(_net(5))
    state = lowfloat.LowFloat(X, labels, weights, method, name, lam, mu, 9,
                              mlp.scratch_buffers(*weights))
    if method == "halp":
        state._center(alpha)
    for K, W, Cn, s in zip(state.K, state.W, state.C, state.scales):
        K[...] = float_formats.encode(rng.standard_normal(K.shape) * 4, name)[0]
        W[...] = Cn + np.float32(s) * state._offset(K)
    Ht, D1t, D2t = state.caches
    s1, s2 = state.scales
    VG1, VG2 = state.VG
    for i in rng.integers(0, n, 12):
        k1, k2 = (float_formats.decode(K, name) for K in state.K)
        W1, W2 = (W.astype(np.float64) for W in state.W)
        xa = np.append(X[i], 1)
        z1 = xa @ W1
        h = np.append(np.maximum(z1, 0), 1)
        d2 = ref.softmax_minus_onehot(h @ W2, labels[i])
        d1 = (W2[:-1] @ d2) * (z1 > 0)
        t1 = (1 - alpha * lam) * k1 - alpha / s1 * (np.outer(xa, d1) - np.outer(xa, D1t[i])) - VG1
        t2 = (1 - alpha * lam) * k2 - alpha / s2 * (np.outer(h, d2) - np.outer(Ht[i], D2t[i])) - VG2
        assert state.run(np.array([i]), alpha) == 0
        for K, target, W, Cn, s in zip(state.K, (t1, t2), state.W, state.C, state.scales):
            got = float_formats.decode(K, name)
            # one of the two format values around the target (1e-4 of a gap: float32 target)
            assert np.all(np.abs(got - target) <= 1.0001 * _spacing(target, name)), (name, i)
            np.testing.assert_allclose(W, Cn + np.float32(s) * got.astype(np.float32),
                                       rtol=1e-6, atol=1e-7)


def test_halp_scale_uses_the_formats_grid_top():
    rng = np.random.default_rng(0)
    X = rng.random((20, D)).astype(np.float32)
    labels = rng.integers(0, C, 20).astype(np.int64)
    weights = list(_net())
    state = lowfloat.LowFloat(X, labels, weights, "halp", "fp8-e4m3", 0.01, 2.0, 0,
                              mlp.scratch_buffers(*weights))
    state._center(0.05)
    grads, *_ = mlp.full_gradient(weights, X, labels, 0.01)
    for G, s in zip(grads, state.scales):
        assert s == pytest.approx(np.linalg.norm(G) / (2.0 * bit_centering.grid_top("fp8-e4m3")))
    assert state.K[0].dtype == np.uint8 and not state.K[0].any()


@pytest.fixture(scope="module")
def digits():
    prob = datasets.digits(lam=1e-3)
    prob.X_val, prob.y_val = prob.X[:500], prob.labels[:500]
    return prob


@pytest.mark.parametrize("method", ["lp-sgd", "halp"])
@pytest.mark.parametrize("name", ["bf16", "fp8-e4m3"])
def test_training_in_a_float_format_lowers_the_loss(digits, method, name):
    res = mlp.train(digits, method, hidden=16, epochs=2, step=0.05, mu=1.0, precision=name)
    hist = res.history
    assert list(hist.columns) == list(mlp.HISTORY_COLUMNS)
    assert hist.train_loss.iloc[-1] < 0.5 * hist.train_loss.iloc[0]
    assert hist.val_accuracy.iloc[-1] > 0.8 and res.settings["bits"] == name


def test_precision_is_bits_by_another_name(digits):
    a = mlp.train(digits, "lp-sgd", hidden=8, epochs=1, step=0.05, precision=6).history
    b = mlp.train(digits, "lp-sgd", hidden=8, epochs=1, step=0.05, bits=6).history
    assert a.drop(columns="seconds").equals(b.drop(columns="seconds"))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(precision="fp7"), ValueError, "or a float format"),
    (dict(precision=8, bits=4), ValueError, "give precision or bits, not both"),
    (dict(bits=1), ValueError, "bits must be between"),
])
def test_bad_precision_is_refused(digits, kwargs, error, match):
    with pytest.raises(error, match=match):
        mlp.train(digits, "halp", **kwargs)
