"""Plotly figures of the Overview page, from the tables of `dashboard.data.overview` (no Streamlit)."""

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dashboard.benchmarks import WIDTH
from dashboard.data.overview import BASELINE_LABEL, BITS, METHOD_LABEL
from dashboard.figures.style import errors, facet_titles, layout
from dashboard.results import short_env

STATUS_COLORS = {"ok": "#2ca02c", "failed": "#d62728", "skipped": "#7f7f7f", "invalid": "#9467bd"}


def status_figure(counts):
    """Stacked horizontal bars of ok / failed / skipped / invalid results per machine (counts: machine,
    env and one column per status); a machine with several environments gets one bar per environment,
    labelled with its short name (`results.short_env`), the full name in the tooltip."""
    fig = go.Figure()
    several = counts.duplicated("machine", keep=False)
    label = counts["machine"] + np.where(several, " · " + counts["env"].map(short_env), "")
    for status, color in STATUS_COLORS.items():
        fig.add_bar(name=status, y=label, x=counts[status], orientation="h", marker_color=color,
                    customdata=counts[["env"]],
                    hovertemplate="%{y}<br>%{customdata[0]}<br>" + status + ": %{x}<extra></extra>")
    return layout(fig, barmode="stack", title="Results per machine and environment", xaxis_title="results",
                  yaxis_title="machine · environment", legend_title="status", height=220 + 40 * len(counts),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1))


def headline_figure(table):
    """HALP-8 speedup over SVRG fp32 / fp64 against the row width, one line per problem size, machines
    side by side (table: `data.overview.headline`): the whole range measured, not one best case."""
    plus, minus = errors(table, "speedup", "speedup_low", "speedup_high")
    table = table.assign(plus=plus, minus=minus, size=table["size_mb"].astype(str) + " MiB")
    fig = px.line(table, x=WIDTH, y="speedup", color="size", line_dash="baseline", facet_col="machine",
                  markers=True, log_x=True, error_y="plus", error_y_minus="minus",
                  hover_data=["env", "commit_short"],
                  labels={"speedup": "speedup (×, higher is faster)", WIDTH: "row width d (features)",
                          "size": "float32 data"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_xaxes(tickvals=sorted(table[WIDTH].unique()))
    facet_titles(fig)
    return layout(fig, title=f"{METHOD_LABEL} {BITS}-bit speedup over {BASELINE_LABEL}, newest commit, every size and "
                              "row width")
