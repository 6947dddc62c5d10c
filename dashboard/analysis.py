"""Tables the dashboard pages show, computed from the tidy results frame (plain pandas, no Streamlit).

Every function takes the frame of `results.load_results` (see `results.COLUMNS`) and returns a new
pandas DataFrame; none mutates its input. Ratios are new / old, so for every asv benchmark a ratio
above 1 means worse (asv treats higher as worse for every benchmark type).
"""

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from asv.step_detect import detect_regressions, detect_steps

from dashboard.results import SERIES, param_table

SPEEDUP = "bench_speedup.Speedup.track_speedup"
EPOCH_TIME = "bench_epoch.EpochTime.time_epoch"
SUBOPT = "bench_convergence.Convergence.track_subopt"
SECONDS = "bench_convergence.Convergence.track_seconds"
EPOCHS_TO_TARGET = "bench_convergence.Convergence.track_epochs_to_target"

BASELINE_SOLVERS = {"SVRG": "halp", "SGD": "lp-sgd"}
"""Full-precision baseline solver -> the low-precision method track_speedup compares with it."""

CHANGES = ("worse", "better", "not significant", "failed", "fixed", "incomparable", "not reached",
           "unchanged")
"""Every `change` value of `compare_commits`."""

NEVER = 1e6
"""Sentinel epochs_to_target value of a target never reached."""


def precision_label(precision):
    """Readable precision: 'fp64' -> 'fp64', 8 -> '8-bit'."""
    return f"{precision}-bit" if isinstance(precision, int) else str(precision)


def latest(frame):
    """Rows of the newest commit measured for each (machine, env, benchmark)."""
    if frame.empty:
        return frame
    newest = frame.groupby(["machine", "env", "benchmark"])["order"].transform("max")
    return frame[frame["order"] == newest]


def status_counts(frame):
    """Number of results per machine, env and status (ok / failed / skipped), one row per machine × env."""
    counts = frame.pivot_table(index=["machine", "env"], columns="status", values="value",
                               aggfunc="size", fill_value=0)
    for status in ("ok", "failed", "skipped"):
        if status not in counts:
            counts[status] = 0
    return counts[["ok", "failed", "skipped"]].reset_index()


def failures(frame):
    """Failed results at each machine × env's newest commit: machine, env, commit_short, benchmark, params."""
    rows = latest(frame)
    rows = rows[rows["status"] == "failed"]
    return rows[["machine", "env", "commit_short", "benchmark", "params"]].reset_index(drop=True)


SPEEDUP_COLUMNS = ["machine", "env", "commit_short", "measure", "bits", "size_mb", "speedup",
                   "speedup_low", "speedup_high"]
RATIO = "within-process ratio"
EPOCH_TIMES = "epoch times (99% CI)"


def _ratio_speedups(frame, method, baseline):
    """Speedups from track_speedup: 1 / stored ratio (its interval inverted where asv stored one)."""
    rows = param_table(latest(frame[(frame["benchmark"] == SPEEDUP) & (frame["status"] == "ok")]))
    if rows.empty or not {"method", "bits", "baseline", "size_mb"} <= set(rows):
        return pd.DataFrame(columns=SPEEDUP_COLUMNS)
    rows = rows[(rows["method"] == method) & (rows["baseline"] == baseline)]
    return rows.assign(measure=RATIO, speedup=1.0 / rows["value"], speedup_low=1.0 / rows["ci_high"],
                       speedup_high=1.0 / rows["ci_low"])[SPEEDUP_COLUMNS]


def _epoch_time_speedups(frame, method, baseline):
    """Speedups from time_epoch: baseline epoch time / low-precision epoch time, same commit and size.

    The interval [base_low / lp_high, base_high / lp_low] is conservative: it holds whenever both
    epoch times lie in their 99% intervals.
    """
    rows = param_table(latest(frame[(frame["benchmark"] == EPOCH_TIME) & (frame["status"] == "ok")]))
    if rows.empty or not {"solver", "precision", "size_mb"} <= set(rows):
        return pd.DataFrame(columns=SPEEDUP_COLUMNS)
    full = {v: k for k, v in BASELINE_SOLVERS.items()}[method].lower()
    key = ["machine", "env", "commit_short", "size_mb"]
    low = rows[(rows["solver"] == method) & rows["precision"].map(lambda p: isinstance(p, int))]
    base = rows[(rows["solver"] == full) & (rows["precision"] == baseline)]
    both = low.rename(columns={"precision": "bits"}).merge(base[key + ["value", "ci_low", "ci_high"]],
                                                          on=key, suffixes=("", "_base"))
    return both.assign(measure=EPOCH_TIMES, speedup=both["value_base"] / both["value"],
                       speedup_low=both["ci_low_base"] / both["ci_high"],
                       speedup_high=both["ci_high_base"] / both["ci_low"])[SPEEDUP_COLUMNS]


def speedups(frame, method, baseline):
    """Speedups of `method` ('halp' or 'lp-sgd') over its full-precision baseline at precision
    `baseline` ('fp32' / 'fp64'): SVRG for halp, SGD for lp-sgd; each machine × env's newest commit.

    Two measures (column `measure`): RATIO, 1 / track_speedup's within-process ratio (asv stores no
    interval for track_ benchmarks, so speedup_low / speedup_high are NaN unless one was stored),
    and EPOCH_TIMES, the ratio of the absolute time_epoch times with a conservative 99% interval.
    Columns: SPEEDUP_COLUMNS; speedup is dimensionless, above 1 the low-precision solver is faster.
    """
    parts = [p for p in (_ratio_speedups(frame, method, baseline), _epoch_time_speedups(frame, method, baseline))
             if not p.empty]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SPEEDUP_COLUMNS)
    return out.sort_values(["machine", "env", "measure", "size_mb", "bits"]).reset_index(drop=True)


def headline(frame, bits=8):
    """HALP-`bits` speedup over SVRG-fp32 and SVRG-fp64 per machine × env, at the largest size measured.

    From track_speedup (the within-process ratio). Columns: machine, env, commit_short,
    baseline ('SVRG fp32' / 'SVRG fp64'), size_mb, speedup, speedup_low, speedup_high.
    """
    parts = []
    for baseline in ("fp32", "fp64"):
        table = _ratio_speedups(frame, "halp", baseline)
        table = table[table["bits"] == bits]
        largest = table.groupby(["machine", "env"])["size_mb"].transform("max")
        table = table[table["size_mb"] == largest].assign(baseline=f"SVRG {baseline}")
        parts.append(table.drop(columns=["bits", "measure"]))
    return pd.concat(parts, ignore_index=True)


def _solver_rows(frame, benchmark, problem, value_name):
    rows = param_table(frame[(frame["benchmark"] == benchmark) & (frame["status"] == "ok")])
    if rows.empty or "problem" not in rows:
        return pd.DataFrame(columns=["machine", "env", "commit", "solver", "precision", value_name])
    rows = rows[rows["problem"] == problem].rename(columns={"value": value_name})
    rows["label"] = rows["solver"].astype(str) + " " + rows["precision"].map(precision_label)
    return rows


def convergence(frame, problem):
    """Suboptimality trajectories of every solver × precision on `problem` ('lsq', 'logistic', 'digits').

    Rows from track_subopt, with the matching track_seconds joined in. Columns: machine, env,
    commit, commit_short, order, label (e.g. 'halp 8-bit'), solver, precision, epoch,
    subopt (f - f*, dimensionless) and seconds (solver time up to that epoch, NaN if not measured).
    """
    sub = _solver_rows(frame, SUBOPT, problem, "subopt")
    sec = _solver_rows(frame, SECONDS, problem, "seconds")
    cols = ["machine", "env", "commit", "commit_short", "order", "label", "solver", "precision", "epoch"]
    if sub.empty:
        return pd.DataFrame(columns=cols + ["subopt", "seconds"])
    key = ["machine", "env", "commit", "params"]
    out = sub[cols + ["params", "subopt"]].merge(sec[key + ["seconds"]] if not sec.empty else
                                                 pd.DataFrame(columns=key + ["seconds"]),
                                                 on=key, how="left")
    out["seconds"] = out["seconds"].astype("float64")
    return out.drop(columns="params").sort_values(["label", "epoch"]).reset_index(drop=True)


def epochs_to_target(frame, problem):
    """Epochs each solver × precision needed to reach each target on `problem`.

    Columns: machine, env, commit, order, label, target (str, e.g. '1e-06'), epochs (float; NaN
    where the target was never reached, i.e. asv stored the sentinel 1e6).
    """
    rows = _solver_rows(frame, EPOCHS_TO_TARGET, problem, "epochs")
    if rows.empty:
        return pd.DataFrame(columns=["machine", "env", "commit", "order", "label", "target", "epochs"])
    rows = rows[["machine", "env", "commit", "order", "label", "target", "epochs"]].copy()
    rows["epochs"] = rows["epochs"].where(rows["epochs"] < NEVER)
    rows["target"] = rows["target"].astype(str)
    return rows.reset_index(drop=True)


def series(frame, benchmark, params=None):
    """Rows of one benchmark (optionally only the param keys in `params`), sorted by series then commit order."""
    rows = frame[frame["benchmark"] == benchmark]
    if params is not None:
        rows = rows[rows["params"].isin(params)]
    return rows.sort_values(SERIES + ["order"]).reset_index(drop=True)


def _comparable(frame):
    """ok rows whose benchmark version is the newest one of their series (values comparable along it)."""
    rows = frame[frame["status"] == "ok"].sort_values(SERIES + ["order"])
    newest = rows.groupby(SERIES)["version"].transform("last")
    return rows[rows["version"] == newest]


def _finite(rows):
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
def _steps(values):
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
    rows = _finite(_comparable(frame))
    cols = SERIES + ["unit", "last_good", "first_bad", "value_before", "value_after", "ratio"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for key, part in rows[_may_regress(rows, threshold)].groupby(SERIES, sort=False):
        _, _, found = detect_regressions(_steps(tuple(part["value"])), threshold=threshold)
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
    rows = _comparable(frame)
    last = rows.groupby(SERIES, sort=False).tail(1)
    last = last[~np.isfinite(last["value"].to_numpy(dtype="float64"))]
    finite = _finite(rows).groupby(SERIES, sort=False).tail(1)[SERIES + ["commit_short", "value"]]
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
    rows = _finite(_comparable(frame))
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


def normalized_to_machine(frame, baseline_machine):
    """Each machine's newest values divided by `baseline_machine`'s, per benchmark × params × version.

    For every machine the newest ok value of each (benchmark, params) is used (any env).
    Columns: machine, benchmark, suite, params, commit_short, value, baseline_value, ratio
    (> 1: slower / worse than the baseline machine). The baseline machine's own rows have ratio 1.
    """
    rows = frame[frame["status"] == "ok"].sort_values("order")
    newest = rows.groupby(["machine", "benchmark", "params"], sort=False).tail(1)
    cols = ["machine", "benchmark", "suite", "params", "version", "commit_short", "value"]
    base = newest.loc[newest["machine"] == baseline_machine, ["benchmark", "params", "version", "value"]]
    out = newest[cols].merge(base.rename(columns={"value": "baseline_value"}),
                             on=["benchmark", "params", "version"])
    out["ratio"] = out["value"] / out["baseline_value"]
    out = out[np.isfinite(out["ratio"]) & (out["ratio"] > 0)]
    return out.drop(columns="version").sort_values(["benchmark", "params", "machine"]).reset_index(drop=True)


def geometric_means(normalized, by="suite"):
    """Geometric mean of `ratio` per machine and `by` (a column of `normalized_to_machine`'s frame)."""
    if normalized.empty:
        return pd.DataFrame(columns=["machine", by, "ratio", "count"])
    logs = normalized.assign(log=np.log(normalized["ratio"]))
    out = logs.groupby(["machine", by], sort=True).agg(log=("log", "mean"), count=("log", "size"))
    out["ratio"] = np.exp(out["log"])
    return out.drop(columns="log").reset_index()


def commit_choices(frame):
    """Commits of `frame`, newest first: DataFrame with commit, commit_short, date, order."""
    commits = frame.groupby(["commit", "commit_short"], as_index=False).agg(date=("date", "min"),
                                                                          order=("order", "min"))
    return commits.sort_values("order", ascending=False).reset_index(drop=True)

