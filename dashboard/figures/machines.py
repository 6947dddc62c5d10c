"""Plotly figures of the Machines page, from the tables of `dashboard.data.machines` (no Streamlit)."""

import plotly.express as px

from dashboard.figures.style import layout


ROW = 28
"""Height in pixels of one group's row."""


def machines_figure(means, by="suite"):
    """Geometric-mean ratio to the baseline machine (log axis, x) per `by` group (rows: benchmark
    names are long, and rows never rotate them), one marker per machine.

    means: `data.machines.geometric_means` output.
    """
    fig = px.scatter(means, x="ratio", y=by, color="machine", symbol="machine", log_x=True,
                     hover_data=["count"],
                     labels={"ratio": "ratio to the baseline machine (> 1: slower)", "count": "results"})
    fig.update_traces(marker_size=13)
    fig.update_yaxes(type="category", autorange="reversed")
    fig.add_vline(x=1, line_dash="dot", line_color="grey")
    return layout(fig, title="Performance relative to the baseline machine",
                  height=max(400, 120 + ROW * means[by].nunique()))
