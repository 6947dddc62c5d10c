"""Every dashboard page run headless with Streamlit's AppTest on the asv fixtures."""

import shutil
import time

import pytest
import streamlit as st
from streamlit import dataframe_util
from dashboard_helpers import (FIXTURES, MACHINES, PAGES, ROOT, app_page, array, chart, charts,
                               copy_fixtures_with_formats, copy_fixtures_without, fixture_commits,
                               synthetic_results, titles, trace_names)

from dashboard import benchmarks, ui
from dashboard.data import performance as perf
from dashboard.data import speedups
from dashboard.figures.performance import IDEAL
from dashboard.results import load_results, precision_labels


@pytest.fixture
def results_env(monkeypatch):
    """Point the app at the fixtures only, with a cold cache."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(FIXTURES))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    return monkeypatch


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_charts_and_reports_the_malformed_file(results_env, page):
    at = (app_page(page))
    assert len(charts(at)) >= 1
    sidebar_warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "0badf00d-malformed.json" in sidebar_warnings


def test_overview_metrics_headline_and_failures(results_env):
    at = (app_page())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Machines"] == "3" and metrics["Commits measured"] == "4"
    assert int(metrics["Failed"]) == 8
    head = chart(at, "HALP 8-bit speedup over SVRG")
    assert trace_names(head) == {f"{s} MiB, SVRG {p}" for s in (1, 8) for p in ("fp32", "fp64")}
    assert {a["text"] for a in head["layout"]["annotations"]} == MACHINES
    answers = [m.value for m in at.markdown if m.value.startswith("**How much faster?**")]
    assert len(answers) == len(MACHINES) and all("x to " in a for a in answers)
    assert trace_names(chart(at, "Results per machine")) == {"ok", "failed", "skipped", "invalid"}
    failed = [df.value for df in at.dataframe if "benchmark" in df.value.columns]
    assert len(failed) == 1 and set(failed[0]["benchmark"]) == {"bench_broken.Broken.time_raises"}


def test_speedups_widgets_change_the_charts(results_env):
    at = (app_page("views/speedups.py"))
    assert [h.value for h in at.header] == ["HALP vs SVRG fp32"]
    by_bits = chart(at, "Speedup vs bit width")
    assert trace_names(by_bits) == {f"{size}, {speedups.RATIO}" for size in ("1 MB", "8 MB")} | {
        f"1 MB, {speedups.EPOCH_TIMES}"}
    assert len(by_bits["data"]) == 9
    fp32 = max(max(array(t["y"])) for t in by_bits["data"])
    at.radio(key="sp_precision").set_value("fp64").run()
    fp64 = max(max(array(t["y"])) for t in chart(at, "Speedup vs bit width")["data"])
    assert fp64 > fp32
    at.radio(key="sp_solver").set_value("SGD").run()
    assert [h.value for h in at.header] == ["LP-SGD vs SGD fp64"]
    assert {x for t in chart(at, "Speedup vs bit width")["data"] for x in array(t["x"])} == {"8-bit", "16-bit"}
    assert trace_names(chart(at, "Speedup vs problem size")) == {f"{b}-bit, {speedups.RATIO}" for b in (8, 16)}
    at.multiselect(key="sp_machines").set_value(["fixture-zen5"]).run()
    assert len(chart(at, "Speedup vs bit width")["data"]) == 2
    no_exception(at)


def test_performance_page_shows_bandwidth_goal_and_thread_scaling(results_env):
    at = (app_page("views/performance.py"))
    assert [h.value for h in at.header] == ["Memory bandwidth", "Thread scaling"]
    assert any("higher is better" in i.value for i in at.info)
    assert not [i.value for i in at.info if i.value.startswith("No ")]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == dict.fromkeys(MACHINES, "1 of 2 sizes")  # HALP-8 meets 0.5 at 1 MB, not at 8 MB
    gbps = chart(at, "Achieved bandwidth vs the read kernel")
    assert trace_names(gbps) == {perf.READ_LABEL, "halp-8", "halp-16", "lp-sgd-8", "svrg-fp32", "svrg-fp64",
                                 "sgd-fp32"}
    assert {a["text"] for a in gbps["layout"]["annotations"]} == MACHINES
    fraction = chart(at, "Fraction of read bandwidth")
    assert {s["y0"] for s in fraction["layout"]["shapes"]} == {perf.GOAL_FRACTION}
    threads = chart(at, "Thread scaling: speedup over 1 thread")
    assert trace_names(threads) == {"sgd fp64", "sgd fp32", "svrg fp64", "svrg fp32", "lp-sgd 8-bit",
                                    "halp 8-bit", IDEAL}
    ideal = sorted(array(t["x"]) for t in threads["data"] if t["name"] == IDEAL)
    assert ideal == [[1, 2], [1, 2, 4], [1, 2, 4, 8]]  # each machine up to its own thread count
    captions = " ".join(c.value for c in at.caption)
    assert "fixture-zen5" in captions and "4, 8 threads" in captions
    seconds = next(df.value for df in at.dataframe if "1 thread" in df.value.columns)
    assert len(seconds) == 6 * len(MACHINES) and "8 threads" in seconds.columns

    at.multiselect(key="pf_precisions").set_value(["8"]).run()
    names = trace_names(chart(at, "Thread scaling: speedup over 1 thread"))
    assert names == {"lp-sgd 8-bit", "halp 8-bit", IDEAL}
    at.multiselect(key="pf_machines").set_value(["fixture-laptop"]).run()
    assert {a["text"] for a in chart(at, "Achieved bandwidth")["layout"]["annotations"]} == {"fixture-laptop"}
    assert {m.label for m in at.metric} == {"fixture-laptop"}
    no_exception(at)


def performance_env(monkeypatch, tmp_path, prefixes):
    """Point the app at a copy of the fixtures without the benchmarks named by `prefixes`."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(copy_fixtures_without(tmp_path / "r", prefixes)))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()


def test_performance_page_without_bandwidth_and_thread_results(monkeypatch, tmp_path):
    performance_env(monkeypatch, tmp_path, ["bench_bandwidth.", "bench_threads."])
    at = (app_page("views/performance.py"))
    infos = " ".join(i.value for i in at.info)
    for benchmark in (benchmarks.EPOCH_GBPS, benchmarks.FRACTION, benchmarks.READ_GBPS, benchmarks.THREAD_TIME):
        assert f"`{benchmark}`" in infos
    assert not charts(at) and not at.metric


def test_performance_page_names_the_one_missing_benchmark(monkeypatch, tmp_path):
    performance_env(monkeypatch, tmp_path, ["bench_bandwidth.Read."])
    at = (app_page("views/performance.py"))
    missing = [i.value for i in at.info if i.value.startswith("No ")]
    assert missing == [f"No `{benchmarks.READ_GBPS}` results yet."]
    assert perf.READ_LABEL not in trace_names(chart(at, "Achieved bandwidth vs the read kernel"))
    chart(at, "Fraction of read bandwidth")
    chart(at, "Thread scaling: speedup over 1 thread")


def test_convergence_charts_follow_problem_and_commit(results_env):
    at = (app_page("views/convergence.py"))
    assert {"Suboptimality vs epoch", "Suboptimality vs time"} <= set(titles(at))
    epoch = chart(at, "Suboptimality vs epoch")
    assert trace_names(epoch) == {"svrg fp64", "halp 8-bit"}
    assert epoch["layout"]["yaxis"]["type"] == "log"
    assert {"1e-06", "1e-10"} == trace_names(chart(at, "Epochs to reach a target"))
    digits_before = min(min(array(t["y"])) for t in epoch["data"])
    at.selectbox(key="cv_problem").select("lsq").run()
    lsq = min(min(array(t["y"])) for t in chart(at, "Suboptimality vs epoch")["data"])
    assert lsq != digits_before
    first = fixture_commits()[0][:8]
    at.selectbox(key="cv_commit").select(first).run()
    annotations = {a["text"] for a in chart(at, "Suboptimality vs epoch")["layout"]["annotations"]}
    assert annotations == {"fixture-zen5", "fixture-laptop"}  # the bare machine never ran commit 1
    no_exception(at)


def test_float_formats_show_beside_the_bit_widths_on_every_page(monkeypatch, tmp_path):
    """Results whose bit-width / precision parameters also hold float formats ('bf16', 'fp8-e4m3',
    mixed with ints as asv writes them): the speedup and convergence charts show them after the
    widths, and no page breaks on them."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(copy_fixtures_with_formats(tmp_path / "r")))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    fixed = arrow_fixes(monkeypatch)
    at = (app_page("views/speedups.py"))
    by_bits = chart(at, "Speedup vs bit width")
    order = ["4-bit", "8-bit", "16-bit", "bf16", "fp8-e4m3"]
    assert list(by_bits["layout"]["xaxis"]["categoryarray"]) == order
    assert {x for t in by_bits["data"] for x in array(t["x"])} == set(order)
    assert {f"bf16, {speedups.RATIO}", f"fp8-e4m3, {speedups.EPOCH_TIMES}"} <= trace_names(
        chart(at, "Speedup vs problem size"))
    at = (app_page("views/convergence.py"))
    at.selectbox(key="cv_problem").select("lsq").run()
    epoch = chart(at, "Suboptimality vs epoch")
    assert [t["name"] for t in epoch["data"] if t["xaxis"] == "x"] == [
        "halp 8-bit", "halp bf16", "halp fp8-e4m3", "svrg fp64"]
    bars = chart(at, "Epochs to reach a target")
    assert list(bars["layout"]["xaxis"]["categoryarray"]) == ["halp 8-bit", "halp bf16", "halp fp8-e4m3",
                                                              "svrg fp64"]
    for page in PAGES:
        (app_page(page))
    assert not fixed, f"tables Streamlit had to convert for Arrow (a column mixing ints and names): {fixed}"


def arrow_fixes(monkeypatch):
    """A list that collects the columns of every table Streamlit could not hand to Arrow as it was
    (it logs a traceback and converts the mixed columns to text: what a column holding both 8 and
    'bf16' does)."""
    fixed, original = [], dataframe_util.fix_arrow_incompatible_column_types

    def spy(df, *args, **kwargs):
        fixed.append(list(df.columns))
        return original(df, *args, **kwargs)

    monkeypatch.setattr(dataframe_util, "fix_arrow_incompatible_column_types", spy)
    return fixed


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_the_shipped_results(monkeypatch, page):
    """Every results page on the repository's own results/ (bit widths and float formats mixed in one
    parameter, several machines and environments)."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(ROOT / "results"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    fixed = arrow_fixes(monkeypatch)
    at = (app_page(page))
    assert len(charts(at)) >= 1
    assert not fixed, f"tables Streamlit had to convert for Arrow: {fixed}"


def test_shipped_speedups_show_every_measured_precision_in_order(monkeypatch):
    """On the shipped results the Speedups chart's axis holds every bit width and float format the
    newest results measured, widths first (whatever those results are)."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(ROOT / "results"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    table = speedups.speedups(load_results([ROOT / "results"]).frame, "halp", "fp32")
    at = (app_page("views/speedups.py"))
    axis = chart(at, "Speedup vs bit width")["layout"]["xaxis"]
    assert list(axis["categoryarray"]) == precision_labels(table["bits"])
    widths = [label for label in axis["categoryarray"] if label.endswith("-bit")]
    assert list(axis["categoryarray"][:len(widths)]) == widths


def test_history_chart_regressions_and_comparison(results_env):
    at = (app_page("views/history.py"))
    assert at.selectbox(key="hi_benchmark").value == benchmarks.SPEEDUP
    hist = chart(at, "History")
    assert hist["layout"]["title"]["text"].startswith("History: method=halp, bits=16, baseline=fp32")
    assert {"fixture-zen5 · size_mb=1"} <= trace_names(hist)
    listed = at.dataframe[0].value          # the gate's regressions, largest first
    assert {"series", "benchmark", "params", "machine", "ratio", "rule"} <= set(listed.columns)
    assert fixture_commits()[2][:8] in set(listed["to commit"])
    assert listed["series"].str.startswith("history?benchmark=").all()

    at.selectbox(key="hi_benchmark").select(benchmarks.EPOCH_TIME).run()
    at.multiselect(key="hi_params").set_value(["solver=halp, precision=8, size_mb=1"]).run()
    names = trace_names(chart(at, "History: solver=halp, precision=8, size_mb=1"))
    assert "fixture-laptop" in names and "gate: regression" in names

    at.text_input(key="hi_filter").input("Speedup").run()
    steps = next(df.value for df in at.dataframe if "first bad commit" in df.value.columns)
    assert set(steps["benchmark"]) == {benchmarks.SPEEDUP}
    assert {m.label: m.value for m in at.metric}["Regressions"] == "0"   # track_ values without interval
    at.text_input(key="hi_filter").input("").run()

    oldest = fixture_commits()[0][:8]
    at.selectbox(key="cmp_a").select(oldest).run()
    compare = chart(at, "Two-commit comparison")
    assert "worse" in trace_names(compare)
    at.multiselect(key="cmp_changes").set_value(["worse"]).run()
    assert trace_names(chart(at, "Two-commit comparison")) == {"worse"}
    no_exception(at)


def test_history_threshold_changes_the_step_detection(results_env):
    def speedup_steps(at):
        table = next(df.value for df in at.dataframe if "first bad commit" in df.value.columns)
        return table[table["benchmark"] == benchmarks.SPEEDUP]

    at = (app_page("views/history.py"))
    found = speedup_steps(at)
    assert len(found) > 0 and (found["ratio"] < 1.5).all()  # the fixtures' halp step is about x1.48
    at.slider(key="hi_threshold").set_value(0.5).run()
    assert speedup_steps(at).empty


def test_machines_baseline_changes_the_ratios(results_env):
    at = (app_page("views/machines.py"))
    fig = chart(at, "Performance relative to the baseline machine")
    assert trace_names(fig) == MACHINES
    zen = next(t for t in fig["data"] if t["name"] == "fixture-zen5")
    assert array(zen["x"]) == pytest.approx([1.0] * len(array(zen["x"])))
    at.selectbox(key="ma_baseline").select("fixture-laptop").run()
    fig = chart(at, "Performance relative to the baseline machine")
    laptop = next(t for t in fig["data"] if t["name"] == "fixture-laptop")
    zen = next(t for t in fig["data"] if t["name"] == "fixture-zen5")
    assert array(laptop["x"]) == pytest.approx([1.0] * len(array(laptop["x"])))
    assert min(array(zen["x"])) < 1.0
    at.radio(key="ma_by").set_value("benchmark").run()
    groups = {v for t in chart(at, "Performance relative")["data"] for v in array(t["y"])}
    assert benchmarks.SPEEDUP in groups
    no_exception(at)


@pytest.mark.parametrize("page", PAGES)
def test_without_results_pages_explain_how_to_make_them(monkeypatch, tmp_path, page):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(tmp_path / "results"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = (app_page(page))
    text = " ".join(m.value for m in at.markdown)
    if page.endswith("convergence.py"):
        assert any("No `bench_convergence" in i.value for i in at.info)
    else:
        assert any("No benchmark results found yet" in i.value for i in at.info)
        assert "asv run" in text and not charts(at)
    assert any("does not exist" in w.value for w in at.sidebar.warning)


def test_results_from_env_var_and_sidebar(monkeypatch, tmp_path):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(tmp_path / "empty"))
    monkeypatch.setenv("HALP_RESULTS", str(FIXTURES))
    st.cache_data.clear()
    at = (app_page())
    assert {m.label: m.value for m in at.metric}["Machines"] == "3"
    monkeypatch.delenv("HALP_RESULTS")
    at = (app_page())
    assert not at.metric
    at.sidebar.text_area(key="extra_dirs").input(str(FIXTURES)).run()
    assert {m.label: m.value for m in at.metric}["Machines"] == "3"


def test_cli_results_arguments():
    assert ui.cli_dirs(["tests", "-k", "x", "--results", "a", "--results=b"]) == ["a", "b"]
    assert ui.cli_dirs([]) == []


def test_reloads_when_result_files_change(monkeypatch, tmp_path):
    copy = tmp_path / "r"
    shutil.copytree(FIXTURES, copy)
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(copy))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = (app_page())
    assert {m.label: m.value for m in at.metric}["Machines"] == "3"
    shutil.rmtree(copy / "fixture-bare")
    at.run()
    assert {m.label: m.value for m in at.metric}["Machines"] == "2"


def test_ten_thousand_rows_render(monkeypatch, tmp_path, capsys):
    big = synthetic_results(tmp_path / "big")
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(big))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    seconds = {}
    for page in PAGES:
        start = time.perf_counter()
        at = (app_page(page))
        seconds[page] = time.perf_counter() - start
        assert charts(at)
    rows = int(at.sidebar.caption[0].value.split()[0].replace(",", ""))
    assert rows >= 10_000
    with capsys.disabled():
        print(f"\n10,000-row render times (s, first page includes loading): "
              + ", ".join(f"{p.split('/')[-1]} {s:.1f}" for p, s in seconds.items()))
    assert max(seconds.values()) < 30  # generous: the issue asks for "a few seconds" on this machine


@pytest.mark.parametrize("page", PAGES)
def test_pages_survive_a_missing_benchmarks_json(monkeypatch, tmp_path, page):
    copy = tmp_path / "r"
    shutil.copytree(FIXTURES, copy)
    (copy / "benchmarks.json").unlink()
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(copy))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = (app_page(page))
    assert any("benchmarks.json is missing" in w.value for w in at.sidebar.warning)


def test_history_of_a_benchmark_that_only_failed(results_env):
    at = (app_page("views/history.py"))
    at.selectbox(key="hi_benchmark").select("bench_broken.Broken.time_raises").run()
    no_exception(at)
    assert not [n for n in trace_names(chart(at, "History")) if n and "fixture" in n]
