"""Plotly figures of the Speedups page, from the tables of `dashboard.data.speedups` (no Streamlit)."""

import plotly.express as px

from dashboard.figures._style import env_dash, facet_titles, layout, machines_sorted, with_errors
from dashboard.results import mixed_key, mixed_order


def _speedup_lines(table, x, color, log_x, title):
    table = with_errors(table, "speedup", "speedup_low", "speedup_high").sort_values(x, key=mixed_order)
    fig = px.line(table, x=x, y="speedup", color=color, symbol="measure", facet_col="machine",
                  line_dash=env_dash(table),
                  category_orders=machines_sorted(table), markers=True, log_x=log_x,
                  error_y="plus", error_y_minus="minus", hover_data=["env", "commit_short"],
                  labels={"speedup": "speedup (×)", "bits": "bit width", "size_mb": "problem size (MB)"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    facet_titles(fig)
    return layout(fig, title=title)


def speedup_by_bits_figure(table):
    """Speedup vs bit width, one line per problem size and measure, machines side by side.

    table: `data.speedups.speedups` (the marker symbol tells the two measures apart).
    """
    table = table.assign(size=table["size_mb"].astype(str) + " MB")
    fig = _speedup_lines(table, "bits", "size", False, "Speedup vs bit width")
    fig.update_xaxes(tickvals=sorted(table["bits"].unique(), key=mixed_key))
    return fig


def speedup_by_size_figure(table):
    """Speedup vs problem size (log axis), one line per bit width and measure, machines side by side."""
    table = table.assign(width=table["bits"].astype(str) + " bits")
    return _speedup_lines(table, "size_mb", "width", True, "Speedup vs problem size")
