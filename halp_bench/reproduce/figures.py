"""The reproduction's plotly figures (also drawn by the dashboard from a reproduction folder).

Seeds, not anecdotes: every line is the median over the seeds of a run (the ``seed`` column; a
frame without one is a single seed) with a shaded 5-95% band (``band``).
"""

import itertools

import numpy as np
import pandas as pd

from halp_core import registry

LOW, HIGH = 0.05, 0.95
"""The band's quantiles over seeds."""


def band(frame, keys, y, floor=None):
    """Median, 5% and 95% quantiles of column ``y`` over seeds, grouped by ``keys`` (a list of
    column names): a DataFrame with keys, ``median``, ``low``, ``high`` and ``seeds``. ``floor``
    (e.g. 1e-32 for a log axis) clips the values from below first."""
    values = frame[y].astype(float)
    if floor is not None:
        values = values.clip(lower=floor)
    grouped = frame.assign(_v=values).groupby(keys, sort=False)["_v"]
    out = pd.DataFrame({"median": grouped.median(), "low": grouped.quantile(LOW),
                        "high": grouped.quantile(HIGH), "seeds": grouped.size()})
    return out.reset_index()


def _band_traces(go, x, stats, name, color, dash="solid", showlegend=True):
    """Three traces: the 5% edge, the 95% edge filled down to it, and the median line."""
    fill = _transparent(color)
    return [go.Scatter(x=x, y=stats["low"], mode="lines", line_width=0, legendgroup=name,
                       showlegend=False, hoverinfo="skip"),
            go.Scatter(x=x, y=stats["high"], mode="lines", line_width=0, fill="tonexty",
                       fillcolor=fill, legendgroup=name, showlegend=False, hoverinfo="skip"),
            go.Scatter(x=x, y=stats["median"], name=name, legendgroup=name,
                       showlegend=showlegend, mode="lines+markers", marker_size=4,
                       line_color=color, line_dash=dash)]


def _transparent(color, alpha=0.18):
    """A plotly colour ('#rrggbb' or 'rgb(...)') as rgba with ``alpha``."""
    if color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha})"
    return color.replace("rgb(", "rgba(").replace(")", f",{alpha})")


def convex_figure(frame, problem):
    """2 x 2 log-scale panels of one problem: f - f* and ||grad f|| against epochs and seconds,
    one median line with a 5-95% band over seeds per solver label (frame: ``convex.csv``; the
    seconds axis is the median over seeds of each epoch's solver time)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = frame[frame["problem"] == problem]
    fig = make_subplots(rows=2, cols=2, shared_yaxes=False, subplot_titles=(
        "f − f* vs epochs", "f − f* vs solver seconds", "‖∇f‖ vs epochs", "‖∇f‖ vs solver seconds"))
    colors = dict(zip(data["label"].unique(), itertools.cycle(_palette())))
    for tag, part in data.groupby("label", sort=False):
        seconds = part.groupby("epoch", sort=True)["seconds"].median()
        for r, y in enumerate(("subopt", "grad_norm"), start=1):
            stats = band(part, ["epoch"], y, floor=1e-32).sort_values("epoch")
            for c, x in enumerate((stats["epoch"], seconds.loc[stats["epoch"]].to_numpy()),
                                  start=1):
                for trace in _band_traces(go, x, stats, tag, colors[tag], line_dash(tag),
                                          showlegend=(r, c) == (1, 1)):
                    fig.add_trace(trace, row=r, col=c)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="epoch", col=1, row=2)
    fig.update_xaxes(title_text="seconds (solver time, median over seeds)", col=2, row=2)
    fig.update_layout(title=f"{problem}: suboptimality and gradient norm (median and 5–95% over "
                            f"seeds)", height=750)
    return fig


def line_dash(tag):
    """Line style of a convex run labelled ``tag``: "dash" for a float format (e.g. 'halp-bf16'),
    "dot" for 16 bits, "solid" otherwise."""
    if any(tag.endswith(f"-{fmt}") for fmt in registry.FORMATS):
        return "dash"
    return "dot" if tag.endswith("-16") else "solid"


def mu_sweep_figure(sweep):
    """Epochs to f - f* <= 1e-10 (bars: median over seeds, whiskers 5-95%; missing = most seeds
    did not reach it) and saturated updates (median markers, log scale) against mu / mu_min, one
    panel per problem; 'auto' as its own bar."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sweep = sweep if "seed" in sweep.columns else sweep.assign(seed=0)
    problems = list(dict.fromkeys(sweep["problem"]))
    fig = make_subplots(rows=2, cols=len(problems), subplot_titles=problems, shared_xaxes=True,
                        row_titles=("epochs to 1e-10", "saturated updates"))
    for c, name in enumerate(problems, start=1):
        part = sweep[sweep["problem"] == name].assign(
            epochs=lambda f: f["epochs_to_tol"].astype(float).fillna(np.inf))
        epochs = band(part, ["mu"], "epochs").replace(np.inf, np.nan)
        saturated = band(part, ["mu"], "saturations", floor=1)
        factors = part.groupby("mu", sort=False)["mu_factor"].first()
        x = [m if m == "auto" else f"{factors[m]:g}×" for m in epochs["mu"]]
        fig.add_trace(go.Bar(x=x, y=epochs["median"], name="epochs to 1e-10",
                             error_y=dict(type="data", symmetric=False,
                                          array=(epochs["high"] - epochs["median"]).fillna(0),
                                          arrayminus=(epochs["median"] - epochs["low"]).fillna(0)),
                             marker_color=["#d62728" if m == "auto" else "#636efa"
                                           for m in epochs["mu"]],
                             showlegend=False, text=epochs["median"]), row=1, col=c)
        fig.add_trace(go.Scatter(x=x, y=saturated["median"], mode="markers+lines",
                                 error_y=dict(type="data", symmetric=False,
                                              array=saturated["high"] - saturated["median"],
                                              arrayminus=saturated["median"] - saturated["low"]),
                                 name="saturated updates", showlegend=False), row=2, col=c)
        fig.update_yaxes(type="log", row=2, col=c)
    fig.update_xaxes(title_text="μ / μ_min (auto: the automatic rule)", row=2)
    fig.update_layout(title="HALP-8: μ sweep, median and 5–95% over seeds (missing bar: 1e-10 "
                            "not reached)", height=600)
    return fig


def mlp_figure(frame):
    """Training loss (log) and validation accuracy against epochs, one median line with a 5-95%
    band over seeds per method label."""
    return epoch_panels(frame, {"train_loss": "training loss", "val_accuracy": "validation accuracy"},
                        "MLP on MNIST (nonconvex): median and 5–95% over seeds")


def network_figure(frame, title):
    """A network's validation accuracy and validation loss (log) against epochs (the
    ``halp_bench.nets`` histories of one network), median and 5-95% band per run label."""
    return epoch_panels(frame, {"val_accuracy": "validation accuracy",
                                "val_loss": "validation loss"},
                        f"{title}: median and 5–95% over seeds")


def epoch_panels(frame, panels, title):
    """One panel per column of ``panels`` ({column: panel title}) against epochs, one median line
    with a 5-95% band over seeds per run label; loss columns on a log axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=tuple(panels.values()))
    colors = dict(zip(frame["label"].unique(), itertools.cycle(_palette())))
    for tag, part in frame.groupby("label", sort=False):
        for c, y in enumerate(panels, start=1):
            stats = band(part, ["epoch"], y).sort_values("epoch")
            for trace in _band_traces(go, stats["epoch"], stats, tag, colors[tag],
                                      showlegend=c == 1):
                fig.add_trace(trace, row=1, col=c)
    for c, y in enumerate(panels, start=1):
        fig.update_yaxes(title_text=panels[y], type="log" if "loss" in y else None, row=1, col=c)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=450)
    return fig


def _palette():
    import plotly.express as px

    return px.colors.qualitative.Plotly


def write_html(fig, path):
    """Write ``fig`` as an interactive HTML page that works offline (plotly.min.js beside it)."""
    import plotly.io as pio

    pio.write_html(fig, path, include_plotlyjs="directory", full_html=True)
