"""Plotly figures of the Overview page, from the tables of `dashboard.data.overview` (no Streamlit)."""

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dashboard.benchmarks import WIDTH
from dashboard.data.overview import BASELINE_LABEL, BITS, METHOD_LABEL
from dashboard.figures.style import errors, facet_titles, layout

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
    """HALP-8 speedup over SVRG fp32 / fp64 against the row width, one line per problem size, machines
    side by side (table: `data.overview.headline`): the whole range measured, not one best case."""
    plus, minus = errors(table, "speedup", "speedup_low", "speedup_high")
    table = table.assign(plus=plus, minus=minus, size=table["size_mb"].astype(str) + " MiB")
    fig = px.line(table, x=WIDTH, y="speedup", color="size", line_dash="baseline", facet_col="machine",
                  markers=True, log_x=True, error_y="plus", error_y_minus="minus",
                  hover_data=["env", "commit_short", "baseline"],
                  labels={"speedup": "speedup (×, higher is faster)", WIDTH: "row width d (features)",
                          "size": "float32 data"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_xaxes(tickvals=sorted(table[WIDTH].unique()))
    facet_titles(fig)
    return layout(fig, title=f"{METHOD_LABEL} {BITS}-bit speedup over {BASELINE_LABEL}, newest commit, every size and "
                              "row width")
