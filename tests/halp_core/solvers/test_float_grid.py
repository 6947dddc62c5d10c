"""halp_core.solvers.float_grid: the low-precision epoch with the iterate stored in a float format
(bf16, fp16, fp8), on fixed-point or float-format data, against the NumPy twin
(tests/reference.py) through the public kernel."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import reference as ref
from halp_core import bf16_lanes, datasets, float_formats, random_bits, registry
from halp_core.kernels import sample_table
from halp_core.solvers.float_grid import lpf_epoch_linear


@pytest.mark.parametrize("name,data,d", [("bf16", "bf16", 37), ("bf16", "bf16", 64),
                                         ("bf16", "bf16", 100), ("bf16", 8, 37),
                                         ("fp8-e4m3", 8, 37), ("fp16", "fp16", 37),
                                         ("fp8-e5m2", "fp8-e5m2", 37)])
def test_lpf_epoch_linear_matches_the_twin(name, data, d):
    """The kernel's iterate after an epoch of 150 steps equals the NumPy twin's (float32
    arithmetic may order one operation differently: then a coordinate lands on the neighbouring
    value, rarely), and so does the saturation count within 2. bf16 on bf16 data takes
    halp_core.bf16_lanes on a CPU with AVX512_BF16 (widths with and without a masked last block
    of 32), the general loop elsewhere (the suite's run as an AVX2-only machine)."""
    prob = datasets.synthetic_least_squares(60, d, lam=1e-2, noise=0.1, seed=4, data_bits=data)
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


_PATH_EPOCH = textwrap.dedent("""
    import json, sys
    import numpy as np
    from halp_core import bf16_lanes, datasets, float_formats, random_bits
    from halp_core.kernels import sample_table
    from halp_core.problems import Multinomial
    from halp_core.solvers.float_grid import lpf_epoch_linear, lpf_epoch_multinomial

    prob = datasets.synthetic_least_squares(80, 100, lam=1e-2, noise=0.1, seed=8,
                                            data_bits="bf16")
    rng = np.random.default_rng(9)
    top = float_formats.top("bf16")
    out = {"path": bf16_lanes.path()}
    for case in ("moves", "saturates", "nan"):
        k, _ = float_formats.encode(rng.standard_normal(prob.d) * top / 8, "bf16")
        vg = (rng.standard_normal(prob.d) * top / 4000).astype(np.float32)
        if case == "saturates":   # coordinate 7 pushed past the largest finite value, its data
            vg[7] = np.float32(3.4e38)   # column 0 (so the dots stay finite)
            prob.Xq[:, 7] = 0
        if case == "nan":
            vg[5] = np.float32(np.nan)
        table = sample_table(prob.y, rng.standard_normal(prob.n) * 0.3,
                             rng.standard_normal(prob.n) * 0.1)
        idx = rng.integers(0, prob.n, 200).astype(np.int64)
        sat = lpf_epoch_linear(prob.Xq, prob.x_format, prob.x_scale, table, k,
                               float_formats.params("bf16"), 0.05, vg, prob.lam, 0.3 / prob.L_max,
                               idx, 0, random_bits.seed_key(3), 77)
        out[case] = {"k": k.tolist(), "saturated": int(sat)}
    # a multinomial model (4 classes): every class row takes the same path
    X = np.random.default_rng(10).standard_normal((90, 70))
    multi = Multinomial(X, np.arange(90) % 4, 1e-2, data_bits="bf16")
    KT, _ = float_formats.encode(rng.standard_normal((4, 70)) * top / 8, "bf16")
    A, R = rng.standard_normal((90, 4)) * 0.3, rng.standard_normal((90, 4)) * 0.1
    VG = (rng.standard_normal((70, 4)) * top / 4000).astype(np.float32)
    sat = lpf_epoch_multinomial(multi.Xq, multi.x_format, multi.x_scale, multi.y.astype(np.int64),
                                KT, float_formats.params("bf16"), 0.05, A, R, VG, multi.lam,
                                0.3 / multi.L_max, rng.integers(0, 90, 150).astype(np.int64),
                                random_bits.seed_key(4), 5)
    out["multinomial"] = {"k": KT.ravel().tolist(), "saturated": int(sat)}
    json.dump(out, sys.stdout)
""")


def _bf16_epochs(env):
    run = subprocess.run([sys.executable, "-c", _PATH_EPOCH], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout)


@pytest.mark.skipif(not bf16_lanes.available(),
                    reason="the AVX512_BF16 path needs a CPU with AVX512_BF16 (the general path "
                           "is what runs here)")
def test_bf16_paths_agree(tmp_path):
    """The same bf16 epochs on this CPU's AVX512_BF16 path and, in a fresh process whose Numba
    target lacks the feature (NUMBA_CPU_FEATURES: the host's, less avx512bf16), on the general
    loop, on a linear and a multinomial model: each process names its path; the iterates agree (the same random bits; float32's last
    bit may differ, so a coordinate may land one bf16 value apart, rarely), saturation counts
    agree within 2, and a NaN in the step makes the iterate NaN on both, never a number."""
    from numba.core.codegen import get_host_cpu_features

    without = str(get_host_cpu_features()).replace(f"+{bf16_lanes.FEATURE}",
                                                   f"-{bf16_lanes.FEATURE}")
    fast = _bf16_epochs(dict(os.environ))
    general = _bf16_epochs(dict(os.environ, NUMBA_CPU_FEATURES=without,
                                NUMBA_CACHE_DIR=str(tmp_path / "numba")))
    assert (fast["path"], general["path"]) == bf16_lanes.PATHS
    grid = ref.format_values(ref.format_dtype("bf16"))
    for case in ("moves", "saturates", "multinomial"):
        k = {p: float_formats.decode(np.array(run[case]["k"], np.uint16), "bf16")
             for p, run in (("fast", fast), ("general", general))}
        assert np.isfinite(k["fast"]).all() and np.isfinite(k["general"]).all(), case
        assert np.mean(k["fast"] == k["general"]) >= 0.99, case
        steps = np.abs(np.searchsorted(grid, np.abs(k["fast"]))
                       - np.searchsorted(grid, np.abs(k["general"])))
        assert steps.max() <= 1, case
        assert abs(fast[case]["saturated"] - general[case]["saturated"]) <= 2, case
    assert fast["saturates"]["saturated"] >= 200      # coordinate 7 at every step
    for run in (fast, general):
        assert np.isnan(float_formats.decode(np.array(run["nan"]["k"], np.uint16), "bf16")).all()
