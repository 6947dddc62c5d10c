"""Plotly figures of the Convergence page, from the tables of `dashboard.data.convergence` and the
live runs of `dashboard.live` (no Streamlit)."""

import plotly.express as px

from dashboard.figures.style import env_dash, facet_titles, layout, machines_sorted
from dashboard.results import run_order


def convergence_figure(table, x):
    """Suboptimality f − f* (log axis) vs `x` ('epoch' or 'seconds'), one line per solver × precision
    (legend by solver, then bit widths in numeric order, then float formats).

    table: `data.convergence.convergence` rows of one commit per machine.
    """
    table = table.dropna(subset=[x]).sort_values(["label", x])
    fig = px.line(table, x=x, y="subopt", color="label", facet_col="machine", line_dash=env_dash(table),
                  category_orders={**machines_sorted(table), "label": run_order(table)}, markers=True,
                  log_y=True,
                  hover_data=["env", "commit_short"],
                  labels={"subopt": "f − f*", "epoch": "epoch", "seconds": "solver time (s)", "label": "solver"})
    facet_titles(fig)
    return layout(fig, title=f"Suboptimality vs {'epoch' if x == 'epoch' else 'time'}")


def epochs_to_target_figure(table):
    """Epochs to reach each target per solver × precision, machines side by side
    (`data.convergence.epochs_to_target`)."""
    fig = px.bar(table, x="label", y="epochs", color="target", barmode="group", facet_col="machine",
                 category_orders={**machines_sorted(table), "label": run_order(table)},
                 labels={"label": "solver", "epochs": "epochs to target", "target": "f − f* target"})
    facet_titles(fig)
    return layout(fig, title="Epochs to reach a target (missing bar: never reached)")


def live_figure(runs):
    """Live-run trajectories: f − f* (log axis) vs epoch, one line per run (runs: label, epoch, subopt)."""
    fig = px.line(runs, x="epoch", y="subopt", color="label", markers=True, log_y=True,
                  labels={"subopt": "f − f*", "label": "run"})
    return layout(fig, title="Live runs")
