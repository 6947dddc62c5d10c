"""Plotly figures of the Speedups page, from the tables of `dashboard.data.speedups` (no Streamlit)."""

import math

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from halp_core import registry
from plotly.subplots import make_subplots

from dashboard.benchmarks import SIZE_PRECISION, WIDTH
from dashboard.data.speedups import BASELINE_SIDE, LOW_SIDE, data_label, size_of_copy_mib
from dashboard.figures.style import env_dash, facet_titles, layout, machines_sorted, with_errors
from dashboard.results import mixed_order, precision_label, precision_labels, short_env

MARKED_CACHES = ("L2", "L3")
"""Cache levels the crossover map marks on its size axis."""
NOT_RECORDED = "cache sizes not recorded"
"""What a crossover panel says for a machine whose machine.json has no cache sizes."""
SIZE_AXIS = f"problem size (MiB of {SIZE_PRECISION} data)"
DARK = 0.5
"""A crossover cell's text is white where |log2 speedup| is above this share of the colour range."""


def _speedup_lines(table, x, color, log_x, title, orders, along, facet_row=None):
    """Lines of speedup vs `x`, points joined in the order of column `along` (mixed_key order);
    machines side by side, `facet_row` (a column or None) one above the other."""
    table = with_errors(table, "speedup", "speedup_low", "speedup_high").sort_values(along, key=mixed_order)
    table = table.assign(environment=table["env"].map(short_env))   # the full name in the tooltip
    fig = px.line(table, x=x, y="speedup", color=color, symbol="measure", facet_col="machine",
                  facet_row=facet_row, line_dash="environment" if env_dash(table) else None,
                  category_orders={**machines_sorted(table), **orders}, markers=True, log_x=log_x,
                  error_y="plus", error_y_minus="minus", hover_data=["env", "commit_short"],
                  labels={"speedup": "speedup (×)", "precision": "bit width or float format",
                          "size_mb": SIZE_AXIS, "commit_short": "commit"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    facet_titles(fig)
    return layout(fig, title=title)


def _with_precision(table):
    """`table` with column precision: the label of its `bits` ('8-bit', 'bf16', ...)."""
    return table.assign(precision=table["bits"].map(precision_label))


def speedup_by_bits_figure(table):
    """Speedup vs bit width or float format (a category axis: 4-bit, 8-bit, 16-bit, then the formats
    bf16, fp16, fp8-e4m3, ...), one line per problem size and measure, machines side by side.

    table: `data.speedups.speedups` (the marker symbol tells the two measures apart).
    """
    table = _with_precision(table).assign(size=table["size_mb"].astype(str) + " MB")
    order = precision_labels(table["bits"])
    fig = _speedup_lines(table, "precision", "size", False, "Speedup vs bit width or format",
                         {"precision": order}, "bits")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    return fig


def speedup_by_size_figure(table):
    """Speedup vs problem size (log axis), one line per bit width or float format, machines side by
    side and the two measures one above the other (a panel holds one line per precision)."""
    table = _with_precision(table)
    return _speedup_lines(table, "size_mb", "precision", True, "Speedup vs problem size",
                          {"precision": precision_labels(table["bits"])}, "size_mb", facet_row="measure")


def _panels(table):
    """Panel label per row: the machine, with its short environment where a machine has several."""
    several = table.groupby("machine")["env"].transform("nunique") > 1
    return table["machine"].where(~several, table["machine"] + " · " + table["env"].map(short_env))


def _size_edges(sizes):
    """Brick edges (MiB) of the heatmap's log size axis: geometric midpoints between the sorted
    `sizes`, the outer edges as far out as the nearest midpoint (×/÷ 2 for a single size)."""
    sizes = np.asarray(sorted(sizes), dtype=float)
    if len(sizes) == 1:
        return [sizes[0] / 2, sizes[0] * 2]
    mids = np.sqrt(sizes[1:] * sizes[:-1])
    return [sizes[0] ** 2 / mids[0], *mids, sizes[-1] ** 2 / mids[-1]]


def _speed_ticks(limit):
    """(tick positions in log2 units, labels) of the colour bar: powers of 2 within ±limit."""
    powers = range(-math.ceil(limit), math.ceil(limit) + 1)
    return [p for p in powers if abs(p) <= limit], [f"{2.0 ** p:g}×" for p in powers if abs(p) <= limit]


def _cache_marks(fig, col, caches, bits, baseline, span):
    """Mark on panel `col` where each data copy (the low-precision one, solid, labelled at the top;
    the baseline's, dashed, at the bottom) fills each MARKED_CACHES level: the problem size whose
    copy is that cache's size; a level outside `span` (the axis range, MiB) is left out."""
    axis = "" if col == 1 else str(col)
    for precision, dash, y, anchor in ((bits, "solid", 1.0, "top"), (baseline, "dash", 0.0, "bottom")):
        per_mib = size_of_copy_mib(1.0, precision)
        for level in MARKED_CACHES:
            at = caches.get(level, 0) / 2**20 / per_mib
            if not span[0] <= at <= span[1]:
                continue
            fig.add_vline(x=at, line_dash=dash, line_color="black", line_width=1, row=1, col=col)
            fig.add_annotation(x=math.log10(at), y=y, xref=f"x{axis}", yref=f"y{axis} domain",
                               yanchor=anchor, text=f"{level} {data_label(precision)}",
                               showarrow=False, font_size=10, bgcolor="rgba(255,255,255,0.8)")


def crossover_title(method, bits, baseline):
    """'HALP 8-bit vs SVRG fp32': the selection a crossover map shows, by registry labels."""
    spec = registry.spec(method)
    return f"{spec.label} {precision_label(bits)} vs {registry.spec(spec.baseline).label} {baseline}"


def crossover_figure(table, caches):
    """The crossover map: speedup of one (method, bits, baseline) over problem size (x, log, MiB of
    SIZE_PRECISION data) × row width d (y, features), one panel per machine.

    table: `data.speedups.crossover` (one selection, not empty); caches: {machine: {level: bytes}}
    (`data.speedups.caches`). Colour: log2 of the speedup on a diverging scale, white at 1 (blue
    pays, red does not), the value written in each cell; environment and commit in the tooltip.
    Vertical lines mark where the low-precision data (solid) and the baseline's (dashed) fill L2
    and L3; the panel of a machine without recorded cache sizes says NOT_RECORDED in its title.
    """
    table = table.assign(panel=_panels(table))
    panels = sorted(table["panel"].unique())
    first = table.iloc[0]
    sizes, widths = sorted(table["size_mb"].unique()), sorted(table[WIDTH].unique())
    edges = _size_edges(sizes)
    limit = max(1.0, float(np.abs(np.log2(table["speedup"])).max()))
    ticks, labels = _speed_ticks(limit)
    marked = {p: any(level in caches.get(m, {}) for level in MARKED_CACHES)
              for p, m in table.drop_duplicates("panel")[["panel", "machine"]].itertuples(index=False)}
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[p if marked[p] else f"{p} ({NOT_RECORDED})" for p in panels])
    for col, panel in enumerate(panels, start=1):
        rows = table[table["panel"] == panel]
        grid = rows.pivot(index=WIDTH, columns="size_mb", values="speedup").reindex(index=widths, columns=sizes)
        values = grid.to_numpy(dtype=float)
        where = f"{rows['env'].iloc[0]}<br>commit {rows['commit_short'].iloc[0]}"
        cells = np.array([[[f"{s:g}", d, where] for s in sizes] for d in widths], dtype=object)
        fig.add_trace(go.Heatmap(
            x=edges, y=[str(d) for d in widths], z=np.log2(values), coloraxis="coloraxis",
            customdata=np.dstack([cells, [[f"{v:.2f}×" for v in line] for line in values]]),
            hovertemplate=("%{customdata[0]} MiB, d = %{customdata[1]}: %{customdata[3]}"
                           "<br>%{customdata[2]}<extra>" + rows["machine"].iloc[0] + "</extra>"),
            name=panel), row=1, col=col)
        shown = rows.dropna(subset=["speedup"])   # the values, centred in each cell of the log axis
        fig.add_trace(go.Scatter(x=shown["size_mb"], y=shown[WIDTH].astype(str), mode="text",
                                 text=[f"{v:.2f}×" for v in shown["speedup"]], hoverinfo="skip",
                                 showlegend=False, textfont=dict(size=11, color=[
                                     "white" if abs(math.log2(v)) > DARK * limit else "black"
                                     for v in shown["speedup"]])), row=1, col=col)
        if marked[panel]:
            _cache_marks(fig, col, caches[rows["machine"].iloc[0]], first["bits"], first["baseline"],
                         (edges[0], edges[-1]))
    fig.update_xaxes(type="log", range=[math.log10(edges[0]), math.log10(edges[-1])],
                     tickvals=sizes, ticktext=[f"{s:g}" for s in sizes], title_text=SIZE_AXIS)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[str(d) for d in widths])
    fig.update_yaxes(title_text="row width d (features)", col=1)
    fig.update_layout(coloraxis=dict(colorscale="RdBu", cmid=0, cmin=-limit, cmax=limit,
                                     colorbar=dict(title="speedup", tickvals=ticks, ticktext=labels)))
    return layout(fig, title=f"{crossover_title(first['method'], first['bits'], first['baseline'])}: "
                             "speedup over size × row width", showlegend=False)


def ceiling_figure(ceilings):
    """The ceiling beside the crossover map: share of the machine's read bandwidth each side's epoch
    draws (%, bars per problem size in MiB, low precision beside its baseline), one panel per
    machine; the title gives the bytes ratio (the speedup a bandwidth-bound epoch could reach).

    ceilings: `data.speedups.ceilings` (one selection, not empty).
    """
    table = ceilings.assign(panel=_panels(ceilings), percent=100 * ceilings["share"],
                            size=ceilings["size_mb"].map(lambda v: f"{v:g}"))
    sides = [s for s in (LOW_SIDE, BASELINE_SIDE) if s in set(table["side"])]
    order = table.drop_duplicates("side").set_index("side").loc[sides, "label"].tolist()
    fig = px.bar(table, x="size", y="percent", color="label", facet_col="panel", barmode="group",
                 category_orders={"panel": sorted(table["panel"].unique()), "label": order,
                                  "size": [f"{v:g}" for v in sorted(table["size_mb"].unique())]},
                 hover_data={"env": True, "commit_short": True, "panel": False},
                 labels={"percent": "share of read bandwidth (%)", "size": SIZE_AXIS,
                         "label": "solver", "commit_short": "commit"})
    facet_titles(fig)
    return layout(fig, title=f"Ceiling {table['bytes_ratio'].iloc[0]:g}× (bytes moved); bandwidth share",
                  legend=dict(orientation="h", y=-0.3, title_text=""))


def file_panels(table):
    """Panel of each row of `data.speedups.file_speedups`: the problem and machine ('a9a on zen5'),
    with the short environment name where a machine ran in several."""
    return table["problem"].astype(str) + " on " + _panels(table)


def file_speedup_figure(table):
    """Speedup on the user's file problems: bars per bit width or float format (a category axis in
    `results.mixed_key` order), one colour per comparison ('HALP / SVRG fp32'), one panel per problem
    and machine (`file_panels`), a dotted line at 1× (above it the low-precision solver is faster);
    environment and commit in the tooltip.

    table: `data.speedups.file_speedups` (not empty)."""
    table = _with_precision(table).assign(panel=file_panels(table))
    order = precision_labels(table["bits"])
    fig = px.bar(table, x="precision", y="speedup", color="comparison", barmode="group", facet_col="panel",
                 facet_col_wrap=min(3, table["panel"].nunique()),
                 category_orders={"precision": order, "comparison": list(dict.fromkeys(table["comparison"])),
                                  "panel": sorted(table["panel"].unique())},
                 hover_data={"env": True, "commit_short": True, "panel": False},
                 labels={"speedup": "speedup (×)", "precision": "bit width or float format",
                         "comparison": "low precision / baseline", "commit_short": "commit"})
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    facet_titles(fig)
    return layout(fig, title="Speedup on your problems")
