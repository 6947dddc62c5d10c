"""Plotly figures of the Sweeps page, from the tables of `dashboard.data.sweeps` (no Streamlit)."""

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from dashboard.data.sweeps import label, values
from dashboard.figures._style import layout

NOT_REACHED = "#bdbdbd"
"""Colour of the heatmap cells whose median run did not reach the target."""


def heatmap_figure(table, x, y, target):
    """Median epochs to f − f* ≤ `target` over the parameters `x` (columns) and `y` (rows), each cell
    annotated with the median and how many of its runs reached the target; cells not reached are
    grey and say so, combinations without runs stay blank (table: `data.sweeps.heatmap`)."""
    xs, ys = [label(v) for v in values(table[x])], [label(v) for v in values(table[y])]
    cells = (table.assign(**{x: table[x].map(label), y: table[y].map(label)})
             .set_index([y, x]).reindex(pd.MultiIndex.from_product([ys, xs])))
    text = [f"{'not reached' if np.isinf(c.epochs) else f'{c.epochs:g}'}<br>{c.reached:g}/{c.runs:g} reached"
            if c.runs == c.runs else "" for c in cells.itertuples()]
    epochs = cells["epochs"].to_numpy().reshape(len(ys), len(xs))
    text = np.array(text, dtype=object).reshape(len(ys), len(xs))
    missed = np.isinf(epochs)
    axes = {"x": xs, "y": ys, "texttemplate": "%{text}", "hoverongaps": False}
    fig = go.Figure([
        go.Heatmap(z=np.where(missed, np.nan, epochs), text=np.where(missed, "", text), **axes,
                   colorscale="Viridis", colorbar={"title": "epochs"}, name="reached"),
        go.Heatmap(z=np.where(missed, 1.0, np.nan), text=np.where(missed, text, ""), **axes,
                   colorscale=[[0, NOT_REACHED], [1, NOT_REACHED]], showscale=False, name="not reached"),
    ])
    fig.update_xaxes(type="category", title=x)
    fig.update_yaxes(type="category", title=y)
    return layout(fig, title=f"Median epochs to f − f* ≤ {target} over seeds (grey: not reached)")


def bands_figure(table, by):
    """f − f* (log axis) per epoch: the median over seeds as a line and the 5–95% quantiles as a band,
    one colour per group of the parameters `by` (table: `data.sweeps.bands`). Infinite values
    (diverged runs) are left out of the drawing."""
    palette = plotly.colors.qualitative.Plotly
    fig = go.Figure()
    groups = table.groupby(by, dropna=False, sort=True) if by else [((), table)]
    for k, (key, rows) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        name = ", ".join(f"{p}={label(v)}" for p, v in zip(by, key)) or "all runs"
        colour = palette[k % len(palette)]
        rows = rows.sort_values("epoch").replace(np.inf, np.nan)
        fig.add_trace(go.Scatter(x=rows["epoch"], y=rows["q95"], mode="lines", line={"width": 0},
                                 legendgroup=name, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=rows["epoch"], y=rows["q05"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=_transparent(colour), legendgroup=name,
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=rows["epoch"], y=rows["median"], mode="lines+markers", name=name,
                                 legendgroup=name, line={"color": colour}, customdata=rows["runs"],
                                 hovertemplate="epoch %{x}<br>median f − f* %{y:.3e}<br>%{customdata} runs"))
    fig.update_yaxes(type="log", title="f − f*")
    fig.update_xaxes(title="epoch")
    return layout(fig, title="f − f* per epoch: median and 5–95% band over seeds")


def _transparent(colour):
    """The hex `colour` as rgba at 20% opacity (a band's fill)."""
    r, g, b = plotly.colors.hex_to_rgb(colour)
    return f"rgba({r},{g},{b},0.2)"
