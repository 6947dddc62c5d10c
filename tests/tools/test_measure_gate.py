"""tools/measure_gate: the slowdown it injects still applies to the kernel, its summary counts, and
asv's own factor rule as it reads it on fixture result files."""

import json
from pathlib import Path

import numpy as np
from compare_fixtures import MACHINE, noisy, write_result
from numba import njit

from halp_core.kernels import FAST
from tools import measure_gate as mg

ROOT = Path(__file__).resolve().parents[2]


def test_the_slowed_body_replaces_the_float_dot_kernel_and_keeps_its_value():
    assert (ROOT / mg.KERNELS).read_text().count(mg.ORIGINAL) == 1
    a = np.linspace(-1, 1, 1000, dtype=np.float32)
    b = np.cos(np.arange(1000, dtype=np.float32))
    for extra in (0.2, 1.0):
        ns = {"np": np}
        exec("def dot(a, b):\n" + mg.SLOW.format(extra=extra), ns)
        slowed = njit(fastmath=FAST)(ns["dot"])
        assert np.isclose(slowed(a, b), np.dot(a, b), rtol=1e-4)


def _run(cond, f32, i8, asv11=False, asv15=False):
    gate = {mg.SLOWED: {"verdict": f32, "ratio": 1.0}, mg.CONTROL: {"verdict": i8, "ratio": 1.0}}
    return {"condition": cond, "gate": gate, "asv_f1_1": {mg.SLOWED: asv11, mg.CONTROL: False},
            "asv_f1_5": {mg.SLOWED: asv15, mg.CONTROL: False}}


def test_summary_counts_flags_catches_and_control_flags():
    runs = [_run("same", "no change", "no change"), _run("same", "no change", "regression", asv11=True),
            _run("2x", "regression", "no change", True, True), _run("2x", "no change", "no change", True)]
    s = mg.summarize(runs, ["same", "2x"])
    assert s["same"]["gate_any_flag"] == 1 and s["same"]["asv_f1_1_any_flag"] == 1
    assert s["2x"]["gate_caught"] == 1 and s["2x"]["asv_f1_1_caught"] == 2 and s["2x"]["asv_f1_5_caught"] == 1
    assert s["same"]["gate_control_flagged"] == 1 and s["2x"]["runs"] == 2


def test_asvs_own_factor_rule_flags_a_2x_slowdown_and_not_the_same_code(tmp_path):
    """asv's own gate (`asv continuous -f 1.5`'s decision, asv's Compare.print_table as
    measure_gate takes it) on fixture result files: float32 twice as slow is '+', the same code
    measured again (new noise) and the untouched int8 are not."""
    results = tmp_path / "asv" / "results"
    results.mkdir(parents=True)
    (tmp_path / "asv" / "asv.conf.json").write_text(json.dumps(
        {"version": 1, "project": "halp", "repo": str(tmp_path), "results_dir": str(results)}))
    base, same, slow = "a" * 40, "b" * 40, "c" * 40
    write_result(results, base, [noisy(1e-3, seed=1), noisy(5e-4, seed=2)])
    write_result(results, same, [noisy(1e-3, seed=3), noisy(5e-4, seed=4)])
    write_result(results, slow, [noisy(2e-3, seed=5), noisy(5e-4, seed=6)])
    assert mg.asv_factor_flags(tmp_path, MACHINE, base, same, 1.5) == {mg.SLOWED: False, mg.CONTROL: False}
    assert mg.asv_factor_flags(tmp_path, MACHINE, base, slow, 1.5) == {mg.SLOWED: True, mg.CONTROL: False}
