"""Plotly figures of the History page, from the tables of `dashboard.data.history` (no Streamlit).

Trace names are what a legend shows (tests rely on them).
"""

from collections import Counter

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dashboard.figures.style import layout
from dashboard.results import short_env

BAND = "rgba(99, 110, 250, 0.15)"
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0)


VERDICT_MARKERS = {"regression": dict(symbol="triangle-up", size=13, color="orange"),
                   "improvement": dict(symbol="triangle-down", size=12, color="green"),
                   "acknowledged": dict(symbol="diamond", size=12, color="grey")}
"""Markers of the gate's verdicts (either rule) on the history figure (trace names: 'gate: <verdict>')."""


def _series(ok):
    """(one row per series of `ok`, [its param_values dict]) in `ok`'s order."""
    keys = ok.drop_duplicates(["machine", "env", "params"])
    found = keys["param_values"] if "param_values" in keys else [{}] * len(keys)
    return keys, [v if isinstance(v, dict) else {} for v in found]


def series_names(ok):
    """{(machine, env, params): legend name} of the series in `ok` (rows with machine, env, params
    and param_values): the machine, the environment (`short_env`) only where a machine has
    several, and only the parameters whose values differ between the series ("name=value, ...");
    `shared_params` gives the others. Names are unique: clashing ones get the full params key."""
    keys, values = _series(ok)
    several = keys.groupby("machine")["env"].transform("nunique") > 1
    differ = [n for n in dict.fromkeys(k for v in values for k in v) if len({str(v.get(n)) for v in values}) > 1]
    names = {}
    for key, many, value in zip(keys[["machine", "env", "params"]].itertuples(index=False, name=None),
                                several, values):
        varying = ", ".join(f"{n}={value[n]}" for n in differ if n in value)
        names[key] = " · ".join(p for p in (key[0], short_env(key[1]) if many else "", varying) if p)
    count = Counter(names.values())
    return {k: f"{n} · {k[2]}" if count[n] > 1 and k[2] else n for k, n in names.items()}


def shared_params(ok):
    """"name=value, ..." of the parameters every series of `ok` has with one value (what
    `series_names` leaves out); "" when there are none."""
    _, values = _series(ok)
    first = values[0] if values else {}
    return ", ".join(f"{n}={first[n]}" for n in first if all(n in v and str(v[n]) == str(first[n]) for v in values))


def history_figure(rows, unit, verdicts=None):
    """Value per commit for each series of one benchmark, with 99% bands and the gate's verdicts.

    rows: `data.history.series` output (ok and other rows; only ok rows are drawn), x is the commit
    order with the short hashes as tick labels; points of an older benchmark version are drawn
    apart ('older version' traces). Legend names are `series_names` (machine, the parameters that
    differ); the parameters all series share are in the title; the environment and commit are in
    the tooltip. verdicts: `dashboard.gate.verdicts` rows of these series; the head commit of each
    regression, improvement and acknowledged change is marked (VERDICT_MARKERS). Values of a
    target not reached (+inf) are not drawn; the title names their commits.
    """
    fig = go.Figure()
    ok = rows[rows["status"] == "ok"]
    names = series_names(ok)
    newest = ok.groupby(["machine", "env", "params"])["version"].transform("last")
    hover = ("%{customdata[0]} (%{customdata[1]})<br>%{customdata[2]}<br>%{y:.4g} " + unit
             + "<extra>%{fullData.name}</extra>")
    for (machine, env, params), part in ok.groupby(["machine", "env", "params"], sort=True):
        name = names[(machine, env, params)]
        current = part[part["version"] == newest.loc[part.index]]
        older = part[part["version"] != newest.loc[part.index]]
        if current["ci_low"].notna().any():
            fig.add_scatter(x=current["order"], y=current["ci_high"], mode="lines", line_width=0,
                            showlegend=False, hoverinfo="skip", name=f"{name} 99% band")
            fig.add_scatter(x=current["order"], y=current["ci_low"], mode="lines", line_width=0,
                            fill="tonexty", fillcolor=BAND, showlegend=False, hoverinfo="skip",
                            name=f"{name} 99% band")
        fig.add_scatter(x=current["order"], y=current["value"], mode="lines+markers", name=name,
                        customdata=current[["commit_short", "date", "env"]].astype(str), hovertemplate=hover)
        if not older.empty:
            fig.add_scatter(x=older["order"], y=older["value"], mode="markers", name=f"{name} (older version)",
                            marker=dict(symbol="circle-open", color="grey"),
                            customdata=older[["commit_short", "date", "env"]].astype(str), hovertemplate=hover)
    marked = verdicts[verdicts["verdict"].isin(list(VERDICT_MARKERS))] if verdicts is not None else []
    for verdict, part in (marked.groupby("verdict") if len(marked) else []):
        hit = ok.merge(part[["machine", "env", "params", "head_commit", "ratio", "rule"]],
                       left_on=["machine", "env", "params", "commit_short"],
                       right_on=["machine", "env", "params", "head_commit"])
        if hit.empty:
            continue
        fig.add_scatter(x=hit["order"], y=hit["value"], mode="markers", name=f"gate: {verdict}",
                        marker=VERDICT_MARKERS[verdict], customdata=hit[["ratio", "rule"]],
                        hovertemplate=f"{verdict} ×%{{customdata[0]:.3g}} (%{{customdata[1]}} rule)<extra></extra>")
    ticks = rows.drop_duplicates("order").sort_values("order")
    fig.update_xaxes(tickvals=ticks["order"], ticktext=ticks["commit_short"], title="commit (oldest → newest)")
    missed = ok[ok["value"] == np.inf].drop_duplicates("commit_short")["commit_short"]
    shared = shared_params(ok)
    title = "History" + (f": {shared}" if shared else "") + (
        f" (not reached at {', '.join(missed)}: not drawn)" if len(missed) else "")
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
    fig.update_yaxes(title="result (benchmark, parameters · machine)", categoryorder="array",
                     categoryarray=label[::-1].tolist())
    return layout(fig, title=f"Two-commit comparison: the {len(table)} largest changes",
                  height=max(400, 22 * len(table)))
