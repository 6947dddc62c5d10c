"""Plotly figures of the Speedups page, from the tables of `dashboard.data.speedups` (no Streamlit)."""

import plotly.express as px

from dashboard.figures.style import env_dash, facet_titles, layout, machines_sorted, with_errors
from dashboard.results import mixed_order, precision_label, precision_labels


def _speedup_lines(table, x, color, log_x, title, orders, along):
    """Lines of speedup vs `x`, points joined in the order of column `along` (mixed_key order)."""
    table = with_errors(table, "speedup", "speedup_low", "speedup_high").sort_values(along, key=mixed_order)
    fig = px.line(table, x=x, y="speedup", color=color, symbol="measure", facet_col="machine",
                  line_dash=env_dash(table),
                  category_orders={**machines_sorted(table), **orders}, markers=True, log_x=log_x,
                  error_y="plus", error_y_minus="minus", hover_data=["env", "commit_short"],
                  labels={"speedup": "speedup (×)", "precision": "bit width or float format",
                          "size_mb": "problem size (MB)"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    facet_titles(fig)
    return layout(fig, title=title)


def _with_precision(table):
    """`table` with column precision: the label of its `bits` ('8-bit', 'bf16', ...)."""
    return table.assign(precision=table["bits"].map(precision_label))


def speedup_by_bits_figure(table):
    """Speedup vs bit width or float format (a category axis: 4-bit, 8-bit, 16-bit, then the formats
    bf16, fp16, fp8-e4m3, ...), one line per problem size and measure, machines side by side.

    table: `data.speedups.speedups` (the marker symbol tells the two measures apart).
    """
    table = _with_precision(table).assign(size=table["size_mb"].astype(str) + " MB")
    order = precision_labels(table["bits"])
    fig = _speedup_lines(table, "precision", "size", False, "Speedup vs bit width or format",
                         {"precision": order}, "bits")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    return fig


def speedup_by_size_figure(table):
    """Speedup vs problem size (log axis), one line per bit width or float format and measure,
    machines side by side."""
    table = _with_precision(table)
    return _speedup_lines(table, "size_mb", "precision", True, "Speedup vs problem size",
                          {"precision": precision_labels(table["bits"])}, "size_mb")
