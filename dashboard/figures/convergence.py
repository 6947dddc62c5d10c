"""Plotly figures of the Convergence page, from the tables of `dashboard.data.convergence` and the
live runs of `dashboard.live` (no Streamlit)."""

import plotly.express as px

from dashboard.figures.style import facet_titles, layout
from dashboard.results import run_order, short_env

WRAP = 3
"""Most panels side by side; more machines wrap onto further rows."""
HOVER = {"env": True, "commit_short": True, "panel": False}
"""What a mark's tooltip adds: the full environment name and the commit (never in labels)."""
LABELS = {"subopt": "f − f* (log)", "epoch": "epoch", "seconds": "solver time (s)", "label": "solver",
          "env": "environment", "commit_short": "commit", "epochs": "epochs to target",
          "target": "f − f* target"}
"""Axis, legend and tooltip names of the columns."""


def panels(table):
    """The panel each row is drawn in: its machine, followed by the short environment name
    (`results.short_env`) where the machine ran in several environments (so a panel never draws one
    solver twice). A Series aligned with `table`."""
    several = table.groupby("machine")["env"].transform("nunique") > 1
    return table["machine"].where(~several, table["machine"] + " · " + table["env"].map(short_env))


def _facets(table):
    """Facet settings: one panel per `panels` value, alphabetically, at most WRAP side by side."""
    names = sorted(table["panel"].unique())
    return {"facet_col": "panel", "facet_col_wrap": min(WRAP, max(len(names), 1)),
            "category_orders": {"panel": names, "label": run_order(table)}}


def convergence_figure(table, x):
    """Suboptimality f − f* (log axis) vs `x` ('epoch' or 'seconds'), one line per solver × precision
    (legend by solver, then bit widths in numeric order, then float formats), one panel per machine
    (`panels`); environment and commit in the tooltip.

    table: `data.convergence.convergence` rows of one commit per machine, restricted to the labels
    to draw (the page offers at most `style.MAX_SERIES` by default).
    """
    table = table.dropna(subset=[x]).sort_values(["label", x])
    table = table.assign(panel=panels(table))
    fig = px.line(table, x=x, y="subopt", color="label", **_facets(table), markers=True, log_y=True,
                  hover_data=HOVER, labels=LABELS)
    facet_titles(fig)
    return layout(fig, title=f"Suboptimality vs {'epoch' if x == 'epoch' else 'time'}")


def epochs_to_target_figure(table):
    """Epochs to reach each target per solver × precision, machines side by side
    (`data.convergence.epochs_to_target`, with commit_short), one panel per machine as `panels`."""
    table = table.assign(panel=panels(table))
    fig = px.bar(table, x="label", y="epochs", color="target", barmode="group", **_facets(table),
                 hover_data=HOVER, labels=LABELS)
    facet_titles(fig)
    return layout(fig, title="Epochs to reach a target (missing bar: never reached)")


def live_figure(runs):
    """Live-run trajectories: f − f* (log axis) vs epoch, one line per run (runs: label, epoch, subopt)."""
    fig = px.line(runs, x="epoch", y="subopt", color="label", markers=True, log_y=True,
                  labels={"subopt": "f − f* (log)", "epoch": "epoch", "label": "run"})
    return layout(fig, title="Live runs")
