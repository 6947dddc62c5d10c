"""The Sweeps page (issue 15): its guarded reader, tables and figures on a synthetic sweep folder
(dashboard_helpers.sweeps: three seeds, a setting that never reaches 1e-8, a diverged run), and the
page in AppTest on that folder, with no folder, an empty folder and a folder with faulty parts."""

import math
import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dashboard_helpers import app_page, array, chart, titles
from dashboard_helpers.sweeps import EPOCHS, PARAMS, SPEC, run_rows, write_faulty_sweep, write_run, write_sweep

from dashboard.data import sweeps as data
from dashboard.figures import sweeps as figures


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_sweep(tmp_path_factory.mktemp("sweep") / "sweep")


@pytest.fixture(scope="module")
def sweep(folder):
    return data.load(folder)


@pytest.fixture(scope="module")
def summary(sweep):
    return data.summary(sweep.runs, sweep.params)


def run(summary, step, mu, seed):
    """The summary row of one run."""
    return summary.set_index("run_id").loc[f"s{step}-mu{mu}-seed{seed}"]


# ---- reading -----------------------------------------------------------------------------------


def test_load_reads_every_run_and_the_spec(sweep):
    assert sweep.problems == []
    assert sweep.spec == SPEC
    assert sweep.params == PARAMS
    assert sweep.runs["run_id"].nunique() == 18 and len(sweep.runs) == 18 * (EPOCHS + 1)
    assert sweep.runs["subopt"].dtype == "float64" and sweep.runs["cond"].isna().all()


def test_faulty_parts_become_problems_naming_the_file_and_the_rest_is_read(tmp_path):
    dest = tmp_path / "sweep"
    faults = write_faulty_sweep(dest)
    sweep = data.load(dest)
    for name, words in faults.items():
        assert any(name in p and words in p for p in sweep.problems), (name, sweep.problems)
    assert len(sweep.problems) == len(faults)
    assert sweep.runs["run_id"].nunique() == 18
    assert (sweep.runs.loc[sweep.runs["run_id"] == "s0.1-muauto-seed0", "seed"] == 0).all()


def test_a_missing_folder_or_spec_and_odd_metadata_are_problems(tmp_path):
    assert "is not a folder" in data.load(tmp_path / "nowhere").problems[0]
    dest = tmp_path / "sweep"
    write_run(dest, run_rows(0.1, "1", 0), params="not a list")
    sweep = data.load(dest)
    assert sweep.spec == "" and any("spec.toml" in p for p in sweep.problems)
    assert any("halp.params" in p and "default" in p for p in sweep.problems)
    assert sweep.params == PARAMS and len(sweep.runs) == EPOCHS + 1


def test_extra_parameters_named_in_the_metadata_are_kept(tmp_path):
    write_run(tmp_path, run_rows(0.1, "1", 0).assign(batch=4), params=PARAMS + ["batch"])
    sweep = data.load(tmp_path)
    assert sweep.params[-1] == "batch"
    assert data.summary(sweep.runs, sweep.params)["batch"].tolist() == [4]


def test_odd_column_types(tmp_path):
    rows = run_rows(0.1, "1", 0)
    write_run(tmp_path, rows.assign(run_id="lists", loss=[[1.0]] * len(rows)))
    write_run(tmp_path, rows.assign(run_id="stamps", seconds=pd.Timestamp("2020-01-01")))
    write_run(tmp_path, rows.assign(run_id="categories", seed=pd.Categorical([0] * len(rows)),
                                    problem=pd.Categorical(["lsq"] * len(rows)), precision=8))
    write_run(tmp_path, rows.assign(run_id="text", batch="a"), params=PARAMS + ["batch", "machine"])
    write_run(tmp_path, rows.assign(run_id="number", batch=3), params=PARAMS + ["batch"])
    sweep = data.load(tmp_path)
    assert [p.split("/")[-1] for p in sweep.problems[1:]] == [
        "lists.parquet: column 'loss' does not hold numbers",
        "stamps.parquet: column 'seconds' does not hold numbers"]
    assert sweep.params == PARAMS + ["batch"]  # 'machine' is a fact, not a parameter
    table = data.summary(sweep.runs, sweep.params).set_index("run_id")
    assert table.loc["categories", "precision"] == "8" and table.loc["categories", "seed"] == 0
    assert data.values(table["batch"])[:2] == ["3", "a"] and pd.isna(data.values(table["batch"])[2])


def test_empty_folder_has_no_runs(tmp_path):
    sweep = data.load(tmp_path)
    assert sweep.runs.empty and data.summary(sweep.runs, sweep.params).empty


def test_sweep_dir_from_the_environment_then_the_default(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEFAULT", tmp_path / "sweeps-results")
    monkeypatch.setenv("HALP_SWEEPS", str(tmp_path / "mine"))
    assert data.sweep_dir() == tmp_path / "mine"
    for unset in ("", "  "):
        monkeypatch.setenv("HALP_SWEEPS", unset)
        assert data.sweep_dir() is None
        (tmp_path / "sweeps-results").mkdir(exist_ok=True)
        assert data.sweep_dir() == tmp_path / "sweeps-results"
        (tmp_path / "sweeps-results").rmdir()


def test_fingerprint_changes_when_a_run_is_written(tmp_path):
    dest = write_sweep(tmp_path / "sweep")
    before = data.fingerprint(dest)
    assert len(before) == 19
    write_run(dest, run_rows(0.1, "1", 5))
    assert data.fingerprint(dest) != before


# ---- tables ------------------------------------------------------------------------------------


def test_summary_targets_not_reached_and_diverged(summary):
    assert len(summary) == 18 and list(summary.columns[:len(PARAMS)]) == PARAMS
    slow = run(summary, 0.05, "1", 0)  # exp(-0.5 epoch): ≤ 1e-4 first at epoch 19, never 1e-8
    assert slow["epochs_1e-4"] == 19 and slow["passes_1e-4"] == 57
    assert math.isnan(slow["epochs_1e-8"]) and math.isnan(slow["passes_1e-10"])
    assert slow["final_subopt"] == pytest.approx(math.exp(-10))
    fast = run(summary, 0.1, "auto", 0)  # exp(-1.5 epoch)
    assert (fast["epochs_1e-4"], fast["epochs_1e-8"], fast["epochs_1e-10"]) == (7, 13, 16)
    assert fast["saturations"] == 0 and run(summary, 0.1, "1", 0)["saturations"] == 5 * EPOCHS
    gone = run(summary, 0.5, "1", 2)
    assert gone["diverged"] and math.isinf(gone["final_subopt"]) and math.isnan(gone["epochs_1e-4"])
    assert summary["diverged"].sum() == 1
    assert data.varying(summary, PARAMS) == ["step_factor", "mu", "seed"]


def test_heatmap_keeps_not_reached_apart_from_missing(summary):
    table = data.heatmap(summary, "step_factor", "mu", "1e-8").set_index(["step_factor", "mu"])
    assert math.isinf(table.loc[(0.05, "1"), "epochs"]) and table.loc[(0.05, "1"), "reached"] == 0
    assert table.loc[(0.1, "auto"), "epochs"] == 12 and table.loc[(0.1, "auto"), "runs"] == 3
    assert table.loc[(0.5, "1"), "epochs"] == 10 and table.loc[(0.5, "1"), "reached"] == 2  # the diverged seed
    partial = summary[~((summary["step_factor"] == 0.1) & (summary["mu"] == "auto"))]
    cells = data.heatmap(partial, "step_factor", "mu", "1e-8").set_index(["step_factor", "mu"])
    assert (0.1, "auto") not in cells.index and len(cells) == 5


def test_heatmap_over_a_parameter_with_nan(summary):
    table = data.heatmap(summary, "cond", "mu", "1e-4")
    assert len(table) == 2 and table["cond"].isna().all() and table["runs"].tolist() == [9, 9]


def test_bands_are_median_and_quantiles_over_seeds(sweep):
    table = data.bands(sweep.runs, ["step_factor", "mu"])
    assert len(table) == 6 * (EPOCHS + 1) and (table["runs"] == 3).all()
    row = table[(table["step_factor"] == 0.1) & (table["mu"] == "1") & (table["epoch"] == 4)].iloc[0]
    seeds = np.exp(-1.5 * (1 + 0.05 * np.arange(3)) * 4)
    assert row["median"] == pytest.approx(np.median(seeds))
    assert (row["q05"], row["q95"]) == pytest.approx((np.quantile(seeds, 0.05), np.quantile(seeds, 0.95)))
    late = table[(table["step_factor"] == 0.5) & (table["mu"] == "1") & (table["epoch"] == EPOCHS)].iloc[0]
    assert np.isinf(late["q95"]) and np.isfinite(late["median"])  # one of three seeds diverged
    assert len(data.bands(sweep.runs, [])) == EPOCHS + 1


def test_select_matches_nan_and_values(summary):
    assert len(data.select(summary, {"cond": np.nan, "mu": "auto"})) == 9
    chosen = data.select(summary, {"step_factor": 0.5, "seed": 2})
    assert chosen["run_id"].tolist() == ["s0.5-mu1-seed2", "s0.5-muauto-seed2"]


def test_timings_are_grouped_by_machine(sweep):
    table = data.timings(sweep.runs).set_index("machine")
    assert table.loc["box-a", "runs"] == 12 and table.loc["box-b", "runs"] == 6
    assert table.loc["box-a", "median_s"] == pytest.approx(0.01) and table.loc["box-b", "max_s"] == pytest.approx(0.02)


def test_labels():
    assert [data.label(v) for v in (np.nan, 0.5, 8, "auto", "")] == ["none", "0.5", "8", "auto", "—"]
    assert data.values(pd.Series([2.0, np.nan, 1.0]))[:2] == [1.0, 2.0]


# ---- figures -----------------------------------------------------------------------------------


def test_heatmap_figure_annotates_cells_and_greys_not_reached(summary):
    partial = summary[~((summary["step_factor"] == 0.1) & (summary["mu"] == "auto"))]
    fig = figures.heatmap_figure(data.heatmap(partial, "step_factor", "mu", "1e-8"), "step_factor", "mu", "1e-8")
    reached, missed = fig.data
    assert list(reached.x) == ["0.05", "0.1", "0.5"] and list(reached.y) == ["1", "auto"]
    assert missed.text[0][0].startswith("not reached") and reached.text[0][2] == "10<br>2/3 reached"
    assert reached.text[0][0] == "" and missed.text[0][2] == ""
    assert reached.text[1][1] == missed.text[1][1] == ""  # no run: blank, not 'not reached'
    assert missed.z[0][0] == 1 and np.isnan(missed.z[1][1]) and np.isnan(reached.z[1][1])
    assert reached.z[1][2] == 9 and fig.layout.title.text.startswith("Median epochs")
    assert fig.layout.template == figures.layout(go.Figure()).layout.template


def test_bands_figure_draws_a_median_line_and_band_per_group(sweep):
    fig = figures.bands_figure(data.bands(sweep.runs, ["step_factor", "mu"]), ["step_factor", "mu"])
    lines = [t for t in fig.data if t.showlegend is not False]
    assert len(fig.data) == 3 * len(lines) == 18
    assert lines[0].name == "step_factor=0.05, mu=1"
    assert sum(t.fill == "tonexty" for t in fig.data) == 6
    assert fig.layout.yaxis.type == "log"
    assert figures.bands_figure(data.bands(sweep.runs, []), []).data[-1].name == "all runs"


# ---- the page ----------------------------------------------------------------------------------


@pytest.fixture
def page(monkeypatch, tmp_path):
    """AppTest of the Sweeps page reading $HALP_SWEEPS = the given folder (None: unset, and no
    default folder)."""
    monkeypatch.setattr(data, "DEFAULT", tmp_path / "no-sweeps-results")
    monkeypatch.setenv("HALP_BITS", str(tmp_path / "no-bits.csv"))  # the bit section: tested below

    def render(folder):
        if folder is None:
            monkeypatch.delenv("HALP_SWEEPS", raising=False)
        else:
            monkeypatch.setenv("HALP_SWEEPS", str(folder))
        return app_page("views/sweeps.py")

    return render


def test_page_reads_like_a_report(page, folder):
    at = page(folder)
    assert titles(at) == [t for t in titles(at) if t]  # every chart has a title
    heat = chart(at, "Median epochs to f − f* ≤ 1e-4")
    assert heat["layout"]["xaxis"]["title"]["text"] == "step_factor"
    assert heat["layout"]["yaxis"]["title"]["text"] == "mu"
    bands = chart(at, "f − f* per epoch")
    assert len(bands["data"]) == 18
    assert at.get("code")[0].value.strip() == SPEC.strip()
    assert not at.warning
    assert [len(d.value) for d in at.dataframe] == [18, 2]  # runs, timings by machine
    assert "seconds" not in at.dataframe[0].value and "machine" in at.dataframe[1].value
    assert at.get("download_button")
    assert any("s0.5-mu1-seed2" in c.value for c in at.caption)


def test_page_axes_target_and_filters(page, folder):
    at = page(folder)
    at.selectbox(key="sw_target").set_value("1e-8").run()
    heat = chart(at, "Median epochs to f − f* ≤ 1e-8")
    assert "not reached" in str(heat["data"][1]["text"])
    at.selectbox(key="sw_x").set_value("mu").run()
    assert at.selectbox(key="sw_y").value == "step_factor"
    at.selectbox(key="sw_y").set_value("problem").run()  # step_factor now varies outside the axes
    step = at.selectbox(key="sw_fix_step_factor")
    step.set_value(0.5).run()
    heat = chart(at, "Median epochs")
    assert heat["data"][0]["y"] == ["lsq"] and array(heat["data"][0]["z"]) == [10.0, 9.0]
    assert len(chart(at, "f − f* per epoch")["data"]) == 6  # one band per mu


def test_page_filters_on_a_parameter_with_nan(page, tmp_path):
    dest = write_sweep(tmp_path / "sweep")
    for seed in (0, 1):
        write_run(dest, run_rows(0.1, "1", seed).assign(cond=10.0, run_id=f"cond10-{seed}"))
    at = page(dest)
    assert at.selectbox(key="sw_x").value == "cond"  # the first parameter that varies
    at.selectbox(key="sw_x").set_value("step_factor").run()
    at.selectbox(key="sw_y").set_value("mu").run()
    cond = at.selectbox(key="sw_fix_cond")
    assert cond.options == ["10", "none"] and cond.value == 10.0
    assert array(chart(at, "Median epochs")["data"][0]["z"]) == [6.5]  # the two cond=10 runs only
    cond.set_value(np.nan).run()
    assert not at.exception and len(array(chart(at, "Median epochs")["data"][0]["z"])) == 6


def test_page_without_a_folder_explains_how_to_make_one(page):
    at = page(None)
    assert "No sweep folder" in at.info[0].value
    assert any(data.COMMAND in m.value for m in at.markdown)
    assert not at.get("plotly_chart")


def test_page_on_an_empty_folder(page, tmp_path):
    at = page(tmp_path)
    assert "No runs" in at.info[0].value and any(data.COMMAND in m.value for m in at.markdown)
    assert any("spec.toml" in w.value for w in at.warning)


def test_page_with_faulty_parts_warns_naming_each_file_and_renders_the_rest(page, tmp_path):
    faults = write_faulty_sweep(tmp_path / "sweep")
    at = page(tmp_path / "sweep")
    for name, words in faults.items():
        assert any(name in w.value and words in w.value for w in at.warning), (name, [w.value for w in at.warning])
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe[0].value) == 18


def test_sidebar_folder_overrides_the_environment(page, folder, tmp_path):
    at = page(tmp_path)
    at.sidebar.text_input(key="sw_folder").set_value(str(folder)).run()
    assert not at.exception and len(at.get("plotly_chart")) == 2


# ---- HALP's bit requirement (the shipped docs/bits/requirement.csv) -------------------------------


def test_bits_table_reads_the_shipped_file_and_draws_one_marker_per_point():
    table, problems = data.load_bits(data.BITS_TABLE)
    assert not problems and len(table) >= 40 and set(table["mu"]) == {"auto", "mu_min"}
    agreement = data.bits_agreement(table).set_index("mu")
    assert (agreement["points"] == 20).all()
    assert agreement.loc["mu_min", "within_one_bit"] == table[table["mu"] == "mu_min"]["agrees"].sum()
    fig = figures.bits_figure(table)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == len(table)
    assert fig.layout.title.text.startswith("HALP's bit requirement")


def test_bits_reader_names_a_bad_file(tmp_path):
    bad = tmp_path / "requirement.csv"
    bad.write_text("kind,d\nleast_squares,10\n")
    table, problems = data.load_bits(bad)
    assert table is None and "lacks the columns" in problems[0] and str(bad) in problems[0]
    table, problems = data.load_bits(tmp_path / "missing.csv")
    assert table is None and "cannot be read" in problems[0]
    rows = pd.read_csv(data.BITS_TABLE).astype({"kappa": object})
    rows.loc[0, "kappa"] = "x"
    rows.to_csv(bad, index=False)
    table, problems = data.load_bits(bad)
    assert len(table) == len(rows) - 1 and "left out" in problems[0]


def test_page_shows_the_bit_requirement(page, folder, monkeypatch):
    monkeypatch.setenv("HALP_BITS", str(data.BITS_TABLE))
    at = page(folder)
    fig = chart(at, "HALP's bit requirement")
    assert sum(len(array(t["x"])) for t in fig["data"] if t.get("mode") == "markers") >= 40
    assert len(at.dataframe[-1].value) == 2 and not at.warning
    at = page(None)
    assert chart(at, "HALP's bit requirement")


def test_a_folder_of_sweeps_offers_each_newest_first(page, tmp_path):
    """`./run sweep SPEC --out sweeps-results/NAME` keeps sweeps side by side: the default folder
    then holds no spec.toml itself, and the page offers its sweeps instead of a warning."""
    root = tmp_path / "sweeps-results"
    older = write_sweep(root / "older")
    newer = write_sweep(root / "newer")
    os.utime(older / "spec.toml")
    os.utime(older, (1, 1))
    (root / "notes").mkdir()
    assert data.sweep_folders(root) == [newer, older]
    assert data.sweep_folders(newer) == [newer]
    assert data.sweep_folders(tmp_path / "missing") == [tmp_path / "missing"]
    at = page(root)
    assert not at.warning
    assert [str(o) for o in at.sidebar.selectbox(key="sw_pick").options] == ["newer", "older"]
    assert any(str(newer) in c.value for c in at.caption)
