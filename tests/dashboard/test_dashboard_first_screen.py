"""The first screen's three answers (`dashboard.data.overview`: speed, convergence, regressions) and
`./run report` (`dashboard.report`), on hand-made results and on the shipped results/."""

import math
import re

import pandas as pd
import pytest
from dashboard_helpers import ROOT

from dashboard import gate, report
from dashboard.benchmarks import SPEEDUP, SUBOPT
from dashboard.data import overview
from dashboard.data.speedups import speedup_range
from dashboard.results import load_results

SHIPPED = ROOT / "results"


def results_frame(rows, machine="m", commit=1):
    """A results frame (the columns the answers read) of `rows`: (benchmark, {param: value}, value)."""
    return pd.DataFrame([dict(machine=machine, env="virtualenv-py3.11-x", commit=f"{commit:040x}",
                              commit_short=f"{commit:08x}", order=commit, benchmark=bench, status="ok",
                              params=", ".join(f"{k}={v}" for k, v in params.items()), param_values=params,
                              value=float(value), ci_low=math.nan, ci_high=math.nan)
                         for bench, params, value in rows])


def speed_rows(speedups):
    """track_speedup rows of HALP-8 over SVRG-fp32: {(size_mb, d): speedup} (stored as the inverse)."""
    return [(SPEEDUP, dict(method="halp", bits=8, baseline="fp32", size_mb=size, d=d), 1 / s)
            for (size, d), s in speedups.items()]


def test_the_speed_answer_is_the_range_over_every_shape_not_the_best_case():
    frame = results_frame(speed_rows({(100, 128): 0.78, (100, 1024): 1.85, (400, 128): 0.9, (400, 1024): 1.7}))
    answer = overview.speed(frame, "m")
    assert "**0.78x to 1.85x**" in answer.sentence and "across the 4 problem shapes" in answer.sentence
    assert "100 MiB at d = 128 to 100 MiB at d = 1024" in answer.sentence
    assert "pays (≥ 1x) in 2 of 4" in answer.sentence
    assert answer.value == pytest.approx(0.78) and answer.page == "speedups"
    missing = overview.speed(frame, "another machine")
    assert math.isnan(missing.value) and "No `track_speedup` results" in missing.sentence


def subopt_rows(finals, epoch=32):
    """track_subopt rows at the last epoch: {(problem, solver, precision): f - f*}, with an earlier
    epoch at 1.0 that the answer must not read."""
    rows = []
    for (problem, solver, precision), value in finals.items():
        for e, v in ((1, 1.0), (epoch, value)):
            rows.append((SUBOPT, dict(problem=problem, solver=solver, precision=precision, epoch=e), v))
    return rows


def test_the_convergence_answer_names_what_tracks_svrg_to_what_and_what_does_not():
    finals = {("lsq", "svrg", "fp64"): 1e-30, ("digits", "svrg", "fp64"): 1e-16,
              ("lsq", "halp", 16): 2e-30, ("digits", "halp", 16): 3e-16,           # both under 1e-10
              ("lsq", "halp", 8): 1e-30, ("digits", "halp", 8): 1.3e-5,            # digits: stalls
              ("lsq", "halp", "bf16"): 5e-31, ("digits", "halp", "bf16"): 1.1e-16,
              ("lsq", "lp-sgd", 8): 3e-3, ("digits", "lp-sgd", 8): 5.5e-2}
    answer = overview.convergence(results_frame(subopt_rows(finals)), "m")
    assert answer.sentence.startswith("HALP-16 and HALP-bf16 track SVRG-fp64 on all 2 problems (digits, lsq)")
    assert "to f − f* ≤ **3.0e-16** after 32 epochs" in answer.sentence
    assert "HALP-8 does not on digits (f − f* 1.3e-05)" in answer.sentence
    assert "LP-SGD-8 stops at f − f* = 5.5e-02" in answer.sentence
    assert answer.value == pytest.approx(3e-16) and answer.page == "convergence"
    alone = {k: v for k, v in finals.items() if k[2] != "bf16"}
    assert overview.convergence(results_frame(subopt_rows(alone)), "m").sentence.startswith("HALP-16 tracks")
    no_reference = {k: v for k, v in finals.items() if k[1] != "svrg"}
    assert "No `track_subopt` results with SVRG-fp64" in overview.convergence(
        results_frame(subopt_rows(no_reference)), "m").sentence


def changes_table(verdicts):
    """newest_changes-like rows: (benchmark, ratio, verdict, head, base)."""
    return pd.DataFrame([dict(machine="m", benchmark=b, params="p=1", ratio=r, verdict=v, head_commit=h,
                              base_commit=base) for b, r, v, h, base in verdicts])


def test_the_regression_answer_counts_the_gates_verdicts_and_names_the_largest():
    quiet = changes_table([("s.A.time_a", 1.0, "no change", "bbbb", "aaaa"),
                           ("s.A.time_b", 0.8, "improvement", "bbbb", "aaaa")])
    answer = overview.regressions(quiet, "m")
    assert answer.sentence.startswith("**No regression** in the newest change of each of the 2 results")
    assert "(commit bbbb against aaaa)" in answer.sentence and "1 improved" in answer.sentence
    assert answer.value == 0
    worse = changes_table([("s.A.time_a", 1.3, "regression", "bbbb", "aaaa"),
                           ("s.A.time_c", 2.5, "regression", "cccc", "aaaa"),
                           ("s.A.time_b", 1.0, "no change", "bbbb", "aaaa")])
    answer = overview.regressions(worse, "m")
    assert answer.sentence.startswith("**2 regressions**") and answer.value == 2
    assert "(commit bbbb against aaaa; 1 at other commits)" in answer.sentence
    assert "The largest: `time_c` (p=1) at 2.5x, commit cccc against aaaa." in answer.sentence
    assert "nothing to compare yet" in overview.regressions(worse, "other").sentence


@pytest.fixture(scope="module")
def shipped():
    return load_results([SHIPPED])


def test_the_answers_on_the_shipped_results_hold_their_numbers(shipped):
    frame = shipped.frame
    changes = gate.newest_changes(frame, gate.ack.load(gate.ACK_FILE))
    machines = overview.machines(frame)
    assert set(machines) == set(frame["machine"])
    for machine in machines:
        found = speedup_range(frame[frame["machine"] == machine], overview.METHOD, overview.BITS, overview.BASELINE)
        speed = overview.speed(frame, machine)
        assert speed.value == pytest.approx(found["least"].min())
        assert f"**{found['least'].iloc[0]:.2f}x to {found['most'].iloc[0]:.2f}x**" in speed.sentence
        # HALP-16 tracks SVRG on every problem of both machines (measured: f − f* ≤ 1e-15)
        sentence = overview.convergence(frame, machine).sentence
        assert re.match(r"HALP-16[,a-zA-Z0-9 -]* tracks? SVRG-fp64 on all 3 problems", sentence)
        mine = changes[changes["machine"] == machine]
        assert overview.regressions(changes, machine).value == (mine["verdict"] == gate.rule.REGRESSION).sum()


def test_the_report_is_one_self_contained_file_with_the_answers_speedups_and_regressions(shipped, tmp_path):
    path, size, seconds, warnings = report.write([SHIPPED], tmp_path / "sub" / "report.html")
    text = path.read_text()
    assert size == path.stat().st_size and seconds > 0 and not warnings
    assert re.search(r"<script[^>]*\bsrc=|<link\b", text) is None   # nothing fetched: plotly.js inline
    assert text.count("<script") == 1 + text.count('<div id="')    # the library, then one per figure
    for machine in overview.machines(shipped.frame):
        assert f"id='speedups-{report.anchor(machine)}'" in text
        assert f"id='regressions-{report.anchor(machine)}'" in text
    for question in ("How much faster?", "Does it still converge?", "Did the last commit make anything slower?"):
        assert text.count(question) == shipped.frame["machine"].nunique()
    assert text.count("class='plotly-graph-div") + text.count('class="plotly-graph-div') >= 2


def test_the_report_refuses_an_empty_results_directory(tmp_path):
    with pytest.raises(SystemExit, match=f"No benchmark results in {tmp_path}"):
        report.write([tmp_path], tmp_path / "report.html")
