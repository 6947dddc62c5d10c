"""Tables of the dashboard pages and their plotly figures, computed from the asv fixtures."""

import numpy as np
import pandas as pd
import pytest
from dashboard_helpers import FIXTURES, MACHINES, fixture_commits, trace_names

from dashboard import analysis, figures
from dashboard.results import load_results


@pytest.fixture(scope="module")
def frame():
    return load_results([FIXTURES]).frame


def test_status_counts_and_failures(frame):
    counts = analysis.status_counts(frame).set_index("machine")
    assert counts.loc["fixture-zen5", ["ok", "failed", "skipped"]].sum() == (frame["machine"] == "fixture-zen5").sum()
    assert (counts["failed"] > 0).all()
    failed = analysis.failures(frame)
    assert set(failed["benchmark"]) == {"bench_broken.Broken.time_raises"}
    assert set(failed["machine"]) == MACHINES
    fig = figures.status_figure(analysis.status_counts(frame))
    assert trace_names(fig.to_dict()) == {"ok", "failed", "skipped"}


def test_speedups_invert_the_stored_ratio_at_the_newest_commit(frame):
    table = analysis.speedups(frame, "halp", "fp32")
    assert set(table["machine"]) == MACHINES
    assert set(table["commit_short"]) == {fixture_commits()[-1][:8]}
    raw = frame[(frame["benchmark"] == analysis.SPEEDUP) & (frame["machine"] == "fixture-zen5")
                & (frame["commit"] == fixture_commits()[-1])
                & (frame["params"] == "method=halp, bits=8, baseline=fp32, size_mb=8")]["value"].iloc[0]
    got = table[(table["machine"] == "fixture-zen5") & (table["bits"] == 8) & (table["size_mb"] == 8)]
    assert list(got["measure"]) == [analysis.RATIO]
    assert got["speedup"].iloc[0] == pytest.approx(1 / raw)
    sgd = analysis.speedups(frame, "lp-sgd", "fp64")
    assert set(sgd["bits"]) == {8, 16}  # lp-sgd at 4 bits was skipped
    assert analysis.speedups(frame[~frame["benchmark"].isin([analysis.SPEEDUP, analysis.EPOCH_TIME])],
                             "halp", "fp32").empty


def test_speedups_from_epoch_times_carry_a_conservative_interval(frame):
    table = analysis.speedups(frame, "halp", "fp64")
    timed = table[table["measure"] == analysis.EPOCH_TIMES].set_index("machine")
    assert set(timed.index) == MACHINES and set(timed["bits"]) == {8} and set(timed["size_mb"]) == {1}
    epoch = frame[(frame["benchmark"] == analysis.EPOCH_TIME) & (frame["machine"] == "fixture-zen5")
                  & (frame["commit"] == fixture_commits()[-1])].set_index("params")
    halp, svrg = epoch.loc["solver=halp, precision=8, size_mb=1"], epoch.loc["solver=svrg, precision=fp64, size_mb=1"]
    zen = timed.loc["fixture-zen5"]
    assert zen["speedup"] == pytest.approx(svrg["value"] / halp["value"])
    assert zen["speedup_low"] == pytest.approx(svrg["ci_low"] / halp["ci_high"])
    assert zen["speedup_high"] == pytest.approx(svrg["ci_high"] / halp["ci_low"])
    assert (timed["speedup_low"] <= timed["speedup"]).all() and (timed["speedup"] <= timed["speedup_high"]).all()
    assert table[table["measure"] == analysis.RATIO]["speedup_low"].isna().all()


def test_headline_is_halp8_vs_svrg_fp32_and_fp64_per_machine(frame):
    top = analysis.headline(frame)
    assert len(top) == 2 * len(MACHINES)
    assert set(top["baseline"]) == {"SVRG fp32", "SVRG fp64"}
    assert set(top["size_mb"]) == {8}
    zen = top[top["machine"] == "fixture-zen5"].set_index("baseline")["speedup"]
    assert zen["SVRG fp64"] > zen["SVRG fp32"] > 1
    fig = figures.headline_figure(top).to_dict()
    assert trace_names(fig) == {"SVRG fp32", "SVRG fp64"}
    assert set(fig["data"][0]["x"]) == MACHINES


def test_speedup_figures_have_one_line_per_size_or_width_and_machine_facets(frame):
    table = analysis.speedups(frame, "halp", "fp32")
    ratio, timed = f"{analysis.RATIO}", f"{analysis.EPOCH_TIMES}"
    by_bits = figures.speedup_by_bits_figure(table).to_dict()
    assert trace_names(by_bits) == {f"1 MB, {ratio}", f"8 MB, {ratio}", f"1 MB, {timed}"}
    assert len(by_bits["data"]) == 3 * len(MACHINES)
    assert {a["text"] for a in by_bits["layout"]["annotations"]} == MACHINES
    with_bars = [t for t in by_bits["data"] if t["name"] == f"1 MB, {timed}"]
    assert all(t["error_y"]["array"] is not None for t in with_bars)
    by_size = figures.speedup_by_size_figure(table).to_dict()
    assert trace_names(by_size) == {f"{b} bits, {ratio}" for b in (4, 8, 16)} | {f"8 bits, {timed}"}
    assert by_size["layout"]["xaxis"]["type"] == "log"


def test_convergence_joins_seconds_and_labels_solvers(frame):
    table = analysis.convergence(frame, "lsq")
    assert set(table["label"]) == {"svrg fp64", "halp 8-bit"}
    assert set(table["epoch"]) == {1, 2, 4, 8}
    assert table["seconds"].notna().all() and (table["subopt"] > 0).all()
    one = table[(table["machine"] == "fixture-zen5") & (table["order"] == 3) & (table["label"] == "svrg fp64")]
    assert one.sort_values("epoch")["subopt"].is_monotonic_decreasing
    fig = figures.convergence_figure(one, "seconds").to_dict()
    assert fig["layout"]["yaxis"]["type"] == "log" and trace_names(fig) == {"svrg fp64"}
    assert analysis.convergence(frame, "logistic").empty


def test_epochs_to_target_turns_the_sentinel_into_missing(frame):
    table = analysis.epochs_to_target(frame, "lsq")
    assert set(table["target"]) == {"1e-06", "1e-10"}
    never = table[(table["label"] == "halp 8-bit") & (table["target"] == "1e-10")]
    assert len(never) > 0 and never["epochs"].isna().all()
    fig = figures.epochs_to_target_figure(table).to_dict()
    assert trace_names(fig) == {"1e-06", "1e-10"}


def test_step_detection_finds_the_commit3_regression(frame):
    regs = analysis.step_regressions(frame)
    third = fixture_commits()[2][:8]
    halp = regs[(regs["benchmark"] == analysis.EPOCH_TIME) & (regs["params"] == "solver=halp, precision=8, size_mb=1")]
    assert set(halp["machine"]) == {"fixture-zen5", "fixture-laptop"}
    assert set(halp["first_bad"]) == {third}
    assert (halp["ratio"] > 1.3).all()
    speed = regs[(regs["benchmark"] == analysis.SPEEDUP) & regs["params"].str.startswith("method=halp")]
    assert set(speed["first_bad"]) == {third}
    assert regs[regs["benchmark"] == analysis.SPEEDUP]["params"].str.startswith("method=halp").all()


def test_step_detection_ignores_older_benchmark_versions():
    base = dict(machine="m", env="e", benchmark="b", params="", unit="s", status="ok")
    rows = [dict(base, order=i, commit_short=f"c{i}", version="v1" if i < 3 else "v2", value=v)
            for i, v in enumerate([1.0, 1.0, 1.0, 5.0, 5.0, 5.0])]
    assert analysis.step_regressions(pd.DataFrame(rows)).empty
    for r in rows:
        r["version"] = "v1"
    found = analysis.step_regressions(pd.DataFrame(rows))
    assert list(found["first_bad"]) == ["c3"] and found["ratio"].iloc[0] == pytest.approx(5.0)


def test_latest_vs_baseline(frame):
    commits = fixture_commits()
    trend = analysis.latest_vs_baseline(frame)
    halp = trend[(trend["benchmark"] == analysis.SPEEDUP) & (trend["machine"] == "fixture-zen5")
                 & (trend["params"] == "method=halp, bits=8, baseline=fp32, size_mb=1")].iloc[0]
    assert halp["baseline_commit"] == commits[0][:8] and halp["latest_commit"] == commits[-1][:8]
    assert halp["ratio"] == pytest.approx(1.48)
    quantize = trend[trend["benchmark"] == "bench_kernels.Quantize.time_quantize"]
    assert set(quantize["baseline_commit"]) == {commits[2][:8]}  # first commit of its newest version
    assert "fixture-bare" not in set(trend["machine"])  # one commit only: nothing to compare
    at_second = analysis.latest_vs_baseline(frame, commits[1])
    assert set(at_second["machine"]) == {"fixture-zen5"}  # only zen5 measured commit 2


def test_compare_commits_like_asv_compare(frame):
    commits = fixture_commits()
    table = analysis.compare_commits(frame, commits[0], commits[-1], factor=1.1)
    assert set(table["machine"]) == {"fixture-zen5", "fixture-laptop"}
    assert table["benchmark"].ne("bench_broken.Unsupported.track_unsupported").all()  # skipped in both
    speed = table[(table["benchmark"] == analysis.SPEEDUP) & table["params"].str.startswith("method=halp")]
    assert set(speed["change"]) == {"worse"}
    other = table[(table["benchmark"] == analysis.SPEEDUP) & table["params"].str.startswith("method=lp-sgd")]
    assert set(other["change"]) == {"unchanged"}
    assert set(table.loc[table["benchmark"] == "bench_kernels.Quantize.time_quantize", "change"]) == {"incomparable"}
    assert set(table.loc[table["benchmark"] == "bench_broken.Broken.time_raises", "change"]) == {"failed"}
    timed = table[(table["benchmark"] == analysis.EPOCH_TIME) & (table["change"] == "worse")]
    assert timed["significant"].all()
    fig = figures.compare_figure(table, limit=len(table)).to_dict()
    assert {"worse", "unchanged"} <= trace_names(fig)
    top = figures.compare_figure(table, limit=5)
    shown = sorted(x for trace in top.data for x in trace.x)
    assert len(shown) == 5 and min(abs(np.log(shown))) >= np.sort(abs(np.log(table["ratio"].dropna())))[-5]


def test_compare_significance_needs_non_overlapping_intervals():
    base = dict(machine="m", env="e", benchmark="b", params="", unit="s", version="v", status="ok")
    rows = pd.DataFrame([dict(base, commit="A", value=1.0, ci_low=0.5, ci_high=1.5),
                         dict(base, commit="B", value=1.3, ci_low=1.2, ci_high=1.4)])
    assert analysis.compare_commits(rows, "A", "B")["change"].iloc[0] == "not significant"
    rows.loc[0, ["ci_low", "ci_high"]] = [0.9, 1.1]
    assert analysis.compare_commits(rows, "A", "B")["change"].iloc[0] == "worse"
    assert analysis.compare_commits(rows, "B", "A")["change"].iloc[0] == "better"


def test_machines_normalized_to_a_baseline(frame):
    norm = analysis.normalized_to_machine(frame, "fixture-zen5")
    assert set(norm["machine"]) == MACHINES
    assert np.allclose(norm.loc[norm["machine"] == "fixture-zen5", "ratio"], 1.0)
    means = analysis.geometric_means(norm).set_index(["machine", "suite"])["ratio"]
    assert means["fixture-laptop", "bench_speedup"] == pytest.approx(1.6)
    assert means["fixture-bare", "bench_speedup"] == pytest.approx(1.2)
    fig = figures.machines_figure(analysis.geometric_means(norm)).to_dict()
    assert trace_names(fig) == MACHINES and fig["layout"]["yaxis"]["type"] == "log"
    flipped = analysis.geometric_means(analysis.normalized_to_machine(frame, "fixture-laptop"))
    assert flipped.set_index(["machine", "suite"])["ratio"]["fixture-zen5", "bench_speedup"] == pytest.approx(1 / 1.6)


def test_history_figure_has_bands_older_versions_and_regression_marks(frame):
    rows = analysis.series(frame, "bench_kernels.Quantize.time_quantize")
    fig = figures.history_figure(rows, analysis.step_regressions(rows), "seconds").to_dict()
    names = trace_names(fig)
    assert "fixture-zen5" in names and "fixture-zen5 (older version)" in names
    assert "fixture-zen5 99% band" in names
    assert list(fig["layout"]["xaxis"]["ticktext"]) == [c[:8] for c in fixture_commits()]
    speed = analysis.series(frame, analysis.EPOCH_TIME, ["solver=halp, precision=8, size_mb=1"])
    regs = analysis.step_regressions(speed)
    marked = figures.history_figure(speed, regs, "seconds")
    marks = [t for t in marked.data if t.name == "regression (first bad commit)"]
    assert len(marks) == len(regs) == 2
    assert {t.x[0] for t in marks} == {2}  # commit order of the third commit


def test_live_figure_one_line_per_run():
    runs = pd.DataFrame({"label": ["a", "a", "b"], "epoch": [0, 1, 0], "subopt": [1.0, 0.1, 1.0]})
    fig = figures.live_figure(runs).to_dict()
    assert trace_names(fig) == {"a", "b"} and fig["layout"]["yaxis"]["type"] == "log"
