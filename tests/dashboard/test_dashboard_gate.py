"""The History page judges changes with the gate's rules (halp_bench.compare.rule for timings,
halp_bench.compare.convergence for convergence benchmarks), so the page and `./run compare` never
disagree, shows acknowledged changes as such, lists only the regressions a person can act on
(on the shipped results too) and shows the gate's report."""

import json
import math
import os
import sys
from urllib.parse import parse_qsl

import pandas as pd
import pytest
import streamlit as st
from compare_fixtures import ENV, MACHINE, noisy, write_result
from dashboard_helpers import ROOT, app_page, chart
from dashboard_helpers.memory import CAP, run_capped

from dashboard import gate
from dashboard.data import history
from dashboard.figures import history as figures
from dashboard.figures.style import MAX_SERIES
from dashboard.results import SERIES, load_results
from halp_bench import asv_results
from halp_bench.compare import acknowledged, convergence, judge, report, rule
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
    fig = figures.history_figure(rows, "seconds", judged)
    names = {t.name for t in fig.data}
    assert {"gate: acknowledged", "gate: improvement"} <= names and "gate: regression" not in names


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
    assert page["metrics"]["Regressions"] == page["metrics"]["Regressions (timing rule)"] == "1"
    assert page["metrics"]["Regressions (convergence rule)"] == "0"
    assert page["metrics"]["Improvements"] == "1"


# ---- the convergence rule on the page --------------------------------------------------------------

EPOCHS = "bench_convergence.Convergence.track_epochs_to_target"
SUBOPT = "bench_convergence.Convergence.track_subopt"
NEVER = convergence.NEVER
CONVERGENCE = {
    (EPOCHS, "problem=lsq, target=1e-06", "epochs"): [7, 7, 9, NEVER, 8],
    (EPOCHS, "problem=lsq, target=1e-10", "epochs"): [NEVER] * 5,
    (SUBOPT, "problem=lsq, epoch=32", "f - f*"): [1e-30, 1e-20, 0.0, 5e-7, 2e-6],
    (SUBOPT, "problem=lsq, epoch=1", "f - f*"): [3e-3, 2e-3, 9e-3, 4e-3, 3e-3],
    ("bench_kernels.Dot.time_dot", "dtype=int8", "seconds"): [1e-3, 1e-3, 1e-3, 2e-3, 2e-3],
}
"""Series of one machine over five commits: (benchmark, params, unit) -> values."""


def series_frame(series, machine="m", orders=None):
    """A results frame (the columns `gate.verdicts` reads) of `series` on `machine`, commit i at
    order `orders[i]` (default i); timing values get a 1% interval, track_ values none."""
    rows = []
    for (bench, params, unit), values in series.items():
        for i, value in enumerate(values):
            order = orders[i] if orders else i
            timed = unit == "seconds"
            rows.append(dict(machine=machine, env="e", benchmark=bench, params=params, unit=unit, status="ok",
                             version="v", order=order, commit=f"{order:040x}", commit_short=f"{order:08x}",
                             value=float(value), ci_low=0.99 * value if timed else math.nan,
                             ci_high=1.01 * value if timed else math.nan))
    return pd.DataFrame(rows)


def test_convergence_benchmarks_are_judged_by_their_own_rule():
    judged = gate.verdicts(series_frame(CONVERGENCE))
    by = {(b, p): g for (b, p), g in judged.groupby(["benchmark", "params"])}
    epochs = by[(EPOCHS, "problem=lsq, target=1e-06")]
    assert epochs["verdict"].tolist() == [rule.NO_CHANGE, rule.REGRESSION, rule.REGRESSION, rule.IMPROVEMENT]
    assert "9 -> never" in epochs["note"].iloc[2] and set(epochs["rule"]) == {convergence.NAME}
    floor = by[(SUBOPT, "problem=lsq, epoch=32")]
    # 1e-30 -> 1e-20 -> 0 is float64 noise; 0 -> 5e-7 loses the 1e-10 target, 5e-7 -> 2e-6 the 1e-6 one
    assert floor["verdict"].tolist() == [rule.NO_CHANGE] * 2 + [rule.REGRESSION] * 2
    assert floor["ratio"].tolist()[:2] == [1.0, 1.0]
    assert set(by[(SUBOPT, "problem=lsq, epoch=1")]["verdict"]) == {rule.NO_CHANGE}   # 4.5x, no target crossed
    assert set(by[(EPOCHS, "problem=lsq, target=1e-10")]["verdict"]) == {rule.NO_CHANGE}  # never -> never
    timing = by[("bench_kernels.Dot.time_dot", "dtype=int8")]
    assert timing["verdict"].tolist() == [rule.NO_CHANGE] * 2 + [rule.REGRESSION, rule.NO_CHANGE]
    assert set(timing["rule"]) == {rule.NAME} and set(judged["rule"]) == set(gate.RULES)
    assert judged[judged["rule"] == convergence.NAME]["threshold"].isna().all()


def test_the_page_and_the_gate_judge_convergence_alike():
    """Each change of the page is what `./run compare`'s judge says of the same two values."""
    judged = gate.verdicts(series_frame(CONVERGENCE))
    units = {b: u for b, _, u in CONVERGENCE}
    for (bench, params, unit), values in CONVERGENCE.items():
        if not convergence.applies(unit):
            continue
        page = judged[(judged["benchmark"] == bench) & (judged["params"] == params)]
        for (base, head), (_, row) in zip(zip(values, values[1:]), page.iterrows()):
            key = (bench, params)
            by_gate, = judge.judge({key: asv_results.Measurement(asv_results.OK, base, math.nan, math.nan, (), "v")},
                                   {key: asv_results.Measurement(asv_results.OK, head, math.nan, math.nan, (), "v")},
                                   units)
            assert (row["verdict"], row["ratio"], row["note"]) == (by_gate.verdict, by_gate.ratio, by_gate.note)


def test_regressions_are_every_regression_largest_first():
    frame = series_frame(CONVERGENCE)
    found = gate.regressions(frame)
    judged = gate.verdicts(frame)
    assert len(found) == (judged["verdict"] == rule.REGRESSION).sum() == 5
    assert found["ratio"].is_monotonic_decreasing and list(found.columns) == gate.VERDICT_COLUMNS
    assert found["note"].tolist()[:2] == ["f - f* 1e-12 -> 5e-07: above target 1e-10",   # 5e5x, from the floor
                                          "epochs to target 9 -> never"]                  # 1e6 / 9


def test_newest_changes_judge_each_series_at_its_newest_commit():
    """Machine a's newest commit is its fifth; machine b measured commits 5, 6 and 8 and its newest
    (8) only the timing benchmark: that series' change from 6, and every other series' change
    from 5 to 6."""
    a = series_frame(CONVERGENCE, "a")
    timing = {k: v for k, v in CONVERGENCE.items() if k[2] == "seconds"}
    b = pd.concat([series_frame({k: v[:2] for k, v in CONVERGENCE.items()}, "b", orders=[5, 6]),
                   series_frame({k: v[2:3] for k, v in timing.items()}, "b", orders=[8])])
    newest = gate.newest_changes(pd.concat([a, b], ignore_index=True))
    assert list(newest.columns) == gate.VERDICT_COLUMNS
    mine = newest[newest["machine"] == "a"]
    assert set(mine["head_commit"]) == {f"{4:08x}"} and len(mine) == len(CONVERGENCE)
    changed = mine[mine["verdict"] != rule.NO_CHANGE].set_index("params")["verdict"].to_dict()
    assert changed == {"problem=lsq, target=1e-06": rule.IMPROVEMENT, "problem=lsq, epoch=32": rule.REGRESSION}
    theirs = newest[newest["machine"] == "b"].set_index("benchmark")
    assert len(theirs) == len(CONVERGENCE)
    assert theirs.loc["bench_kernels.Dot.time_dot", ["base_commit", "head_commit", "verdict"]].tolist() == [
        f"{6:08x}", f"{8:08x}", rule.NO_CHANGE]
    others = theirs.drop(index="bench_kernels.Dot.time_dot")
    assert set(others["base_commit"]) == {f"{5:08x}"} and set(others["head_commit"]) == {f"{6:08x}"}
    assert gate.newest_changes(a.iloc[:0]).empty


# ---- the shipped results ---------------------------------------------------------------------------

SHIPPED = ROOT / "results"
MOST_REGRESSIONS = 50
"""The History page's list on the shipped results must stay under this: a list one person reads
through on one screen or two. Measured: 22 (17 timing, 5 convergence) over 15 commits on two
machines, against several hundred steps by asv's step detection, most of them f - f* values
moving in float64 noise; the bound leaves room for more results without letting that noise back."""


@pytest.fixture(scope="module")
def shipped():
    """(frame, acknowledgements, regressions) of the shipped results."""
    frame = load_results([SHIPPED]).frame
    acks = acknowledged.load(gate.ACK_FILE)
    return frame, acks, gate.regressions(frame, acks)


def test_the_shipped_results_list_few_regressions_and_no_float64_noise(shipped):
    frame, acks, listed = shipped
    judged = gate.verdicts(frame, acks)
    by_rule = judged[judged["verdict"] == rule.REGRESSION].groupby("rule").size()
    assert len(listed) == by_rule.sum() and 0 < len(listed) < MOST_REGRESSIONS
    assert set(by_rule.index) == set(gate.RULES)
    assert listed["ratio"].is_monotonic_decreasing
    subopt = judged[judged["unit"] == convergence.SUBOPT_UNIT]
    noise = subopt[(subopt["base"] <= convergence.FLOOR) & (subopt["head"] <= convergence.FLOOR)
                   & (subopt["base"] != subopt["head"])]
    assert len(noise) > 0 and (noise["verdict"] == rule.NO_CHANGE).all()


def test_history_page_on_the_shipped_results_opens_a_listed_series_from_its_url(shipped, monkeypatch, tmp_path):
    frame, _, listed = shipped
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(SHIPPED))
    monkeypatch.setenv("HALP_COMPARE", str(tmp_path / "no-gate-run"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    top = listed.iloc[0]
    link = history.series_link(top["benchmark"], top["params"], top["machine"])
    at = app_page("views/history.py", query=dict(parse_qsl(link.split("?", 1)[1])))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Regressions"] == str(len(listed))
    assert int(metrics["Regressions (timing rule)"]) + int(metrics["Regressions (convergence rule)"]) == len(listed)
    shown = at.dataframe[0].value
    assert len(shown) == len(listed) and shown["series"].iloc[0] == link
    assert list(shown["ratio"]) == list(listed["ratio"])
    assert at.selectbox(key="hi_benchmark").value == top["benchmark"]
    assert at.multiselect(key="hi_machines").value == [top["machine"]]
    assert at.multiselect(key="hi_params").value == [top["params"]]
    spec = chart(at, "History")
    lines = [t for t in spec["data"] if t.get("mode") == "lines+markers"]
    assert len(lines) == 1 and lines[0]["name"] == top["machine"]
    assert "gate: regression" in {t.get("name") for t in spec["data"]}


def test_history_page_draws_at_most_max_series_by_default(shipped, monkeypatch, tmp_path):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(SHIPPED))
    monkeypatch.setenv("HALP_COMPARE", str(tmp_path / "no-gate-run"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = app_page("views/history.py")
    lines = [t for t in chart(at, "History")["data"] if t.get("mode") == "lines+markers"]
    assert 1 <= len(lines) <= MAX_SERIES
    frame = shipped[0]
    envs, machines = set(frame["env"]), set(frame["machine"])
    for line in lines:     # machine, then only what differs: no environment string, no full params key
        machine, *rest = line["name"].split(" · ")
        assert machine in machines and not any(env in line["name"] for env in envs)
        assert all(len(part) <= 20 for part in rest), line["name"]
