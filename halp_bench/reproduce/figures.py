"""The reproduction's plotly figures (also drawn by the dashboard from a reproduction folder)."""

import itertools


def convex_figure(frame, problem):
    """2 x 2 log-scale panels of one problem: f - f* and ||grad f|| against epochs and seconds,
    one line per solver label (frame: ``convex.csv``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = frame[frame["problem"] == problem]
    fig = make_subplots(rows=2, cols=2, shared_yaxes=False, subplot_titles=(
        "f − f* vs epochs", "f − f* vs solver seconds", "‖∇f‖ vs epochs", "‖∇f‖ vs solver seconds"))
    colors = dict(zip(data["label"].unique(), itertools.cycle(_palette())))
    for tag, part in data.groupby("label", sort=False):
        for r, y in enumerate(("subopt", "grad_norm"), start=1):
            for c, x in enumerate(("epoch", "seconds"), start=1):
                fig.add_trace(go.Scatter(x=part[x], y=part[y].clip(lower=1e-32), name=tag,
                                         legendgroup=tag, showlegend=(r, c) == (1, 1),
                                         mode="lines+markers", marker_size=4,
                                         line_color=colors[tag],
                                         line_dash="dot" if tag.endswith("-16") else "solid"),
                              row=r, col=c)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title_text="epoch", col=1, row=2)
    fig.update_xaxes(title_text="seconds (solver time)", col=2, row=2)
    fig.update_layout(title=f"{problem}: suboptimality and gradient norm", height=750)
    return fig


def mu_sweep_figure(sweep):
    """Epochs to f - f* <= 1e-10 (bars; missing = not reached) and saturated updates (markers,
    log scale) against mu / mu_min, one panel per problem; 'auto' as its own bar."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    problems = list(dict.fromkeys(sweep["problem"]))
    fig = make_subplots(rows=2, cols=len(problems), subplot_titles=problems, shared_xaxes=True,
                        row_titles=("epochs to 1e-10", "saturated updates"))
    for c, name in enumerate(problems, start=1):
        part = sweep[sweep["problem"] == name]
        x = [m if m == "auto" else f"{f:g}×" for m, f in zip(part["mu"], part["mu_factor"])]
        fig.add_trace(go.Bar(x=x, y=part["epochs_to_tol"], name="epochs to 1e-10",
                             marker_color=["#d62728" if m == "auto" else "#636efa"
                                           for m in part["mu"]],
                             showlegend=False, text=part["epochs_to_tol"]), row=1, col=c)
        fig.add_trace(go.Scatter(x=x, y=part["saturations"].clip(lower=1), mode="markers+lines",
                                 name="saturated updates", showlegend=False), row=2, col=c)
        fig.update_yaxes(type="log", row=2, col=c)
    fig.update_xaxes(title_text="μ / μ_min (auto: the automatic rule)", row=2)
    fig.update_layout(title="HALP-8: μ sweep (missing bar: 1e-10 not reached)", height=600)
    return fig


def mlp_figure(frame):
    """Training loss (log) and validation accuracy against epochs, one line per method label."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "validation accuracy"))
    colors = dict(zip(frame["label"].unique(), itertools.cycle(_palette())))
    for tag, part in frame.groupby("label", sort=False):
        for c, y in enumerate(("train_loss", "val_accuracy"), start=1):
            fig.add_trace(go.Scatter(x=part["epoch"], y=part[y], name=tag, legendgroup=tag,
                                     showlegend=c == 1, mode="lines+markers",
                                     line_color=colors[tag]), row=1, col=c)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title="MLP on MNIST (nonconvex)", height=450)
    return fig


def _palette():
    import plotly.express as px

    return px.colors.qualitative.Plotly


def write_html(fig, path):
    """Write ``fig`` as an interactive HTML page that works offline (plotly.min.js beside it)."""
    import plotly.io as pio

    pio.write_html(fig, path, include_plotlyjs="directory", full_html=True)
