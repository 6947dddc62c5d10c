"""Low-precision gradients with loss scaling in the MLP (halp_bench.mlp.scaling): the rounding
kernel against the ml_dtypes reference, underflow without a scale, the dynamic scaler's skip,
back-off and growth, per-layer adaptive scales, argument checks, training and the measurement's
table."""

import math

import numpy as np
import pytest
import reference as ref

from halp_bench import mlp
from halp_bench.mlp import scaling
from halp_core import datasets, float_formats

D, H, C = 10, 6, 4


def _net(seed=0, w2=0.5):
    rng = np.random.default_rng(seed)
    W1 = (rng.standard_normal((D + 1, H)) * 0.5).astype(np.float32)
    W2 = (rng.standard_normal((H + 1, C)) * w2).astype(np.float32)
    return W1, W2


def _round(name, policy, d2, z1, W2, scale=1.0, margin=0):
    """Run the kernel on copies; returns (d2, d1, overflowed, counts, scales); the magnitudes
    flushed and nonzero (sums of |v|) in _round.mass."""
    d2 = np.asarray(d2, np.float32).copy()
    d1 = np.zeros(W2.shape[0] - 1, np.float32)
    counts, sums = np.zeros(3, np.int64), np.zeros(4)
    over = scaling.round_backprop(np.asarray(z1, np.float32), W2, d1, d2,
                                   float_formats.params(name), float_formats.max_finite(name),
                                   scaling.POLICIES.index(policy), float(scale), margin, counts,
                                   sums)
    _round.mass = tuple(sums[2:])
    return d2, d1, bool(over), counts, tuple(2.0 ** sums[:2])


@pytest.mark.parametrize("name", ["fp16", "bf16", "fp8-e5m2", "fp8-e4m3"])
@pytest.mark.parametrize("policy,scale", [("none", 1.0), ("static", 2.0 ** 9),
                                          ("adaptive", 1.0)])
def test_round_backprop_matches_ml_dtypes(name, policy, scale):
    rng = np.random.default_rng(7)
    W1, W2 = _net(1)
    maxf = float_formats.max_finite(name)
    for trial in range(20):
        d2 = (rng.standard_normal(C) * 10.0 ** rng.uniform(-9, 0)).astype(np.float32)
        z1 = rng.standard_normal(H).astype(np.float32)
        got2, got1, over, counts, scales = _round(name, policy, d2, z1, W2, scale)
        r2, r1, r_over, flushed, nonzero, r_scales = ref.round_backprop(z1, W2, d2, name, maxf,
                                                                       policy, scale, 0)
        np.testing.assert_array_equal(got2, r2)
        np.testing.assert_allclose(got1, r1, rtol=1e-6, atol=0)   # d1's sum order may differ
        assert over == r_over and counts[1] == flushed and counts[2] == nonzero
        assert scales == pytest.approx(r_scales, rel=1e-12)


def test_fp16_without_a_scale_flushes_what_a_scale_keeps():
    W1, W2 = _net()
    d2 = np.array([2.5e-8, -2e-8, 1e-9, -1e-8], np.float32)   # below half fp16's smallest subnormal
    z1 = np.ones(H, np.float32)
    none2, none1, over, counts, _ = _round("fp16", "none", d2, z1, W2)
    assert not over and counts[1] == counts[2] == C and not none2.any() and not none1.any()
    assert _round.mass == pytest.approx((np.abs(d2).sum(), np.abs(d2).sum()))
    for policy, scale in (("static", 2.0 ** 14), ("dynamic", 2.0 ** 14), ("adaptive", 1.0)):
        kept2, kept1, over, counts, _ = _round("fp16", policy, d2, z1, W2, scale)
        assert not over and counts[1] == 0 and counts[2] == C + H and _round.mass[0] == 0
        np.testing.assert_allclose(kept2, d2, rtol=2.0 ** -10)
        np.testing.assert_allclose(kept1, W2[:-1] @ d2, rtol=2.0 ** -9)


def _epoch(X, labels, W1, W2, name, scaler, state, idx, alpha=0.1):
    counts, sums = np.zeros(3, np.int64), np.zeros(4)
    scaling.sgd_lowgrad_epoch(X, labels, W1, W2, 0.0, alpha, np.asarray(idx, np.int64),
                               float_formats.params(name), float_formats.max_finite(name),
                               scaling.POLICIES.index(scaler.policy), scaler.backoff,
                               scaler.growth, scaler.interval, scaler.margin, state, counts,
                               sums, *mlp.scratch_buffers(W1, W2))
    return counts


def _data(n=8, seed=3):
    rng = np.random.default_rng(seed)
    return rng.random((n, D)).astype(np.float32), rng.integers(0, C, n).astype(np.int64)


def test_dynamic_scaler_skips_an_overflowing_step_and_backs_off():
    X, labels = _data()
    W1, W2 = _net()
    before = W1.copy(), W2.copy()
    scaler = scaling.LossScaling("dynamic", scale=2.0 ** 30, interval=100)
    state = np.array([scaler.scale, 5.0])
    counts = _epoch(X, labels, W1, W2, "fp16", scaler, state, [0])
    assert counts[0] == 1 and state[0] == 2.0 ** 29 and state[1] == 0
    np.testing.assert_array_equal(W1, before[0])
    np.testing.assert_array_equal(W2, before[1])
    # it keeps backing off, one skipped step each, until the scaled gradient fits
    counts = _epoch(X, labels, W1, W2, "fp16", scaler, state, [0] * 40)
    fits = counts[0]
    assert 10 <= fits < 40 and state[0] == 2.0 ** (29 - fits) and state[1] == 40 - fits
    assert not np.array_equal(W1, before[0])


def test_dynamic_scaler_grows_after_interval_clean_steps():
    X, labels = _data()
    W1, W2 = _net()
    scaler = scaling.LossScaling("dynamic", scale=1.0, interval=3, growth=4.0)
    state = np.array([1.0, 0.0])
    counts = _epoch(X, labels, W1, W2, "fp16", scaler, state, [0, 1, 2, 3, 4, 5, 6])
    assert counts[0] == 0 and state[0] == 16.0 and state[1] == 1


def test_static_and_none_skip_overflow_without_changing_the_scale():
    X, labels = _data()
    W1, W2 = _net()
    scaler = scaling.LossScaling("static", scale=2.0 ** 30)
    state = np.array([2.0 ** 30, 0.0])
    counts = _epoch(X, labels, W1, W2, "fp16", scaler, state, [0, 1, 2])
    assert counts[0] == 3 and state[0] == 2.0 ** 30


def test_adaptive_scales_each_layer_from_its_own_magnitude():
    _, W2 = _net(w2=1.0)
    W2 = (W2 * 1e4).astype(np.float32)          # hidden deltas ~1e4 x the score gradient
    d2 = np.array([1e-3, -2e-3, 5e-4, 5e-4], np.float32)
    z1 = np.ones(H, np.float32)
    for name in ("fp16", "fp8-e4m3"):
        maxf = float_formats.max_finite(name)
        got2, got1, over, counts, (s2, s1) = _round(name, "adaptive", d2, z1, W2)
        assert not over and s2 > 1000 * s1
        for v, s in ((d2, s2), (W2[:-1] @ got2, s1)):   # largest entry in the top binade
            assert math.log2(s).is_integer() and maxf / 2 < np.abs(v).max() * s <= maxf
        _, _, _, _, (m2, m1) = _round(name, "adaptive", d2, z1, W2, margin=3)
        assert (m2, m1) == (s2 / 8, s1 / 8)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(policy="auto"), ValueError, "policy must be one of"),
    (dict(policy="dynamic", backoff=1.5), ValueError, "backoff must be in"),
    (dict(policy="dynamic", growth=1.0), ValueError, "growth must be > 1"),
    (dict(policy="dynamic", interval=0), ValueError, "interval must be >= 1"),
    (dict(policy="dynamic", interval=2.5), TypeError, "interval must be an int"),
    (dict(policy="static", scale=0.0), ValueError, "loss scale must be a finite number > 0"),
    (dict(policy="static", scale=2.0 ** 70), ValueError, "loss scale must be in"),
    (dict(policy="static", scale=8.0, margin=2), ValueError, "'static' takes no margin"),
    (dict(policy="none", scale=8.0), ValueError, "'none' takes no scale"),
    (dict(policy="adaptive", margin=-1), ValueError, "margin must be >= 0"),
])
def test_bad_loss_scaling_is_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        scaling.LossScaling(**kwargs)


@pytest.fixture(scope="module")
def digits():
    prob = datasets.digits(lam=1e-3)
    prob.X_val, prob.y_val = prob.X[:500], prob.labels[:500]
    return prob


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(loss_scaling="static"), ValueError, "needs a grad_format"),
    (dict(grad_format="fp4"), ValueError, "grad_format must be None or one of"),
    (dict(grad_format="fp16", loss_scaling=2.0), TypeError, "loss_scaling must be one of"),
    (dict(grad_format="fp16", loss_scaling="auto"), ValueError, "policy must be one of"),
    (dict(method="lp-sgd", grad_format="fp16"), ValueError, "grad_format applies to method"),
])
def test_bad_gradient_options_are_refused(digits, kwargs, error, match):
    with pytest.raises(error, match=match):
        mlp.train(digits, **{"method": "sgd", **kwargs})


def test_training_with_low_precision_gradients(digits):
    res = mlp.train(digits, "sgd", hidden=8, epochs=2, step=0.05, seed=1, grad_format="fp8-e4m3",
                    loss_scaling=scaling.LossScaling("dynamic", scale=2.0 ** 12, interval=50))
    hist = res.history
    assert list(hist.columns) == list(mlp.HISTORY_COLUMNS + scaling.GRAD_COLUMNS)
    assert hist.train_loss.iloc[-1] < 0.5 * hist.train_loss.iloc[0]
    assert (hist.skipped.iloc[1:] > 0).all() and (hist.nonzero.iloc[1:] > 0).all()
    assert res.settings["grad_format"] == "fp8-e4m3"
    assert res.settings["loss_scaling"]["interval"] == 50
    again = mlp.train(digits, "sgd", hidden=8, epochs=2, step=0.05, seed=1,
                      grad_format="fp8-e4m3",
                      loss_scaling=scaling.LossScaling("dynamic", scale=2.0 ** 12, interval=50))
    assert hist.drop(columns="seconds").equals(again.history.drop(columns="seconds"))


def test_measurement_table(digits):
    size = scaling.Size(rows=digits.n, epochs=1, seeds=2, hidden=8, step=0.05, lam=1e-3)
    frame = scaling.runs(digits, size)
    summary = scaling.summarize(frame)
    cases = 1 + len(scaling.GRAD_FORMATS) * len(scaling.POLICIES)
    assert len(summary) == cases and (summary.seeds == 2).all()
    fp8 = summary.set_index(["grad_format", "policy"]).loc["fp8-e4m3"]
    # no scaling flushes the most gradient entries; adaptive scaling the fewest
    assert fp8.flushed_share["none"] > fp8.flushed_share["static"] > fp8.flushed_share["adaptive"]
    assert fp8.flushed_mass["none"] > fp8.flushed_mass["static"] > fp8.flushed_mass["adaptive"]
    assert fp8.skipped_share["dynamic"] > 0 == fp8.skipped_share["none"]
    lines = scaling.table(frame)
    assert len(lines) == 2 + cases and lines[2].startswith("| fp32 | none |")
    epochs = scaling.flushed_by_epoch(frame)
    assert len(epochs) == 1 + cases and epochs[2].startswith("| fp16 | none | ")
    assert scaling.static_scale("fp16") == 2.0 ** 11 and scaling.static_scale("fp8-e4m3") == 16
    assert scaling.command(scaling.Size.quick()) == "python -m halp_bench.mlp.scaling --quick"
    assert scaling.command(scaling.Size(seeds=3)).endswith("scaling --seeds 3")
