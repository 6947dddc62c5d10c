"""The History page judges changes with the gate's rule (halp_bench.compare.rule), so the page and
`./run compare` never disagree, shows acknowledged changes as such, and shows the gate's report."""

import json
import os
import sys

import numpy as np
import pandas as pd
from compare_fixtures import ENV, MACHINE, noisy, write_result
from dashboard_helpers import ROOT
from dashboard_helpers.memory import CAP, run_capped

from dashboard import gate
from dashboard.data import history
from dashboard.figures import history as figures
from dashboard.results import SERIES, load_results
from halp_bench import asv_results
from halp_bench.compare import acknowledged, judge, report, rule
from halp_bench.compare import history as gate_history

STEP_UP_AND_BACK = [1e-3, 1e-3, 1e-3, 1e-3, 2e-3, 1e-3]
"""float32 centers per commit: a 2x regression into COMMITS[4], fixed in COMMITS[5]."""
RENDER = ROOT / "tests" / "dashboard" / "dashboard_helpers" / "render_pages.py"
COMMITS = [f"{i:08x}" + "c" * 32 for i in range(1, 7)]


def results_dir(tmp_path, centers):
    """Result files (no samples, as the shipped ones) of COMMITS, float32 at `centers[i]`, int8 flat."""
    folder = tmp_path / "results"
    for i, (commit, center) in enumerate(zip(COMMITS, centers)):
        write_result(folder, commit, [noisy(center, seed=2 * i), noisy(5e-4, seed=2 * i + 1)], date=1000 * i,
                     with_samples=False)
    return folder


def frame_of(folder):
    frame = load_results([folder]).frame
    # Commit order from the dates (the fixture repository is not a git repository of these hashes).
    return frame.assign(order=frame["commit"].map({c: i for i, c in enumerate(COMMITS)}))


def test_the_page_and_the_gate_give_the_same_verdicts(tmp_path):
    folder = results_dir(tmp_path, STEP_UP_AND_BACK)
    judged = gate.verdicts(frame_of(folder))
    names = asv_results.param_names(folder)
    for i, (base, head) in enumerate(zip(COMMITS, COMMITS[1:]), 1):
        b, h = (asv_results.read(asv_results.commit_file(folder, MACHINE, c), names) for c in (base, head))
        earlier = gate_history.earlier_values(folder, MACHINE, ENV, names, exclude=(head,), before=1000 * i)
        thresholds = gate_history.thresholds({(k[0], k[1], m.version) for k, m in h.items()}, earlier)
        by_gate = {r.params: r.verdict for r in judge.judge(b, h, thresholds=thresholds)}
        page = judged[judged["head_commit"] == head[:8]].set_index("params")["verdict"].to_dict()
        assert page == by_gate, (base, head)
    f32 = judged[judged["params"] == "dtype=float32, level=L2"]["verdict"].tolist()
    assert f32 == [rule.NO_CHANGE] * 3 + [rule.REGRESSION, rule.IMPROVEMENT]
    assert (judged[judged["params"] == "dtype=int8, level=L2"]["verdict"] == rule.NO_CHANGE).all()


def test_acknowledged_changes_show_as_such(tmp_path):
    folder = results_dir(tmp_path, STEP_UP_AND_BACK)
    path = tmp_path / "acknowledged.toml"
    path.write_text(f'[[change]]\ncommit = "{COMMITS[4][:8]}"\nbenchmark = ".*Dot.*"\n'
                    'reason = "two passes on purpose"\n')
    judged = gate.verdicts(frame_of(folder), acknowledged.load(path))
    row = judged[judged["head_commit"] == COMMITS[4][:8]].set_index("params").loc["dtype=float32, level=L2"]
    assert row["verdict"] == rule.ACKNOWLEDGED and "two passes on purpose" in row["note"]
    assert (judged["verdict"] == rule.IMPROVEMENT).sum() == 1     # the change back is not declared
    rows = history.series(frame_of(folder), "bench_kernels.Dot.time_dot")
    fig = figures.history_figure(rows, pd.DataFrame(columns=["machine", "env", "params", "first_bad"]), "seconds",
                                 judged)
    names = {t.name for t in fig.data}
    assert {"gate rule: acknowledged"} <= names and "gate rule: regression" not in names


def test_the_threshold_is_the_series_own_noise(tmp_path):
    """A 1.3x step in a series whose history wanders by about 15% is noise for the page too."""
    centers = list(noisy(1e-3, n=12, noise=0.15, seed=3)) + [1.3e-3 * 1.0]
    frame = pd.DataFrame({"machine": "m", "env": "e", "benchmark": "b.t", "params": "", "unit": "seconds",
                          "status": "ok", "version": "v", "order": range(13),
                          "commit": [f"{i:040x}" for i in range(13)], "value": centers})
    frame["commit_short"] = frame["commit"].str[:8]
    frame["ci_low"], frame["ci_high"] = 0.999 * frame["value"], 1.001 * frame["value"]
    judged = gate.verdicts(frame)
    last = judged.iloc[-1]
    assert last["threshold"] == rule.history_threshold(centers[:-1]) > 1.2
    assert (last["verdict"] == rule.NO_CHANGE) == (last["ratio"] < last["threshold"])
    assert list(judged.columns) == gate.VERDICT_COLUMNS and set(SERIES) <= set(judged.columns)


def test_gate_report_reader(tmp_path):
    assert gate.gate_report(tmp_path) == (None, None, None)
    row = judge.Row("b.t", "", "seconds", 1.0, 2.0, 2.0, 1.9, 2.1, 1.1, "default", 5, 5, rule.REGRESSION)
    info = {"base": "a" * 40, "head": "b" * 40, "machine": MACHINE, "rounds": 4, "date": "now"}
    (tmp_path / "report.json").write_text(report.to_json([row], info, 1))
    summary, rows, problem = gate.gate_report(tmp_path)
    assert problem is None and summary["exit_code"] == 1 and rows["verdict"].tolist() == [rule.REGRESSION]
    (tmp_path / "report.json").write_text(json.dumps({"rows": []}))
    assert "not a report of ./run compare" in gate.gate_report(tmp_path)[2]
    (tmp_path / "report.json").write_text("{")
    assert "not JSON" in gate.gate_report(tmp_path)[2]


def test_history_page_shows_the_gates_report_and_the_rules_verdicts(tmp_path):
    folder = results_dir(tmp_path, STEP_UP_AND_BACK)
    gate_dir = tmp_path / "gate"
    gate_dir.mkdir()
    rows = [judge.Row("bench_kernels.Dot.time_dot", "dtype=float32, level=L2", "seconds", 1e-3, 2e-3, 2.0, 1.9,
                      2.1, 1.1, "default", 80, 80, rule.REGRESSION)]
    info = {"base": "a" * 40, "head": "b" * 40, "machine": MACHINE, "rounds": 4, "date": "2026-01-01"}
    (gate_dir / "report.json").write_text(report.to_json(rows, info, 1))
    env = dict(os.environ, HALP_SHIPPED_RESULTS=str(folder), HALP_REPRODUCTION=str(tmp_path / "none"),
               HALP_COMPARE=str(gate_dir))
    env.pop("HALP_RESULTS", None)
    run = run_capped([sys.executable, str(RENDER), "views/history.py"], env=env, cap=CAP, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.output[-3000:]
    page = json.loads(run.output.strip().splitlines()[-1])["pages"]["views/history.py"]
    assert not page["exceptions"], page["exceptions"]
    assert page["metrics"]["Gate verdicts: regressions"] == "1"
    assert page["metrics"]["Regressions (gate rule)"] == "1"
    assert page["metrics"]["Improvements (gate rule)"] == "1"
    assert np.isfinite(float(page["metrics"]["Acknowledged"]))
