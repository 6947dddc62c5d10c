"""The one theme of the dashboard's figures and the helpers several pages' figures share (no Streamlit).

Every figure module finishes its figures with `layout`, so every page draws with TEMPLATE;
`ui.plot` shows them with that template instead of Streamlit's theme.
"""

TEMPLATE = "plotly_white"
"""Plotly template of every figure."""
MAX_SERIES = 8
"""At most this many series in one panel by default; a page offers a selector for the rest."""
MAX_ROTATED_LABEL = 20
"""Longest tick label (characters) a figure may rotate; longer labels go in the tooltip."""


def default_series(options, preferred, most=MAX_SERIES):
    """The series a panel draws before a person chooses: those of `preferred` (names, in its order)
    that `options` holds, else the first of `options`; at most `most` (a list of names)."""
    have = [name for name in preferred if name in set(options)]
    return (have or list(options))[:most]


def layout(fig, **settings):
    """`fig` with the dashboard's template and the layout `settings` (title, height, ...); returns it."""
    fig.update_layout(template=TEMPLATE, **settings)
    return fig


def errors(table, value, low, high):
    """Error-bar lengths (plus, minus) of `value` from interval columns; NaN where none was stored."""
    return table[high] - table[value], table[value] - table[low]


def with_errors(table, value, low, high):
    """`table` with columns plus and minus: the error-bar lengths of `value` (see `errors`)."""
    return table.assign(**dict(zip(("plus", "minus"), errors(table, value, low, high))))


def machines_sorted(table):
    """Facet order: machines alphabetically."""
    return {"machine": sorted(table["machine"].unique())}


def env_dash(table):
    """Column to dash lines by when a machine has several envs (series are never joined across envs)."""
    return "env" if table.groupby("machine")["env"].nunique().max() > 1 else None


def facet_titles(fig):
    """Facet titles without the column name ('machine=zen5' -> 'zen5')."""
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
