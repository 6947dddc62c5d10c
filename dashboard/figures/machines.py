"""Plotly figures of the Machines page, from the tables of `dashboard.data.machines` (no Streamlit)."""

import plotly.express as px

from dashboard.figures.style import layout


def machines_figure(means, by="suite"):
    """Geometric-mean ratio to the baseline machine per `by` group, one marker per machine (log axis).

    means: `data.machines.geometric_means` output.
    """
    fig = px.scatter(means, x=by, y="ratio", color="machine", symbol="machine", log_y=True,
                     hover_data=["count"], labels={"ratio": "ratio to baseline machine (> 1 slower)"})
    fig.update_traces(marker_size=13)
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    return layout(fig, title="Performance relative to the baseline machine")
