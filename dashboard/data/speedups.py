"""Tables of the Speedups page: low-precision solvers against their full-precision baseline, from
the tidy frame of `results.load_results` (plain pandas, no Streamlit).

Ratios are new / old as asv stores them; a speedup is old / new, so above 1 is faster. The `bits`
column holds the low-precision side's precision as asv stores it: a bit width (int) or a float
format's name ('bf16', 'fp16', 'fp8-e4m3', 'fp8-e5m2'), sorted with `results.mixed_key`.

The crossover map (`crossover`, `speedup_range`, `ceilings`, `caches`): where the low-precision
solver stops paying, over problem size × row width, beside its ceiling (the ratio of bytes one
epoch moves, `bytes_ratio`) and the bandwidth each solver draws from the machine's.

Your problems (`file_speedups`, `file_problems`): the same speedups on the problems of the user's
files (`./run bench --file`, FILE_SPEEDUP).
"""

import numpy as np
import pandas as pd
from halp_bench.machine import CACHE_FIELDS
from halp_core import fixed_point, float_formats, registry
from halp_core.solvers.full_precision import DTYPES

from dashboard.benchmarks import (EPOCH_TIME, FILE_SPEEDUP, FIXED_POINT_DATA_BITS, FRACTION,
                                  FRACTION_SOLVER, PARAM_NAMES, SIZE_PRECISION, SPEEDUP,
                                  SPEEDUP_METHODS, WIDTH, WIDTH_BEFORE_AXIS)
from dashboard.results import mixed_order, newest_ok, param_table, precision_label

BASELINE_SOLVERS = {registry.spec(registry.spec(m).baseline).label: m for m in SPEEDUP_METHODS}
"""Label of a full-precision baseline solver -> the low-precision method track_speedup compares with
it, from halp_core's registry ({'SVRG': 'halp', 'SGD': 'lp-sgd'})."""

SPEEDUP_COLUMNS = ["machine", "env", "commit_short", "measure", "bits", "size_mb", WIDTH, "speedup",
                   "speedup_low", "speedup_high"]
RATIO = "within-process ratio"
EPOCH_TIMES = "epoch times (99% CI)"


def _with_width(rows):
    """`rows` (a `param_table` of SPEEDUP or EPOCH_TIME) with a WIDTH column: results measured
    before the width was a parameter read as WIDTH_BEFORE_AXIS."""
    width = rows[WIDTH] if WIDTH in rows else pd.Series(index=rows.index, dtype=object)
    return rows.assign(**{WIDTH: width.where(width.notna(), WIDTH_BEFORE_AXIS).astype("int64")})


def _newest_with_width(frame, benchmark):
    """`newest_ok` rows of `benchmark` (SPEEDUP or EPOCH_TIME) with a WIDTH column (`_with_width`)."""
    rows = newest_ok(frame, benchmark, [n for n in PARAM_NAMES[benchmark] if n != WIDTH])
    return None if rows is None else _with_width(rows)


def ratio_speedups(frame, method, baseline):
    """Speedups from track_speedup: 1 / stored ratio (its interval inverted where asv stored one)."""
    rows = _newest_with_width(frame, SPEEDUP)
    if rows is None:
        return pd.DataFrame(columns=SPEEDUP_COLUMNS)
    rows = rows[(rows["method"] == method) & (rows["baseline"] == baseline)]
    return rows.assign(measure=RATIO, speedup=1.0 / rows["value"], speedup_low=1.0 / rows["ci_high"],
                       speedup_high=1.0 / rows["ci_low"])[SPEEDUP_COLUMNS]


def is_low_precision(precision):
    """Whether a precision parameter value is a low-precision one: a bit width (an int, numpy's too) or the name of
    a float format of halp_core's registry ('bf16', ...), not 'fp32' / 'fp64'."""
    return (isinstance(precision, (int, np.integer)) and not isinstance(precision, bool)) or \
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


CROSSOVER_COLUMNS = ["machine", "env", "commit_short", "method", "bits", "baseline", "size_mb", WIDTH,
                     "speedup", "pays"]
CEILING_COLUMNS = ["machine", "env", "commit_short", "size_mb", "solver", "label", "side", "share",
                   "bytes_ratio"]
RANGE_COLUMNS = ["machine", "env", "commit_short", "least", "least_size_mb", "least_d", "most",
                 "most_size_mb", "most_d", "paying", "shapes"]
LOW_SIDE, BASELINE_SIDE = "low precision", "baseline"
"""Values of `ceilings`' side column."""


def _check_selection(method, bits, baseline):
    """ValueError unless (method, bits, baseline) is a selection track_speedup can hold."""
    if method not in SPEEDUP_METHODS:
        raise ValueError(f"method must be one of {', '.join(SPEEDUP_METHODS)}, got {method!r}")
    if baseline not in DTYPES:
        raise ValueError(f"baseline must be one of {', '.join(DTYPES)}, got {baseline!r}")
    if not is_low_precision(bits):
        raise ValueError(f"bits must be a bit width (int) or a float format of halp_core's "
                         f"registry ({', '.join(registry.FORMATS)}), got {bits!r}")


def data_bytes(precision):
    """Bytes of one data element in the copy a track_speedup run at `precision` reads: the float32
    / float64 copy at 'fp32' / 'fp64' (halp_core's full-precision DTYPES), the format's storage at a
    float format (`float_formats.storage_dtype`), the storage of FIXED_POINT_DATA_BITS-bit data
    (int8) at any bit width. ValueError for anything else."""
    return data_dtype(precision).itemsize


def data_dtype(precision):
    """The numpy dtype of the data a track_speedup run at `precision` reads (see `data_bytes`)."""
    if precision in DTYPES:
        return np.dtype(DTYPES[precision])
    if precision in registry.FORMATS:
        return float_formats.storage_dtype(precision)
    if is_low_precision(precision) or str(precision).isdigit():   # some files write a width as text
        return fixed_point.storage_dtype(FIXED_POINT_DATA_BITS)
    raise ValueError(f"{precision!r} is neither a full precision ({', '.join(DTYPES)}), a bit "
                     f"width nor a float format ({', '.join(registry.FORMATS)})")


def data_label(precision):
    """Short name of the data a run at `precision` reads: 'int8' at a bit width, the format's name
    ('bf16'), 'fp32' / 'fp64' for the baselines."""
    return precision if isinstance(precision, str) else data_dtype(precision).name


def bytes_ratio(bits, baseline):
    """The ceiling of a speedup on a bandwidth-bound epoch: bytes the baseline's epoch moves per data
    element over the low-precision one's (both read the data the same number of times per epoch),
    e.g. 4.0 for 8 bits (int8 data) against 'fp32', 2.0 for 'bf16' against 'fp32'."""
    return data_bytes(baseline) / data_bytes(bits)


def size_of_copy_mib(size_mb, precision):
    """MiB of the data copy a run at `precision` reads in the problem of `size_mb` (MiB of
    SIZE_PRECISION data): size_mb × data_bytes(precision) / data_bytes(SIZE_PRECISION)."""
    return size_mb * data_bytes(precision) / data_bytes(SIZE_PRECISION)


def crossover(frame, method, bits, baseline):
    """The crossover map's table: speedup of `method` ('halp' / 'lp-sgd') at `bits` (a bit width or
    float format) over its registry baseline at `baseline` ('fp32' / 'fp64'), at every problem size
    (size_mb, MiB of SIZE_PRECISION data) × row width (WIDTH, features) measured, per machine × env.

    Each machine × env's newest commit with an ok track_speedup value of this selection (a commit
    measured in the quick profile may lack some bit widths; the commit is in commit_short).
    speedup = 1 / track_speedup's stored ratio (dimensionless; above 1 the low-precision epoch is
    faster); pays: speedup >= 1. Results measured before the width was a parameter read as
    WIDTH_BEFORE_AXIS. Columns CROSSOVER_COLUMNS, one row per shape, sorted by machine, env,
    size_mb, WIDTH; empty when nothing matches. ValueError for a selection track_speedup cannot hold.
    """
    _check_selection(method, bits, baseline)
    rows = frame[(frame["benchmark"] == SPEEDUP) & (frame["status"] == "ok")]
    needed = {"method", "bits", "baseline", "size_mb"}
    rows = param_table(rows) if not rows.empty else rows
    if rows.empty or not needed <= set(rows):
        return pd.DataFrame(columns=CROSSOVER_COLUMNS)
    label = precision_label(bits)   # a width some files write as text ('8') is the same width
    rows = rows[(rows["method"] == method) & (rows["bits"].map(precision_label) == label)
                & (rows["baseline"] == baseline)]
    # A map needs a positive finite ratio at a numeric size and width; other stored values (0, a
    # negative number, a size written as a name) are not shapes on its axes and are left out.
    rows = _with_width(rows) if not rows.empty else rows
    if not rows.empty:
        rows = rows.assign(size_mb=pd.to_numeric(rows["size_mb"], errors="coerce"),
                           **{WIDTH: pd.to_numeric(rows[WIDTH], errors="coerce")})
        usable = np.isfinite(rows["value"]) & (rows["value"] > 0) & rows["size_mb"].notna() & rows[WIDTH].notna()
        rows = rows[usable]
        rows = rows[rows["order"] == rows.groupby(["machine", "env"])["order"].transform("max")]
    if rows.empty:
        return pd.DataFrame(columns=CROSSOVER_COLUMNS)
    speedup = 1.0 / rows["value"]
    out = rows.assign(speedup=speedup, pays=speedup >= 1)[CROSSOVER_COLUMNS]
    return out.sort_values(["machine", "env", "size_mb", WIDTH]).reset_index(drop=True)


def speedup_range(frame, method, bits, baseline):
    """How much faster `method` at `bits` is than its baseline at `baseline` on each machine × env:
    the least and the most speedup across every size and width of `crossover` (not the best case
    alone), each with where it was measured (size_mb in MiB, d in features), and how many of those
    shapes pay (speedup >= 1) of how many. Columns RANGE_COLUMNS (paying, shapes: counts), one row
    per machine × env; empty when nothing matches."""
    table = crossover(frame, method, bits, baseline)
    rows = []
    for (machine, env), group in table.groupby(["machine", "env"], sort=True):
        least, most = group.loc[group["speedup"].idxmin()], group.loc[group["speedup"].idxmax()]
        rows.append(dict(machine=machine, env=env, commit_short=group["commit_short"].iloc[0],
                         least=least["speedup"], least_size_mb=least["size_mb"], least_d=least[WIDTH],
                         most=most["speedup"], most_size_mb=most["size_mb"], most_d=most[WIDTH],
                         paying=int(group["pays"].sum()), shapes=len(group)))
    return pd.DataFrame(rows, columns=RANGE_COLUMNS)


def ceilings(frame, method, bits, baseline):
    """The ceiling beside the crossover map of (method, bits, baseline): per machine × env (newest
    commit with track_fraction_of_read) and problem size (size_mb, MiB), the share of the machine's
    read bandwidth each side's epoch draws (share: the epoch's GB/s over the read kernel's GB/s
    over the same data, dimensionless, 1 = the machine's read bandwidth), for the low-precision
    solver (side LOW_SIDE, solver e.g. 'halp-8', label 'halp 8-bit') and its baseline (BASELINE_SIDE,
    'svrg-fp32', 'svrg fp32')
    where the bandwidth suite measured them (at the default row width); bytes_ratio: `bytes_ratio`
    (bits, baseline), the speedup a bandwidth-bound epoch could reach. Columns CEILING_COLUMNS;
    empty when neither solver was measured. ValueError for a selection track_speedup cannot hold."""
    _check_selection(method, bits, baseline)
    runs = {LOW_SIDE: (method, bits), BASELINE_SIDE: (registry.spec(method).baseline, baseline)}
    names = {FRACTION_SOLVER.format(solver=s, precision=p): side for side, (s, p) in runs.items()}
    labels = {side: f"{s} {precision_label(p)}" for side, (s, p) in runs.items()}
    rows = newest_ok(frame, FRACTION, PARAM_NAMES[FRACTION])
    if rows is None:
        return pd.DataFrame(columns=CEILING_COLUMNS)
    rows = rows[rows["solver"].isin(list(names))]
    rows = rows.assign(size_mb=pd.to_numeric(rows["size_mb"], errors="coerce")).dropna(subset=["size_mb"])
    side = rows["solver"].map(names)
    out = rows.assign(side=side, label=side.map(labels), share=rows["value"],
                      bytes_ratio=bytes_ratio(bits, baseline))[CEILING_COLUMNS]
    return out.sort_values(["machine", "env", "size_mb", "side"]).reset_index(drop=True)


def caches(machines):
    """{machine: {level: bytes}} of the cache sizes machine.json records (levels 'L1d', 'L2', 'L3':
    `halp_bench.machine.CACHE_FIELDS`), from `Results.machines`; a machine without any readable
    cache field maps to {} (its map says the sizes were not recorded); the last directory read wins."""
    out = {}
    for row in machines.to_dict("records"):
        found = {}
        for level, name in CACHE_FIELDS.items():
            text = str(row.get(name, "")).strip()
            if text.isdigit() and int(text) > 0:
                found[level] = int(text)
        out[row["machine"]] = found
    return out


def measured_bits(frame, method, baseline):
    """The bit widths and float formats track_speedup has an ok value of for `method` against
    `baseline` at any commit, in `results.mixed_key` order (4, 8, 16, 'bf16', ...): the choices of
    the crossover map."""
    rows = frame[(frame["benchmark"] == SPEEDUP) & (frame["status"] == "ok")]
    rows = param_table(rows) if not rows.empty else rows
    if rows.empty or not {"method", "bits", "baseline"} <= set(rows):
        return []
    rows = rows[(rows["method"] == method) & (rows["baseline"] == baseline)]
    found = {precision_label(b): b for b in rows["bits"].sort_values(key=mixed_order)
             if is_low_precision(b)}
    return list(found.values())


FILE_COLUMNS = ["machine", "env", "commit_short", "problem", "comparison", "method", "baseline", "bits",
                "speedup"]


def comparison_label(method, baseline):
    """'HALP / SVRG fp32': `method` against its registry baseline solver at `baseline`, by registry labels."""
    spec = registry.spec(method)
    return f"{spec.label} / {registry.spec(spec.baseline).label} {baseline}"


def file_speedups(frame):
    """Speedups on the problems of the user's files (FILE_SPEEDUP, `./run bench --file`): for each
    problem, each machine × env's newest commit that measured it, every method at every bit width
    and float format over its registry baseline at each baseline precision.

    speedup = 1 / the stored within-process ratio (dimensionless; above 1 the low-precision epoch is
    faster); values that are not a positive finite ratio are left out. comparison: `comparison_label`.
    Columns FILE_COLUMNS, sorted by machine, env, problem, method, baseline and bits (`results.mixed_key`
    order); empty when there are none (or asv's parameter names are unknown)."""
    rows = frame[(frame["benchmark"] == FILE_SPEEDUP) & (frame["status"] == "ok")]
    rows = param_table(rows) if not rows.empty else rows
    if rows.empty or not set(PARAM_NAMES[FILE_SPEEDUP]) <= set(rows):
        return pd.DataFrame(columns=FILE_COLUMNS)
    rows = rows[np.isfinite(rows["value"]) & (rows["value"] > 0) & rows["method"].isin(SPEEDUP_METHODS)]
    rows = rows[rows["order"] == rows.groupby(["machine", "env", "problem"])["order"].transform("max")]
    if rows.empty:
        return pd.DataFrame(columns=FILE_COLUMNS)
    labels = [comparison_label(m, b) for m, b in zip(rows["method"], rows["baseline"])]
    out = rows.assign(comparison=labels, speedup=1.0 / rows["value"])[FILE_COLUMNS]
    return (out.sort_values(["machine", "env", "problem", "method", "baseline", "bits"], key=mixed_order)
            .reset_index(drop=True))


def file_problems(frame):
    """The problems of the user's files with a FILE_SPEEDUP value in `frame` (`file_speedups`), sorted."""
    return sorted(file_speedups(frame)["problem"].astype(str).unique())


def file_speedup_table(table):
    """The table of `file_speedups` as the Speedups page and the report show it: machine, env, problem,
    comparison, bits (its label: '8-bit', 'bf16'), speedup, commit_short."""
    return table.assign(bits=table["bits"].map(precision_label))[
        ["machine", "env", "problem", "comparison", "bits", "speedup", "commit_short"]]
