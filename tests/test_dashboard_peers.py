"""The Peers page: tables from bench_peers results (plain pandas) and the page run headless with AppTest."""

import json
import math

import pytest
import streamlit as st
from dashboard_helpers import APP, chart, trace_names
from streamlit.testing.v1 import AppTest

from dashboard import peer_tables
from dashboard.results import load_results

COMMIT = "ab" * 20
EPOCH = {"mnist": {"svrg-fp64": 0.05, "halp-8": 0.03, "cyanure-svrg": 0.06, "tick-svrg-fp64": 0.15}}
TO_TARGET = {("mnist", "1e-04"): {"svrg-fp64": 0.5, "halp-8": 2.0, "cyanure-svrg": 0.4,
                                  "tick-svrg-fp64": 1.5},
             ("mnist", "1e-08"): {"svrg-fp64": 3.0, "halp-8": math.inf, "cyanure-svrg": 2.0,
                                  "tick-svrg-fp64": math.inf}}


def write_results(dest):
    """A one-machine asv results directory holding bench_peers.PeerEpoch / PeerTimeToTarget values
    (schema version 2, values in itertools.product order of the params)."""
    solvers = ["svrg-fp64", "halp-8", "cyanure-svrg", "tick-svrg-fp64"]
    epoch_params = [["'mnist'"], [repr(s) for s in solvers]]
    target_params = [["'mnist'"], ["'1e-04'", "'1e-08'"], [repr(s) for s in solvers]]
    info = {"version": 2,
            peer_tables.EPOCH: dict(name=peer_tables.EPOCH, type="track", unit="seconds", version="v1",
                                    param_names=["problem", "solver"], params=epoch_params),
            peer_tables.TO_TARGET: dict(name=peer_tables.TO_TARGET, type="track", unit="seconds",
                                        version="v1", param_names=["problem", "target", "solver"],
                                        params=target_params)}
    dest.mkdir()
    (dest / "benchmarks.json").write_text(json.dumps(info))
    (dest / "box").mkdir()
    (dest / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    results = {
        peer_tables.EPOCH: [[EPOCH["mnist"][s] for s in solvers], epoch_params, "v1"],
        peer_tables.TO_TARGET: [[TO_TARGET["mnist", t][s] for t in ("1e-04", "1e-08") for s in solvers],
                                target_params, "v1"],
    }
    data = dict(commit_hash=COMMIT, env_name="existing-py", date=1_700_000_000_000, version=2,
                params={"machine": "box"}, result_columns=["result", "params", "version"],
                results=results)
    (dest / "box" / f"{COMMIT[:8]}-existing-py.json").write_text(json.dumps(data))
    return dest


def test_tables_pick_the_fastest_on_each_side(tmp_path):
    frame = load_results([write_results(tmp_path / "r")]).frame
    epoch = peer_tables.peer_results(frame, peer_tables.EPOCH)
    assert set(epoch["side"]) == {"ours", "peer"} and len(epoch) == 4
    row = peer_tables.standing(epoch).iloc[0]
    assert (row["ours"], row["peer"]) == ("halp-8", "cyanure-svrg")
    assert row["ratio"] == pytest.approx(0.03 / 0.06)
    target = peer_tables.standing(peer_tables.peer_results(frame, peer_tables.TO_TARGET))
    assert target.set_index("target")["ratio"].to_dict() == pytest.approx({"1e-04": 0.5 / 0.4, "1e-08": 1.5})


def test_peers_page_renders_results_and_a_live_run(tmp_path, monkeypatch):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(write_results(tmp_path / "r")))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.switch_page("views/peers.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bars = chart(at, "Seconds per epoch, mnist")
    assert trace_names(bars) == {"ours", "peer"}
    assert "not reached: halp-8, tick-svrg-fp64" in chart(at, "Time to f − f* ≤ 1e-08")["layout"]["title"]["text"]
    at.slider(key="pe_epochs").set_value(3)
    at.multiselect(key="pe_live_peers").set_value([])
    at.button[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert trace_names(chart(at, "Trajectories")) >= {"svrg-fp64, ours", "halp-8, ours"}
