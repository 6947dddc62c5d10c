"""Plotly figures of the Reproduction page (no Streamlit): the figure functions of
`halp_bench.reproduce.figures` (the ones its HTML report draws), in the dashboard's theme.

This module holds the dashboard's one import of `halp_bench.reproduce.figures`; it raises
ImportError where halp_bench is not importable (the page then shows its tables without figures).
"""

from halp_bench.reproduce import figures as reproduce

from dashboard.figures.style import layout


def convex_figure(table, problem):
    """f − f* and ‖∇f‖ of one `problem` against epochs and seconds (table: convex.csv)."""
    return layout(reproduce.convex_figure(table, problem))


def mu_sweep_figure(table):
    """HALP-8's epochs to tolerance and saturated updates against μ (table: mu_sweep.csv)."""
    return layout(reproduce.mu_sweep_figure(table))


def mlp_figure(table):
    """The MLP's training loss and validation accuracy against epochs (table: mlp.csv)."""
    return layout(reproduce.mlp_figure(table))
