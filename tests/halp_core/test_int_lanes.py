"""The integer-lane step (halp_core.int_lanes) against its NumPy twin, and the unbiasedness of
every stochastic rounding inside one seed (a constant move rounded over 1e6 times)."""

import numpy as np
import pytest
from numba import njit

import reference as ref
from halp_core import fixed_point, int_lanes, random_bits
from halp_core.kernels import sample_table
from halp_core.solvers.fixed_grid import lp_epoch_linear


@njit(cache=False)
def _lane_step_kernel(X, K, vg, coef, shrink, seed_key, step, lo, hi):
    VGHI, VGLO, lanes = int_lanes.epoch_lanes(vg.reshape((1, vg.shape[0])), seed_key, step, K[0],
                                              X[0])
    key = random_bits.step_key(seed_key, step)
    ok, mult, cf, thr, thr2 = int_lanes.dithers(lanes, coef, shrink, key)
    if not ok:
        return -1, 0
    return int_lanes.row_step(K, X, 0, 1, VGHI, VGLO, 0, lanes, mult, cf, thr, thr2, key, lo,
                              hi)


def _lane_step(x, k, vg, coef, shrink, seed_key, step, lo, hi, x_next=None):
    """One integer-lane step of k (in place) on row x: (saturation count, x_next . k after the
    step), or (-1, 0) when the step goes to the float lanes."""
    X = np.stack([x, x if x_next is None else x_next])
    return _lane_step_kernel(X, k.reshape(1, -1), vg, coef, shrink, seed_key, step, lo, hi)


def _one_lane_step(x, k, vg, coef, shrink, seed_key, step, lo, hi):
    return _lane_step(x, k, vg, coef, shrink, seed_key, step, lo, hi)[0]


@pytest.mark.parametrize("d", [1, 31, 32, 33, 64, 100, 257])
@pytest.mark.parametrize("bits,x_dtype", [(2, np.int8), (4, np.int8), (7, np.int8), (8, np.int8),
                                          (9, np.int8), (12, np.int16), (16, np.int8),
                                          (16, np.int16)])
def test_lane_step_is_bit_exact(d, bits, x_dtype):
    """Blocks of LANES and the masked last block give exactly the NumPy twin's integers and
    saturation count, saturation and every sign included, in 16-bit lanes (int8 iterates) and
    32-bit lanes (int16 iterates on int8 or int16 data); the fused next dot is the exact
    x_next . k of the new iterate."""
    rng = np.random.default_rng(d * 17 + bits)
    lo, hi = ref.grid(bits)
    x_top = np.iinfo(x_dtype).max
    seed_key = random_bits.seed_key(d + bits)
    width = ref.lane_width(fixed_point.storage_dtype(bits), x_dtype)
    for step in range(30):
        x = rng.integers(-x_top, x_top + 1, d).astype(x_dtype)
        k = rng.integers(lo, hi + 1, d).astype(fixed_point.storage_dtype(bits))
        vg = (rng.standard_normal(d) * rng.choice([0.01, 0.5, 3.0])).astype(np.float32)
        coef = float(rng.standard_normal() * rng.choice([1e-3, 2e-2, 0.3]) * 127 / x_top)
        shrink = float(rng.choice([0.0, 1e-4, 0.05]))
        vghi, vglo, vgd_max = ref.split_vg(vg, ref.epoch_key(seed_key, step), width[1], width[3])
        expected = ref.lane_step(x, k, vghi, vglo, vgd_max, coef, shrink,
                                 ref.step_key(seed_key, step), bits)
        got_k = k.copy()
        x_next = rng.integers(-x_top, x_top + 1, d).astype(x_dtype)
        sat, dot = _lane_step(x, got_k, vg, coef, shrink, seed_key, step, lo, hi, x_next)
        if expected is None:
            assert sat == -1 and np.array_equal(got_k, k)
        else:
            np.testing.assert_array_equal(got_k, expected[0])
            assert sat == expected[1]
            assert dot == x_next.astype(np.int64) @ got_k.astype(np.int64)


@pytest.mark.parametrize("bits,x_dtype", [(8, np.int8), (16, np.int16)])
def test_fused_dot_is_exact_past_the_32_bit_flush(bits, x_dtype):
    """The next dot's partial sums stay exact on a row long enough to flush the 32-bit lane sums
    (int_lanes.FLUSH_BLOCKS blocks) and to overflow 32 bits if they were never flushed: every
    coordinate at the grid's extreme."""
    d = int_lanes.LANES * int_lanes.FLUSH_BLOCKS * 3 + 37
    lo, hi = ref.grid(bits)
    x = np.zeros(d, dtype=x_dtype)
    x_next = np.full(d, np.iinfo(x_dtype).min + 1, dtype=x_dtype)
    k = np.full(d, lo, dtype=fixed_point.storage_dtype(bits))
    zero = np.zeros(d, dtype=np.float32)
    sat, dot = _lane_step(x, k, zero, 0.0, 0.0, np.uint64(3), 0, lo, hi, x_next)
    assert sat == 0 and (k == lo).all()
    assert dot == d * int(x_next[0]) * lo
    assert abs(dot) > 2**31


def test_lane_step_refuses_what_int16_cannot_hold():
    """A coefficient of half a grid unit per data unit or more (it no longer fits 16 bits with 16
    fractional bits), or a vg of 300 grid units, sends the step to the float lanes (-1) and
    leaves k untouched."""
    x = np.full(64, 100, dtype=np.int8)
    k = np.zeros(64, dtype=np.int8)
    zero = np.zeros(64, dtype=np.float32)
    assert _one_lane_step(x, k, zero, 0.5, 0.0, np.uint64(1), 0, -128, 127) == -1
    assert _one_lane_step(x, k, zero + 300.0, 0.0, 0.0, np.uint64(1), 0, -128, 127) == -1
    assert _one_lane_step(x, k, zero + np.nan, 0.0, 0.0, np.uint64(1), 0, -128, 127) == -1
    assert not k.any()
    assert _one_lane_step(x, k, zero + 0.3, 0.49, 1e-3, np.uint64(1), 0, -128, 127) >= 0


# ---- unbiasedness inside one seed ----------------------------------------------------------------
#
# The epoch kernel, one step at a time from the same state (k reset, the step counter running on,
# so every step has fresh random bits under one seed): the mean new k must equal k - m within
# 3 standard errors. Moves are built from each term of m: vg alone (zero data), the data term
# c x (least squares with a known residual) and the shrink a lam k.

D = 512
CALLS = 2000           # x D = 1.02e6 roundings per case


def _mean_step(k0, x_value, vg_value, coef, lam, bits, data_dtype=np.int8):
    """(mean of k_new - k0 over all D * CALLS roundings, its standard error, expected k - m - k0, used lanes?)
    for a constant state k0, data x = x_value, vg = vg_value and the least-squares residual set so
    that coef (grid units per data unit) is the step's data coefficient."""
    k_dtype = fixed_point.storage_dtype(bits)
    Xq = np.full((1, D), x_value, dtype=data_dtype)
    y = np.zeros(1)
    alpha, s, x_scale = 0.5, 1.0, 1.0
    grid_coef = alpha * x_scale / s
    # least squares: c = (a + x_scale s x.k) - y - r; choose r so that c = coef / grid_coef
    dot = float(x_value) * float(k0) * D
    r = np.array([dot - coef / grid_coef])
    a = np.zeros(1)
    vg = np.full(D, vg_value, dtype=np.float32)
    rounding = fixed_point.make_rounding(5, bits, np.float32)
    idx = np.zeros(1, dtype=np.int64)
    call_means = np.empty(CALLS)
    for call in range(CALLS):
        k = np.full(D, k0, dtype=k_dtype)
        lp_epoch_linear(Xq, x_scale, sample_table(y, a, r), k, s, vg, lam / alpha * 1.0, alpha,
                        idx, 0, rounding, 1000 + call)
        call_means[call] = k.astype(np.float64).mean() - k0
    # The per-step dithers (c, sh, the carry of vg) are shared by a step's coordinates, so the
    # steps, not the roundings, are the independent samples of the mean.
    move = lam * k0 + coef * x_value + vg_value
    lanes = data_dtype == np.int8 and bits <= 8
    return call_means.mean(), call_means.std() / np.sqrt(CALLS), -move, lanes


CASES = {
    # name: (k0, x, vg, coef, a lam)
    "vg-on-grid": (0, 0, 0.25, 0.0, 0.0),
    "vg-off-grid": (0, 0, 1.0 / 3.0, 0.0, 0.0),
    "vg-negative": (0, 0, -0.7071, 0.0, 0.0),
    "vg-tiny": (0, 0, 1e-3, 0.0, 0.0),
    "vg-large": (0, 0, -3.3, 0.0, 0.0),
    "data-off-grid": (0, 37, 0.0, 0.01234, 0.0),
    "data-negative": (0, -91, 0.0, 0.003, 0.0),
    "shrink": (100, 0, 0.0, 0.0, 3e-4),
    "all-terms": (-60, 23, 0.11, -0.0071, 1e-3),
    "near-top": (126, 0, -0.6, 0.0, 0.0),
    "near-bottom": (-127, 0, 0.4, 0.0, 0.0),
}


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("case", list(CASES))
def test_constant_move_is_unbiased_within_one_seed(case, bits):
    """Integer lanes (8 bits) and float lanes (16 bits): mean new k within 3 standard errors of
    k - m for moves on and off the grid, positive and negative, near saturation, built from every
    term of the move."""
    k0, x, vg, coef, shrink = CASES[case]
    mean, se, expected, _ = _mean_step(k0, x, vg, coef, shrink, bits)
    assert abs(mean - expected) <= 3 * se + 1e-9, (mean, expected, se)


def test_constant_move_does_not_drift_over_many_steps():
    """Zero data, lam = 0, a constant move per step over many steps of one run (no reset): all
    coordinates must drift by -m per step on average (the shared table drifted 80-300 standard
    errors here)."""
    bits, m, steps, runs = 8, 0.37, 200, 12
    Xq = np.zeros((1, D), dtype=np.int8)
    vg = np.full(D, m, dtype=np.float32)
    rounding = fixed_point.make_rounding(3, bits, np.float32)
    idx = np.zeros(steps, dtype=np.int64)
    totals = []
    for run in range(runs):
        k = np.zeros(D, dtype=np.int8)
        sat = lp_epoch_linear(Xq, 1.0, sample_table(np.zeros(1)), k, 1.0, vg, 0.0, 0.5, idx, 0,
                              rounding, run * steps)
        assert sat == 0
        totals.append(k.astype(np.float64))
    totals = np.concatenate(totals)   # runs * D coordinates, each the sum of `steps` roundings
    per_step = totals / steps
    se = totals.std() / steps / np.sqrt(totals.size)
    assert totals.size * steps >= 1_000_000
    assert abs(per_step.mean() + m) <= 3 * se, (per_step.mean(), -m, se)
