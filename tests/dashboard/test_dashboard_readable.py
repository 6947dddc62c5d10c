"""Figures and tables a person can read (issue 27): the checker of dashboard_helpers.readability on
hand-made figures and tables (each rule broken once, and a figure that keeps them all), then every
page of the app on the shipped results, reproduction sample and a synthetic sweep, held to it."""

import json
import shutil

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import streamlit as st
from dashboard_helpers import ROOT, app_page
from dashboard_helpers.nets import LABELS, write_nets
from dashboard_helpers.readability import (figure_problems, page_problems, series_per_panel,
                                           table_problems)
from dashboard_helpers.sweeps import write_sweep
from plotly.subplots import make_subplots

from dashboard.data import machines
from dashboard.figures.style import MAX_ROTATED_LABEL, MAX_SERIES, default_series
from dashboard.pages import PAGES

ENV = "virtualenv-py3.11-llvmlite0.50.0-numba0.68.1-numpy2.4.6"


def spec(fig):
    """A figure as AppTest gives it: its plotly JSON, parsed (arrays may come as base64 'bdata')."""
    return json.loads(fig.to_json())


def lines(n, **layout):
    """A figure of `n` named lines on one panel with titled axes."""
    fig = go.Figure([go.Scatter(x=[1, 2], y=[i, i + 1], name=f"halp {i}-bit") for i in range(n)])
    return fig.update_layout(xaxis_title="epoch", yaxis_title="f − f*", **layout)


def test_a_readable_figure_has_no_problems():
    fig = lines(MAX_SERIES)
    for i in range(MAX_SERIES):   # a band per line: edges and fill are helpers, not series
        fig.add_trace(go.Scatter(x=[1, 2], y=[i, i], showlegend=False, hoverinfo="skip", fill="tonexty"))
    assert figure_problems(spec(fig)) == []
    assert series_per_panel(spec(fig)) == {("x", "y"): MAX_SERIES}


def test_too_many_series_in_one_panel():
    assert figure_problems(spec(lines(MAX_SERIES + 1))) == [
        f"panel x/y draws {MAX_SERIES + 1} series (at most {MAX_SERIES})"]


def test_series_are_counted_per_panel_and_hidden_ones_are_not():
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True)
    for i in range(2 * MAX_SERIES):
        fig.add_trace(go.Scatter(x=[1, 2], y=[1, i], name=f"s{i % MAX_SERIES}", legendgroup=f"s{i % MAX_SERIES}",
                                 showlegend=i < MAX_SERIES), row=1, col=1 + i // MAX_SERIES)
    fig.add_trace(go.Scatter(x=[1], y=[1], name="hidden", visible="legendonly"), row=1, col=1)
    fig.update_xaxes(title_text="epoch").update_yaxes(title_text="f − f*", col=1)
    assert figure_problems(spec(fig)) == []
    assert series_per_panel(spec(fig)) == {("x", "y"): MAX_SERIES, ("x2", "y2"): MAX_SERIES}


def test_long_categorical_labels():
    long = "x" * (MAX_ROTATED_LABEL + 1)
    fig = go.Figure(go.Bar(x=["ok", long], y=[1, 2])).update_layout(xaxis_title="machine", yaxis_title="count")
    assert figure_problems(spec(fig)) == [
        f"xaxis has tick labels longer than {MAX_ROTATED_LABEL} characters: [{long!r}]"]
    short = go.Figure(go.Bar(x=["ok"], y=[1])).update_layout(
        xaxis=dict(title="machine", type="category", ticktext=[long], tickvals=["ok"]), yaxis_title="count")
    assert len(figure_problems(spec(short))) == 1   # the tick text is what shows
    dates = go.Figure(go.Scatter(x=["2026-01-01T00:00:00+00:00"] * 2, y=[1, 2])).update_layout(
        xaxis_title="date", yaxis_title="s")
    assert figure_problems(spec(dates)) == []


def test_axes_with_data_need_titles_unless_they_match_a_titled_one():
    fig = lines(1).update_layout(yaxis_title="")
    assert figure_problems(spec(fig)) == ["yaxis shows data but has no title"]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True)
    fig.add_trace(go.Scatter(x=[1], y=[1]), row=1, col=1).add_trace(go.Scatter(x=[1], y=[2]), row=1, col=2)
    fig.update_layout(xaxis=dict(title="epoch"), xaxis2=dict(title="seconds"), yaxis=dict(title="f − f*"),
                      showlegend=False)
    assert figure_problems(spec(fig)) == []
    fig.update_layout(xaxis2=dict(title=""))
    assert figure_problems(spec(fig)) == ["xaxis2 shows data but has no title"]


def test_legend_entries_need_marks_and_marks_need_entries():
    fig = lines(2)
    fig.add_trace(go.Scatter(x=[], y=[], name="ok"))
    assert figure_problems(spec(fig)) == ["legend entry 'ok' has no marks"]
    fig = lines(2)
    fig.add_trace(go.Bar(x=[1], y=[3], name="ok", showlegend=False))
    assert figure_problems(spec(fig)) == ["series without a legend entry: ['ok']"]
    single = go.Figure(go.Bar(x=[1], y=[3], showlegend=False)).update_layout(xaxis_title="a", yaxis_title="b")
    assert figure_problems(spec(single)) == []   # one series: its axes say what it is


def test_environment_names_belong_in_tooltips():
    fig = lines(1)
    fig.add_trace(go.Scatter(x=[1], y=[1], name=f"zen5 · {ENV}"))
    assert figure_problems(spec(fig)) == [f"environment names in labels: ['zen5 · {ENV}']"]
    fig = lines(2)
    fig.update_traces(customdata=[ENV, ENV], hovertemplate="%{customdata}")
    assert figure_problems(spec(fig)) == []


def test_table_rules():
    raw = pd.DataFrame({"speedup_low": [np.nan, None], "env": [ENV, ENV], "machine": ["a", "b"]})
    assert table_problems(raw) == ["raw column names: ['speedup_low']", "empty columns: ['speedup_low']",
                                   f"environment names in cells: [{ENV!r}]"]
    assert table_problems(pd.DataFrame({"machine": ["a"], "environment": ["virtualenv py3.11"]})) == []


def test_default_series_prefer_the_named_ones_and_stop_at_the_maximum():
    options = [f"s{i}" for i in range(3 * MAX_SERIES)]
    assert default_series(options, ["s5", "nowhere", "s1"]) == ["s5", "s1"]
    assert default_series(options, []) == options[:MAX_SERIES]
    assert default_series(options, options[::-1]) == options[::-1][:MAX_SERIES]


def test_machine_specs_side_by_side_with_readable_names():
    table = pd.DataFrame({"machine": ["a", "b", "a"], "num_cpu": [2, 4, 8], "numba": [None, "0.6", None],
                          "gpu": [None, None, None], "source": ["r", "r", "r"]})
    assert machines.specs(table).to_dict("list") == {"spec": ["logical CPUs", "numba"], "a": ["8", machines.MISSING],
                                                     "b": ["4", "0.6"]}


@pytest.fixture
def shipped(monkeypatch, tmp_path):
    """The app pointed at the shipped results and reproduction sample and a synthetic sweep, cold cache."""
    monkeypatch.setenv("HALP_SHIPPED_RESULTS", str(ROOT / "results"))
    monkeypatch.setenv("HALP_REPRODUCTION", str(ROOT / "docs" / "reproduction"))
    monkeypatch.setenv("HALP_SWEEPS", str(write_sweep(tmp_path / "sweep")))
    for name in ("HALP_RESULTS", "HALP_BITS"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()


@pytest.mark.parametrize("page", [path for path, _, _ in PAGES])
def test_every_page_reads_well_on_the_shipped_results(shipped, page):
    at = app_page(page)
    assert at.get("plotly_chart"), "no figure to check"
    assert page_problems(at) == []


def test_reproduction_with_the_networks_reads_well(shipped, monkeypatch, tmp_path):
    """The Reproduction page on the shipped sample with the networks' files (hand-made: both
    networks, all eight runs drawn by default, a failed run)."""
    folder = tmp_path / "reproduction"
    shutil.copytree(ROOT / "docs" / "reproduction", folder)
    monkeypatch.setenv("HALP_REPRODUCTION", str(write_nets(folder)))
    at = app_page("views/reproduction.py")
    drawn = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    networks = [s for s in drawn if s["layout"]["title"]["text"].startswith(("LeNet-5", "LSTM"))]
    assert [max(series_per_panel(s).values()) for s in networks] == [min(len(LABELS), MAX_SERIES)] * 2
    assert page_problems(at) == []


def test_convergence_offers_every_series_beyond_the_default(shipped):
    at = app_page("views/convergence.py")
    pick = at.multiselect(key="cv_series")
    assert len(pick.value) <= MAX_SERIES < len(pick.options)
    pick.set_value(pick.options).run()
    drawn = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert max(series_per_panel(drawn).values()) == len(pick.options)


def test_machines_grouped_by_benchmark_read_well(shipped):
    at = app_page("views/machines.py")
    at.radio(key="ma_by").set_value("benchmark").run()
    assert page_problems(at) == []


def test_live_panels_read_well(shipped):
    """The live runs of Convergence and Peers with their default settings (peers: `live.default_peers`)."""
    at = app_page("views/peers.py")
    at.slider(key="pe_epochs").set_value(2)
    at.button[0].click()
    at.run()
    assert "Trajectories" in json.loads(at.get("plotly_chart")[-1].proto.spec)["layout"]["title"]["text"]
    assert page_problems(at) == []
    at = app_page("views/convergence.py")
    at.slider(key="lv_epochs").set_value(2)
    at.button(key="lv_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert json.loads(at.get("plotly_chart")[-1].proto.spec)["layout"]["title"]["text"] == "Live runs"
    assert page_problems(at) == []
