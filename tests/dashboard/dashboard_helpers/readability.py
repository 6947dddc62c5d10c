"""Whether a person can read a page's figures and tables (issue 27), checked on what a page shows:
plotly figure specs as AppTest gives them (`json.loads(element.proto.spec)`: dicts with 'data' and
'layout') and the DataFrames of its tables (`at.dataframe[i].value`). Each check returns a list of
problems, one sentence each; an empty list means readable.

Words used below:
- a trace is *drawn* when its `visible` is neither False nor 'legendonly', and *has data* when one
  of its x, y, z or values arrays holds a value that is not missing (None, NaN);
- a trace is a *helper* when it is drawn only to support another: `showlegend` False and `hoverinfo`
  'skip' (the edges and fill of a band, a shaded region);
- a *series* is a drawn trace with data that is not a helper; a *panel* is one (x axis, y axis) pair
  of a figure, so each facet is its own panel and the series of a panel are the traces drawn on it;
- a *legend entry* is a trace with `showlegend` not False (and the layout's not False) and a name;
- a *categorical* x axis is one of type 'category' / 'multicategory', or of no stated type whose
  traces hold text that is neither a number nor a date; its labels are its `ticktext`, else its
  `categoryarray` and the text values of its traces;
- an *environment name* is asv's full environment string: text starting with one of ENV_PREFIXES.
"""

import base64
import json
import re

import numpy as np

from dashboard.figures.style import MAX_ROTATED_LABEL, MAX_SERIES
from dashboard.tables import is_empty

ENV_PREFIXES = ("virtualenv-", "existing-py")
"""How asv's environment names start; such a string belongs in a tooltip, never a label or a cell."""
DATA_KEYS = ("x", "y", "z", "values")
"""Trace attributes that hold a trace's data."""
COLOUR_SCALED = ("heatmap", "contour", "histogram2d", "surface")
"""Trace types whose colour is read from a colour bar, not a legend."""
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def values(array):
    """A plotly JSON data array as a flat list: plain lists (nested for z) or {'dtype', 'bdata'}."""
    if array is None:
        return []
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    if isinstance(array, (list, tuple)):
        return [v for item in array for v in (values(item) if isinstance(item, (list, tuple, dict)) else [item])]
    return [array]


def present(value):
    """Whether one data value is there (not None, not NaN)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def has_data(trace):
    """Whether `trace` holds at least one value that is not missing in x, y, z or values."""
    return any(present(v) for key in DATA_KEYS for v in values(trace.get(key)))


def drawn(trace):
    """Whether `trace` is drawn (visible neither False nor 'legendonly')."""
    return trace.get("visible", True) not in (False, "legendonly")


def helper(trace):
    """Whether `trace` only supports another (a band's edge or fill): no legend, no hover."""
    return trace.get("showlegend") is False and trace.get("hoverinfo") == "skip"


def series(spec):
    """The series of a figure spec: drawn traces with data that are not helpers."""
    return [t for t in spec.get("data", []) if drawn(t) and has_data(t) and not helper(t)]


def panel(trace):
    """The (x axis, y axis) pair a trace is drawn on, as the trace names them ('x', 'y2', ...)."""
    return trace.get("xaxis", "x"), trace.get("yaxis", "y")


def axis_key(ref):
    """The layout key of the axis a trace names: 'x' -> 'xaxis', 'y2' -> 'yaxis2'."""
    return ref[0] + "axis" + ref[1:]


def title_text(title):
    """Text of a plotly title given as a dict {'text': ...}, a string or nothing."""
    return (title.get("text") if isinstance(title, dict) else title) or ""


def names_env(text):
    """Whether `text` holds an environment name (a word starting with one of ENV_PREFIXES)."""
    return any(re.search(r"(^|[^\w-])" + re.escape(prefix), str(text)) for prefix in ENV_PREFIXES)


def series_problems(spec, most=MAX_SERIES):
    """Panels that draw more than `most` series."""
    return [f"panel {x}/{y} draws {n} series (at most {most})"
            for (x, y), n in series_per_panel(spec).items() if n > most]


def categorical(axis, texts):
    """Whether an x axis shows categories: its type says so, or (no type) its values are text that is
    neither a number nor a date."""
    kind = axis.get("type", "-")
    if kind in ("category", "multicategory"):
        return True
    if kind != "-":
        return False

    def word(v):
        try:
            float(v)
        except ValueError:
            return not DATE.match(v)
        return False
    return any(word(t) for t in texts)


def label_problems(spec, longest=MAX_ROTATED_LABEL):
    """Tick labels of categorical x axes longer than `longest` characters (plotly rotates crowded
    labels, and a long rotated label eats the figure)."""
    layout, found = spec.get("layout", {}), {}
    for trace in spec.get("data", []):
        texts = [str(v) for v in values(trace.get("x")) if isinstance(v, str)]
        found.setdefault(axis_key(trace.get("xaxis", "x")), []).extend(texts)
    problems = []
    for key, texts in found.items():
        axis = layout.get(key, {})
        if not categorical(axis, texts):
            continue
        labels = axis.get("ticktext") or list(axis.get("categoryarray") or []) + texts
        long = sorted({str(t) for t in labels if len(str(t)) > longest})
        if long:
            problems.append(f"{key} has tick labels longer than {longest} characters: {long[:3]}")
    return problems


def axis_title_problems(spec):
    """Axes that show data without a title (an axis that `matches` a titled axis shares its title)."""
    layout, problems = spec.get("layout", {}), []
    used = {axis_key(ref) for t in spec.get("data", []) if drawn(t) and has_data(t) for ref in panel(t)}
    for key in sorted(used):
        axis = layout.get(key, {})
        shared = axis.get("matches")
        if title_text(axis.get("title")).strip():
            continue
        if shared and title_text(layout.get(axis_key(shared), {}).get("title")).strip():
            continue
        problems.append(f"{key} shows data but has no title")
    return problems


def in_legend(trace, layout):
    """Whether `trace` has a legend entry (showlegend not False, in the trace and the layout, and a name)."""
    return trace.get("showlegend", True) is not False and layout.get("showlegend", True) is not False \
        and bool(str(trace.get("name") or "").strip())


def legend_problems(spec):
    """Legend entries without marks (a named trace with no data, nor any of its legend group), and
    series whose colour has no legend entry (neither its own nor its legend group's) in a panel of
    more than one series (a panel of one series is named by its axes and title). Traces coloured by
    a colour bar (heatmaps) are left out."""
    layout, traces = spec.get("layout", {}), spec.get("data", [])
    problems = []
    with_data = {legend_group(t) for t in traces if drawn(t) and has_data(t)}
    for trace in traces:
        if in_legend(trace, layout) and legend_group(trace) not in with_data and trace.get("visible") != "legendonly":
            problems.append(f"legend entry {trace.get('name')!r} has no marks")
    listed = {legend_group(t) for t in traces if in_legend(t, layout)}
    by_panel = {}
    for trace in series(spec):
        if trace.get("type", "scatter") not in COLOUR_SCALED:
            by_panel.setdefault(panel(trace), []).append(trace)
    missing = {str(t.get("name") or "(no name)") for shown in by_panel.values()
               if len({t.get("name") or "" for t in shown}) > 1 for t in shown if legend_group(t) not in listed}
    if missing:
        problems.append(f"series without a legend entry: {sorted(missing)[:5]}")
    return problems


def legend_group(trace):
    """What a legend entry stands for: the trace's legendgroup, else its name, else the trace itself."""
    return trace.get("legendgroup") or trace.get("name") or id(trace)


def env_problems(spec):
    """Environment names where a person reads labels: trace names (legend), axis and legend titles,
    tick labels, annotations (facet titles). Tooltips may hold them."""
    layout = spec.get("layout", {})
    texts = [t.get("name") for t in spec.get("data", [])]
    texts += [title_text(layout.get("legend", {}).get("title")), title_text(layout.get("title"))]
    texts += [a.get("text") for a in layout.get("annotations", [])]
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key):
            texts += [title_text(axis.get("title")), *(axis.get("ticktext") or []), *(axis.get("categoryarray") or [])]
    for trace in spec.get("data", []):
        texts += [v for key in ("x", "y") for v in values(trace.get(key)) if isinstance(v, str)]
    shown = sorted({str(t) for t in texts if t and names_env(t)})
    return [f"environment names in labels: {shown[:2]}"] if shown else []


def figure_problems(spec):
    """Every readability problem of one figure spec: series per panel, tick label lengths, axis
    titles, legend against marks, environment names in labels."""
    return (series_problems(spec) + label_problems(spec) + axis_title_problems(spec)
            + legend_problems(spec) + env_problems(spec))


def table_problems(frame):
    """Readability problems of one table as a page shows it: column names with underscores (raw
    names), columns with nothing in them, cells holding environment names."""
    problems = []
    names = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    raw = [n for n in names if "_" in n]
    if raw:
        problems.append(f"raw column names: {raw}")
    empty = [n for n, c in zip(names, frame.columns) if is_empty(frame[c])]
    if empty:
        problems.append(f"empty columns: {empty}")
    cells = {str(v) for c in frame.columns for v in frame[c] if isinstance(v, str) and v.startswith(ENV_PREFIXES)}
    if cells:
        problems.append(f"environment names in cells: {sorted(cells)[:2]}")
    return problems


def page_problems(at):
    """Every problem of the figures and tables an AppTest run shows, each prefixed by where it is
    (the figure's title, or the table's place on the page)."""
    problems = []
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        name = title_text(spec.get("layout", {}).get("title")) or "untitled figure"
        problems += [f"figure {name!r}: {p}" for p in figure_problems(spec)]
    for i, table in enumerate(at.dataframe):
        problems += [f"table {i + 1}: {p}" for p in table_problems(table.value)]
    return problems


def series_per_panel(spec):
    """{(x axis, y axis): number of series} of a figure spec (what `series_problems` counts)."""
    counts = {}
    for trace in series(spec):
        counts[panel(trace)] = counts.get(panel(trace), 0) + 1
    return counts
