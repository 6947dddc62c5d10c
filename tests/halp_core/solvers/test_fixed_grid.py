"""halp_core.solvers.fixed_grid: the low-precision epoch on b-bit integers (LP-SGD, LP-SVRG and
HALP's inner loop), linear and multinomial, against the NumPy twin (tests/reference.py), step by
step."""

import numpy as np
import pytest
import reference as ref

from halp_core import fixed_point, random_bits
from halp_core.kernels import sample_table
from halp_core.solvers.fixed_grid import lp_epoch_linear, lp_epoch_multinomial


def _lp_case(rng, kind, data_dtype, bits, n=120, d=24, C=3):
    """Random inputs of an LP epoch: integer data and iterate, cached a, r, grid-unit vg."""
    shape = (d, C) if kind == "multinomial" else (d,)
    rshape = (n, C) if kind == "multinomial" else (n,)
    lo, hi = fixed_point.grid_limits(bits)
    dmax = np.iinfo(data_dtype).max
    Xq = rng.integers(-dmax, dmax + 1, (n, d)).astype(data_dtype)
    x_scale = 1.0 / (dmax * np.sqrt(d))
    if kind == "multinomial":
        y = rng.integers(0, C, n)
    else:
        y = rng.standard_normal(n) if kind == 0 else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    k = rng.integers(lo // 2, hi // 2 + 1, shape).astype(fixed_point.storage_dtype(bits))
    s = 0.5 / hi
    a = rng.standard_normal(rshape) * 0.3
    r = rng.standard_normal(rshape) * 0.1
    compute = np.float32 if bits <= 8 else np.float64
    vg = (rng.standard_normal(shape) * 3.0).astype(compute)
    return Xq, x_scale, y, k, s, a, r, vg


@pytest.mark.parametrize("kind", [0, 1, "multinomial"])
@pytest.mark.parametrize("data_dtype,bits", [(np.int8, 4), (np.int8, 8), (np.int8, 16),
                                             (np.int16, 16)])
def test_lp_epoch(kind, data_dtype, bits):
    """An LP epoch (the kernel of LP-SGD, LP-SVRG and HALP) on a fixed index sequence, step by step.

    Integer-lane steps are exact; the float-lane update's per-coordinate arithmetic is float32
    (float64 in the reference), so a value within float32 rounding of a grid boundary may land one
    step apart (and a per-step dither within float rounding of an integer may differ): each step
    starts from the kernel's own state, and such flips must stay rare and +-1."""
    rng = np.random.default_rng(11)
    Xq, x_scale, y, k, s, a, r, vg = _lp_case(rng, kind, data_dtype, bits)
    n = Xq.shape[0]
    idx = rng.integers(0, n, n)
    key = random_bits.seed_key(9)
    rounding = fixed_point.make_rounding(9, bits, vg.dtype)
    alpha, lam = 0.3, 0.05
    flips = total_sat = total_sat_ref = 0
    for t in range(n):
        step = idx[t:t + 1]
        if kind == "multinomial":   # the kernel steps K^T
            kt = np.ascontiguousarray(k.T)
            expected, sat_ref = ref.lp_epoch(Xq, x_scale, y, kt, s, a, r, vg.astype(float), lam,
                                             alpha, step, kind, key, 1000 + t, bits)
            sat = lp_epoch_multinomial(Xq, x_scale, y, kt, s, a, r, vg, lam, alpha, step,
                                              rounding, 1000 + t)
            k[...] = kt.T
            expected = expected.T
        else:
            expected, sat_ref = ref.lp_epoch(Xq, x_scale, y, k, s, a, r, vg.astype(float), lam,
                                             alpha, step, kind, key, 1000 + t, bits)
            sat = lp_epoch_linear(Xq, x_scale, sample_table(y, a, r), k, s, vg, lam, alpha, step,
                                  kind, rounding, 1000 + t)
        diff = np.abs(k.astype(np.int64) - expected)
        assert diff.max() <= 1
        flips += int(diff.sum())
        total_sat += sat
        total_sat_ref += sat_ref
    assert flips <= max(2, 1e-3 * n * k.size), flips
    assert abs(total_sat - total_sat_ref) <= flips + 2  # a flip at the edge changes only the count
    if bits <= 8:
        assert total_sat > 0  # the case exercises saturation
