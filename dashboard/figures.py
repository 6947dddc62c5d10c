"""Plotly figures of the dashboard, built from the tables of `analysis` (plain Python, no Streamlit).

Each function takes a pandas DataFrame with the columns its docstring names and returns a
`plotly.graph_objects.Figure`; trace names are what a legend shows (tests rely on them).
"""

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

TEMPLATE = "plotly_white"
BAND = "rgba(99, 110, 250, 0.15)"
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0)
STATUS_COLORS = {"ok": "#2ca02c", "failed": "#d62728", "skipped": "#7f7f7f"}


def _errors(table, value, low, high):
    """Error-bar lengths (plus, minus) of `value` from interval columns; NaN where none was stored."""
    return table[high] - table[value], table[value] - table[low]


def _machines_sorted(table):
    """Facet order: machines alphabetically."""
    return {"machine": sorted(table["machine"].unique())}


def _env_dash(table):
    """Column to dash lines by when a machine has several envs (series are never joined across envs)."""
    return "env" if table.groupby("machine")["env"].nunique().max() > 1 else None


def status_figure(counts):
    """Stacked bars of ok / failed / skipped results per machine (counts: machine, env, ok, failed, skipped)."""
    fig = go.Figure()
    label = counts["machine"] + np.where(counts.duplicated("machine", keep=False), " · " + counts["env"], "")
    for status, color in STATUS_COLORS.items():
        fig.add_bar(name=status, x=label, y=counts[status], marker_color=color)
    fig.update_layout(template=TEMPLATE, barmode="stack", title="Results per machine",
                      yaxis_title="results", xaxis_title="machine", legend_title="status")
    return fig


def headline_figure(table):
    """HALP-8 speedup over SVRG fp32 / fp64 per machine (table: `analysis.headline`)."""
    plus, minus = _errors(table, "speedup", "speedup_low", "speedup_high")
    fig = px.bar(table.assign(plus=plus, minus=minus), x="machine", y="speedup", color="baseline",
                 barmode="group", error_y="plus", error_y_minus="minus", text_auto=".2f",
                 hover_data=["env", "commit_short", "size_mb"],
                 labels={"speedup": "speedup (×, higher is faster)", "baseline": "baseline"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_layout(template=TEMPLATE, title="HALP 8-bit speedup over SVRG, newest commit, largest problem")
    return fig


def _speedup_lines(table, x, color, log_x, title):
    table = table.assign(**dict(zip(("plus", "minus"), _errors(table, "speedup", "speedup_low",
                                                                "speedup_high"))))
    table = table.sort_values(x)
    fig = px.line(table, x=x, y="speedup", color=color, symbol="measure", facet_col="machine",
                  line_dash=_env_dash(table),
                  category_orders=_machines_sorted(table), markers=True, log_x=log_x,
                  error_y="plus", error_y_minus="minus", hover_data=["env", "commit_short"],
                  labels={"speedup": "speedup (×)", "bits": "bit width", "size_mb": "problem size (MB)"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_layout(template=TEMPLATE, title=title)
    return fig


def speedup_by_bits_figure(table):
    """Speedup vs bit width, one line per problem size and measure, machines side by side.

    table: `analysis.speedups` (the marker symbol tells the two measures apart).
    """
    table = table.assign(size=table["size_mb"].astype(str) + " MB")
    fig = _speedup_lines(table, "bits", "size", False, "Speedup vs bit width")
    fig.update_xaxes(tickvals=sorted(table["bits"].unique()))
    return fig


def speedup_by_size_figure(table):
    """Speedup vs problem size (log axis), one line per bit width and measure, machines side by side."""
    table = table.assign(width=table["bits"].astype(str) + " bits")
    return _speedup_lines(table, "size_mb", "width", True, "Speedup vs problem size")


def convergence_figure(table, x):
    """Suboptimality f − f* (log axis) vs `x` ('epoch' or 'seconds'), one line per solver × precision.

    table: `analysis.convergence` rows of one commit per machine.
    """
    table = table.dropna(subset=[x]).sort_values(["label", x])
    fig = px.line(table, x=x, y="subopt", color="label", facet_col="machine", line_dash=_env_dash(table),
                  category_orders=_machines_sorted(table), markers=True, log_y=True,
                  hover_data=["env", "commit_short"],
                  labels={"subopt": "f − f*", "epoch": "epoch", "seconds": "solver time (s)", "label": "solver"})
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_layout(template=TEMPLATE, title=f"Suboptimality vs {'epoch' if x == 'epoch' else 'time'}")
    return fig


def epochs_to_target_figure(table):
    """Epochs to reach each target per solver × precision, machines side by side (`analysis.epochs_to_target`)."""
    fig = px.bar(table, x="label", y="epochs", color="target", barmode="group", facet_col="machine",
                 category_orders=_machines_sorted(table),
                 labels={"label": "solver", "epochs": "epochs to target", "target": "f − f* target"})
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_layout(template=TEMPLATE, title="Epochs to reach a target (missing bar: never reached)")
    return fig


def history_figure(rows, regressions, unit):
    """Value per commit for each series of one benchmark, with 99% bands and detected regressions.

    rows: `analysis.series` output (ok and other rows; only ok rows are drawn), x is the commit
    order with the short hashes as tick labels; points of an older benchmark version are drawn
    apart ('older version' traces). regressions: `analysis.step_regressions` rows of these series
    (first_bad is marked with a red ×).
    """
    fig = go.Figure()
    ok = rows[rows["status"] == "ok"]
    newest = ok.groupby(["machine", "env", "params"])["version"].transform("last")
    for (machine, env, params), part in ok.groupby(["machine", "env", "params"], sort=True):
        name = " · ".join(p for p in (machine, env if _env_dash(ok) else "", params) if p)
        current = part[part["version"] == newest.loc[part.index]]
        older = part[part["version"] != newest.loc[part.index]]
        if current["ci_low"].notna().any():
            fig.add_scatter(x=current["order"], y=current["ci_high"], mode="lines", line_width=0,
                            showlegend=False, hoverinfo="skip", name=f"{name} 99% band")
            fig.add_scatter(x=current["order"], y=current["ci_low"], mode="lines", line_width=0,
                            fill="tonexty", fillcolor=BAND, showlegend=False, hoverinfo="skip",
                            name=f"{name} 99% band")
        fig.add_scatter(x=current["order"], y=current["value"], mode="lines+markers", name=name,
                        customdata=current[["commit_short", "date"]].astype(str),
                        hovertemplate="%{customdata[0]} (%{customdata[1]})<br>%{y:.4g} " + unit)
        if not older.empty:
            fig.add_scatter(x=older["order"], y=older["value"], mode="markers", name=f"{name} (older version)",
                            marker=dict(symbol="circle-open", color="grey"),
                            customdata=older[["commit_short"]], hovertemplate="%{customdata[0]}: %{y:.4g}")
    for _, reg in regressions.iterrows():
        hit = ok[(ok["machine"] == reg["machine"]) & (ok["env"] == reg["env"]) & (ok["params"] == reg["params"])
                 & (ok["commit_short"] == reg["first_bad"])]
        fig.add_scatter(x=hit["order"], y=hit["value"], mode="markers", name="regression (first bad commit)",
                        marker=dict(symbol="x", size=14, color="red"), showlegend=False,
                        hovertemplate=f"regression ×{reg['ratio']:.2f}<extra></extra>")
    ticks = rows.drop_duplicates("order").sort_values("order")
    fig.update_xaxes(tickvals=ticks["order"], ticktext=ticks["commit_short"], title="commit (oldest → newest)")
    fig.update_layout(template=TEMPLATE, title="History", yaxis_title=unit or "value", hovermode="closest",
                      legend=LEGEND_BELOW, height=550)
    return fig


def compare_figure(table, limit=40):
    """Ratio B / A (log axis) of the `limit` results that changed most, coloured by change.

    table: `analysis.compare_commits` rows (the page shows all of them in a table).
    """
    table = table.dropna(subset=["ratio"])
    table = table.loc[np.log(table["ratio"]).abs().sort_values(ascending=False).index[:limit]]
    label = table["benchmark"].str.rsplit(".", n=1).str[-1] + " " + table["params"] + " · " + table["machine"]
    fig = px.scatter(table.assign(result=label), x="ratio", y="result", color="change", log_x=True,
                     hover_data=["machine", "env", "benchmark", "params", "value_a", "value_b"],
                     labels={"ratio": "ratio B / A (> 1 worse)"})
    fig.add_vline(x=1, line_dash="dot", line_color="grey")
    fig.update_yaxes(title="", categoryorder="array", categoryarray=label[::-1].tolist())
    fig.update_layout(template=TEMPLATE, title=f"Two-commit comparison: the {len(table)} largest changes",
                      height=max(400, 22 * len(table)))
    return fig


def machines_figure(means, by="suite"):
    """Geometric-mean ratio to the baseline machine per `by` group, one marker per machine (log axis).

    means: `analysis.geometric_means` output.
    """
    fig = px.scatter(means, x=by, y="ratio", color="machine", symbol="machine", log_y=True,
                     hover_data=["count"], labels={"ratio": "ratio to baseline machine (> 1 slower)"})
    fig.update_traces(marker_size=13)
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_layout(template=TEMPLATE, title="Performance relative to the baseline machine")
    return fig


def live_figure(runs):
    """Live-run trajectories: f − f* (log axis) vs epoch, one line per run (runs: label, epoch, subopt)."""
    fig = px.line(runs, x="epoch", y="subopt", color="label", markers=True, log_y=True,
                  labels={"subopt": "f − f*", "label": "run"})
    fig.update_layout(template=TEMPLATE, title="Live runs")
    return fig
