"""Plotly figures of the "Bandwidth and threads" page, from the tables of `dashboard.performance_data`
(no Streamlit). Trace names are what a legend shows (tests rely on them). Higher is better in all.
"""

import plotly.express as px
import plotly.graph_objects as go

from dashboard.figures import TEMPLATE, _env_dash, _errors, _machines_sorted
from dashboard.performance_data import CONTROL_SOLVERS, GOAL_FRACTION, GOAL_SOLVER, READ_LABEL

IDEAL = "ideal (linear)"
"""Name of the ideal-speedup trace of `thread_speedup_figure`."""


def _facet_titles(fig):
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))


def _size_axis(fig, table):
    fig.update_xaxes(tickvals=sorted(table["size_mb"].unique()))


def bandwidth_figure(table):
    """GB/s vs problem size (log axes), one line per solver beside the read kernel's (the limit,
    black), machines side by side. table: `performance_data.bandwidth`."""
    table = table.sort_values(["solver", "size_mb"])
    solvers = sorted(s for s in table["solver"].unique() if s != READ_LABEL)
    fig = px.line(table, x="size_mb", y="gbps", color="solver", facet_col="machine",
                  line_dash=_env_dash(table), markers=True, log_x=True, log_y=True,
                  category_orders={**_machines_sorted(table), "solver": [READ_LABEL] + solvers},
                  hover_data=["env", "commit_short"],
                  labels={"gbps": "GB/s (higher is better)", "size_mb": "problem size (MB)"})
    fig.for_each_trace(lambda t: t.update(line=dict(color="black", width=3), marker_color="black")
                       if t.name.startswith(READ_LABEL) else ())
    _facet_titles(fig)
    _size_axis(fig, table)
    fig.update_layout(template=TEMPLATE, title="Achieved bandwidth vs the read kernel")
    return fig


def fraction_figure(table, goal=GOAL_FRACTION):
    """Fraction of read bandwidth per solver (bars) at each size, machines side by side, with a
    reference line at `goal`. table: `performance_data.fraction_of_read`."""
    table = table.assign(size=table["size_mb"].astype(str) + " MB").sort_values(["size_mb", "solver"])
    solvers = sorted(table["solver"].unique(), key=lambda s: (s != GOAL_SOLVER, s))
    fig = px.bar(table, x="size", y="fraction", color="solver", barmode="group", facet_col="machine",
                 category_orders={**_machines_sorted(table), "solver": solvers},
                 hover_data=["env", "commit_short", "meets_goal"],
                 labels={"fraction": "fraction of read bandwidth (higher is better)", "size": "problem size"})
    fig.add_hline(y=goal, line_dash="dash", line_color="red")
    _facet_titles(fig)
    fig.update_layout(template=TEMPLATE,
                      title=f"Fraction of read bandwidth (dashed red line: the goal, {GOAL_SOLVER} ≥ {goal:g})")
    return fig


def thread_speedup_figure(table):
    """Speedup t(1 thread) / t(k threads) vs threads, one line per solver × precision, machines side
    by side, with the ideal line (speedup = threads). The controls (sgd, lp-sgd: no full-gradient
    pass) are dashed unless dashes tell environments apart. table: `performance_data.thread_scaling`."""
    table = table.dropna(subset=["speedup"]).sort_values(["label", "threads"])
    table = table.assign(**dict(zip(("plus", "minus"), _errors(table, "speedup", "speedup_low",
                                                                "speedup_high"))))
    machines = _machines_sorted(table)
    env_dash = _env_dash(table)
    fig = px.line(table, x="threads", y="speedup", color="label", facet_col="machine", line_dash=env_dash,
                  category_orders=machines, markers=True, error_y="plus", error_y_minus="minus",
                  hover_data=["env", "commit_short", "seconds"],
                  labels={"speedup": "speedup t(1) / t(k) (higher is better)", "threads": "threads",
                          "label": "solver"})
    if env_dash is None:
        fig.for_each_trace(lambda t: t.update(line_dash="dash")
                           if t.name.split(" ")[0] in CONTROL_SOLVERS else ())
    for i, machine in enumerate(machines["machine"]):
        threads = sorted(table.loc[table["machine"] == machine, "threads"].unique())
        fig.add_trace(go.Scatter(x=threads, y=threads, mode="lines", name=IDEAL, legendgroup=IDEAL,
                                 showlegend=i == 0, line=dict(color="grey", dash="dot")),
                      row=1, col=i + 1)
    _facet_titles(fig)
    fig.update_xaxes(tickvals=sorted(table["threads"].unique()))
    fig.update_layout(template=TEMPLATE, title="Thread scaling: speedup over 1 thread")
    return fig
