"""Plotly figures of the Peers page, from the tables of `dashboard.data.peers` and the live runs of
`dashboard.live` (no Streamlit)."""

import numpy as np
import plotly.express as px

from dashboard.figures.style import facet_titles, layout


def seconds_bars(table, title):
    """Horizontal bars of seconds per solver (log axis), ours and peers coloured apart, machines side by side.

    table: `data.peers.peer_results` rows of one problem (and one target); solvers that never
    reached the target (inf) are left out and listed in the title."""
    never = sorted(table.loc[~np.isfinite(table["seconds"]), "solver"].unique())
    shown = table[np.isfinite(table["seconds"])]
    fig = px.bar(shown, x="seconds", y="solver", color="side", orientation="h", facet_col="machine",
                 log_x=True, hover_data=["env", "commit_short"],
                 labels={"seconds": "seconds (lower is better)", "solver": "solver", "side": "",
                         "env": "environment", "commit_short": "commit"})
    facet_titles(fig)
    fig.update_yaxes(categoryorder="total descending")
    suffix = f" (not reached: {', '.join(never)})" if never else ""
    return layout(fig, title=title + suffix, height=max(350, 28 * shown["solver"].nunique()))


def trajectory_figure(runs):
    """f − f* (log axis) against solver seconds, one line per solver, ours solid, peers dashed
    (runs: `live.trajectories`)."""
    runs = runs[runs["epoch"] >= 1]
    fig = px.line(runs, x="seconds", y="subopt", color="solver", line_dash="side", markers=True,
                  log_y=True, hover_data=["epoch"],
                  labels={"subopt": "f − f*", "seconds": "solver time (s)", "side": ""})
    return layout(fig, title="Trajectories: suboptimality vs solver time")
