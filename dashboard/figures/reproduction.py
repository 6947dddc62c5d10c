"""Plotly figures of the Reproduction page (no Streamlit): the figure functions of
`halp_bench.reproduce.figures` (the ones its HTML report draws), in the dashboard's theme, drawing
the chosen runs only (labelled as the reproduction labels them: 'halp-8', 'lp-sgd-bf16'), with a
title on every axis.

This module holds the dashboard's one import of `halp_bench.reproduce.figures`; it raises
ImportError where halp_bench is not importable (the page then shows its tables without figures).
"""

from halp_bench.reproduce import figures as reproduce

from dashboard.figures.style import layout

SECONDS = "solver time (s, median over seeds)"
"""Title of the seconds axes."""


def convex_figure(table, problem, labels):
    """f − f* and ‖∇f‖ of one `problem` against epochs and seconds, one line per run of `labels`
    (the CSV's run labels; table: convex.csv)."""
    fig = reproduce.convex_figure(table[table["label"].isin(labels)], problem)
    for col, x in ((1, "epoch"), (2, SECONDS)):
        fig.update_xaxes(title_text=x, col=col)
    for row, y in ((1, "f − f* (log)"), (2, "‖∇f‖ (log)")):
        fig.update_yaxes(title_text=y, row=row)
    return layout(fig)


def mu_sweep_figure(table):
    """HALP-8's epochs to tolerance and saturated updates against μ (table: mu_sweep.csv)."""
    fig = reproduce.mu_sweep_figure(table)
    fig.update_yaxes(title_text="epochs to f − f* ≤ 1e-10", row=1)
    fig.update_yaxes(title_text="saturated updates (log)", row=2)
    return layout(fig)


def mlp_figure(table, labels):
    """The MLP's training loss and validation accuracy against epochs, one line per run of `labels`
    (table: mlp.csv)."""
    fig = reproduce.mlp_figure(table[table["label"].isin(labels)])
    fig.update_yaxes(title_text="training loss (log)", col=1)
    fig.update_yaxes(title_text="validation accuracy (fraction)", col=2)
    return layout(fig)


def network_figure(table, title, labels):
    """One network's validation accuracy and validation loss against epochs, one line per run of
    `labels` (table: the nets.csv rows of that network; title: its name, e.g. 'LeNet-5 on
    Fashion-MNIST')."""
    fig = reproduce.network_figure(table[table["label"].isin(labels)], title)
    fig.update_yaxes(title_text="validation accuracy (fraction)", col=1)
    fig.update_yaxes(title_text="validation loss (cross-entropy, log)", col=2)
    return layout(fig)
