"""Plotly figures of the Overview page, from the tables of `dashboard.data.overview` (no Streamlit)."""

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dashboard.data.overview import BASELINE_LABEL, BITS, METHOD_LABEL
from dashboard.figures._style import errors, layout

STATUS_COLORS = {"ok": "#2ca02c", "failed": "#d62728", "skipped": "#7f7f7f", "invalid": "#9467bd"}


def status_figure(counts):
    """Stacked bars of ok / failed / skipped / invalid results per machine (counts: machine, env and
    one column per status)."""
    fig = go.Figure()
    label = counts["machine"] + np.where(counts.duplicated("machine", keep=False), " · " + counts["env"], "")
    for status, color in STATUS_COLORS.items():
        fig.add_bar(name=status, x=label, y=counts[status], marker_color=color)
    return layout(fig, barmode="stack", title="Results per machine", yaxis_title="results",
                  xaxis_title="machine", legend_title="status")


def headline_figure(table):
    """HALP-8 speedup over SVRG fp32 / fp64 per machine (table: `data.overview.headline`)."""
    plus, minus = errors(table, "speedup", "speedup_low", "speedup_high")
    fig = px.bar(table.assign(plus=plus, minus=minus), x="machine", y="speedup", color="baseline",
                 barmode="group", error_y="plus", error_y_minus="minus", text_auto=".2f",
                 hover_data=["env", "commit_short", "size_mb"],
                 labels={"speedup": "speedup (×, higher is faster)", "baseline": "baseline"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    return layout(fig, title=f"{METHOD_LABEL} {BITS}-bit speedup over {BASELINE_LABEL}, newest commit, "
                              "largest problem")
