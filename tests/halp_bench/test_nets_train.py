"""halp_bench.nets.train: the low-precision step of a network's coordinates against its NumPy twin,
and the methods on both networks."""

import numpy as np
import pytest
import reference as ref

from halp_core import fixed_point, float_formats, random_bits, registry
from halp_bench.nets import train


def _groups(P, L, rng):
    cuts = np.sort(rng.choice(np.arange(1, P), L - 1, replace=False))
    return np.concatenate([[0], cuts, [P]]).astype(np.int64)


@pytest.mark.parametrize("halp", [False, True])
def test_step_offsets_matches_numpy_in_fixed_point(halp):
    """Offsets after one step from random ones, with the same random bits: the kernel's float32
    target can differ from float64's only within ~1e-5 of an integer, so at most a flip or two."""
    rng = np.random.default_rng(3)
    P, bits, alpha, lam, seed, step = 3000, 8, 0.05, 1e-3, 7, 12
    starts = _groups(P, 3, rng)
    scales = np.array([0.01, 0.003, 0.02])
    K = rng.integers(-60, 60, P).astype(np.int8)
    C = rng.standard_normal(P).astype(np.float32) if halp else np.zeros(P, np.float32)
    D = rng.standard_normal(P).astype(np.float32)
    VG = (rng.standard_normal(P) * 5).astype(np.float32) if halp else np.zeros(P, np.float32)
    D[:5] = 1e3   # saturating moves, counted per group
    s = np.repeat(scales, np.diff(starts))
    key = ref.step_key(random_bits.seed_key(seed), step)
    target = K * (1 - alpha * lam) - alpha / s * D - VG
    want, _ = ref.round_stochastic(target, ref.lane_uniform(key, np.arange(P)), bits)
    w = (C + s * K).astype(np.float32)
    clamped = np.zeros(3, np.int64)
    train.step_offsets(K, C, w, D, VG, starts, scales, alpha * lam, alpha,
                       random_bits.seed_key(seed), step, fixed_point.rounding_bounds(bits, np.float32),
                       clamped)
    assert int(np.sum(K != want)) <= 2 and np.abs(K - want).max() <= 1
    np.testing.assert_allclose(w, C + s * K, rtol=1e-6, atol=1e-6)
    lo, hi = ref.grid(bits)
    u = ref.lane_uniform(key, np.arange(P))
    over = (np.floor(target + u) < lo) | (np.floor(target + u) > hi)
    for layer in range(3):
        part = slice(starts[layer], starts[layer + 1])
        assert abs(int(clamped[layer]) - int(over[part].sum())) <= 1
    assert clamped[0] >= 5


@pytest.mark.parametrize("name", ["bf16", "fp8-e4m3"])
def test_step_offsets_matches_numpy_in_a_float_format(name):
    """A float format's offsets: each store is the format's stochastic rounding of the float32
    target with coordinate j's 32 bits lane_hash(step key, j)."""
    rng = np.random.default_rng(5)
    P, alpha, lam, seed, step = 2000, 0.1, 1e-4, 2, 40
    starts = _groups(P, 2, rng)
    scales = np.array([1e-3, 4e-3])
    values = (rng.standard_normal(P) * 20).astype(np.float32)
    K = float_formats.encode(values, name)[0]
    C = rng.standard_normal(P).astype(np.float32)
    D = rng.standard_normal(P).astype(np.float32)
    VG = rng.standard_normal(P).astype(np.float32)
    s = np.repeat(scales, np.diff(starts)).astype(np.float32)
    kf = float_formats.decode(K, name).astype(np.float32)
    target = (kf - (np.float32(alpha * lam) * kf + (np.float32(alpha) / s) * D + VG)).astype(np.float32)
    key = ref.step_key(random_bits.seed_key(seed), step)
    entry = registry.format_spec(name)
    want = ref.round_format_stochastic(target, ref.lane_hash(key, np.arange(P)).astype(np.uint32),
                                       ref.format_dtype(name), entry.mantissa_bits, entry.bias)
    w = np.zeros(P, np.float32)
    clamped = np.zeros(2, np.int64)
    train.step_offsets(K, C, w, D, VG, starts, scales, alpha * lam, alpha,
                       random_bits.seed_key(seed), step, float_formats.params(name), clamped)
    got = float_formats.decode(K, name)
    assert np.array_equal(got, want)
    np.testing.assert_allclose(w, C + s * got.astype(np.float32), rtol=1e-6, atol=1e-6)
    assert clamped.sum() == 0


# ---- the methods on LeNet-5 (a few hundred Fashion-MNIST images) ---------------------------------

@pytest.fixture(scope="module")
def images():
    from halp_bench.nets import cnn, data
    tr, val = data.fashion_mnist(train_rows=640, val_rows=300)
    return cnn.LeNet(), tr, val


@pytest.mark.parametrize("method,precision", train.RUNS)
def test_every_run_trains_lenet(images, method, precision):
    net, tr, val = images
    res = train.train(net, tr, val, method, precision, epochs=2, step=0.1, seed=1)
    hist = res.history
    groups = [name for name, _, _ in net.groups]
    assert list(hist.columns) == list(train.HISTORY_COLUMNS) + [f"mu_{g}" for g in groups]
    assert len(hist) == 3 and hist.attrs["diverged_epoch"] is None
    assert hist.train_loss.iloc[-1] < 0.6 * hist.train_loss.iloc[0]
    assert hist.val_accuracy.iloc[-1] > 0.5          # ten classes: chance is 0.1
    assert hist.passes.iloc[-1] == (4 if method in ("halp", "lp-svrg") else 2)
    mus = hist[[f"mu_{g}" for g in groups]].iloc[1:].to_numpy()
    if method == "halp":
        assert np.isfinite(mus).all() and (mus > 0).all()
        assert len(np.unique(mus[0])) == len(groups)    # a mu of each layer's own
    else:
        assert np.isnan(mus).all()
    assert res.weights.dtype == np.float32 and res.weights.shape == (net.size,)


def test_a_run_is_reproducible_from_its_seed(images):
    net, tr, val = images
    a, b, c = (train.train(net, tr, val, "halp", 8, epochs=1, step=0.1, seed=s).history
               for s in (3, 3, 4))
    cols = ["train_loss", "val_loss", "val_accuracy", "saturations"]
    assert a[cols].equals(b[cols]) and not a[cols].equals(c[cols])


def test_a_fixed_mu_sets_every_layers_grid(images):
    net, tr, val = images
    hist = train.train(net, tr, val, "halp", 8, epochs=1, step=0.1, mu=5.0).history
    assert (hist.filter(like="mu_").iloc[1] == 5.0).all()


def test_halp_keeps_the_weights_on_the_grid_around_the_anchor(images):
    """After a step, w = C + s value(K) per layer: the offsets hold every move."""
    net, tr, val = images
    state = train.LowPrecision(net, tr, len(tr.y), net.init(0), 1e-4, 32, "halp", 8, 0, "auto")
    state.start_epoch(0.1)
    for t in range(3):
        state.step(np.arange(32 * t, 32 * (t + 1), dtype=np.int64), 0.1)
    s = np.repeat(state.scales, np.diff(state.starts)).astype(np.float32)
    np.testing.assert_allclose(state.w, state.C + s * state.K.astype(np.float32), rtol=1e-6,
                               atol=1e-7)
    assert np.abs(state.K).max() > 0 and np.abs(state.K.astype(int)).max() <= 127


def test_a_diverging_run_says_so(images):
    net, tr, val = images
    with pytest.warns(RuntimeWarning, match="cnn sgd-fp32 diverged at epoch 1"):
        hist = train.train(net, tr, val, "sgd", "fp32", epochs=2, step=1e3).history
    assert hist.attrs["diverged_epoch"] == 1 and "smaller step" in hist.attrs["divergence"]


def test_a_run_that_learns_nothing_says_so(images):
    """A step so large that every ReLU dies leaves the loss at a uniform guess's, log(10)."""
    net, tr, val = images
    with pytest.warns(RuntimeWarning, match="cnn sgd-fp32 made no progress"):
        hist = train.train(net, tr, val, "sgd", "fp32", epochs=2, step=5.0).history
    assert "log" not in hist.attrs["no_progress"] and "2.3" in hist.attrs["no_progress"]


@pytest.mark.parametrize("kwargs,message", [
    (dict(method="adam", precision="fp32"), "method"),
    (dict(method="sgd", precision=8), "float32"),
    (dict(method="halp", precision="fp32"), "precision"),
    (dict(method="halp", precision=1), "bits"),
    (dict(method="halp", precision=8, batch=10_000), "batch"),
    (dict(method="halp", precision=8, mu=-1.0), "mu"),
    (dict(method="halp", precision=8, step=0.0), "step"),
    (dict(method="halp", precision=8, epochs=0), "epochs"),
])
def test_bad_arguments_are_refused(images, kwargs, message):
    net, tr, val = images
    with pytest.raises((ValueError, TypeError), match=message):
        train.train(net, tr, val, **kwargs)


def test_a_network_must_follow_the_contract(images):
    _, tr, val = images
    with pytest.raises(TypeError, match="no 'groups'"):
        train.train(object(), tr, val, "sgd", "fp32")


def test_a_shorter_epoch_recentres_more_often(images):
    """T = 5 steps of 32 of the 640 samples: a quarter pass plus HALP's full gradient per epoch."""
    net, tr, val = images
    hist = train.train(net, tr, val, "halp", 8, epochs=2, step=0.1, epoch_steps=5).history
    assert hist.passes.tolist() == [0.0, 1.25, 2.5] and hist.attrs["epoch_steps"] == 5
    with pytest.raises(ValueError, match="epoch_steps"):
        train.train(net, tr, val, "halp", 8, epoch_steps=21)


def test_the_first_grid_follows_the_pilot_not_the_epochs_length(images, monkeypatch):
    """Epoch 0's mu per layer comes from the pilot's largest move alone: a longer T (same pilot)
    gives the same grids (scaled by T, a long epoch's grids grew coarse enough to round LeNet's
    weights away)."""
    net, tr, val = images
    monkeypatch.setattr(train, "PILOT_STEPS", 4)
    mus = [train.train(net, tr, val, "halp", 8, epochs=1, step=0.1, epoch_steps=t)
           .history.filter(like="mu_").iloc[1].to_numpy() for t in (5, 20)]
    np.testing.assert_array_equal(mus[0], mus[1])


def test_the_warm_epoch_leaves_out_svrgs_anchor_terms(images):
    """In its warm epoch HALP steps as bit-centred LP-SGD: the same first epoch as with SVRG's
    terms would differ, and LP-SVRG's warm epoch is LP-SGD's on the same grid, step for step."""
    net, tr, val = images
    hist = {w: train.train(net, tr, val, "halp", 8, epochs=1, step=0.1, warm_epochs=w).history
            for w in (0, 1)}
    assert hist[1].attrs["warm_epochs"] == 1
    assert hist[0].val_loss.iloc[1] != hist[1].val_loss.iloc[1]
    lp_svrg = train.train(net, tr, val, "lp-svrg", 8, epochs=1, step=0.1).history
    lp_sgd = train.train(net, tr, val, "lp-sgd", 8, epochs=1, step=0.1).history
    cols = ["train_loss", "val_loss", "val_accuracy", "saturations"]
    assert lp_svrg[cols].equals(lp_sgd[cols])
    with pytest.raises(ValueError, match="warm_epochs"):
        train.train(net, tr, val, "halp", 8, warm_epochs=-1)


def test_default_arguments_train_both_networks():
    """With its defaults (the network's own step, 5 epochs, mu auto) HALP-8 learns each network
    on data and a seed no test above tuned for."""
    from halp_bench.nets import cnn, data, lstm
    tr, val = data.fashion_mnist(train_rows=3000, val_rows=500)
    hist = train.train(cnn.LeNet(), tr, val, "halp", 8, seed=11).history
    assert hist.attrs["step"] == cnn.LeNet.default_step and hist.val_accuracy.iloc[-1] > 0.7
    tagging = data.brown_tagging(train_sentences=1500, val_sentences=300)
    net = lstm.Tagger(len(tagging.words), len(tagging.tags))
    hist = train.train(net, tagging.train, tagging.val, "halp", 8, epochs=3, seed=11).history
    assert hist.attrs["step"] == lstm.Tagger.default_step and hist.val_accuracy.iloc[-1] > 0.55
    assert hist.attrs["no_progress"] == "" and hist.attrs["diverged_epoch"] is None
