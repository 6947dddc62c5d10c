"""halp_core.solvers.float_grid: the low-precision epoch with the iterate stored in a float format
(bf16, fp16, fp8), on fixed-point or float-format data, against the NumPy twin
(tests/reference.py) through the public kernel."""

import numpy as np
import pytest

import reference as ref
from halp_core import datasets, float_formats, random_bits, registry
from halp_core.kernels import sample_table
from halp_core.solvers.float_grid import lpf_epoch_linear


@pytest.mark.parametrize("name,data", [("bf16", "bf16"), ("fp8-e4m3", 8), ("fp16", "fp16"),
                                       ("fp8-e5m2", "fp8-e5m2")])
def test_lpf_epoch_linear_matches_the_twin(name, data):
    """The kernel's iterate after an epoch of 150 steps equals the NumPy twin's (float32
    arithmetic may order one operation differently: then a coordinate lands on the neighbouring
    value, rarely), and so does the saturation count within 2."""
    prob = datasets.synthetic_least_squares(60, 37, lam=1e-2, noise=0.1, seed=4, data_bits=data)
    rng = np.random.default_rng(6)
    d, top = prob.d, float_formats.top(name)
    k, _ = float_formats.encode(rng.standard_normal(d) * top / 8, name)
    k0 = float_formats.decode(k, name)
    s = float(np.abs(prob.w_star).max()) / top * 4          # the iterate spans a quarter of it
    a = rng.standard_normal(prob.n) * 0.3                    # cached center dots
    r = rng.standard_normal(prob.n) * 0.1                    # anchor derivatives
    vg = (rng.standard_normal(d) * top / 4000).astype(np.float32)   # 150 steps: about top / 25
    idx = rng.integers(0, prob.n, 150).astype(np.int64)
    alpha, key, step0 = 0.4 / prob.L_max, random_bits.seed_key(5), 1000
    entry, dtype = registry.format_spec(name), ref.format_dtype(name)

    def round_format(v, bits):
        return ref.round_format_stochastic(v, bits, dtype, entry.mantissa_bits, entry.bias)

    x_values = (float_formats.decode(prob.Xq, data) if isinstance(data, str)
                else prob.Xq.astype(np.float64))
    want, want_sat = ref.lpf_epoch_linear(x_values, prob.x_scale, prob.y, k0, s, a, r, vg,
                                          prob.lam, alpha, idx, 0, key, step0, round_format)
    sat = lpf_epoch_linear(prob.Xq, prob.x_format, prob.x_scale, sample_table(prob.y, a, r), k,
                           float_formats.params(name), s, vg, prob.lam, alpha, idx, 0, key, step0)
    got = float_formats.decode(k, name)
    assert not np.array_equal(got, k0)   # the epoch moved the iterate
    assert np.mean(got == want) >= 0.99
    grid = ref.format_values(dtype)
    steps = np.abs(np.searchsorted(grid, np.abs(got)) - np.searchsorted(grid, np.abs(want)))
    assert steps.max() <= 1 and abs(sat - want_sat) <= 2
