"""The problems of the user's files (`./run bench --file`) on the dashboard and in the report: the
speedup table of bench_speedup.FileSpeedup on hand-made frames, its figure held to the readability
rules, the Speedups page's "Your problems" section and the Convergence page's problem selector on
the asv fixtures with a file problem added, and `./run report`'s speedup table and convergence plot
of that problem."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from dashboard_helpers import append_values, app_page, array, chart, copy_fixtures, fixture_commits
from dashboard_helpers.readability import figure_problems, page_problems

from dashboard import report
from dashboard.benchmarks import FILE_SPEEDUP, PARAM_NAMES, SUBOPT
from dashboard.data import speedups
from dashboard.figures import speedups as speedup_figures
from dashboard.results import COLUMNS, load_results

ENV = "virtualenv-py3.11-numpy2.4.6"
CONVERGENCE = ("bench_convergence.Convergence.track_subopt", "bench_convergence.Convergence.track_seconds",
               "bench_convergence.Convergence.track_epochs_to_target")
FILE_RATIOS = {("halp", 8, "fp32"): 0.8, ("halp", 8, "fp64"): 0.4, ("halp", "bf16", "fp32"): 0.5,
               ("halp", "bf16", "fp64"): 0.25, ("lp-sgd", 8, "fp32"): 1.25, ("lp-sgd", 8, "fp64"): 0.5,
               ("lp-sgd", "bf16", "fp32"): math.nan, ("lp-sgd", "bf16", "fp64"): 0.3}
"""track_speedup ratios (low / baseline epoch time) of the added file problem; NaN: skipped."""


def frame_of(rows):
    """A results frame (`results.COLUMNS`) of FILE_SPEEDUP rows given as (order, machine, problem,
    method, bits, baseline, value)."""
    out = []
    for order, machine, problem, method, bits, baseline, value in rows:
        values = dict(zip(PARAM_NAMES[FILE_SPEEDUP], (problem, method, bits, baseline)))
        out.append(dict.fromkeys(COLUMNS) | dict(
            machine=machine, env=ENV, commit=f"{order:040x}", commit_short=f"{order:08x}", order=order,
            benchmark=FILE_SPEEDUP, params=", ".join(f"{k}={v}" for k, v in values.items()), param_values=values,
            value=value, status="ok" if math.isfinite(value) or value == math.inf else "skipped"))
    return pd.DataFrame(out, columns=COLUMNS)


def test_speedups_of_the_newest_commit_of_each_problem():
    frame = frame_of([(1, "zen5", "a9a", "halp", 8, "fp32", 0.5),       # an older commit of a9a
                      (2, "zen5", "a9a", "halp", 8, "fp32", 0.8),
                      (2, "zen5", "a9a", "halp", 16, "fp32", 0.9),
                      (2, "zen5", "a9a", "halp", "bf16", "fp32", 0.4),
                      (2, "zen5", "a9a", "lp-sgd", 8, "fp64", 0.25),
                      (2, "zen5", "a9a", "halp", 4, "fp32", 0.0),          # not a ratio: left out
                      (2, "zen5", "a9a", "halp", 4, "fp64", math.inf),     # nor this
                      (1, "zen5", "covtype", "halp", 8, "fp32", 2.0)])     # measured only at commit 1
    table = speedups.file_speedups(frame)
    assert list(table.columns) == speedups.FILE_COLUMNS
    assert table[["problem", "comparison", "bits", "speedup", "commit_short"]].values.tolist() == [
        ["a9a", "HALP / SVRG fp32", 8, 1.25, f"{2:08x}"],
        ["a9a", "HALP / SVRG fp32", 16, pytest.approx(1 / 0.9), f"{2:08x}"],
        ["a9a", "HALP / SVRG fp32", "bf16", 2.5, f"{2:08x}"],
        ["a9a", "LP-SGD / SGD fp64", 8, 4.0, f"{2:08x}"],
        ["covtype", "HALP / SVRG fp32", 8, 0.5, f"{1:08x}"]]
    assert speedups.file_problems(frame) == ["a9a", "covtype"]
    shown = speedups.file_speedup_table(table)
    assert shown["bits"].tolist() == ["8-bit", "16-bit", "bf16", "8-bit", "8-bit"]
    assert list(shown.columns) == ["machine", "env", "problem", "comparison", "bits", "speedup", "commit_short"]


def test_no_file_results_make_an_empty_table():
    empty = speedups.file_speedups(pd.DataFrame(columns=COLUMNS))
    assert empty.empty and list(empty.columns) == speedups.FILE_COLUMNS
    unnamed = frame_of([(1, "zen5", "a9a", "halp", 8, "fp32", 0.8)])
    unnamed["param_values"] = [{"param1": "a9a", "param2": "halp", "param3": 8, "param4": "fp32"}]
    assert speedups.file_speedups(unnamed).empty   # without benchmarks.json asv's names are guessed
    assert speedups.file_problems(unnamed) == []


def test_the_figure_reads_well_with_two_machines_and_envs():
    frame = frame_of([(2, m, "a9a", meth, bits, base, 0.5) for m in ("zen5", "laptop")
                      for meth in ("halp", "lp-sgd") for bits in (4, 8, 16, "bf16") for base in ("fp32", "fp64")])
    frame = pd.concat([frame, frame_of([(2, "zen5", "a9a", "halp", 8, "fp32", 0.7)]).assign(env="existing-py_venv")])
    table = speedups.file_speedups(frame)
    fig = speedup_figures.file_speedup_figure(table)
    spec = json.loads(fig.to_json())
    assert figure_problems(spec) == []
    assert spec["layout"]["title"]["text"] == "Speedup on your problems"
    assert list(spec["layout"]["xaxis"]["categoryarray"]) == ["4-bit", "8-bit", "16-bit", "bf16"]
    panels = {a["text"] for a in spec["layout"]["annotations"]}   # short environment names where needed
    assert panels == {"a9a on laptop", "a9a on zen5 · existing", "a9a on zen5 · virtualenv py3.11"}
    assert {t["name"] for t in spec["data"]} == {"HALP / SVRG fp32", "HALP / SVRG fp64", "LP-SGD / SGD fp32",
                                                 "LP-SGD / SGD fp64"}


def copy_fixtures_with_a_file_problem(dest, problem="a9a"):
    """Copy the fixture results to `dest` with the user's file problem `problem` measured by the newest
    commit of fixture-zen5, as asv writes it: FILE_SPEEDUP (FILE_RATIOS) and `problem` appended to the
    convergence benchmarks' problems (its values those of 'lsq'). Returns dest."""
    dest = copy_fixtures(dest)
    bench = json.loads((dest / "benchmarks.json").read_text())
    keys = list(FILE_RATIOS)
    params = [[repr(problem)], *[[repr(v) for v in dict.fromkeys(k[i] for k in keys)] for i in range(3)]]
    bench[FILE_SPEEDUP] = {"name": FILE_SPEEDUP, "param_names": PARAM_NAMES[FILE_SPEEDUP], "params": params,
                           "type": "track", "unit": "ratio", "version": "1", "code": ""}
    for name in CONVERGENCE:
        bench[name]["params"][0] = bench[name]["params"][0] + [repr(problem)]
    (dest / "benchmarks.json").write_text(json.dumps(bench))
    newest = next((dest / "fixture-zen5").glob(f"{fixture_commits()[-1][:8]}-*.json"))
    data = json.loads(newest.read_text())
    columns = data["result_columns"]
    grid = [FILE_RATIOS[m, b, base] for m in ("halp", "lp-sgd") for b in (8, "bf16") for base in ("fp32", "fp64")]
    data["results"][FILE_SPEEDUP] = [grid, params, "1", data["results"][CONVERGENCE[0]][3], 1.0]
    for name in CONVERGENCE:
        entry = data["results"][name]
        shape = [len(p) for p in entry[columns.index("params")]]
        for i, column in enumerate(columns):
            if i < len(entry) and isinstance(entry[i], list) and column != "params" and len(entry[i]) == np.prod(shape):
                entry[i] = append_values(entry[i], shape, 0, 0, [None])
        entry[columns.index("params")][0].append(repr(problem))
    newest.write_text(json.dumps(data))
    return dest


@pytest.fixture
def with_a_file(tmp_path, monkeypatch):
    """The app pointed at the fixtures with the file problem 'a9a', with a cold cache."""
    dest = copy_fixtures_with_a_file_problem(tmp_path / "r")
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(dest))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    return dest


def test_the_fixture_holds_the_file_problem(with_a_file):
    res = load_results([with_a_file])
    table = speedups.file_speedups(res.frame)
    assert set(table["machine"]) == {"fixture-zen5"} and set(table["problem"]) == {"a9a"}
    assert len(table) == 7   # the skipped pair is left out
    subopt = res.frame[(res.frame["benchmark"] == SUBOPT) & (res.frame["status"] == "ok")]
    assert "a9a" in {v["problem"] for v in subopt["param_values"]}


def test_the_speedups_page_shows_your_problems(with_a_file):
    at = app_page("views/speedups.py")
    assert "Your problems" in [h.value for h in at.header]
    spec = chart(at, "Speedup on your problems")
    assert {a["text"] for a in spec["layout"]["annotations"]} == {"a9a on fixture-zen5"}
    assert sorted(round(v, 6) for t in spec["data"] for v in array(t["y"])) == sorted(
        round(1 / r, 6) for r in FILE_RATIOS.values() if math.isfinite(r))   # one bar per speedup measured
    tables = [t.value for t in at.dataframe]
    yours = next(t for t in tables if "problem" in t.columns)
    assert set(yours["problem"]) == {"a9a"} and len(yours) == 7
    assert {"comparison", "bits", "speedup (×)"} <= set(yours.columns)
    assert page_problems(at) == []


def test_the_speedups_page_has_no_such_section_without_a_file(monkeypatch):
    from dashboard_helpers import FIXTURES

    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(FIXTURES))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = app_page("views/speedups.py")
    assert "Your problems" not in [h.value for h in at.header]


def test_the_convergence_page_offers_the_file_problem(with_a_file):
    at = app_page("views/convergence.py")
    assert "a9a" in at.selectbox(key="cv_problem").options
    at.selectbox(key="cv_problem").select("a9a").run()
    assert not at.exception
    chart(at, "Suboptimality vs epoch")


def test_the_report_has_the_file_problems_speedups_and_convergence_plot(with_a_file):
    text = report.render(load_results([with_a_file]))
    assert "id='your-problems-fixture-zen5'>Your problems: a9a</h4>" in text
    assert "HALP / SVRG fp32" in text and "Speedup on your problems" in text
    heading = "id='convergence-fixture-zen5-a9a'>Your problem a9a: f − f* per epoch</h4>"
    assert text.count(heading) == 1   # one machine measured it
    after = text.split(heading)[1]
    assert after.index(json.dumps("a9a: f − f* per epoch")[1:-1]) < after.index("<h2>")  # its figure, then Regressions
    without = report.render(load_results([copy_fixtures(with_a_file.parent / "plain")]))
    assert "Your problem" not in without and "per epoch" not in without
