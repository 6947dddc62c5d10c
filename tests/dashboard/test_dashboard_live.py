"""The Convergence page's live panel: halp_core.solve on a small problem, with progress."""

import sys

import pytest
import streamlit as st
from dashboard_helpers import APP, FIXTURES, array, chart, titles, trace_names
from streamlit.testing.v1 import AppTest

import dashboard
from dashboard import live

LSQ = "least squares, synthetic 500 × 20"


def test_run_reports_every_epoch_and_converges():
    seen = []
    prob = live.problem(LSQ)
    history = live.run(LSQ, "svrg", "fp64", 0.1 / prob.L_max, None, 4, on_epoch=lambda e, row: seen.append(e))
    assert seen == [1, 2, 3, 4]
    assert list(history["epoch"]) == [0, 1, 2, 3, 4]
    assert history["subopt"].iloc[-1] < history["subopt"].iloc[0] / 100
    assert history["seconds"].is_monotonic_increasing


def test_run_low_precision_uses_bits_and_mu():
    prob = live.problem(LSQ)
    history = live.run(LSQ, "halp", 8, 0.01 / prob.L_max, 10 * prob.lam, 2)
    assert len(history) == 3 and history["subopt"].notna().all()
    with pytest.raises(ValueError):
        live.run(LSQ, "svrg", 8, 0.1 / prob.L_max, None, 1)  # svrg takes fp64 / fp32 only


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(FIXTURES))
    monkeypatch.delenv("HALP_RESULTS", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.switch_page("views/convergence.py")
    return at.run()


def test_live_panel_runs_plots_and_clears(page):
    at = page
    assert not at.exception
    at.selectbox(key="lv_problem").select(LSQ)
    at.selectbox(key="lv_solver").select("svrg")
    at.slider(key="lv_epochs").set_value(3)
    at.button(key="lv_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    runs = chart(at, "Live runs")
    assert trace_names(runs) == {"1: svrg fp64, α=" + runs["data"][0]["name"].split("α=")[1]}
    assert array(runs["data"][0]["x"]) == [0, 1, 2, 3]  # start + 3 epochs
    progress = at.get("progress")[0].proto
    assert progress.value == 100 and progress.text.startswith("done: 3 epochs")

    at.selectbox(key="lv_solver").select("halp")
    at.select_slider(key="lv_bits").set_value(8)
    at.button(key="lv_run").click().run()
    names = sorted(trace_names(chart(at, "Live runs")))
    assert len(names) == 2 and names[1].startswith("2: halp 8-bit") and "μ=" in names[1]

    at.button(key="lv_clear").click().run()
    assert "Live runs" not in titles(at)


def test_live_panel_warns_when_halp_core_is_missing(monkeypatch, page):
    monkeypatch.setitem(sys.modules, "halp_core", None)  # makes `import halp_core` raise ImportError
    monkeypatch.delitem(sys.modules, "dashboard.live")
    monkeypatch.delattr(dashboard, "live", raising=False)
    page.run()
    assert not page.exception
    assert any("halp_core is not importable" in w.value for w in page.warning)
    assert "Suboptimality vs epoch" in titles(page)  # the results part still renders
