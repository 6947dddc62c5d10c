"""What a table on a page shows: readable column names, short environment names, no empty columns
(plain pandas, no Streamlit). Every page shows its tables through `ui.table`, which calls `readable`."""

import pandas as pd

from dashboard.results import short_env

COLUMN_NAMES = {
    "commit_short": "commit", "env": "environment", "size_mb": "size (MiB)", "d": "row width d",
    "speedup": "speedup (×)", "speedup_low": "speedup, 99% low", "speedup_high": "speedup, 99% high",
    "ci_low": "99% low", "ci_high": "99% high", "num_cpu": "logical CPUs", "ram": "memory (bytes)",
    "base_commit": "from commit", "head_commit": "to commit", "last_good": "last good commit",
    "first_bad": "first bad commit", "subopt": "f − f*", "seconds": "seconds",
    "l1d_cache": "L1d cache (bytes)", "l2_cache": "L2 cache (bytes)", "l3_cache": "L3 cache (bytes)",
}
"""Raw column name -> the name a table shows; any other name shows with its underscores as spaces."""


def column_name(name):
    """The name a table shows for the raw column `name` (COLUMN_NAMES, else underscores as spaces)."""
    return COLUMN_NAMES.get(name, str(name).replace("_", " "))


def is_empty(column):
    """Whether a column holds nothing to read: every value missing (NaN, None) or blank text."""
    values = column.dropna()
    return values.empty or values.map(lambda v: isinstance(v, str) and not v.strip()).all()


def readable(table):
    """`table` as a page shows it: empty columns dropped (`is_empty`), the environment column
    shortened to `results.short_env` (dropped where every machine ran in one environment: the
    environment then tells nothing apart), columns renamed by `column_name`. A new DataFrame."""
    out = table.loc[:, [c for c in table.columns if not is_empty(table[c])]]
    if "env" in out:
        single = "machine" in out and out.groupby("machine")["env"].nunique().max() <= 1
        out = out.drop(columns="env") if single else out.assign(env=out["env"].map(short_env))
    return pd.DataFrame(out).rename(columns=column_name)
