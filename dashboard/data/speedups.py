"""Tables of the Speedups page: low-precision solvers against their full-precision baseline, from
the tidy frame of `results.load_results` (plain pandas, no Streamlit).

Ratios are new / old as asv stores them; a speedup is old / new, so above 1 is faster. The `bits`
column holds the low-precision side's precision as asv stores it: a bit width (int) or a float
format's name ('bf16', 'fp16', 'fp8-e4m3', 'fp8-e5m2'), sorted with `results.mixed_key`.
"""

import pandas as pd
from halp_core import registry

from dashboard.benchmarks import (EPOCH_TIME, PARAM_NAMES, SPEEDUP, SPEEDUP_METHODS, WIDTH,
                                  WIDTH_BEFORE_AXIS)
from dashboard.results import mixed_order, newest_ok

BASELINE_SOLVERS = {registry.spec(registry.spec(m).baseline).label: m for m in SPEEDUP_METHODS}
"""Label of a full-precision baseline solver -> the low-precision method track_speedup compares with
it, from halp_core's registry ({'SVRG': 'halp', 'SGD': 'lp-sgd'})."""

SPEEDUP_COLUMNS = ["machine", "env", "commit_short", "measure", "bits", "size_mb", WIDTH, "speedup",
                   "speedup_low", "speedup_high"]
RATIO = "within-process ratio"
EPOCH_TIMES = "epoch times (99% CI)"


def _newest_with_width(frame, benchmark):
    """`newest_ok` rows of `benchmark` (SPEEDUP or EPOCH_TIME) with a WIDTH column: results measured
    before the width was a parameter read as WIDTH_BEFORE_AXIS."""
    rows = newest_ok(frame, benchmark, [n for n in PARAM_NAMES[benchmark] if n != WIDTH])
    if rows is None:
        return None
    width = rows[WIDTH] if WIDTH in rows else pd.Series(index=rows.index, dtype=object)
    return rows.assign(**{WIDTH: width.where(width.notna(), WIDTH_BEFORE_AXIS)})


def ratio_speedups(frame, method, baseline):
    """Speedups from track_speedup: 1 / stored ratio (its interval inverted where asv stored one)."""
    rows = _newest_with_width(frame, SPEEDUP)
    if rows is None:
        return pd.DataFrame(columns=SPEEDUP_COLUMNS)
    rows = rows[(rows["method"] == method) & (rows["baseline"] == baseline)]
    return rows.assign(measure=RATIO, speedup=1.0 / rows["value"], speedup_low=1.0 / rows["ci_high"],
                       speedup_high=1.0 / rows["ci_low"])[SPEEDUP_COLUMNS]


def is_low_precision(precision):
    """Whether a precision parameter value is a low-precision one: a bit width (int) or the name of
    a float format of halp_core's registry ('bf16', ...), not 'fp32' / 'fp64'."""
    return (isinstance(precision, int) and not isinstance(precision, bool)) or \
        precision in registry.FORMATS


def _epoch_time_speedups(frame, method, baseline):
    """Speedups from time_epoch: baseline epoch time / low-precision epoch time, same commit and size
(a float format's epochs read the problem with its data in that format, the baseline's the int8
one: its float32 / float64 copy runs at the same speed either way).

    The interval [base_low / lp_high, base_high / lp_low] is conservative: it holds whenever both
    epoch times lie in their 99% intervals.
    """
    rows = _newest_with_width(frame, EPOCH_TIME)
    if rows is None:
        return pd.DataFrame(columns=SPEEDUP_COLUMNS)
    full = registry.spec(method).baseline
    key = ["machine", "env", "commit_short", "size_mb", WIDTH]
    low = rows[(rows["solver"] == method) & rows["precision"].map(is_low_precision)]
    base = rows[(rows["solver"] == full) & (rows["precision"] == baseline)]
    both = low.rename(columns={"precision": "bits"}).merge(base[key + ["value", "ci_low", "ci_high"]],
                                                          on=key, suffixes=("", "_base"))
    return both.assign(measure=EPOCH_TIMES, speedup=both["value_base"] / both["value"],
                       speedup_low=both["ci_low_base"] / both["ci_high"],
                       speedup_high=both["ci_high_base"] / both["ci_low"])[SPEEDUP_COLUMNS]


def speedups(frame, method, baseline):
    """Speedups of `method` ('halp' or 'lp-sgd') at each bit width and float format over its
    full-precision baseline at precision
    `baseline` ('fp32' / 'fp64'): its registry baseline (SVRG for halp, SGD for lp-sgd); each
    machine × env's newest commit.

    Two measures (column `measure`): RATIO, 1 / track_speedup's within-process ratio (asv stores no
    interval for track_ benchmarks, so speedup_low / speedup_high are NaN unless one was stored),
    and EPOCH_TIMES, the ratio of the absolute time_epoch times with a conservative 99% interval.
    Columns: SPEEDUP_COLUMNS; speedup is dimensionless, above 1 the low-precision solver is faster.
    """
    parts = [p for p in (ratio_speedups(frame, method, baseline), _epoch_time_speedups(frame, method, baseline))
             if not p.empty]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SPEEDUP_COLUMNS)
    return (out.sort_values(["machine", "env", "measure", "size_mb", WIDTH, "bits"], key=mixed_order)
            .reset_index(drop=True))
