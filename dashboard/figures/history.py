"""Plotly figures of the History page, from the tables of `dashboard.data.history` (no Streamlit).

Trace names are what a legend shows (tests rely on them).
"""

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dashboard.figures.style import env_dash, layout

BAND = "rgba(99, 110, 250, 0.15)"
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0)


VERDICT_MARKERS = {"regression": dict(symbol="triangle-up", size=13, color="orange"),
                   "acknowledged": dict(symbol="diamond", size=12, color="grey")}
"""Markers of the gate rule's verdicts on the history figure (trace names: 'gate rule: <verdict>')."""


def history_figure(rows, regressions, unit, verdicts=None):
    """Value per commit for each series of one benchmark, with 99% bands and detected regressions.

    rows: `data.history.series` output (ok and other rows; only ok rows are drawn), x is the commit
    order with the short hashes as tick labels; points of an older benchmark version are drawn
    apart ('older version' traces). regressions: `data.history.step_regressions` rows of these series
    (first_bad is marked with a red ×). verdicts: `dashboard.gate.verdicts` rows of these series; the
    head commit of each regression and acknowledged change is marked (VERDICT_MARKERS). Values of
    a target not reached (+inf) are not drawn; the title names their commits.
    """
    fig = go.Figure()
    ok = rows[rows["status"] == "ok"]
    newest = ok.groupby(["machine", "env", "params"])["version"].transform("last")
    for (machine, env, params), part in ok.groupby(["machine", "env", "params"], sort=True):
        name = " · ".join(p for p in (machine, env if env_dash(ok) else "", params) if p)
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
    marked = verdicts[verdicts["verdict"].isin(list(VERDICT_MARKERS))] if verdicts is not None else []
    for verdict, part in (marked.groupby("verdict") if len(marked) else []):
        hit = ok.merge(part[["machine", "env", "params", "head_commit", "ratio"]],
                       left_on=["machine", "env", "params", "commit_short"],
                       right_on=["machine", "env", "params", "head_commit"])
        fig.add_scatter(x=hit["order"], y=hit["value"], mode="markers", name=f"gate rule: {verdict}",
                        marker=VERDICT_MARKERS[verdict], customdata=hit[["ratio"]],
                        hovertemplate=f"{verdict} ×%{{customdata[0]:.2f}}<extra></extra>")
    ticks = rows.drop_duplicates("order").sort_values("order")
    fig.update_xaxes(tickvals=ticks["order"], ticktext=ticks["commit_short"], title="commit (oldest → newest)")
    missed = ok[ok["value"] == np.inf].drop_duplicates("commit_short")["commit_short"]
    title = "History" + (f" (not reached at {', '.join(missed)}: not drawn)" if len(missed) else "")
    return layout(fig, title=title, yaxis_title=unit or "value", hovermode="closest", legend=LEGEND_BELOW,
                  height=550)


def compare_figure(table, limit=40):
    """Ratio B / A (log axis) of the `limit` results that changed most, coloured by change.

    table: `data.history.compare_commits` rows (the page shows all of them in a table).
    """
    table = table.dropna(subset=["ratio"])
    table = table.loc[np.log(table["ratio"]).abs().sort_values(ascending=False).index[:limit]]
    label = table["benchmark"].str.rsplit(".", n=1).str[-1] + " " + table["params"] + " · " + table["machine"]
    fig = px.scatter(table.assign(result=label), x="ratio", y="result", color="change", log_x=True,
                     hover_data=["machine", "env", "benchmark", "params", "value_a", "value_b"],
                     labels={"ratio": "ratio B / A (> 1 worse)"})
    fig.add_vline(x=1, line_dash="dot", line_color="grey")
    fig.update_yaxes(title="", categoryorder="array", categoryarray=label[::-1].tolist())
    return layout(fig, title=f"Two-commit comparison: the {len(table)} largest changes",
                  height=max(400, 22 * len(table)))
