"""The paper's central claim, asserted: HALP converges linearly to the exact optimum like SVRG,
while LP-SGD and LP-SVRG stall at a quantization-noise floor (all on the same 8-bit data); and
HALP's defaults (mu="auto") converge on problems nobody tuned them for (issue 11)."""

import warnings

import numpy as np
import pytest

from halp_core import datasets, solve


@pytest.fixture(scope="module")
def lsq():
    """n = 1000, d = 50, isotropic Gaussian features, lam = 1e-2: the per-sample condition number
    kappa = L_max / mu (mu the smallest Hessian eigenvalue) is about 140."""
    prob = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0, data_bits=8)
    hessian = prob.X.T @ prob.X / prob.n + prob.lam * np.eye(prob.d)
    mu = float(np.linalg.eigvalsh(hessian)[0])
    assert 100 <= prob.L_max / mu <= 200
    return prob, mu


def _final(prob, solver, precision, **kw):
    res = solve(prob, solver, precision=precision, epochs=30, seed=0, **kw)
    return res.history.subopt.iloc[-1], res


def test_least_squares_halp_converges_lp_sgd_stalls(lsq):
    prob, mu = lsq
    step = 0.5 / prob.L_max
    reached = {}
    reached["svrg-fp64"], _ = _final(prob, "svrg", "fp64", step=step)
    # HALP's bit-centering constant: the problem's strong convexity (smallest Hessian eigenvalue,
    # about 0.61 here; mu = lam = 1e-2 would make the grid 60x too coarse for 8 bits).
    reached["halp-8"], halp = _final(prob, "halp", 8, step=step, mu=mu)
    reached["lp-sgd-8"], _ = _final(prob, "lp-sgd", 8, step=step)
    reached["lp-svrg-8"], _ = _final(prob, "lp-svrg", 8, step=step)
    print("f - f* after 30 epochs:", {k: f"{v:.2e}" for k, v in reached.items()})
    assert reached["svrg-fp64"] <= 1e-12
    assert reached["halp-8"] <= 1e-10
    assert reached["lp-sgd-8"] > 1e-5
    assert reached["lp-svrg-8"] > 1e-5
    # Linear convergence: HALP's suboptimality falls steadily, epoch after epoch.
    sub = halp.history.subopt.to_numpy()
    assert sub[10] < 1e-3 * sub[1] and sub[20] < 1e-3 * sub[10]


def test_least_squares_halp16_tracks_svrg(lsq):
    """At 16 bits the default mu="auto" follows SVRG's trajectory to its float64 floor."""
    prob, _ = lsq
    step = 0.5 / prob.L_max
    svrg, _ = _final(prob, "svrg", "fp64", step=step)
    halp16, _ = _final(prob, "halp", 16, step=step)
    print(f"f - f* after 30 epochs: svrg-fp64 {svrg:.2e}, halp-16 {halp16:.2e}")
    assert halp16 <= 1e-12


def test_digits_halp_beats_lp_sgd():
    prob = datasets.digits(lam=1e-3)
    step = 1.0 / prob.L_max
    reached = {}
    # mu = 10 lam: with mu = lam the 8-bit grid (range ||g~|| / mu) is too coarse on 640 weights.
    for name, solver, precision, kw in [("halp-8", "halp", 8, dict(mu=1e-2)),
                                        ("lp-sgd-8", "lp-sgd", 8, {}),
                                        ("lp-svrg-8", "lp-svrg", 8, {}),
                                        ("svrg-fp64", "svrg", "fp64", {})]:
        res = solve(prob, solver, precision=precision, step=step, epochs=50, seed=0, **kw)
        reached[name] = res.history.subopt.iloc[-1]
    print("digits f - f* after 50 epochs:", {k: f"{v:.2e}" for k, v in reached.items()})
    assert reached["halp-8"] * 10 <= reached["lp-sgd-8"]


def test_float32_svrg_applies_lambda_exactly():
    """With alpha lam = 2.1e-7, rounding 1 - alpha lam to float32 moved lam by 13% and left
    SVRG-fp32 at f - f* = 1e-12 after 40 epochs; applied as w - (alpha lam) w, it reaches 3e-15."""
    prob = datasets.synthetic_least_squares(2000, 20, lam=1e-5, noise=0.1, seed=0)
    res = solve(prob, "svrg", precision="fp32", step=1.0 / prob.L_max, epochs=40, seed=0)
    assert res.history["subopt"].iloc[-1] < 1e-13


# HALP with default arguments (mu="auto", issue 11) on problems it was not tuned for.
def _lsq(n, d, lam, seed, noise=0.1, cond=1.0):
    return lambda: datasets.synthetic_least_squares(n, d, lam=lam, noise=noise, seed=seed,
                                                    cond=cond)


def _per_L(k):
    """step = k / L_max of the problem."""
    return lambda prob: k / prob.L_max


# name: (problem factory, step, epochs, f - f* target). In the comments: measured f - f* (seed 0,
# 8 bits, default mu) and, in brackets, SVRG-fp64's at the same step and epochs.
DEFAULT_MU_CASES = {
    # the problem: mu = lam reached 4e57, mu = 3 lam 1.7e29
    "lsq-1200x40-seed7": (_lsq(1200, 40, 1e-2, 7), _per_L(0.2), 30, 1e-8),     # 7e-31 [8e-30]
    # README's example: mu = lam reached 3.8e32
    "readme-lsq-1000x50": (_lsq(1000, 50, 1e-2, 0), lambda prob: 1e-3, 20, 1e-8),  # 8e-13 [2e-13]
    # mu = lam ended at 10, worse than w = 0 (2.04)
    "digits-lam1e-3": (lambda: datasets.digits(lam=1e-3), _per_L(1.0), 50, 1e-6),  # 2.6e-8 [6e-11]
    "lsq-500x20-seed3": (_lsq(500, 20, 1e-3, 3, noise=0.5), _per_L(0.5), 30, 1e-8),  # 3e-26 [5e-28]
    "lsq-2000x100-seed11": (_lsq(2000, 100, 1e-2, 11), _per_L(0.5), 30, 1e-8),  # 3e-19 [5e-24]
    "lsq-300x60-lam1e-4": (_lsq(300, 60, 1e-4, 5), _per_L(0.5), 30, 1e-8),      # 1e-16 [6e-17]
    "lsq-cond10": (_lsq(1000, 50, 1e-3, 1, cond=10.0), _per_L(0.5), 30, 1e-8),  # 1e-23 [3e-25]
    "lsq-cond100": (_lsq(1000, 50, 1e-3, 2, cond=100.0), _per_L(0.5), 30, 1e-8),  # 1.7e-9 [4e-10]
    # Hessian condition number ~ 500: 30 epochs leave SVRG itself at 1e-6
    "lsq-cond1000-lam1e-3": (_lsq(1000, 50, 1e-3, 4, cond=1000.0), _per_L(0.5), 30,
                             1e-5),                                             # 1.4e-6 [1.1e-6]
    "lsq-cond1000-lam1e-2": (_lsq(1000, 50, 1e-2, 4, cond=1000.0), _per_L(0.5), 30,
                             1e-8),                                             # 1.1e-10 [1.5e-12]
    "logistic-1000x20": (lambda: datasets.synthetic_logistic(1000, 20, lam=1e-2, seed=0),
                         _per_L(0.5), 30, 1e-8),                                # 0 [0]
    "logistic-2000x50-lam1e-3": (lambda: datasets.synthetic_logistic(2000, 50, lam=1e-3, seed=3),
                                 _per_L(0.5), 30, 1e-8),                        # 0 [0]
    "digits-lam1e-2": (lambda: datasets.digits(lam=1e-2), _per_L(0.5), 30, 1e-8),  # 1e-16 [1e-16]
}


@pytest.mark.parametrize("name", list(DEFAULT_MU_CASES))
def test_halp_default_converges_without_tuning(name):
    """8-bit HALP with no mu given reaches the target, its loss never rises above the start and
    solve() raises no divergence warning."""
    make, step, epochs, target = DEFAULT_MU_CASES[name]
    prob = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = solve(prob, "halp", precision=8, step=step(prob), epochs=epochs, seed=0)
    sub = res.history.subopt.to_numpy()
    print(f"{name}: f - f* {sub[0]:.3g} -> {sub[-1]:.2g} after {epochs} epochs")
    assert res.settings["mu"] == "auto" and not res.diverged
    assert sub[-1] <= target
    assert res.history.loss.max() <= res.history.loss.iloc[0]


# ---- float formats (halp_core.float_formats) ----------------------------------------------------

@pytest.mark.parametrize("data", [8, "bf16"])
def test_least_squares_halp_in_float_formats_tracks_svrg(lsq, data):
    """HALP with its offset stored in bf16 or fp16 follows SVRG to float64's floor, fp8-e4m3 to
    1e-10, fp8-e5m2 (2 mantissa bits) linearly but slower, while LP-SGD and LP-SVRG in bf16 stall
    at the format's relative precision times |w*| (default mu="auto", 25 epochs; int8 data, and
    the data in bf16 too)."""
    prob, _ = lsq
    if data != 8:
        prob = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0,
                                                data_bits=data)
    step = 0.5 / prob.L_max
    reached = {}
    for solver, precision in [("svrg", "fp64"), ("halp", "bf16"), ("halp", "fp16"),
                              ("halp", "fp8-e4m3"), ("halp", "fp8-e5m2"), ("lp-sgd", "bf16"),
                              ("lp-svrg", "bf16")]:
        res = solve(prob, solver, precision=precision, step=step, epochs=25, seed=0)
        assert not res.diverged
        reached[f"{solver}-{precision}"] = res.history.subopt.to_numpy()
    print("f - f* after 25 epochs:", {k: f"{v[-1]:.2e}" for k, v in reached.items()})
    svrg = reached["svrg-fp64"][-1]
    assert reached["halp-bf16"][-1] <= max(10 * svrg, 1e-18)
    assert reached["halp-fp16"][-1] <= max(10 * svrg, 1e-18)
    assert reached["halp-fp8-e4m3"][-1] <= 1e-10
    e5m2 = reached["halp-fp8-e5m2"]
    assert e5m2[-1] <= 1e-6 and e5m2[20] < 1e-2 * e5m2[5]
    assert reached["lp-sgd-bf16"][-1] > 1e-5 and reached["lp-svrg-bf16"][-1] > 1e-6


@pytest.mark.parametrize("precision", ["bf16", "fp8-e4m3"])
@pytest.mark.parametrize("name", list(DEFAULT_MU_CASES))
def test_halp_in_float_formats_converges_without_tuning(name, precision):
    """HALP in bf16 and fp8-e4m3 with default arguments meets the 8-bit targets on every
    problem of DEFAULT_MU_CASES, without a divergence warning. (fp8-e5m2, 2 mantissa bits, misses
    lsq-2000x100-seed11's 1e-8 after 30 epochs: 2e-6.)"""
    make, step, epochs, target = DEFAULT_MU_CASES[name]
    prob = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = solve(prob, "halp", precision=precision, step=step(prob), epochs=epochs, seed=0)
    assert not res.diverged and res.history.subopt.iloc[-1] <= target
    assert res.history.loss.max() <= res.history.loss.iloc[0]
