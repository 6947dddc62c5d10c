"""Tables of the Overview page: what was measured where, what failed, and the headline speedup, from
the tidy frame of `results.load_results` (plain pandas, no Streamlit)."""

import pandas as pd
from halp_core import registry

from dashboard.benchmarks import WIDTH
from dashboard.data.speedups import ratio_speedups
from dashboard.results import STATUSES, latest, mixed_order

METHOD = "halp"
"""The headline's low-precision solver (a `method` of track_speedup)."""
BITS = 8
"""The headline's bit width."""
METHOD_LABEL = registry.spec(METHOD).label
BASELINE_LABEL = registry.spec(registry.spec(METHOD).baseline).label
"""Display names of the headline's solver and of its full-precision baseline ('HALP', 'SVRG')."""


def status_counts(frame):
    """Number of results per machine, env and status (`results.STATUSES`: ok / failed / skipped /
    invalid), one row per machine × env."""
    counts = frame.pivot_table(index=["machine", "env"], columns="status", values="value",
                               aggfunc="size", fill_value=0)
    for status in STATUSES:
        if status not in counts:
            counts[status] = 0
    return counts[list(STATUSES)].reset_index()


def failures(frame):
    """Failed results at each machine × env's newest commit: machine, env, commit_short, benchmark, params."""
    rows = latest(frame)
    rows = rows[rows["status"] == "failed"]
    return rows[["machine", "env", "commit_short", "benchmark", "params"]].reset_index(drop=True)


def headline(frame, bits=BITS):
    """HALP-`bits` speedup over SVRG-fp32 and SVRG-fp64 at every problem size and row width measured,
    per machine × env (newest commit), from track_speedup (the within-process ratio).

    Columns: machine, env, commit_short, baseline ('SVRG fp32' / 'SVRG fp64'), size_mb, d, speedup,
    speedup_low, speedup_high; sorted by machine, env, baseline, size and width.
    """
    parts = []
    for baseline in ("fp32", "fp64"):
        table = ratio_speedups(frame, METHOD, baseline)
        table = table[table["bits"] == bits].assign(baseline=f"{BASELINE_LABEL} {baseline}")
        parts.append(table.drop(columns=["bits", "measure"]))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["machine", "env", "baseline", "size_mb", WIDTH], key=mixed_order).reset_index(drop=True)
