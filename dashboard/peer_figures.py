"""Plotly figures of the Peers page, from the tables of `dashboard.peer_tables` (no Streamlit)."""

import numpy as np
import plotly.express as px



def seconds_bars(table, title):
    """Horizontal bars of seconds per solver (log axis), ours hatched apart, machines side by side.

    table: `peer_tables.peer_results` rows of one problem (and one target); solvers that never
    reached the target (inf) are left out and listed in the title."""
    never = sorted(table.loc[~np.isfinite(table["seconds"]), "solver"].unique())
    shown = table[np.isfinite(table["seconds"])]
    fig = px.bar(shown, x="seconds", y="solver", color="side", orientation="h", facet_col="machine",
                 log_x=True, hover_data=["env", "commit_short"],
                 labels={"seconds": "seconds (lower is better)", "solver": ""})
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_yaxes(categoryorder="total descending")
    suffix = f" (not reached: {', '.join(never)})" if never else ""
    fig.update_layout(title=title + suffix, height=max(350, 28 * shown["solver"].nunique()))
    return fig


def trajectory_figure(runs):
    """f − f* (log axis) against solver seconds, one line per solver, ours solid, peers dashed."""
    runs = runs[runs["epoch"] >= 1]
    fig = px.line(runs, x="seconds", y="subopt", color="solver", line_dash="side", markers=True,
                  log_y=True, hover_data=["epoch"],
                  labels={"subopt": "f − f*", "seconds": "solver time (s)", "side": ""})
    fig.update_layout(title="Trajectories: suboptimality vs solver time")
    return fig
