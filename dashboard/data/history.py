"""Tables of the History page ("History and regressions"): every benchmark over commits, asv's step
detection, latest vs baseline and two-commit comparison, from the tidy frame of
`results.load_results` (plain pandas, no Streamlit).

Every function takes that frame (see `results.COLUMNS`) and returns a new pandas DataFrame; none
mutates its input. Ratios are new / old, so for every asv benchmark a ratio above 1 means worse
(asv treats higher as worse for every benchmark type).
"""

import math
from functools import lru_cache
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from asv.step_detect import detect_regressions, detect_steps

from dashboard.pages import PAGES
from dashboard.results import SERIES

CHANGES = ("worse", "better", "not significant", "failed", "fixed", "incomparable", "not reached",
           "unchanged")
"""Every `change` value of `compare_commits`."""


PAGE_PATH = next(url for path, _, url in PAGES if path == "views/history.py")
"""The History page's URL path (dashboard.pages)."""
QUERY = ("benchmark", "params", "machine")
"""Query parameters of the History page's URL that preselect one series in "One benchmark over
commits" (`series_link` writes them, `preselected` reads them)."""


def series_link(benchmark, params, machine):
    """The link to one series on the History page: its URL path with the QUERY parameters, e.g.
    'history?benchmark=<suite.Class.name>&params=<key>&machine=<machine>' (URL-encoded), relative, so
    it opens the page from any page of the app whatever the server's address."""
    return f"{PAGE_PATH}?" + urlencode(dict(zip(QUERY, (benchmark, params, machine))))


def with_series_links(table, column="series"):
    """`table` (columns benchmark, params, machine) with a column of their `series_link`s."""
    links = [series_link(*key) for key in table[list(QUERY)].itertuples(index=False, name=None)]
    return table.assign(**{column: links})


def preselected(query, frame):
    """{name: value} of the QUERY parameters in `query` (a mapping, e.g. st.query_params) that name
    something `frame` holds: a benchmark, then params and machine of that benchmark; the others,
    and anything unknown, are left out (the page then uses its defaults)."""
    out = {}
    benchmark = query.get("benchmark")
    rows = frame[frame["benchmark"] == benchmark] if benchmark is not None else frame.iloc[:0]
    if rows.empty:
        return out
    out["benchmark"] = benchmark
    for name in ("params", "machine"):
        value = query.get(name)
        if value is not None and (rows[name] == value).any():
            out[name] = value
    return out


def series(frame, benchmark, params=None):
    """Rows of one benchmark (optionally only the param keys in `params`), sorted by series then commit order."""
    rows = frame[frame["benchmark"] == benchmark]
    if params is not None:
        rows = rows[rows["params"].isin(params)]
    return rows.sort_values(SERIES + ["order"]).reset_index(drop=True)


def comparable_rows(frame):
    """ok rows whose benchmark version is the newest one of their series (values comparable along it)."""
    rows = frame[frame["status"] == "ok"].sort_values(SERIES + ["order"])
    newest = rows.groupby(SERIES)["version"].transform("last")
    return rows[rows["version"] == newest]


def finite_rows(rows):
    """`rows` whose value is finite: +inf (a target not reached) never enters a ratio or step detection."""
    return rows[np.isfinite(rows["value"].to_numpy(dtype="float64"))]


def _may_regress(rows, threshold):
    """Row mask of `rows` (finite, sorted by SERIES + order): True for every row of a series where
    some value exceeds an earlier one, y_j > y_i + max(0, threshold * y_i) for i < j.

    asv's step values are medians of segments (within each segment's range) and a regression needs
    a later level above an earlier one by more than max(error, threshold * level), so a series
    without such a pair cannot hold a regression: step detection is skipped for it.
    """
    keys = [rows[c] for c in SERIES]
    before = rows.groupby(keys, sort=False)["value"].cummin().groupby(keys, sort=False).shift(1)
    rises = rows["value"] > before + np.maximum(0.0, max(threshold, 0.0) * before)
    return rises.groupby(keys, sort=False).transform("any")


@lru_cache(maxsize=8192)
def detected_steps(values):
    """asv's `detect_steps` of a tuple of finite values, memoized (the slider's threshold only
    changes `detect_regressions`, which is cheap)."""
    return detect_steps(list(values))


def step_regressions(frame, threshold=0.05):
    """Regressions found by asv's step detection, one row per upward step of a series.

    Only finite values of the series' newest benchmark version are compared (infinite ones, a
    target not reached, are listed by `not_reached`, never as a step). Detection runs only on
    series with a rise larger than `threshold` (see `_may_regress`), so at least two finite values.
    Columns: machine, env, benchmark, params, unit, last_good / first_bad (commit_short),
    value_before, value_after (the best value after the step) and ratio (= value_after /
    value_before, > 1 is worse; NaN unless value_before > 0).
    """
    rows = finite_rows(comparable_rows(frame))
    cols = SERIES + ["unit", "last_good", "first_bad", "value_before", "value_after", "ratio"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for key, part in rows[_may_regress(rows, threshold)].groupby(SERIES, sort=False):
        _, _, found = detect_regressions(detected_steps(tuple(part["value"])), threshold=threshold)
        for before, after, v_before, v_after in found or []:
            out.append(dict(zip(SERIES, key), unit=part["unit"].iloc[0],
                            last_good=part["commit_short"].iloc[before],
                            first_bad=part["commit_short"].iloc[after],
                            value_before=v_before, value_after=v_after,
                            ratio=v_after / v_before if v_before > 0 else math.nan))
    return pd.DataFrame(out, columns=cols).sort_values("ratio", ascending=False).reset_index(drop=True)


def not_reached(frame):
    """Series whose newest value (of the newest benchmark version) is not finite: asv stored
    Infinity, e.g. a time to a target the solver never reached. Columns: machine, env, benchmark,
    params, unit, latest_commit (commit_short), value, last_finite (the newest finite value, NaN
    when there is none) and last_finite_commit."""
    rows = comparable_rows(frame)
    last = rows.groupby(SERIES, sort=False).tail(1)
    last = last[~np.isfinite(last["value"].to_numpy(dtype="float64"))]
    finite = finite_rows(rows).groupby(SERIES, sort=False).tail(1)[SERIES + ["commit_short", "value"]]
    out = last[SERIES + ["unit", "commit_short", "value"]].merge(
        finite.rename(columns={"commit_short": "last_finite_commit", "value": "last_finite"}),
        on=SERIES, how="left")
    out = out.rename(columns={"commit_short": "latest_commit"})
    return out[SERIES + ["unit", "latest_commit", "value", "last_finite", "last_finite_commit"]].reset_index(drop=True)


def latest_vs_baseline(frame, baseline_commit=None):
    """Per series: newest finite value / finite value at `baseline_commit` (full hash; default the
    series' oldest commit).

    Only finite values of the series' newest benchmark version are used (see `not_reached` for
    the others). Columns: machine, env, benchmark, params, unit, baseline_commit, latest_commit
    (commit_short), baseline, latest, ratio (> 1 worse; NaN unless baseline > 0). Series whose
    newest commit is the baseline itself (nothing to compare) are left out.
    """
    rows = finite_rows(comparable_rows(frame))
    if baseline_commit is None:
        base = rows.groupby(SERIES, sort=False).head(1)
    else:
        base = rows[rows["commit"] == baseline_commit]
    last = rows.groupby(SERIES, sort=False).tail(1)
    keep = SERIES + ["unit", "commit_short", "value"]
    out = base[keep].merge(last[keep], on=SERIES + ["unit"], suffixes=("_base", "_last"))
    out = out.rename(columns={"commit_short_base": "baseline_commit", "commit_short_last": "latest_commit",
                              "value_base": "baseline", "value_last": "latest"})
    out["ratio"] = (out["latest"] / out["baseline"]).where(out["baseline"] > 0)
    return out[out["baseline_commit"] != out["latest_commit"]].reset_index(drop=True)


def compare_commits(frame, commit_a, commit_b, factor=1.1):
    """Two-commit comparison like `asv compare A B`, for every machine × env that measured both.

    A difference is significant when the two 99% confidence intervals do not overlap (asv's test
    without raw samples); where asv stored no interval, the factor alone decides, as in asv.
    change: 'worse' (ratio > factor, significant), 'better' (ratio < 1/factor, significant),
    'not significant' (beyond the factor, intervals overlap), 'unchanged', 'failed' (ok in A,
    failed in B), 'fixed' (failed in A, ok in B), 'incomparable' (benchmark version changed),
    'not reached' (a value is infinite, e.g. a target not reached: no ratio).
    Columns: machine, env, benchmark, params, unit, value_a, value_b, ratio (= B / A),
    significant, change.
    """
    keep = SERIES + ["unit", "version", "status", "value", "ci_low", "ci_high"]
    a = frame.loc[frame["commit"] == commit_a, keep]
    b = frame.loc[frame["commit"] == commit_b, keep]
    both = a.merge(b, on=SERIES, suffixes=("_a", "_b"))
    both = both[(both["status_a"] != "skipped") | (both["status_b"] != "skipped")]
    ratio = both["value_b"] / both["value_a"]
    no_ci = both[["ci_low_a", "ci_high_a", "ci_low_b", "ci_high_b"]].isna().any(axis=1)
    apart = (both["ci_high_a"] < both["ci_low_b"]) | (both["ci_high_b"] < both["ci_low_a"])
    significant = no_ci | apart
    beyond = (ratio > factor) | (ratio < 1 / factor)
    ok_a, ok_b = both["status_a"] == "ok", both["status_b"] == "ok"
    infinite = ok_a & ok_b & ~(np.isfinite(both["value_a"]) & np.isfinite(both["value_b"]))
    ratio = ratio.where(~infinite)
    change = np.select(
        [both["version_a"] != both["version_b"], ok_a & ~ok_b, ~ok_a & ok_b, ~ok_a & ~ok_b, infinite,
         beyond & ~significant, (ratio > factor) & significant, (ratio < 1 / factor) & significant],
        ["incomparable", "failed", "fixed", "failed", "not reached", "not significant", "worse", "better"],
        default="unchanged",
    )
    out = both[SERIES].copy()
    out["unit"] = both["unit_b"]
    out["value_a"], out["value_b"], out["ratio"] = both["value_a"], both["value_b"], ratio
    out["significant"] = significant & ok_a & ok_b & ~infinite
    out["change"] = change
    return out.sort_values("ratio", ascending=False, na_position="last").reset_index(drop=True)
