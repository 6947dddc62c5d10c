"""Trust (issue 11): every page on the repository's own results/ and docs/reproduction/ (each page in
its own process; no sweep folder), and on copies holding each known fault (and a faulty sweep
folder), rendered in processes capped at 2 GiB of resident memory; step detection only on finite
values and only where a step can be, bounded on 50,000+ rows."""

import json
import math
import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from asv.step_detect import detect_regressions, detect_steps
from dashboard_helpers import FIXTURES, ROOT, app_page
from dashboard_helpers.memory import CAP, run_capped
from dashboard_helpers import nets as hand_nets
from dashboard_helpers.sweeps import write_faulty_sweep
from streamlit.testing.v1 import AppTest

from dashboard import ui
from dashboard import gate
from dashboard.data import history
from dashboard.pages import PAGES
from dashboard.results import COLUMNS, SERIES, load_results

RENDER = ROOT / "tests" / "dashboard" / "dashboard_helpers" / "render_pages.py"
SHIPPED = ROOT / "results"
REPRODUCTION = ROOT / "docs" / "reproduction"


def render(results_dir, reproduction_dir, page="all", timeout=480, sweeps_dir=None):
    """Report of render_pages.py for `page` ('all': every page, in one process), run in a new
    process under the memory cap (fails when it is killed or its peak reaches the cap); the Sweeps
    page reads `sweeps_dir` (None: $HALP_SWEEPS unset)."""
    env = dict(os.environ, HALP_SHIPPED_RESULTS=str(results_dir), HALP_REPRODUCTION=str(reproduction_dir))
    env.pop("HALP_RESULTS", None)
    env.pop("HALP_SWEEPS", None)
    if sweeps_dir is not None:
        env["HALP_SWEEPS"] = str(sweeps_dir)
    run = run_capped([sys.executable, str(RENDER), page], env=env, cap=CAP, timeout=timeout, cwd=ROOT)
    assert run.killed is None, f"killed ({run.killed}) at {run.peak_rss / 2**20:.0f} MiB:\n{run.output[-3000:]}"
    assert run.returncode == 0, run.output[-3000:]
    report = json.loads(run.output.strip().splitlines()[-1])
    assert report["vm_hwm"] < CAP
    return report


def render_all(results_dir, reproduction_dir, sweeps_dir=None):
    """`render` of every page of the app's page list, in one process."""
    report = render(results_dir, reproduction_dir, sweeps_dir=sweeps_dir)
    assert list(report["pages"]) == [path for path, _, _ in PAGES]
    return report


SHIPPED_CHECKS = {"views/overview.py": lambda out: out["charts"] >= 1,
                  "views/reproduction.py": lambda out: out["charts"] >= 3,
                  "views/history.py": lambda out: int(out["metrics"]["Series not reached"]) > 0}
"""Page -> what it must show on the shipped data (History: the shipped time-to-target Infinity values)."""


@pytest.mark.parametrize("page", [path for path, _, _ in PAGES])
def test_each_page_renders_the_shipped_results_and_reproduction_under_2_gib(page):
    out = render(SHIPPED, REPRODUCTION, page)["pages"][page]
    assert not out["exceptions"], out["exceptions"]
    assert not out["warnings"], out["warnings"]  # the shipped data is clean
    assert SHIPPED_CHECKS.get(page, lambda out: True)(out), out


def shipped_file(folder):
    """(path, parsed JSON) of the first result file of a results folder's machine 'vm'."""
    path = sorted(p for p in (folder / "vm").glob("*.json") if p.name != "machine.json")[0]
    return path, json.loads(path.read_text())


def faulty_results(dest):
    """A copy of results/ plus each fault of issue 11; returns {bad file name: words its warning holds}."""
    shutil.copytree(SHIPPED, dest)
    _, data = shipped_file(dest)
    vm = dest / "vm"
    faults = {}

    def add(name, edit, words):
        copy = json.loads(json.dumps(data))
        edit(copy)
        (vm / name).write_text(json.dumps(copy))
        faults[name] = words

    add("da7eda7e-bigdate.json", lambda d: d.update(commit_hash="da7e" * 10, date=1e20), "field 'date'")
    add("0000000a-strings.json", lambda d: (d.update(commit_hash="a" * 40), [
        e.__setitem__(0, [str(v) for v in e[0]]) for e in d["results"].values() if isinstance(e[0], list)]),
        "are invalid")
    add("0000000b-minusinf.json", lambda d: (d.update(commit_hash="b" * 40), [
        e.__setitem__(0, [-math.inf for _ in e[0]]) for e in d["results"].values() if isinstance(e[0], list)]),
        "result[0] = -inf; read as invalid")
    add("00000001-nullcommit.json", lambda d: d.update(commit_hash=None), "commit_hash is None")
    (vm / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    faults["deep.json"] = "nests deeper"
    os.symlink("nowhere.json", vm / "dangling.json")
    faults["dangling.json"] = "cannot be read"
    (vm / "machine.json").write_text(json.dumps(["vm"]))
    faults["machine.json"] = "not an object"
    return faults


def faulty_reproduction(dest):
    """A copy of docs/reproduction/ with a non-UTF-8 summary.md and text in a numeric CSV column;
    returns {bad file name: words its warning holds}."""
    shutil.copytree(REPRODUCTION, dest)
    (dest / "summary.md").write_bytes((dest / "summary.md").read_bytes() + b"\n\xe9t\xe9 latin-1\n")
    lines = (dest / "convex.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[lines[0].split(",").index("subopt")] = "diverged"
    lines[3] = ",".join(cells)
    (dest / "convex.csv").write_text("\n".join(lines) + "\n")
    return {"summary.md": "not UTF-8", "convex.csv": "column 'subopt'"}


def test_every_page_renders_with_every_fault_and_names_each_bad_file(tmp_path):
    bad_results = faulty_results(tmp_path / "results")
    bad_reproduction = faulty_reproduction(tmp_path / "reproduction")
    bad_sweep = write_faulty_sweep(tmp_path / "sweep")
    report = render_all(tmp_path / "results", tmp_path / "reproduction", tmp_path / "sweep")
    for page, out in report["pages"].items():
        assert not out["exceptions"], (page, out["exceptions"])
        expected = {"views/reproduction.py": bad_reproduction, "views/sweeps.py": bad_sweep}.get(page, bad_results)
        for name, words in expected.items():
            assert any(name in w and words in w for w in out["warnings"]), (page, name, out["warnings"])
    overview = report["pages"]["views/overview.py"]["metrics"]
    shipped = load_results([SHIPPED]).frame
    # + the 1e20-date file (undated) and the files of strings and of -inf (rows shown as invalid)
    assert int(overview["Commits measured"]) == shipped["commit"].nunique() + 3
    assert int(overview["Failed"]) == (shipped["status"] == "failed").sum()  # strings are not 'failed'
    assert int(report["pages"]["views/history.py"]["metrics"]["Series not reached"]) > 0


# ---- step detection -------------------------------------------------------------------------------


def synthetic_frame(series=2000, commits=26, stepped=40, infinite=20, seed=0):
    """A tidy results frame of series × commits ok rows (value noise within ±1%), where the first
    `stepped` series jump ×1.5 halfway and the next `infinite` hold Infinity at the last 3 commits.
    Returns (frame, names of the stepped series, names of the infinite ones)."""
    rng = np.random.default_rng(seed)
    names = [f"bench_syn.S{i}.time_x" for i in range(series)]
    values = 1.0 + 0.01 * rng.uniform(-1, 1, size=(series, commits))
    values[:stepped, commits // 2:] *= 1.5
    values[stepped:stepped + infinite, -3:] = math.inf
    commit = [f"{c:08x}" + "0" * 32 for c in range(commits)]
    frame = pd.DataFrame({
        "machine": "m", "env": "e", "benchmark": np.repeat(names, commits), "params": "",
        "order": np.tile(np.arange(commits), series), "commit": np.tile(commit, series),
        "status": "ok", "version": "v", "unit": "seconds", "value": values.ravel()})
    frame["commit_short"] = frame["commit"].str[:8]
    for col in set(COLUMNS) - set(frame):
        frame[col] = None
    return frame, set(names[:stepped]), set(names[stepped:stepped + infinite])


@pytest.fixture
def steps_spy(monkeypatch):
    """Lengths of every input asv's detect_steps gets from the dashboard (each must be finite)."""
    calls = []

    def spy(y, w=None):
        assert all(math.isfinite(v) for v in y), y
        calls.append(len(y))
        return detect_steps(y, w)

    monkeypatch.setattr(history, "detect_steps", spy)
    history.detected_steps.cache_clear()
    yield calls
    history.detected_steps.cache_clear()


def test_step_detection_on_50000_rows_runs_only_where_a_step_can_be(steps_spy):
    frame, stepped, infinite = synthetic_frame()
    assert len(frame) >= 50_000
    found = history.step_regressions(frame, 0.05)
    assert set(found["benchmark"]) == stepped
    assert len(steps_spy) == len(stepped) and max(steps_spy) <= 26  # not one call per series
    history.step_regressions(frame, 0.2)  # another threshold: the steps are memoized
    assert len(steps_spy) == len(stepped)
    missed = history.not_reached(frame)
    assert set(missed["benchmark"]) == infinite and missed["last_finite"].notna().all()
    assert np.isfinite(history.latest_vs_baseline(frame)["ratio"]).all()
    assert not set(found["benchmark"]) & infinite


def test_gate_verdicts_on_50000_rows_compute_history_thresholds_only_where_flagged(monkeypatch):
    """The History page's verdicts (the gate's rule): vectorized at the default threshold; the
    history threshold is computed only for series with a flagged change."""
    frame, stepped, _ = synthetic_frame()
    frame["ci_low"], frame["ci_high"] = 0.99 * frame["value"], 1.01 * frame["value"]
    calls = []
    monkeypatch.setattr(gate, "_thresholds", lambda v: calls.append(len(v)) or np.full(len(v), 1.1))
    judged = gate.verdicts(frame)
    flagged = judged[judged["verdict"] == "regression"]
    assert set(flagged["benchmark"]) == stepped and (flagged["head_commit"] == f"{13:08x}").all()
    assert (judged["verdict"] == "no change").sum() == len(judged) - len(stepped)
    assert np.isfinite(judged["ratio"]).all()     # infinite values never enter a ratio
    assert len(calls) == len(stepped)


def test_infinite_values_never_reach_detect_steps(steps_spy):
    frame, _, _ = synthetic_frame(series=3, commits=6, stepped=0, infinite=3)
    frame.loc[frame["order"] == 0, "value"] = math.inf  # inf first, then 2 finite values, then inf
    found = history.step_regressions(frame, 0.0)
    assert steps_spy and max(steps_spy) == 2
    assert set(found["first_bad"]) <= {"00000002"}


def brute_force(frame, threshold):
    """(benchmark, last_good, first_bad) of asv's detect_regressions(detect_steps(y)) on every series."""
    found = set()
    for name, rows in frame.sort_values(SERIES + ["order"]).groupby("benchmark"):
        y = rows["value"].tolist()
        if len(y) < 2:
            continue
        for before, after, _, _ in detect_regressions(detect_steps(y), threshold=threshold)[2] or []:
            found.add((name, rows["commit_short"].iloc[before], rows["commit_short"].iloc[after]))
    return found


@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.3])
def test_skipping_series_finds_the_same_regressions_as_asv_on_every_series(threshold):
    """The shortcut (`history._may_regress`) never drops a regression asv would report."""
    rng = np.random.default_rng(1)
    parts = []
    for i in range(300):
        n = int(rng.integers(2, 30))
        kind = i % 6
        y = 1 + rng.normal(0, [0.001, 0.02, 0.1, 0.02, 0.02, 0.3][kind], n)
        if kind == 3:
            y[n // 2:] *= rng.choice([0.5, 1.04, 1.06, 2.0])
        if kind == 4:
            y -= 1.0  # around zero, negative values included
        if kind == 5:
            y = np.round(y, 1)  # ties and zeros
        parts.append(pd.DataFrame({"benchmark": f"b{i:03d}", "order": np.arange(n), "value": y,
                                   "commit_short": [f"{c:08x}" for c in range(n)]}))
    frame = pd.concat(parts, ignore_index=True).assign(machine="m", env="e", params="", status="ok",
                                                       version="v", unit="s")
    found = history.step_regressions(frame, threshold)
    assert set(zip(found["benchmark"], found["last_good"], found["first_bad"])) == brute_force(frame, threshold)


def test_compare_and_ratios_with_infinite_and_zero_values():
    frame, _, _ = synthetic_frame(series=2, commits=2, stepped=0, infinite=0)
    frame.loc[(frame["benchmark"] == "bench_syn.S0.time_x") & (frame["order"] == 1), "value"] = math.inf
    frame.loc[(frame["benchmark"] == "bench_syn.S1.time_x") & (frame["order"] == 0), "value"] = 0.0
    first, second = sorted(frame["commit"].unique())
    table = history.compare_commits(frame, first, second).set_index("benchmark")
    assert table.loc["bench_syn.S0.time_x", "change"] == "not reached"
    assert math.isnan(table.loc["bench_syn.S0.time_x", "ratio"])
    assert not table.loc["bench_syn.S0.time_x", "significant"]
    trend = history.latest_vs_baseline(frame).set_index("benchmark")
    assert "bench_syn.S0.time_x" not in trend.index  # only one finite value left
    assert math.isnan(trend.loc["bench_syn.S1.time_x", "ratio"])  # baseline 0: no ratio


def test_peers_page_without_benchmarks_json(tmp_path, monkeypatch):
    """Without benchmarks.json asv's parameter names are guessed (param1, ...): the Peers page then
    has no solver names to group by and says so instead of raising."""
    shutil.copytree(SHIPPED, tmp_path / "r")
    (tmp_path / "r" / "benchmarks.json").unlink()
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(tmp_path / "r"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = app_page("views/peers.py")
    assert any("No `bench_peers` results" in i.value for i in at.info)
    assert any("benchmarks.json is missing" in w.value for w in at.sidebar.warning)


def _names_as_numbers(entry):
    if len(entry) > 1:
        entry[1] = [[str(i) if v.startswith("'") else v for i, v in enumerate(p)] for p in entry[1]]


def _numbers_as_names(entry):
    if len(entry) > 1:
        entry[1] = [[v if v.startswith("'") else f"'{v}'" for v in p] for p in entry[1]]


def _every_value(value):
    def edit(entry):
        if isinstance(entry[0], list):
            entry[0] = [value] * len(entry[0])
    return edit


ODD_BUT_VALID = {"parameter names as numbers": _names_as_numbers, "numbers as names": _numbers_as_names,
                 "every value infinite": _every_value(math.inf), "every value zero": _every_value(0.0),
                 "every value negative": _every_value(-1.0), "every value failed": _every_value(None)}
"""Well-formed asv files with values no real run of ours writes: pages must still render."""


@pytest.mark.parametrize("kind", list(ODD_BUT_VALID))
def test_every_page_renders_odd_but_valid_results(tmp_path, kind):
    shutil.copytree(SHIPPED, tmp_path / "r")
    for path in (tmp_path / "r" / "vm").glob("*-*.json"):
        data = json.loads(path.read_text())
        for entry in data["results"].values():
            ODD_BUT_VALID[kind](entry)
        path.write_text(json.dumps(data))
    report = render_all(tmp_path / "r", REPRODUCTION)
    for page, out in report["pages"].items():
        assert not out["exceptions"], (page, out["exceptions"])


def reproduction_page(monkeypatch, folder=REPRODUCTION):
    """The Reproduction page run by AppTest on `folder` (default: the shipped docs/reproduction/),
    with a cold cache; fails on an exception."""
    monkeypatch.setenv("HALP_REPRODUCTION", str(folder))
    st.cache_data.clear()
    at = app_page("views/reproduction.py")
    return at


NETS_FILES = ("nets.csv", "nets.md", "nets_run.json")
DEEP = "Deep learning: HALP against LP-SGD"


def reproduction_copy(dest, with_nets):
    """A copy of docs/reproduction/ at `dest`, with the hand-made networks' files
    (dashboard_helpers.nets) or without any networks' file."""
    shutil.copytree(REPRODUCTION, dest)
    for name in NETS_FILES:
        (dest / name).unlink(missing_ok=True)
    return hand_nets.write_nets(dest) if with_nets else dest


def test_reproduction_page_says_the_networks_were_not_run(monkeypatch, tmp_path):
    """A folder without nets.csv: the deep-learning section says so and names the command; the
    rest of the page is there and no file is reported missing."""
    at = reproduction_page(monkeypatch, reproduction_copy(tmp_path / "rep", with_nets=False))
    assert DEEP in [h.value for h in at.header]
    assert any("not run" in i.value and "`python -m halp_bench.nets --out DIR`" in i.value for i in at.info), \
        [i.value for i in at.info]
    assert not [w.value for w in at.warning if "nets" in w.value]
    assert len(at.get("plotly_chart")) >= 3 and not at.subheader


def test_reproduction_page_shows_the_networks(monkeypatch, tmp_path):
    """The hand-made networks' files: per network its title, its curves (every one of the 8 runs by
    default), the final-accuracy table, the verdicts by the stated rule; the run's command, wall
    time and machine; the failed run in a warning."""
    at = reproduction_page(monkeypatch, reproduction_copy(tmp_path / "rep", with_nets=True))
    assert at.header[-1].value == DEEP
    assert [h.value for h in at.subheader] == ["LeNet-5 on Fashion-MNIST", "LSTM tagger on the Brown corpus"]
    text = [m.value for m in at.markdown]
    assert "`python -m halp_bench.nets --quick` took 123 s on Hand-made CPU (2 cores)." in text
    assert any(t.startswith("Verdict rule: HALP is *ahead* of LP-SGD") for t in text)
    for name, title in (("cnn", "LeNet-5 on Fashion-MNIST"), ("lstm", "LSTM tagger on the Brown corpus")):
        assert at.multiselect(key=f"rp_nets_{name}").value == list(hand_nets.LABELS)
        spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                    if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith(title))
        assert {t["name"] for t in spec["data"] if t.get("showlegend") is not False} == set(hand_nets.LABELS)
    tables = [t.value for t in at.dataframe]
    accuracy = [t for t in tables if "final validation accuracy, median" in t.columns]
    verdicts = [t for t in tables if "verdict" in t.columns]
    assert [len(t) for t in accuracy] == [8, 8] and [len(t) for t in verdicts] == [3, 3]
    for table, name in zip(verdicts, ("cnn", "lstm")):
        assert dict(zip(table["precision"], table["verdict"])) == hand_nets.VERDICTS[name]
    assert accuracy[1].set_index("run").loc["halp-fp8-e4m3", "failed runs"] == "1 of 2"
    failed = [w.value for w in at.warning if "failed" in w.value]
    assert len(failed) == 1 and hand_nets.FAILURE in failed[0] and "(seed 1)" in failed[0]


def test_reproduction_page_draws_the_networks_chosen(monkeypatch, tmp_path):
    """Choosing two runs of the CNN draws those two alone."""
    at = reproduction_page(monkeypatch, reproduction_copy(tmp_path / "rep", with_nets=True))
    at.multiselect(key="rp_nets_cnn").set_value(["halp-8", "lp-sgd-8"]).run()
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("LeNet-5"))
    assert {t.get("name") for t in spec["data"] if t.get("showlegend") is not False} == {"halp-8", "lp-sgd-8"}


def test_reproduction_page_with_an_unusable_nets_csv(monkeypatch, tmp_path):
    """A nets.csv without the validation accuracy: the section says it could not be used (beside the
    loader's warning naming the column) and shows the run's own nets.md."""
    folder = reproduction_copy(tmp_path / "rep", with_nets=True)
    hand_nets.histories().drop(columns="val_accuracy").to_csv(folder / "nets.csv", index=False)
    at = reproduction_page(monkeypatch, folder)
    warnings = [w.value for w in at.warning]
    assert any("nets.csv lacks the columns val_accuracy" in w for w in warnings), warnings
    assert any(w.startswith("nets.csv could not be used") for w in warnings), warnings
    assert hand_nets.SUMMARY.strip() in [m.value.strip() for m in at.markdown]
    assert not at.subheader and not any("not run" in i.value for i in at.info)


def test_reproduction_page_without_the_networks_module(monkeypatch, tmp_path):
    """Where halp_bench.nets cannot be imported, the section warns and shows the run's own nets.md."""
    import builtins

    real = builtins.__import__

    def no_nets(name, *args, **kwargs):
        if name.startswith("halp_bench.nets"):
            raise ImportError("no module named halp_bench.nets (test)")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nets)
    at = reproduction_page(monkeypatch, reproduction_copy(tmp_path / "rep", with_nets=True))
    assert any(w.value.startswith("halp_bench.nets is not importable here") for w in at.warning)
    assert hand_nets.SUMMARY.strip() in [m.value.strip() for m in at.markdown]
    assert not at.subheader


def test_reproduction_page_reports_a_figure_halp_core_cannot_draw(monkeypatch):
    """When the reproduction's MLP figure raises on a folder's data, the page warns (naming
    mlp.csv) and still draws the rest."""
    from dashboard.figures import reproduction

    def fails(table):
        raise KeyError("label")

    monkeypatch.setattr(reproduction.reproduce, "mlp_figure", fails)
    at = reproduction_page(monkeypatch)
    assert any(w.value.startswith("mlp.csv: the figure could not be drawn from this data (KeyError")
               for w in at.warning), [w.value for w in at.warning]
    assert len(at.get("plotly_chart")) >= 3  # convex problems and the mu sweep


def test_reproduction_page_shows_float_format_rows_beside_fixed_point(monkeypatch):
    """On the shipped sample, the page's table of final f − f* holds the float-format rows (LP-SGD
    and HALP in every registered format) beside the fixed-point ones, each the median over seeds
    of the run's final f − f* (checked against halp_bench.reproduce.convex_runs), and each convex
    figure draws them as dashed lines."""
    from halp_core import registry

    from halp_bench import reproduce

    at = reproduction_page(monkeypatch)
    table = at.dataframe[0].value.set_index("solver")
    formats = [reproduce.label(s, f) for s in reproduce.FORMAT_SOLVERS for f in registry.FORMATS]
    assert {"halp-8", "lp-sgd-8", *formats} <= set(table.index)
    assert table.loc["halp-bf16", "precision"] == "bf16" and table.loc["halp-8", "precision"] == "8"
    finals = reproduce.convex_runs(pd.read_csv(REPRODUCTION / "convex.csv")).groupby(
        ["problem", "label"])["subopt"].median()
    for (problem, tag), value in finals.items():
        assert table.loc[tag, problem] == f"{value:.2e}", (problem, tag)
    at.multiselect(key="rp_convex").set_value(list(table.index)).run()  # every run, not the default few
    specs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    lsq = next(s for s in specs if s["layout"]["title"]["text"].startswith("lsq:"))
    dashes = {t["name"]: t["line"]["dash"] for t in lsq["data"] if t.get("name")}
    assert all(dashes[tag] == "dash" for tag in formats) and dashes["halp-8"] == "solid"


def test_sidebar_lists_at_most_200_problems(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES, tmp_path / "r")
    for i in range(250):
        (tmp_path / "r" / "fixture-bare" / f"{i:08x}-bad.json").write_text("{")
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(tmp_path / "r"))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.sidebar.warning[0].value.startswith("251 problem(s)")  # the fixtures' own malformed file too
    assert len(at.sidebar.warning) == 1 + ui.MAX_WARNINGS
    assert any(c.value == "… and 51 more." for c in at.sidebar.caption)
