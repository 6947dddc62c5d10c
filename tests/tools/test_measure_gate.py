"""tools/measure_gate: the slowdown it injects still applies to the kernel, and its summary counts."""

from pathlib import Path

import numpy as np
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
