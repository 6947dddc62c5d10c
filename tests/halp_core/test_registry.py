"""halp_core.registry: every benchmark's solver and precision values are registered ones, a
registered format is benchmarked, and every field of an entry is checked. (Adding a solver:
tests/halp_core/solvers/test_saga.py.)"""

import dataclasses
import importlib

import numpy as np
import pytest

from benchmarks import bench_bandwidth, bench_epoch, bench_peers, bench_speedup, common
from halp_bench import mlp, reproduce
from halp_core import datasets, float_formats, registry, solve


def _pairs_are_registered(pairs):
    for solver, precision in pairs:
        assert precision in registry.precisions(solver), (solver, precision)


def test_benchmark_parameter_values_are_registered():
    """Literal parameter lists stay literal (old results keep their names); their values must be
    registered solvers and precisions."""
    precisions = set(registry.FLOAT_PRECISIONS) | set(registry.low_precisions())
    assert set(common.SOLVERS) <= set(registry.names())
    assert set(common.FULL_SOLVERS) == set(registry.names("full"))
    assert set(common.LOW_SOLVERS) == set(registry.names("low"))
    assert set(common.PRECISIONS) <= precisions and set(common.BITS) <= set(registry.BITS)
    assert set(common.FLOAT_PRECISIONS) == set(registry.FLOAT_PRECISIONS)
    assert common.FORMATS == tuple(registry.FORMATS) == common.registered_formats()
    assert common.BUILTIN_FORMATS == common.FORMATS[:len(common.BUILTIN_FORMATS)]
    methods, bits, baselines, *_ = bench_speedup.Speedup.params
    for method in methods:
        assert set(baselines) <= set(registry.precisions(registry.spec(method).baseline))
        _pairs_are_registered((method, b) for b in bits)
    _pairs_are_registered(bench_bandwidth.SOLVER_LABELS.values())
    _pairs_are_registered(bench_peers.OUR_SETTINGS.values())
    _pairs_are_registered(reproduce.CONVEX_SOLVERS)
    assert set(mlp.METHODS) <= set(registry.names())


def test_baselines_come_from_the_registry():
    assert bench_speedup.BASELINE_SOLVER == common.baselines()
    assert common.baselines()["halp"] == "svrg" and common.baselines()["lp-sgd"] == "sgd"
    for name in registry.names("low"):
        assert registry.spec(registry.spec(name).baseline).family == "full"


TOY = dataclasses.replace(registry.spec("sgd"), name="toy-gd", label="Toy GD")
"""An entry for the registry's own checks: SGD's under another name."""


def test_a_registered_format_is_benchmarked():
    """A float format registered after the built-in ones is appended to the benchmarks' precision
    values (old values keep their positions) and its pairs are defined ones."""
    entry = registry.FormatSpec("fp8-e3m4", "FP8 E3M4", 3, 4, 3, 0x6F, 0x70, 0x78, "float8_e3m4")
    registry.register_format(entry)
    try:
        for module in (common, bench_epoch, bench_speedup):
            importlib.reload(module)
        assert common.FORMATS == common.BUILTIN_FORMATS + ("fp8-e3m4",)
        assert bench_epoch.EpochTime.params[1] == ["fp64", "fp32", 16, 8, 4, *common.FORMATS]
        assert bench_speedup.Speedup.params[1] == [4, 8, 16, *common.FORMATS]
        common.check_combo("halp", "fp8-e3m4")                  # defined: no NotImplementedError
        assert common.epoch_data_bits("fp8-e3m4") == "fp8-e3m4"  # its problems carry its data
    finally:
        del registry.FORMATS["fp8-e3m4"]
        for module in (common, bench_epoch, bench_speedup):
            importlib.reload(module)
    assert common.FORMATS == common.BUILTIN_FORMATS


def test_unregister_restores_the_list():
    names = registry.names()
    registry.register(TOY)
    assert registry.names() == names + ("toy-gd",)
    registry.unregister("toy-gd")
    assert registry.names() == names
    with pytest.raises(ValueError, match="baseline of"):
        registry.unregister("svrg")
    with pytest.raises(ValueError, match="unknown solver"):
        registry.unregister("no-such-solver")


# ---- every field of an entry is checked when it is registered (issue 23) ----------------------

E3M4 = registry.FormatSpec("fp8-e3m4", "FP8 E3M4", 3, 4, 3, 0x6F, 0x70, 0x78, "float8_e3m4")

BAD_FORMATS = [
    # (field changes, error type, words of the message)
    (dict(name=""), ValueError, "name must be a non-empty str"),
    (dict(name=8), TypeError, "name must be a non-empty str"),
    (dict(name="bf16"), ValueError, "'bf16' is registered already"),
    (dict(name="fp32"), ValueError, "'fp32': the name is a full precision"),
    (dict(label=None), TypeError, "'fp8-e3m4': label must be a str"),
    (dict(reference=" "), ValueError, "'fp8-e3m4': reference must not be empty"),
    (dict(exponent_bits=3.0), TypeError, "'fp8-e3m4': exponent_bits must be an int"),
    (dict(exponent_bits=0, mantissa_bits=7), ValueError, "'fp8-e3m4': exponent_bits must be >= 1"),
    (dict(exponent_bits=9, mantissa_bits=6), ValueError, "'fp8-e3m4': exponent_bits must be <= 8"),
    (dict(mantissa_bits=5), ValueError, r"'fp8-e3m4': 1 \+ exponent \+ mantissa bits must be 8"),
    (dict(bias=0), ValueError, "'fp8-e3m4': bias .* must be >= 1"),
    (dict(bias=True), TypeError, "'fp8-e3m4': bias .* must be an int"),
    (dict(max_pattern=0xEF), ValueError, "'fp8-e3m4': max_pattern 0xef has the sign bit set"),
    (dict(max_pattern=0), ValueError, "'fp8-e3m4': max_pattern must be >= 1"),
    (dict(max_pattern="0x6f"), TypeError, "'fp8-e3m4': max_pattern must be an int"),
    (dict(inf_pattern=0x6F), ValueError, "'fp8-e3m4': inf_pattern must be >= 112"),
    (dict(nan_pattern=0x80), ValueError, "'fp8-e3m4': nan_pattern must be <= 127"),
    (dict(nan_pattern=0x70), ValueError, "'fp8-e3m4': inf_pattern and nan_pattern must differ"),
]


@pytest.mark.parametrize("changes,error,words", BAD_FORMATS,
                         ids=[f"{','.join(c)}={list(c.values())[-1]!r}"
                              for c, _, _ in BAD_FORMATS])
def test_register_format_checks_every_field(changes, error, words):
    with pytest.raises(error, match=words):
        registry.register_format(dataclasses.replace(E3M4, **changes))
    assert "fp8-e3m4" not in registry.FORMATS and tuple(registry.FORMATS)[-1] == "fp8-e5m2"


def test_register_format_refuses_a_largest_value_beyond_float32():
    """8 exponent bits of bias 1: the largest pattern's value, almost 2^254, is no float32."""
    wide = registry.FormatSpec("e8-bias1", "wide", 8, 7, 1, 0x7F7F, 0x7F80, 0x7FC0, "bfloat16")
    with pytest.raises(ValueError, match=r"'e8-bias1': max_pattern 0x7f7f decodes beyond "
                                         r"float32's range \(2.88e\+76\)"):
        registry.register_format(wide)
    assert "e8-bias1" not in registry.FORMATS


@pytest.mark.parametrize("name", sorted(registry.FORMATS))
def test_the_checked_largest_value_is_what_decode_gives(name):
    """The registry's own reading of a pattern (used in its checks) is float_formats.decode."""
    entry = registry.format_spec(name)
    patterns = np.array([1, entry.max_pattern >> 1, entry.max_pattern],
                        dtype=float_formats.storage_dtype(name))
    assert [registry.pattern_value(entry, int(p)) for p in patterns] == list(
        float_formats.decode(patterns, name))


BAD_SOLVERS = [
    (dict(name=""), ValueError, "name must be a non-empty str"),
    (dict(name="svrg"), ValueError, "'svrg' is registered already"),
    (dict(label=3), TypeError, "'toy-gd': label must be a str"),
    (dict(family="half"), ValueError, "'toy-gd': family must be 'full' or 'low'"),
    (dict(precisions=("fp16",)), ValueError, "'toy-gd': precisions of a full-precision solver"),
    (dict(precisions=()), ValueError, "'toy-gd': precisions of a full-precision solver"),
    (dict(precisions="fp64"), ValueError, "'toy-gd': precisions of a full-precision solver"),
    (dict(family="low", baseline="sgd", precisions=(8,)), ValueError,
     "'toy-gd': precisions of a low-precision solver must be registry.LOW"),
    (dict(baseline="sgd"), ValueError, "'toy-gd': baseline must be None for a full-precision"),
    (dict(family="low", precisions=registry.LOW, baseline=None), ValueError,
     "'toy-gd': baseline None is not a registered full-precision solver"),
    (dict(family="low", precisions=registry.LOW, baseline="halp"), ValueError,
     "'toy-gd': baseline 'halp' is not a registered full-precision solver"),
    (dict(variance_reduced=1), TypeError, "'toy-gd': variance_reduced must be a bool"),
    (dict(options=("step",)), ValueError, r"'toy-gd': options must be a tuple of \('mu', "),
    (dict(options="mu"), ValueError, "'toy-gd': options must be a tuple"),
    (dict(solver=None), TypeError, "'toy-gd': solver must be a Solver class"),
    (dict(solver=len), TypeError, "'toy-gd': solver must be a Solver class"),
]


@pytest.mark.parametrize("changes,error,words", BAD_SOLVERS,
                         ids=[f"{','.join(c)}={list(c.values())[-1]!r}"
                              for c, _, _ in BAD_SOLVERS])
def test_register_checks_every_field(changes, error, words):
    names = registry.names()
    with pytest.raises(error, match=words):
        registry.register(dataclasses.replace(TOY, **changes))
    assert registry.names() == names


def test_formats_are_registered_once_and_solvers_take_them():
    assert set(registry.FORMATS) == {"bf16", "fp16", "fp8-e4m3", "fp8-e5m2"}
    for solver in registry.names("low"):
        assert set(registry.FORMATS) <= set(registry.precisions(solver))
    for solver in registry.names("full"):
        assert not set(registry.FORMATS) & set(registry.precisions(solver))
    prob = datasets.synthetic_least_squares(40, 5, lam=1e-2, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="float format .*'bf16'"):
        solve(prob, "halp", precision="bf17", step=0.1, epochs=1)
    with pytest.raises(ValueError, match="fp64' or 'fp32'"):
        solve(prob, "svrg", precision="bf16", step=0.1, epochs=1)


def test_register_format_refuses_a_width_other_than_8_or_16():
    spec = registry.FormatSpec("fp12", "twelve", 5, 6, 15, 0x7BF, 0x7C0, 0x7E0, "float16")
    with pytest.raises(ValueError, match="must be 8 or 16"):
        registry.register_format(spec)
    assert "fp12" not in registry.FORMATS
