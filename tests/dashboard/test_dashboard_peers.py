"""The Peers page: tables from bench_peers results (plain pandas) and the page run headless with AppTest.

The fixture results are built from dashboard.benchmarks, which must name benchmarks of benchmarks/."""

import itertools
import json
import math

import pytest
import streamlit as st
from dashboard_helpers import app_page, asv_benchmarks, chart, trace_names

from dashboard import benchmarks
from dashboard.data import peers
from dashboard.results import load_results

COMMIT = "ab" * 20
SOLVERS = ["svrg-fp64", "halp-8", "cyanure-svrg", "tick-svrg-fp64"]
PARAMS = {"problem": ["mnist"], "target": ["1e-04", "1e-08"], "solver": SOLVERS}
"""Parameter values of the fixture, by asv parameter name."""
SECONDS = {(benchmarks.PEER_EPOCH, "mnist", None): {"svrg-fp64": 0.05, "halp-8": 0.03, "cyanure-svrg": 0.06,
                                                     "tick-svrg-fp64": 0.15},
           (benchmarks.PEER_TO_TARGET, "mnist", "1e-04"): {"svrg-fp64": 0.5, "halp-8": 2.0, "cyanure-svrg": 0.4,
                                                            "tick-svrg-fp64": 1.5},
           (benchmarks.PEER_TO_TARGET, "mnist", "1e-08"): {"svrg-fp64": 3.0, "halp-8": math.inf,
                                                            "cyanure-svrg": 2.0, "tick-svrg-fp64": math.inf}}
"""(benchmark, problem, target) -> solver -> the value stored."""
READ = (benchmarks.PEER_EPOCH, benchmarks.PEER_TO_TARGET)
"""The bench_peers benchmarks the Peers page reads."""


def test_the_fixture_names_are_those_of_the_suite():
    """The fixture is built from dashboard.benchmarks: its benchmark names, parameter names and
    values must be what asv finds in benchmarks/."""
    found = asv_benchmarks()
    for name in READ:
        assert name in found, f"{name} is not in benchmarks/"
        names = benchmarks.PARAM_NAMES[name]
        assert found[name]["param_names"] == names
        for param, values in zip(names, found[name]["params"]):
            assert {repr(v) for v in PARAMS[param]} <= set(values), (name, param)


def write_results(dest):
    """A one-machine asv results directory holding the Peers page's benchmarks (names and parameter
    names from dashboard.benchmarks; schema version 2, values in itertools.product order)."""
    info, results = {"version": 2}, {}
    for name in READ:
        names = benchmarks.PARAM_NAMES[name]
        params = [[repr(v) for v in PARAMS[n]] for n in names]
        info[name] = dict(name=name, type="track", unit="seconds", version="v1", param_names=names, params=params)
        values = []
        for combo in itertools.product(*(PARAMS[n] for n in names)):
            combo = dict(zip(names, combo))
            values.append(SECONDS[name, combo["problem"], combo.get("target")][combo["solver"]])
        results[name] = [values, params, "v1"]
    dest.mkdir()
    (dest / "benchmarks.json").write_text(json.dumps(info))
    (dest / "box").mkdir()
    (dest / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    data = dict(commit_hash=COMMIT, env_name="existing-py", date=1_700_000_000_000, version=2,
                params={"machine": "box"}, result_columns=["result", "params", "version"],
                results=results)
    (dest / "box" / f"{COMMIT[:8]}-existing-py.json").write_text(json.dumps(data))
    return dest


def test_tables_pick_the_fastest_on_each_side(tmp_path):
    frame = load_results([write_results(tmp_path / "r")]).frame
    epoch = peers.peer_results(frame, benchmarks.PEER_EPOCH)
    assert set(epoch["side"]) == {"ours", "peer"} and len(epoch) == 4
    row = peers.standing(epoch).iloc[0]
    assert (row["ours"], row["peer"]) == ("halp-8", "cyanure-svrg")
    assert row["ratio"] == pytest.approx(0.03 / 0.06)
    target = peers.standing(peers.peer_results(frame, benchmarks.PEER_TO_TARGET))
    assert target.set_index("target")["ratio"].to_dict() == pytest.approx({"1e-04": 0.5 / 0.4, "1e-08": 1.5})


def test_peers_page_renders_results_and_a_live_run(tmp_path, monkeypatch):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(write_results(tmp_path / "r")))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = app_page("views/peers.py")
    bars = chart(at, "Seconds per epoch, mnist")
    assert trace_names(bars) == {"ours", "peer"}
    assert "not reached: halp-8, tick-svrg-fp64" in chart(at, "Time to f − f* ≤ 1e-08")["layout"]["title"]["text"]
    at.slider(key="pe_epochs").set_value(3)
    at.multiselect(key="pe_live_peers").set_value([])
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert trace_names(chart(at, "Trajectories")) >= {"svrg-fp64, ours", "halp-8, ours"}
