"""Tables of the dashboard pages and their plotly figures, computed from the asv fixtures."""

from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import pytest
from dashboard_helpers import (FIXTURES, FORMAT_FACTORS, MACHINES, array, copy_fixtures_with_formats,
                               fixture_commits, trace_names)

from dashboard import benchmarks
from dashboard.data import convergence, history, machines, overview, speedups
from dashboard.data import performance as perf
from dashboard.figures import convergence as convergence_fig
from dashboard.figures import history as history_fig
from dashboard.figures import machines as machines_fig
from dashboard.figures import overview as overview_fig
from dashboard.figures import performance as perf_figures
from dashboard.figures import speedups as speedups_fig
from dashboard.results import load_results, run_order


@pytest.fixture(scope="module")
def frame():
    return load_results([FIXTURES]).frame


def test_status_counts_and_failures(frame):
    counts = overview.status_counts(frame).set_index("machine")
    assert counts.loc["fixture-zen5", ["ok", "failed", "skipped", "invalid"]].sum() == (frame["machine"] == "fixture-zen5").sum()
    assert (counts["failed"] > 0).all()
    failed = overview.failures(frame)
    assert set(failed["benchmark"]) == {"bench_broken.Broken.time_raises"}
    assert set(failed["machine"]) == MACHINES
    fig = overview_fig.status_figure(overview.status_counts(frame))
    assert trace_names(fig.to_dict()) == {"ok", "failed", "skipped", "invalid"}


def test_speedups_invert_the_stored_ratio_at_the_newest_commit(frame):
    table = speedups.speedups(frame, "halp", "fp32")
    assert set(table["machine"]) == MACHINES
    assert set(table["commit_short"]) == {fixture_commits()[-1][:8]}
    raw = frame[(frame["benchmark"] == benchmarks.SPEEDUP) & (frame["machine"] == "fixture-zen5")
                & (frame["commit"] == fixture_commits()[-1])
                & (frame["params"] == "method=halp, bits=8, baseline=fp32, size_mb=8")]["value"].iloc[0]
    got = table[(table["machine"] == "fixture-zen5") & (table["bits"] == 8) & (table["size_mb"] == 8)]
    assert list(got["measure"]) == [speedups.RATIO]
    assert got["speedup"].iloc[0] == pytest.approx(1 / raw)
    sgd = speedups.speedups(frame, "lp-sgd", "fp64")
    assert set(sgd["bits"]) == {8, 16}  # lp-sgd at 4 bits was skipped
    assert speedups.speedups(frame[~frame["benchmark"].isin([benchmarks.SPEEDUP, benchmarks.EPOCH_TIME])],
                             "halp", "fp32").empty


def test_speedups_from_epoch_times_carry_a_conservative_interval(frame):
    table = speedups.speedups(frame, "halp", "fp64")
    timed = table[table["measure"] == speedups.EPOCH_TIMES].set_index("machine")
    assert set(timed.index) == MACHINES and set(timed["bits"]) == {8} and set(timed["size_mb"]) == {1}
    epoch = frame[(frame["benchmark"] == benchmarks.EPOCH_TIME) & (frame["machine"] == "fixture-zen5")
                  & (frame["commit"] == fixture_commits()[-1])].set_index("params")
    halp, svrg = epoch.loc["solver=halp, precision=8, size_mb=1"], epoch.loc["solver=svrg, precision=fp64, size_mb=1"]
    zen = timed.loc["fixture-zen5"]
    assert zen["speedup"] == pytest.approx(svrg["value"] / halp["value"])
    assert zen["speedup_low"] == pytest.approx(svrg["ci_low"] / halp["ci_high"])
    assert zen["speedup_high"] == pytest.approx(svrg["ci_high"] / halp["ci_low"])
    assert (timed["speedup_low"] <= timed["speedup"]).all() and (timed["speedup"] <= timed["speedup_high"]).all()
    assert table[table["measure"] == speedups.RATIO]["speedup_low"].isna().all()


def test_headline_is_halp8_vs_svrg_fp32_and_fp64_at_every_size_and_width(frame):
    """Every size and width measured, not the best case; results from before the width axis read
    as d = 1024."""
    top = overview.headline(frame)
    assert set(top["baseline"]) == {"SVRG fp32", "SVRG fp64"}
    assert set(top["size_mb"]) == {1, 8} and set(top[benchmarks.WIDTH]) == {benchmarks.WIDTH_BEFORE_AXIS}
    assert len(top) == 2 * 2 * len(MACHINES)
    zen = top[(top["machine"] == "fixture-zen5") & (top["size_mb"] == 8)].set_index("baseline")["speedup"]
    assert zen["SVRG fp64"] > zen["SVRG fp32"] > 1
    fig = overview_fig.headline_figure(top).to_dict()
    assert trace_names(fig) == {f"{s} MiB, SVRG {p}" for s in (1, 8) for p in ("fp32", "fp64")}
    assert {a["text"] for a in fig["layout"]["annotations"]} == MACHINES


def test_speedup_figures_have_one_line_per_size_or_width_and_machine_facets(frame):
    table = speedups.speedups(frame, "halp", "fp32")
    ratio, timed = f"{speedups.RATIO}", f"{speedups.EPOCH_TIMES}"
    by_bits = speedups_fig.speedup_by_bits_figure(table).to_dict()
    assert trace_names(by_bits) == {f"1 MB, {ratio}", f"8 MB, {ratio}", f"1 MB, {timed}"}
    assert len(by_bits["data"]) == 3 * len(MACHINES)
    assert {a["text"] for a in by_bits["layout"]["annotations"]} == MACHINES
    with_bars = [t for t in by_bits["data"] if t["name"] == f"1 MB, {timed}"]
    assert all(t["error_y"]["array"] is not None for t in with_bars)
    by_size = speedups_fig.speedup_by_size_figure(table).to_dict()
    assert trace_names(by_size) == {f"{b}-bit, {ratio}" for b in (4, 8, 16)} | {f"8-bit, {timed}"}
    assert by_size["layout"]["xaxis"]["type"] == "log"


@pytest.fixture(scope="module")
def format_frame(tmp_path_factory):
    """The fixtures with bf16 and fp8-e4m3 appended to the bit-width / precision parameters."""
    return load_results([copy_fixtures_with_formats(tmp_path_factory.mktemp("formats") / "r")]).frame


def test_speedups_show_float_formats_beside_the_bit_widths(format_frame):
    table = speedups.speedups(format_frame, "halp", "fp32")
    ratio = table[(table["measure"] == speedups.RATIO) & (table["machine"] == "fixture-zen5")
                  & (table["size_mb"] == 8)]
    assert list(ratio["bits"]) == [4, 8, 16, "bf16", "fp8-e4m3"]   # widths in order, then the formats
    by = ratio.set_index("bits")["speedup"]
    for name, factor in FORMAT_FACTORS.items():   # the format's ratio is the 8-bit one times factor
        assert by[name] == pytest.approx(by[8] / factor)
    timed = table[(table["measure"] == speedups.EPOCH_TIMES) & (table["machine"] == "fixture-zen5")]
    assert list(timed["bits"]) == [8, "bf16", "fp8-e4m3"]
    assert timed.set_index("bits")["speedup"]["bf16"] == pytest.approx(timed.set_index("bits")["speedup"][8] / 0.8)
    order = ["4-bit", "8-bit", "16-bit", "bf16", "fp8-e4m3"]
    by_bits = speedups_fig.speedup_by_bits_figure(table).to_dict()
    assert by_bits["layout"]["xaxis"]["type"] == "category"
    assert list(by_bits["layout"]["xaxis"]["categoryarray"]) == order
    for trace in by_bits["data"]:   # every line runs left to right: widths, then formats
        at = [order.index(x) for x in array(trace["x"])]
        assert at == sorted(at) and len(at) >= 1
    assert {x for t in by_bits["data"] for x in array(t["x"])} == set(order)
    by_size = speedups_fig.speedup_by_size_figure(table).to_dict()
    names = [t["name"] for t in by_size["data"] if t["name"].endswith(speedups.RATIO)]
    assert list(dict.fromkeys(names)) == [f"{p}, {speedups.RATIO}" for p in order]


def test_convergence_orders_float_formats_beside_the_bit_widths(format_frame):
    table = convergence.convergence(format_frame, "lsq")
    assert run_order(table) == ["halp 8-bit", "halp bf16", "halp fp8-e4m3", "svrg fp64"]
    one = table[(table["machine"] == "fixture-zen5") & (table["order"] == table["order"].max())]
    fig = convergence_fig.convergence_figure(one, "epoch").to_dict()
    assert list(dict.fromkeys(t["name"] for t in fig["data"])) == run_order(one)
    targets = convergence.epochs_to_target(format_frame, "lsq")
    bars = convergence_fig.epochs_to_target_figure(targets).to_dict()
    assert list(bars["layout"]["xaxis"]["categoryarray"]) == run_order(targets)
    assert {"halp bf16", "halp fp8-e4m3"} <= {x for t in bars["data"] for x in array(t["x"])}


def test_convergence_joins_seconds_and_labels_solvers(frame):
    table = convergence.convergence(frame, "lsq")
    assert set(table["label"]) == {"svrg fp64", "halp 8-bit"}
    assert set(table["epoch"]) == {1, 2, 4, 8}
    assert table["seconds"].notna().all() and (table["subopt"] > 0).all()
    one = table[(table["machine"] == "fixture-zen5") & (table["order"] == 3) & (table["label"] == "svrg fp64")]
    assert one.sort_values("epoch")["subopt"].is_monotonic_decreasing
    fig = convergence_fig.convergence_figure(one, "seconds").to_dict()
    assert fig["layout"]["yaxis"]["type"] == "log" and trace_names(fig) == {"svrg fp64"}
    assert convergence.convergence(frame, "logistic").empty


def test_epochs_to_target_turns_the_sentinel_into_missing(frame):
    table = convergence.epochs_to_target(frame, "lsq")
    assert set(table["target"]) == {"1e-06", "1e-10"}
    never = table[(table["label"] == "halp 8-bit") & (table["target"] == "1e-10")]
    assert len(never) > 0 and never["epochs"].isna().all()
    fig = convergence_fig.epochs_to_target_figure(table).to_dict()
    assert trace_names(fig) == {"1e-06", "1e-10"}


def test_step_detection_finds_the_commit3_regression(frame):
    regs = history.step_regressions(frame)
    third = fixture_commits()[2][:8]
    halp = regs[(regs["benchmark"] == benchmarks.EPOCH_TIME)
                & (regs["params"] == "solver=halp, precision=8, size_mb=1")]
    assert set(halp["machine"]) == {"fixture-zen5", "fixture-laptop"}
    assert set(halp["first_bad"]) == {third}
    assert (halp["ratio"] > 1.3).all()
    speed = regs[(regs["benchmark"] == benchmarks.SPEEDUP) & regs["params"].str.startswith("method=halp")]
    assert set(speed["first_bad"]) == {third}
    assert regs[regs["benchmark"] == benchmarks.SPEEDUP]["params"].str.startswith("method=halp").all()


def test_step_detection_ignores_older_benchmark_versions():
    base = dict(machine="m", env="e", benchmark="b", params="", unit="s", status="ok")
    rows = [dict(base, order=i, commit_short=f"c{i}", version="v1" if i < 3 else "v2", value=v)
            for i, v in enumerate([1.0, 1.0, 1.0, 5.0, 5.0, 5.0])]
    assert history.step_regressions(pd.DataFrame(rows)).empty
    for r in rows:
        r["version"] = "v1"
    found = history.step_regressions(pd.DataFrame(rows))
    assert list(found["first_bad"]) == ["c3"] and found["ratio"].iloc[0] == pytest.approx(5.0)


def test_latest_vs_baseline(frame):
    commits = fixture_commits()
    trend = history.latest_vs_baseline(frame)
    halp = trend[(trend["benchmark"] == benchmarks.SPEEDUP) & (trend["machine"] == "fixture-zen5")
                 & (trend["params"] == "method=halp, bits=8, baseline=fp32, size_mb=1")].iloc[0]
    assert halp["baseline_commit"] == commits[0][:8] and halp["latest_commit"] == commits[-1][:8]
    assert halp["ratio"] == pytest.approx(1.48)
    quantize = trend[trend["benchmark"] == "bench_kernels.Quantize.time_quantize"]
    assert set(quantize["baseline_commit"]) == {commits[2][:8]}  # first commit of its newest version
    assert "fixture-bare" not in set(trend["machine"])  # one commit only: nothing to compare
    at_second = history.latest_vs_baseline(frame, commits[1])
    assert set(at_second["machine"]) == {"fixture-zen5"}  # only zen5 measured commit 2


def test_compare_commits_like_asv_compare(frame):
    commits = fixture_commits()
    table = history.compare_commits(frame, commits[0], commits[-1], factor=1.1)
    assert set(table["machine"]) == {"fixture-zen5", "fixture-laptop"}
    assert table["benchmark"].ne("bench_broken.Unsupported.track_unsupported").all()  # skipped in both
    speed = table[(table["benchmark"] == benchmarks.SPEEDUP) & table["params"].str.startswith("method=halp")]
    assert set(speed["change"]) == {"worse"}
    other = table[(table["benchmark"] == benchmarks.SPEEDUP) & table["params"].str.startswith("method=lp-sgd")]
    assert set(other["change"]) == {"unchanged"}
    assert set(table.loc[table["benchmark"] == "bench_kernels.Quantize.time_quantize", "change"]) == {"incomparable"}
    assert set(table.loc[table["benchmark"] == "bench_broken.Broken.time_raises", "change"]) == {"failed"}
    timed = table[(table["benchmark"] == benchmarks.EPOCH_TIME) & (table["change"] == "worse")]
    assert timed["significant"].all()
    fig = history_fig.compare_figure(table, limit=len(table)).to_dict()
    assert {"worse", "unchanged"} <= trace_names(fig)
    top = history_fig.compare_figure(table, limit=5)
    shown = sorted(x for trace in top.data for x in trace.x)
    assert len(shown) == 5 and min(abs(np.log(shown))) >= np.sort(abs(np.log(table["ratio"].dropna())))[-5]


def test_compare_significance_needs_non_overlapping_intervals():
    base = dict(machine="m", env="e", benchmark="b", params="", unit="s", version="v", status="ok")
    rows = pd.DataFrame([dict(base, commit="A", value=1.0, ci_low=0.5, ci_high=1.5),
                         dict(base, commit="B", value=1.3, ci_low=1.2, ci_high=1.4)])
    assert history.compare_commits(rows, "A", "B")["change"].iloc[0] == "not significant"
    rows.loc[0, ["ci_low", "ci_high"]] = [0.9, 1.1]
    assert history.compare_commits(rows, "A", "B")["change"].iloc[0] == "worse"
    assert history.compare_commits(rows, "B", "A")["change"].iloc[0] == "better"


def test_machines_normalized_to_a_baseline(frame):
    norm = machines.normalized_to_machine(frame, "fixture-zen5")
    assert set(norm["machine"]) == MACHINES
    assert np.allclose(norm.loc[norm["machine"] == "fixture-zen5", "ratio"], 1.0)
    means = machines.geometric_means(norm).set_index(["machine", "suite"])["ratio"]
    assert means["fixture-laptop", "bench_speedup"] == pytest.approx(1.6)
    assert means["fixture-bare", "bench_speedup"] == pytest.approx(1.2)
    fig = machines_fig.machines_figure(machines.geometric_means(norm)).to_dict()
    assert trace_names(fig) == MACHINES and fig["layout"]["xaxis"]["type"] == "log"
    flipped = machines.geometric_means(machines.normalized_to_machine(frame, "fixture-laptop"))
    assert flipped.set_index(["machine", "suite"])["ratio"]["fixture-zen5", "bench_speedup"] == pytest.approx(1 / 1.6)


def test_history_figure_has_bands_older_versions_and_verdict_marks(frame):
    rows = history.series(frame, "bench_kernels.Quantize.time_quantize")
    fig = history_fig.history_figure(rows, "seconds").to_dict()
    names = trace_names(fig)
    assert "fixture-zen5" in names and "fixture-zen5 (older version)" in names
    assert "fixture-zen5 99% band" in names
    assert list(fig["layout"]["xaxis"]["ticktext"]) == [c[:8] for c in fixture_commits()]
    speed = history.series(frame, benchmarks.EPOCH_TIME, ["solver=halp, precision=8, size_mb=1"])
    keys = speed[["machine", "env", "params"]].drop_duplicates().itertuples(index=False)
    judged = pd.DataFrame([dict(machine=m, env=e, params=p, head_commit=fixture_commits()[2][:8], ratio=1.4,
                                rule="timing", verdict="regression") for m, e, p in keys])
    marked = history_fig.history_figure(speed, "seconds", judged)
    marks = [t for t in marked.data if t.name == "gate: regression"]
    assert len(marks) == 1 and set(marks[0].x) == {2}  # commit order of the third commit
    assert len(marks[0].x) == 2   # fixture-zen5 and fixture-laptop measured that commit, fixture-bare did not
    assert "gate: improvement" not in {t.name for t in marked.data}   # no legend entry without marks


def test_history_legend_names_say_only_what_differs(frame):
    """Machine, then only the parameters that differ between the drawn series; the shared ones in
    the title, environment and commit in the tooltip."""
    both = ["solver=sgd, precision=fp32, size_mb=1", "solver=svrg, precision=fp32, size_mb=1"]
    rows = history.series(frame, benchmarks.EPOCH_TIME, both)
    fig = history_fig.history_figure(rows, "seconds")
    lines = {t.name for t in fig.data if t.showlegend is not False}
    assert {"fixture-zen5 · solver=sgd", "fixture-zen5 · solver=svrg"} <= lines
    assert all(len(n) <= 40 for n in lines)
    assert "precision=fp32, size_mb=1" in fig.layout.title.text
    line = next(t for t in fig.data if t.name == "fixture-zen5 · solver=sgd")
    assert "%{customdata[2]}" in line.hovertemplate and set(line.customdata[:, 2]) == set(
        rows.loc[rows["machine"] == "fixture-zen5", "env"])
    assert fig.layout.yaxis.title.text == "seconds"


def test_series_links_round_trip_through_the_query(frame):
    params = "solver=halp, precision=8, size_mb=1"
    link = history.series_link(benchmarks.EPOCH_TIME, params, "fixture-zen5")
    path, query = link.split("?", 1)
    assert path == "history"
    assert history.preselected(dict(parse_qsl(query)), frame) == {
        "benchmark": benchmarks.EPOCH_TIME, "params": params, "machine": "fixture-zen5"}
    assert history.preselected({"benchmark": "nope", "machine": "fixture-zen5"}, frame) == {}
    assert history.preselected({"benchmark": benchmarks.EPOCH_TIME, "params": "x=1"}, frame) == {
        "benchmark": benchmarks.EPOCH_TIME}


def test_live_figure_one_line_per_run():
    runs = pd.DataFrame({"label": ["a", "a", "b"], "epoch": [0, 1, 0], "subopt": [1.0, 0.1, 1.0]})
    fig = convergence_fig.live_figure(runs).to_dict()
    assert trace_names(fig) == {"a", "b"} and fig["layout"]["yaxis"]["type"] == "log"


def tidy(rows):
    """A small tidy frame (the columns of `results.COLUMNS` the shaping functions read) from dicts of
    machine, order, benchmark, param_values, value and optionally status, env, ci_low, ci_high."""
    out = []
    for r in rows:
        row = {**dict(env="py", status="ok", ci_low=np.nan, ci_high=np.nan), **r}
        row["commit"] = row["commit_short"] = f"c{row['order']}"
        row["params"] = ", ".join(f"{k}={v}" for k, v in row["param_values"].items())
        if row["status"] != "ok":
            row["value"] = np.nan
        out.append(row)
    return pd.DataFrame(out)


def bandwidth_rows(machine="m", order=1, halp8=(0.6, 0.45), read=(40.0, 10.0)):
    rows = []
    for size, frac, limit in zip((1, 100), halp8, read):
        rows.append(dict(machine=machine, order=order, benchmark=benchmarks.READ_GBPS, param_values={"size_mb": size},
                         value=limit))
        for solver, f in (("halp-8", frac), ("svrg-fp64", 0.8)):
            p = {"solver": solver, "size_mb": size}
            rows.append(dict(machine=machine, order=order, benchmark=benchmarks.FRACTION, param_values=p, value=f))
            rows.append(dict(machine=machine, order=order, benchmark=benchmarks.EPOCH_GBPS, param_values=p,
                             value=f * limit))
    return rows


def test_bandwidth_takes_each_machines_newest_commit_and_labels_the_read_kernel():
    frame = tidy(bandwidth_rows(order=0, read=(1.0, 1.0)) + bandwidth_rows(order=1)
                 + bandwidth_rows(machine="other", order=0, read=(20.0, 5.0)))
    table = perf.bandwidth(frame)
    assert list(table.columns) == perf.BANDWIDTH_COLUMNS
    m = table[table["machine"] == "m"]
    assert set(m["commit_short"]) == {"c1"} and len(m) == 6
    read = m[m["solver"] == perf.READ_LABEL].set_index("size_mb")["gbps"]
    assert read.to_dict() == {1: 40.0, 100: 10.0}
    halp = m[m["solver"] == "halp-8"].set_index("size_mb")["gbps"]
    assert halp.to_dict() == pytest.approx({1: 24.0, 100: 4.5})
    assert set(table.loc[table["machine"] == "other", "commit_short"]) == {"c0"}
    fig = perf_figures.bandwidth_figure(table).to_dict()
    assert trace_names(fig) == {perf.READ_LABEL, "halp-8", "svrg-fp64"}
    assert {t["line"]["color"] for t in fig["data"] if t["name"] == perf.READ_LABEL} == {"black"}
    assert fig["layout"]["xaxis"]["type"] == "log"
    assert {a["text"] for a in fig["layout"]["annotations"]} == {"m", "other"}


def test_bandwidth_skips_failed_rows_and_missing_benchmarks():
    rows = bandwidth_rows()
    rows[0]["status"] = "failed"  # the read kernel at 1 MB
    table = perf.bandwidth(tidy(rows))
    assert len(table[table["solver"] == perf.READ_LABEL]) == 1
    no_read = perf.bandwidth(tidy([r for r in rows if r["benchmark"] != benchmarks.READ_GBPS]))
    assert perf.READ_LABEL not in set(no_read["solver"]) and len(no_read) == 4
    only_read = perf.bandwidth(tidy([r for r in rows if r["benchmark"] == benchmarks.READ_GBPS]))
    assert set(only_read["solver"]) == {perf.READ_LABEL}
    assert perf.bandwidth(tidy([dict(machine="m", order=0, benchmark="other", param_values={}, value=1.0)])).empty
    guessed = tidy([dict(r, param_values={f"param{i + 1}": v for i, v in enumerate(r["param_values"].values())})
                    for r in rows])  # benchmarks.json missing: asv's parameter names unknown
    assert perf.bandwidth(guessed).empty and perf.fraction_of_read(guessed).empty


def test_fraction_of_read_marks_the_goal_of_halp8():
    table = perf.fraction_of_read(tidy(bandwidth_rows(halp8=(0.5, 0.49))
                                       + bandwidth_rows(machine="x", halp8=(0.7, 0.6))))
    assert list(table.columns) == perf.FRACTION_COLUMNS
    goal = perf.goal(table)
    assert list(goal.columns) == perf.GOAL_COLUMNS
    assert goal.set_index(["machine", "size_mb"])["meets_goal"].to_dict() == {
        ("m", 1): True, ("m", 100): False, ("x", 1): True, ("x", 100): True}  # 0.5 itself meets it
    assert table.loc[table["solver"] == "svrg-fp64", "meets_goal"].all()
    assert perf.goal(table, solver="halp-16").empty
    fig = perf_figures.fraction_figure(table).to_dict()
    assert trace_names(fig) == {"halp-8", "svrg-fp64"}
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [perf.GOAL_FRACTION] * 2  # one per machine
    assert {x for t in fig["data"] for x in t["x"]} == {"1 MB", "100 MB"}


def scaling_rows(machine="m", order=3, max_threads=8, env="py"):
    """svrg fp64 halves its time per doubling up to 4 threads; sgd fp64 and lp-sgd 8 stay flat;
    halp 8 has no 1-thread result (failed); thread counts above `max_threads` are skipped."""
    times = {("svrg", "fp64"): {1: 8.0, 2: 4.0, 4: 2.0, 8: 2.0}, ("sgd", "fp64"): dict.fromkeys((1, 2, 4, 8), 3.0),
             ("lp-sgd", 8): dict.fromkeys((1, 2, 4, 8), 1.0), ("halp", 8): {1: 5.0, 2: 4.0, 4: 3.0, 8: 2.5}}
    rows = []
    for (solver, precision), per in times.items():
        for threads, t in per.items():
            status = "skipped" if threads > max_threads else "failed" if (solver, threads) == ("halp", 1) else "ok"
            rows.append(dict(machine=machine, order=order, env=env, benchmark=benchmarks.THREAD_TIME, status=status,
                             param_values={"solver": solver, "precision": precision, "threads": threads},
                             value=t, ci_low=0.9 * t, ci_high=1.1 * t))
        rows.append(dict(machine=machine, order=order, env=env, benchmark=benchmarks.THREAD_TIME, status="skipped",
                         param_values={"solver": solver, "precision": "fp32" if precision == 8 else 8,
                                       "threads": 1}, value=np.nan))  # invalid pair: asv's NaN
    return rows


def test_thread_scaling_speedup_over_one_thread_with_a_conservative_interval():
    frame = tidy(scaling_rows(order=2, max_threads=2) + scaling_rows(order=3, max_threads=4)
                 + scaling_rows(machine="big"))
    table = perf.thread_scaling(frame)
    assert list(table.columns) == perf.SCALING_COLUMNS
    m = table[table["machine"] == "m"]
    assert set(m["commit_short"]) == {"c3"} and set(m["threads"]) == {1, 2, 4}
    svrg = m[m["label"] == "svrg fp64"].set_index("threads")
    assert svrg["speedup"].to_dict() == pytest.approx({1: 1.0, 2: 2.0, 4: 4.0})
    assert svrg.loc[4, "speedup_low"] == pytest.approx(0.9 * 8 / (1.1 * 2))
    assert svrg.loc[4, "speedup_high"] == pytest.approx(1.1 * 8 / (0.9 * 2))
    assert svrg.loc[1, ["speedup_low", "speedup_high"]].tolist() == [1.0, 1.0]  # exactly 1 by definition
    assert not svrg["control"].any()
    flat = m[m["control"]]
    assert set(flat["label"]) == {"sgd fp64", "lp-sgd 8-bit"} and (flat["speedup"] == 1.0).all()
    halp = m[m["label"] == "halp 8-bit"]
    assert set(halp["threads"]) == {2, 4} and halp["speedup"].isna().all()  # no 1-thread time
    assert set(table.loc[table["machine"] == "big", "threads"]) == {1, 2, 4, 8}
    assert perf.missing_threads(table).set_index("machine")["missing"].to_dict() == {"m": [8]}
    assert perf.thread_scaling(tidy(bandwidth_rows())).empty


def test_thread_scaling_keeps_environments_apart_and_tabulates_seconds():
    table = perf.thread_scaling(tidy(scaling_rows(env="a", max_threads=2) + scaling_rows(env="b")))
    assert table.groupby("env")["threads"].max().to_dict() == {"a": 2, "b": 8}
    seconds = perf.seconds_table(table)
    assert list(seconds.columns) == ["machine", "env", "commit_short", "label", "1 thread", "2 threads",
                                     "4 threads", "8 threads"]
    row = seconds[(seconds["env"] == "a") & (seconds["label"] == "svrg fp64")].iloc[0]
    assert row["2 threads"] == 4.0 and np.isnan(row["4 threads"])
    assert list(perf.seconds_table(table.iloc[:0]).columns) == ["machine", "env", "commit_short", "label"]


def test_thread_speedup_figure_has_an_ideal_line_per_machine_and_dashed_controls():
    table = perf.thread_scaling(tidy(scaling_rows(max_threads=4) + scaling_rows(machine="big")))
    fig = perf_figures.thread_speedup_figure(table).to_dict()
    assert trace_names(fig) == {"svrg fp64", "sgd fp64", "lp-sgd 8-bit", "halp 8-bit", perf_figures.IDEAL} - {
        "halp 8-bit"}  # no speedup without a 1-thread time
    ideal = [t for t in fig["data"] if t["name"] == perf_figures.IDEAL]
    assert sorted(array(t["x"]) for t in ideal) == [[1, 2, 4], [1, 2, 4, 8]]
    assert all(array(t["x"]) == array(t["y"]) for t in ideal)
    assert sum(t["showlegend"] for t in ideal) == 1
    dashes = {t["name"]: t["line"]["dash"] for t in fig["data"] if t["name"] != perf_figures.IDEAL}
    assert dashes["sgd fp64"] == dashes["lp-sgd 8-bit"] == "dash" and dashes["svrg fp64"] == "solid"
    svrg = next(t for t in fig["data"] if t["name"] == "svrg fp64" and len(array(t["x"])) == 4)
    assert array(svrg["y"]) == pytest.approx([1, 2, 4, 4])
    assert svrg["error_y"]["array"] is not None


def test_fixtures_hold_bandwidth_and_thread_results(frame):
    goal = perf.goal(perf.fraction_of_read(frame))
    assert set(goal["machine"]) == MACHINES and set(goal["commit_short"]) == {fixture_commits()[-1][:8]}
    assert goal.set_index("size_mb")["meets_goal"].groupby(level=0).all().to_dict() == {1: True, 8: False}
    gbps = perf.bandwidth(frame)
    assert set(gbps["solver"]) == {perf.READ_LABEL, "halp-8", "halp-16", "lp-sgd-8", "svrg-fp32", "svrg-fp64",
                                   "sgd-fp32"}
    scaling = perf.thread_scaling(frame)
    assert scaling.groupby("machine")["threads"].max().to_dict() == {
        "fixture-zen5": 2, "fixture-laptop": 4, "fixture-bare": 8}
    assert set(scaling.loc[scaling["control"], "label"]) == {"sgd fp64", "sgd fp32", "lp-sgd 8-bit"}
    bare = scaling[(scaling["machine"] == "fixture-bare") & (scaling["threads"] == 8)].set_index("label")
    assert bare.loc["svrg fp64", "speedup"] > 1.5 and abs(bare.loc["sgd fp64", "speedup"] - 1) < 0.2
    assert perf.machines_without(frame, benchmarks.FRACTION) == []
