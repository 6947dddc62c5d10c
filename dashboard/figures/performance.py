"""Plotly figures of the Performance page ("Bandwidth and threads"), from the tables of
`dashboard.data.performance` (no Streamlit). Trace names are what a legend shows (tests rely on
them). Higher is better in all.
"""

import plotly.express as px
import plotly.graph_objects as go

from dashboard.benchmarks import GOAL_SOLVER
from dashboard.data.performance import CONTROL_SOLVERS, GOAL_FRACTION, READ_LABEL
from dashboard.figures.style import env_dash, facet_titles, layout, machines_sorted, with_errors
from dashboard.results import mixed_key, mixed_order

IDEAL = "ideal (linear)"
"""Name of the ideal-speedup trace of `thread_speedup_figure`."""
TOOLTIP = {"env": "environment", "commit_short": "commit"}
"""Tooltip names of the environment and commit columns (never shown in labels)."""


def bandwidth_figure(table):
    """GB/s vs problem size (log axes), one line per solver beside the read kernel's (the limit,
    black), machines side by side. table: `data.performance.bandwidth`."""
    table = table.sort_values(["solver", "size_mb"], key=mixed_order)
    solvers = sorted((s for s in table["solver"].unique() if s != READ_LABEL), key=mixed_key)
    fig = px.line(table, x="size_mb", y="gbps", color="solver", facet_col="machine",
                  line_dash=env_dash(table), markers=True, log_x=True, log_y=True,
                  category_orders={**machines_sorted(table), "solver": [READ_LABEL] + solvers},
                  hover_data=["env", "commit_short"],
                  labels={"gbps": "GB/s (higher is better)", "size_mb": "problem size (MB)", **TOOLTIP})
    fig.for_each_trace(lambda t: t.update(line=dict(color="black", width=3), marker_color="black")
                       if t.name.startswith(READ_LABEL) else ())
    facet_titles(fig)
    fig.update_xaxes(tickvals=sorted(table["size_mb"].unique(), key=mixed_key))
    return layout(fig, title="Achieved bandwidth vs the read kernel")


def fraction_figure(table, goal=GOAL_FRACTION):
    """Fraction of read bandwidth per solver (bars) at each size, machines side by side, with a
    reference line at `goal`. table: `data.performance.fraction_of_read`."""
    table = table.assign(size=table["size_mb"].astype(str) + " MB").sort_values(["size_mb", "solver"], key=mixed_order)
    solvers = sorted(table["solver"].unique(), key=lambda s: (s != GOAL_SOLVER, mixed_key(s)))
    fig = px.bar(table, x="size", y="fraction", color="solver", barmode="group", facet_col="machine",
                 category_orders={**machines_sorted(table), "solver": solvers},
                 hover_data=["env", "commit_short", "meets_goal"],
                 labels={"fraction": "fraction of read bandwidth (higher is better)", "size": "problem size",
                         "meets_goal": "meets the goal", **TOOLTIP})
    fig.add_hline(y=goal, line_dash="dash", line_color="red")
    facet_titles(fig)
    return layout(fig, title=f"Fraction of read bandwidth (dashed red line: the goal, {GOAL_SOLVER} ≥ {goal:g})")


def thread_speedup_figure(table):
    """Speedup t(1 thread) / t(k threads) vs threads, one line per solver × precision, machines side
    by side, with the ideal line (speedup = threads). The controls (sgd, lp-sgd: no full-gradient
    pass) are dashed unless dashes tell environments apart. table: `data.performance.thread_scaling`."""
    table = table.dropna(subset=["speedup"]).sort_values(["label", "threads"], key=mixed_order)
    table = with_errors(table, "speedup", "speedup_low", "speedup_high")
    machines = machines_sorted(table)
    dash = env_dash(table)
    fig = px.line(table, x="threads", y="speedup", color="label", facet_col="machine", line_dash=dash,
                  category_orders=machines, markers=True, error_y="plus", error_y_minus="minus",
                  hover_data=["env", "commit_short", "seconds"],
                  labels={"speedup": "speedup t(1) / t(k) (higher is better)", "threads": "threads",
                          "label": "solver", "seconds": "seconds per epoch", **TOOLTIP})
    if dash is None:
        fig.for_each_trace(lambda t: t.update(line_dash="dash")
                           if t.name.split(" ")[0] in CONTROL_SOLVERS else ())
    for i, machine in enumerate(machines["machine"]):
        threads = sorted(table.loc[table["machine"] == machine, "threads"].unique(), key=mixed_key)
        fig.add_trace(go.Scatter(x=threads, y=threads, mode="lines", name=IDEAL, legendgroup=IDEAL,
                                 showlegend=i == 0, line=dict(color="grey", dash="dot")),
                      row=1, col=i + 1)
    facet_titles(fig)
    fig.update_xaxes(tickvals=sorted(table["threads"].unique(), key=mixed_key))
    return layout(fig, title="Thread scaling: speedup over 1 thread")
