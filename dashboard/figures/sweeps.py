"""Plotly figures of the Sweeps page, from the tables of `dashboard.data.sweeps` (no Streamlit)."""

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from dashboard.data.sweeps import group_names, label, values
from dashboard.figures.style import layout

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
        name = group_names(rows.head(1), by).iloc[0]
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


def bits_figure(table, widest=16):
    """Measured against predicted bits, one panel per HALP mu setting, one marker per grid point
    (colour: log10 κ; circle least squares, square logistic), the diagonal with its one-bit band;
    a point no width ≤ `widest` sufficed for is drawn at widest + 1 (table: `data.sweeps.load_bits`)."""
    from plotly.subplots import make_subplots

    settings = sorted(table["mu"].unique())
    fig = make_subplots(rows=1, cols=len(settings), shared_yaxes=True,
                        subplot_titles=[f"μ = {s}" if s == "auto" else f"μ = {s.replace('mu_min', 'μ_min')}"
                                        for s in settings])
    top = widest + 1
    hi = max(top, int(table["predicted"].max())) + 1
    diagonal = np.arange(2, hi + 1)
    for c, setting in enumerate(settings, start=1):
        part = table[table["mu"] == setting]
        fig.add_trace(go.Scatter(x=np.r_[diagonal, diagonal[::-1]], y=np.r_[diagonal + 1, diagonal[::-1] - 1],
                                 fill="toself", fillcolor="rgba(0,0,0,0.08)", line_width=0,
                                 name="within one bit", showlegend=c == 1, hoverinfo="skip"), row=1, col=c)
        for kind, symbol in (("least_squares", "circle"), ("logistic", "square")):
            sub = part[part["kind"] == kind]
            fig.add_trace(go.Scatter(
                x=sub["predicted"], y=sub["measured"].fillna(top), mode="markers",
                marker=dict(symbol=symbol, size=10, color=np.log10(sub["kappa"]), colorscale="Viridis",
                            cmin=0.5, cmax=5.5, line=dict(width=1, color="black"),
                            colorbar=dict(title="log10 κ") if c == 1 else None, showscale=c == 1),
                name=kind.replace("_", " "), legendgroup=kind, showlegend=c == 1,
                text=[f"d = {d:g}, λ = {lam:g}, κ = {k:.3g}" for d, lam, k in
                      zip(sub["d"], sub["lam"], sub["kappa"])]), row=1, col=c)
        fig.update_xaxes(title_text="predicted bits (2^(b−1) − 1 ≥ κ√d)", range=[1.5, hi + 0.5], row=1, col=c)
    fig.update_yaxes(title_text=f"measured bits ({top}: none ≤ {widest})", range=[1.5, top + 0.5], row=1, col=1)
    return layout(fig, title="HALP's bit requirement: measured against predicted", height=480)
