"""The Speedups page's crossover map: the speedup of one bit width or format over problem size × row
width per machine, the cache levels on its size axis and the ceiling beside it (dashboard.data.speedups
and dashboard.figures.speedups), on the asv fixtures, on hand-made frames and on the shipped results."""

import math

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from dashboard_helpers import FIXTURES, MACHINES, ROOT, app_page, array, chart, charts, trace_names

from benchmarks import bench_bandwidth, common
from dashboard import benchmarks
from dashboard.data import speedups
from dashboard.figures import speedups as figures
from dashboard.results import load_results, param_table
from dashboard.tables import column_name
from halp_bench.machine import CACHE_FIELDS
from halp_core import datasets, registry

SHIPPED = ROOT / "results"


@pytest.fixture(scope="module")
def fixtures():
    return load_results([FIXTURES])


@pytest.fixture(scope="module")
def shipped():
    return load_results([SHIPPED])


def stored(frame, method, bits, baseline):
    """{(machine, size_mb, d): track_speedup's stored ratio} at each machine's newest commit that
    holds this selection, read straight from the frame (d 1024 where the file had no width)."""
    rows = param_table(frame[(frame["benchmark"] == benchmarks.SPEEDUP) & (frame["status"] == "ok")])
    rows = rows[(rows["method"] == method) & (rows["bits"] == bits) & (rows["baseline"] == baseline)]
    rows = rows[rows["order"] == rows.groupby("machine")["order"].transform("max")]
    width = rows[benchmarks.WIDTH] if benchmarks.WIDTH in rows else pd.Series(np.nan, index=rows.index)
    return {(m, s, int(d) if d == d else 1024): v
            for m, s, d, v in zip(rows["machine"], rows["size_mb"], width, rows["value"])}


def speedup_rows(values, commit="c0", order=0):
    """A tidy frame of track_speedup (method halp, 8 bits, baseline fp32) with the stored ratio of
    each (size_mb, d) in `values`, on machine 'box', one commit."""
    rows = []
    for (size_mb, d), ratio in values.items():
        params = {"method": "halp", "bits": 8, "baseline": "fp32", "size_mb": size_mb, "d": d}
        rows.append(dict(machine="box", env="env-a", commit_short=commit, order=order,
                         benchmark=benchmarks.SPEEDUP, status="ok", value=ratio,
                         params=", ".join(f"{k}={v}" for k, v in params.items()), param_values=params))
    return pd.DataFrame(rows)


# --- what the ceiling is made of: the data each side reads -------------------------------------

@pytest.mark.parametrize("precision", [4, 8, 16, *registry.FORMATS, "fp32", "fp64"])
def test_data_bytes_are_those_of_the_data_the_speedup_benchmark_reads(precision):
    """track_speedup builds its problem with common.epoch_data_bits(bits); the baseline converts it."""
    if precision in ("fp32", "fp64"):
        want = np.dtype(np.float32 if precision == "fp32" else np.float64).itemsize
    else:
        prob = datasets.synthetic_least_squares(32, 8, lam=1e-3, noise=0.1, seed=0,
                                                data_bits=common.epoch_data_bits(precision))
        want = prob.Xq.itemsize
    assert speedups.data_bytes(precision) == want


def test_the_dashboards_facts_about_the_speed_suites_hold():
    assert benchmarks.FIXED_POINT_DATA_BITS == common.EPOCH_DATA_BITS
    for size_mb, d in [(1, 1024), (100, 128), (400, 4096)]:
        nbytes = common.epoch_rows(size_mb, d) * d * speedups.data_bytes(benchmarks.SIZE_PRECISION)
        assert nbytes == size_mb * 2**20
    for name, (solver, precision) in bench_bandwidth.SOLVER_LABELS.items():
        assert benchmarks.FRACTION_SOLVER.format(solver=solver, precision=precision) == name


def test_bytes_ratio_is_the_baselines_bytes_over_the_low_precision_ones():
    assert speedups.bytes_ratio(8, "fp32") == 4.0 and speedups.bytes_ratio(4, "fp64") == 8.0
    assert speedups.bytes_ratio(16, "fp32") == 4.0   # 16-bit HALP reads the same int8 data
    assert speedups.bytes_ratio("bf16", "fp32") == 2.0 and speedups.bytes_ratio("fp8-e5m2", "fp64") == 8.0
    assert speedups.size_of_copy_mib(100, 8) == 25.0 and speedups.size_of_copy_mib(100, "fp64") == 200.0
    assert [speedups.data_label(p) for p in (8, "bf16", "fp32")] == ["int8", "bf16", "fp32"]
    with pytest.raises(ValueError, match="neither a full precision"):
        speedups.data_bytes("fp128")


@pytest.mark.parametrize("method, bits, baseline, match", [
    ("svrg", 8, "fp32", "method"), ("halp", "fp32", "fp32", "bits"), ("halp", 8, "fp16", "baseline"),
    ("halp", True, "fp32", "bits")])
def test_a_selection_track_speedup_cannot_hold_is_refused(fixtures, method, bits, baseline, match):
    for table in (speedups.crossover, speedups.ceilings, speedups.speedup_range):
        with pytest.raises(ValueError, match=match):
            table(fixtures.frame, method, bits, baseline)


# --- the tables ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, bits, baseline", [("halp", 8, "fp32"), ("lp-sgd", 16, "fp64"),
                                                    ("halp", 4, "fp64")])
def test_crossover_inverts_the_newest_stored_ratio_of_each_shape(fixtures, method, bits, baseline):
    table = speedups.crossover(fixtures.frame, method, bits, baseline)
    assert list(table.columns) == speedups.CROSSOVER_COLUMNS
    assert set(table["machine"]) == MACHINES
    want = stored(fixtures.frame, method, bits, baseline)
    got = {(m, s, d): v for m, s, d, v in zip(table["machine"], table["size_mb"], table[benchmarks.WIDTH],
                                              table["speedup"])}
    assert got == pytest.approx({k: 1 / v for k, v in want.items()})
    assert (table["pays"] == (table["speedup"] >= 1)).all()
    assert table.groupby("machine")["commit_short"].nunique().max() == 1


def test_crossover_takes_the_newest_commit_that_measured_the_selection(fixtures):
    frame = fixtures.frame
    newest = speedups.crossover(frame, "halp", 8, "fp32").set_index("machine")["commit_short"]
    zen = frame[(frame["machine"] == "fixture-zen5") & (frame["benchmark"] == benchmarks.SPEEDUP)]
    dropped = zen[(zen["commit_short"] == newest["fixture-zen5"].iloc[0])
                  & zen["params"].str.contains("bits=8,")].index
    older = speedups.crossover(frame.drop(dropped), "halp", 8, "fp32")
    commits = zen.sort_values("order")["commit_short"].unique().tolist()
    zen_commit = older[older["machine"] == "fixture-zen5"]["commit_short"].unique().tolist()
    assert zen_commit == [commits[commits.index(newest["fixture-zen5"].iloc[0]) - 1]]
    assert speedups.crossover(frame, "halp", "bf16", "fp32").empty   # the fixtures have no formats
    assert speedups.crossover(frame, "lp-sgd", 4, "fp32").empty      # skipped everywhere
    assert speedups.crossover(frame[frame["benchmark"] != benchmarks.SPEEDUP], "halp", 8, "fp32").empty


def test_speedup_range_is_the_least_and_most_with_where_and_how_many_pay():
    frame = speedup_rows({(1, 1024): 2.0, (100, 128): 1.0, (100, 4096): 0.5, (400, 512): 1.25})
    got = speedups.speedup_range(frame, "halp", 8, "fp32")
    assert list(got.columns) == speedups.RANGE_COLUMNS
    row = got.iloc[0]
    assert (row["least"], row["least_size_mb"], row["least_d"]) == (0.5, 1, 1024)
    assert (row["most"], row["most_size_mb"], row["most_d"]) == (2.0, 100, 4096)
    assert (row["paying"], row["shapes"]) == (2, 4)   # 1.0 pays: speedup >= 1
    assert speedups.speedup_range(frame, "halp", 16, "fp32").empty


def test_ceilings_are_the_bandwidth_shares_of_both_sides_and_the_bytes_ratio(fixtures):
    table = speedups.ceilings(fixtures.frame, "halp", 8, "fp32")
    assert list(table.columns) == speedups.CEILING_COLUMNS
    assert set(table["machine"]) == MACHINES and (table["bytes_ratio"] == 4.0).all()
    assert dict(zip(table["solver"], table["side"])) == {"halp-8": speedups.LOW_SIDE,
                                                         "svrg-fp32": speedups.BASELINE_SIDE}
    assert set(table["label"]) == {"halp 8-bit", "svrg fp32"}
    rows = param_table(fixtures.frame[(fixtures.frame["benchmark"] == benchmarks.FRACTION)])
    rows = rows[rows["order"] == rows.groupby("machine")["order"].transform("max")]
    want = {(m, s, v): x for m, s, v, x in zip(rows["machine"], rows["solver"], rows["size_mb"], rows["value"])}
    assert {(m, s, v): x for m, s, v, x in zip(table["machine"], table["solver"], table["size_mb"],
                                               table["share"])} == {k: want[k] for k in want if k[1] in
                                                                    ("halp-8", "svrg-fp32")}
    four = speedups.ceilings(fixtures.frame, "halp", 4, "fp64")   # no halp-4 in the bandwidth suite
    assert set(four["solver"]) == {"svrg-fp64"} and (four["bytes_ratio"] == 8.0).all()


def test_caches_read_the_recorded_sizes_and_nothing_else():
    machines = pd.DataFrame([
        {"machine": "a", CACHE_FIELDS["L2"]: "1048576", CACHE_FIELDS["L3"]: "33554432"},
        {"machine": "b", CACHE_FIELDS["L2"]: "big", CACHE_FIELDS["L3"]: np.nan},
        {"machine": "c"}])
    assert speedups.caches(machines) == {"a": {"L2": 2**20, "L3": 32 * 2**20}, "b": {}, "c": {}}


# --- the figures --------------------------------------------------------------------------------

def heatmaps(fig):
    return [t for t in fig["data"] if t["type"] == "heatmap"]


def test_crossover_figure_colours_log_speedup_around_one_with_cache_lines(fixtures):
    table = speedups.crossover(fixtures.frame, "halp", 8, "fp32")
    caches = {"fixture-zen5": {"L2": 2**20, "L3": 32 * 2**20}}
    fig = figures.crossover_figure(table, caches).to_dict()
    assert len(heatmaps(fig)) == len(MACHINES)
    axis = fig["layout"]["coloraxis"]
    assert axis["cmid"] == 0 and axis["cmin"] == -axis["cmax"]
    z = np.concatenate([np.ravel(np.array(array(t["z"]), dtype=float)) for t in heatmaps(fig)])
    assert sorted(z[np.isfinite(z)]) == pytest.approx(sorted(np.log2(table["speedup"])))
    texts = {t for trace in fig["data"] if trace["type"] == "scatter" for t in trace["text"]}
    assert texts == {f"{v:.2f}×" for v in table["speedup"]}
    titles = {a["text"] for a in fig["layout"]["annotations"] if a.get("yref") == "paper"}
    assert titles == {"fixture-zen5"} | {f"{m} ({figures.NOT_RECORDED})" for m in MACHINES - {"fixture-zen5"}}
    # the fixtures' sizes are 1 and 8 MiB: only the int8 copy's L2 (4 MiB) and fp32's L2 (1 MiB) lie on it
    lines = {(s["x0"], s["line"]["dash"]) for s in fig["layout"]["shapes"]}
    assert lines == {(4.0, "solid"), (1.0, "dash")}
    cols = sorted(MACHINES).index("fixture-zen5") + 1
    assert {s["xref"] for s in fig["layout"]["shapes"]} == {f"x{cols}" if cols > 1 else "x"}
    labels = {a["text"] for a in fig["layout"]["annotations"] if a.get("yref") != "paper"}
    assert labels == {"L2 int8", "L2 fp32"}
    assert fig["layout"]["xaxis"]["title"]["text"] == figures.SIZE_AXIS
    assert fig["layout"]["yaxis"]["title"]["text"] == "row width d (features)"
    assert fig["layout"]["title"]["text"].startswith("HALP 8-bit vs SVRG fp32")
    assert fig["layout"]["showlegend"] is False   # the colour bar is the key


def test_ceiling_figure_draws_both_sides_per_size(fixtures):
    table = speedups.ceilings(fixtures.frame, "halp", 8, "fp32")
    fig = figures.ceiling_figure(table).to_dict()
    assert trace_names(fig) == {"halp 8-bit", "svrg fp32"}
    assert fig["layout"]["title"]["text"].startswith("Ceiling 4×")
    heights = sorted(y for t in fig["data"] for y in array(t["y"]))
    assert heights == pytest.approx(sorted(100 * table["share"]))


# --- the shipped results ------------------------------------------------------------------------

@pytest.mark.parametrize("method, baseline", [("halp", "fp32"), ("halp", "fp64"), ("lp-sgd", "fp32")])
def test_every_shipped_machine_gets_a_map_of_the_inverted_ratios(shipped, method, baseline):
    table = speedups.crossover(shipped.frame, method, 8, baseline)
    assert set(table["machine"]) == set(shipped.frame["machine"])
    want = stored(shipped.frame, method, 8, baseline)
    got = {(m, s, d): v for m, s, d, v in zip(table["machine"], table["size_mb"], table[benchmarks.WIDTH],
                                              table["speedup"])}
    assert got == pytest.approx({k: 1 / v for k, v in want.items()})
    ranges = speedups.speedup_range(shipped.frame, method, 8, baseline).set_index("machine")
    assert (ranges["shapes"] == table.groupby("machine").size()).all()
    assert (ranges["least"] <= ranges["most"]).all()


def test_shipped_cache_lines_only_where_machine_json_records_them(shipped):
    caches = speedups.caches(shipped.machines)
    recorded = {m for m, c in caches.items() if c}
    assert recorded == {"vm-znver4-avx512-vnni"}   # results/vm/machine.json has no cache sizes
    table = speedups.crossover(shipped.frame, "halp", 8, "fp32")
    fig = figures.crossover_figure(table, caches).to_dict()
    panels = sorted(table["machine"].unique())
    refs = {s["xref"] for s in fig["layout"]["shapes"]}
    assert refs == {"x" if i == 0 else f"x{i + 1}" for i, m in enumerate(panels) if m in recorded}
    l2, l3 = caches["vm-znver4-avx512-vnni"]["L2"] / 2**20, caches["vm-znver4-avx512-vnni"]["L3"] / 2**20
    sizes = {s["x0"] for s in fig["layout"]["shapes"]}
    assert sizes == {x for x in (l2, l3, 4 * l2, 4 * l3) if 1 / math.sqrt(10) <= x <= 400 * 2}
    titles = {a["text"] for a in fig["layout"]["annotations"] if a.get("yref") == "paper"}
    assert titles == {"vm (cache sizes not recorded)", "vm-znver4-avx512-vnni"}


@pytest.fixture
def shipped_env(monkeypatch):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(SHIPPED))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()


def test_speedups_page_opens_on_the_crossover_map(shipped_env, shipped):
    at = app_page("views/speedups.py")
    assert at.subheader[0].value.startswith("Crossover map")
    first = charts(at)[0]
    assert first["layout"]["title"]["text"].startswith("HALP 8-bit vs SVRG fp32")
    assert len(heatmaps(first)) == shipped.frame["machine"].nunique()
    assert chart(at, "Ceiling 4×")
    ranges = [m.value for m in at.markdown if "shapes pay" in m.value]
    assert len(ranges) == shipped.frame["machine"].nunique()
    at.selectbox(key="sp_bits").select(16).run()
    assert charts(at)[0]["layout"]["title"]["text"].startswith("HALP 16-bit vs SVRG fp32")
    at.radio(key="sp_precision").set_value("fp64").run()
    assert charts(at)[0]["layout"]["title"]["text"].startswith("HALP 16-bit vs SVRG fp64")
    assert chart(at, "Ceiling 8×")
    for spec in charts(at):   # no environment string in any legend or axis
        assert not any("virtualenv" in str(t.get("name", "")) for t in spec["data"])


def test_machines_page_shows_the_recorded_cache_sizes(shipped_env):
    at = app_page("views/machines.py")
    specs = at.dataframe[0].value.set_index("spec")
    assert specs.loc["L3 cache (bytes)", "vm-znver4-avx512-vnni"] == "33554432"
    assert specs.loc[column_name(CACHE_FIELDS["L3"]), "vm"] == "—"
