"""Tables of the Performance page ("Bandwidth and threads"), from the tidy frame of
`results.load_results` (plain pandas, no Streamlit).

Unlike asv's reading, higher is *better* for everything here: GB/s, the fraction of read bandwidth
and the thread speedup.
"""

import pandas as pd
from halp_core import registry

from dashboard.benchmarks import EPOCH_GBPS, FRACTION, GOAL_SOLVER, PARAM_NAMES, READ_GBPS, THREAD_TIME
from dashboard.results import mixed_key, mixed_order, newest_ok, precision_label

READ_LABEL = "read kernel (limit)"
"""`solver` value of the read-kernel rows of `bandwidth`."""
GOAL_FRACTION = 0.5
"""The project's goal: HALP-8 (GOAL_SOLVER) streams its int8 data at >= 50% of the read bandwidth."""
THREADS = (1, 2, 4, 8)
"""Thread counts of bench_threads (counts above a machine's Numba threads are skipped there)."""
CONTROL_SOLVERS = tuple(name for name, spec in registry.SPECS.items() if not spec.variance_reduced)
"""Solvers without a full-gradient pass (sgd, lp-sgd): threads cannot speed them up (a flat control)."""
PARALLEL_SOLVERS = tuple(name for name, spec in registry.SPECS.items() if spec.variance_reduced)
"""Solvers whose full-gradient pass threads parallelize (svrg, lp-svrg, halp)."""

BANDWIDTH_COLUMNS = ["machine", "env", "commit_short", "solver", "size_mb", "gbps"]
FRACTION_COLUMNS = ["machine", "env", "commit_short", "solver", "size_mb", "fraction", "meets_goal"]
GOAL_COLUMNS = ["machine", "env", "commit_short", "size_mb", "fraction", "meets_goal"]
SCALING_COLUMNS = ["machine", "env", "commit_short", "solver", "precision", "label", "control", "threads",
                   "seconds", "ci_low", "ci_high", "speedup", "speedup_low", "speedup_high"]


def bandwidth(frame):
    """GB/s (1e9 bytes/s) each solver's epochs stream (`track_epoch_gbps`) and, as solver
    READ_LABEL, the read kernel's GB/s (`track_read_gbps`, the limit), per size; each benchmark at
    its machine × env's newest commit. Columns: BANDWIDTH_COLUMNS (solver e.g. 'halp-8')."""
    parts = []
    epoch = newest_ok(frame, EPOCH_GBPS, PARAM_NAMES[EPOCH_GBPS])
    if epoch is not None:
        parts.append(epoch.assign(gbps=epoch["value"])[BANDWIDTH_COLUMNS])
    read = newest_ok(frame, READ_GBPS, PARAM_NAMES[READ_GBPS])
    if read is not None:
        parts.append(read.assign(solver=READ_LABEL, gbps=read["value"])[BANDWIDTH_COLUMNS])
    if not parts:
        return pd.DataFrame(columns=BANDWIDTH_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["machine", "env", "solver", "size_mb"], key=mixed_order).reset_index(drop=True)


def fraction_of_read(frame, goal=GOAL_FRACTION):
    """Each solver's epoch GB/s over the read kernel's GB/s on its own data (`track_fraction_of_read`,
    the two interleaved in one process), per size, at each machine × env's newest commit.
    Columns: FRACTION_COLUMNS; meets_goal is fraction >= `goal`."""
    rows = newest_ok(frame, FRACTION, PARAM_NAMES[FRACTION])
    if rows is None:
        return pd.DataFrame(columns=FRACTION_COLUMNS)
    out = rows.assign(fraction=rows["value"], meets_goal=rows["value"] >= goal)[FRACTION_COLUMNS]
    return out.sort_values(["machine", "env", "solver", "size_mb"], key=mixed_order).reset_index(drop=True)


def goal(fractions, solver=GOAL_SOLVER):
    """The goal's rows of `fraction_of_read` output: `solver` (HALP-8) per machine × env × size.
    Columns: GOAL_COLUMNS."""
    rows = fractions[fractions["solver"] == solver]
    return rows[GOAL_COLUMNS].sort_values(["machine", "env", "size_mb"], key=mixed_order).reset_index(drop=True)


def thread_scaling(frame):
    """Seconds per epoch (`ThreadScaling.time_epoch`) per solver × precision × thread count at each
    machine × env's newest commit, with the speedup t(1 thread) / t(k threads).

    Thread counts asv skipped (above the machine's Numba threads) and invalid solver/precision
    pairs are absent. speedup_low / speedup_high: the conservative interval
    [t1_low / tk_high, t1_high / tk_low] from the two 99% intervals (NaN where asv stored none;
    1 at 1 thread, where the speedup is 1 by definition); speedup is NaN where the 1-thread time is
    missing. control: the solver has no full-gradient
    pass (sgd, lp-sgd), so threads should not change it. Columns: SCALING_COLUMNS; label e.g.
    'halp 8-bit'.
    """
    rows = newest_ok(frame, THREAD_TIME, PARAM_NAMES[THREAD_TIME])
    if rows is None:
        return pd.DataFrame(columns=SCALING_COLUMNS)
    rows = rows.assign(seconds=rows["value"], precision_key=rows["precision"].astype(str))
    key = ["machine", "env", "commit_short", "solver", "precision_key"]
    one = rows.loc[rows["threads"] == 1, key + ["seconds", "ci_low", "ci_high"]]
    both = rows.merge(one, on=key, how="left", suffixes=("", "_1"))
    both = both.assign(
        label=both["solver"].astype(str) + " " + both["precision"].map(precision_label),
        control=both["solver"].isin(CONTROL_SOLVERS),
        speedup=both["seconds_1"] / both["seconds"],
        speedup_low=both["ci_low_1"] / both["ci_high"],
        speedup_high=both["ci_high_1"] / both["ci_low"],
    )
    single = both["threads"] == 1  # t(1) / t(1) is 1 exactly, whatever the interval of t(1)
    both.loc[single & both["speedup"].notna(), ["speedup_low", "speedup_high"]] = 1.0
    out = both[SCALING_COLUMNS].sort_values(["machine", "env", "label", "threads"], key=mixed_order)
    for col in ("seconds", "ci_low", "ci_high", "speedup", "speedup_low", "speedup_high"):
        out[col] = out[col].astype("float64")
    return out.reset_index(drop=True)


def seconds_table(scaling):
    """Seconds per epoch, one row per machine × env × solver × precision, one column per thread
    count ('1 thread', '2 threads', ...; empty where not measured). `scaling`: `thread_scaling`."""
    index = ["machine", "env", "commit_short", "label"]
    if scaling.empty:
        return pd.DataFrame(columns=index)
    # thread counts as text: a file that writes them as names ("2") joins the one that writes 2
    threads = scaling.assign(threads=scaling["threads"].map(str))
    table = threads.pivot_table(index=index, columns="threads", values="seconds", aggfunc="first")
    table = table[sorted(table.columns, key=mixed_key)]
    table.columns = [f"{t} thread" + ("s" if t != "1" else "") for t in table.columns]
    return table.reset_index()


def missing_threads(scaling, threads=THREADS):
    """Per machine × env: the thread counts of `threads` with no result at the newest commit (asv
    skipped them: more than the machine's Numba threads). Columns: machine, env, missing (list)."""
    out = []
    for (machine, env), part in scaling.groupby(["machine", "env"], sort=True):
        missing = [t for t in threads if t not in set(part["threads"])]
        if missing:
            out.append(dict(machine=machine, env=env, missing=missing))
    return pd.DataFrame(out, columns=["machine", "env", "missing"])


def machines_without(frame, benchmark):
    """Machines of `frame` with no ok result of `benchmark` (sorted)."""
    have = set(frame.loc[(frame["benchmark"] == benchmark) & (frame["status"] == "ok"), "machine"])
    return sorted(set(frame["machine"]) - have)

