"""Tables of the Convergence page: suboptimality per epoch and per second and epochs to a target,
from the tidy frame of `results.load_results` (plain pandas, no Streamlit). The page's live runs
are `dashboard.live`."""

import numpy as np
import pandas as pd

from dashboard.benchmarks import EPOCHS_TO_TARGET, SECONDS, SUBOPT, TIME_TO_TARGET
from dashboard.results import mixed_order, param_table, precision_label

NEVER = 1e6
"""Sentinel epochs_to_target value of a target never reached."""
DEFAULT_LABELS = ("svrg fp64", "svrg fp32", "halp 8-bit", "halp 16-bit", "lp-sgd 8-bit", "lp-svrg 8-bit",
                  "halp bf16", "halp fp8-e4m3")
"""Solver × precision labels the page draws before a person chooses others (at most
`figures.style.MAX_SERIES`): the full-precision baseline, each low-precision solver at 8 bits, HALP
at 16 bits and in two float formats."""


def problems(frame):
    """The `problem` values of SUBOPT in `frame`, sorted (as text: a malformed file may hold a number
    among the names)."""
    names = {v.get("problem") for v in frame.loc[frame["benchmark"] == SUBOPT, "param_values"]} - {None}
    return sorted(names, key=str)


def _solver_rows(frame, benchmark, problem, value_name):
    """ok rows of `benchmark` on `problem` with their value as `value_name` and a label such as
    'halp 8-bit' (empty, with the columns callers need, when asv's parameter names are unknown)."""
    rows = param_table(frame[(frame["benchmark"] == benchmark) & (frame["status"] == "ok")])
    if rows.empty or "problem" not in rows:
        return pd.DataFrame(columns=["machine", "env", "commit", "solver", "precision", value_name])
    rows = rows[rows["problem"] == problem].rename(columns={"value": value_name})
    rows["label"] = rows["solver"].astype(str) + " " + rows["precision"].map(precision_label)
    return rows


def convergence(frame, problem):
    """Suboptimality trajectories of every solver × precision (bit widths and float formats such as
'bf16') on `problem` ('lsq', 'logistic', 'digits'), sorted by solver, precision (bit widths in
numeric order, then the formats: `results.mixed_key`) and epoch.

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
    return (out.drop(columns="params").sort_values(["solver", "precision", "epoch"], key=mixed_order)
            .reset_index(drop=True))


def epochs_to_target(frame, problem):
    """Epochs each solver × precision needed to reach each target on `problem`.

    Columns: machine, env, commit, commit_short, order, solver, precision, label, target (str, e.g. '1e-06'),
    epochs (float; NaN where the target was never reached, i.e. asv stored the sentinel 1e6);
    sorted like `convergence`.
    """
    cols = ["machine", "env", "commit", "commit_short", "order", "solver", "precision", "label", "target",
            "epochs"]
    rows = _solver_rows(frame, EPOCHS_TO_TARGET, problem, "epochs")
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows = rows.sort_values(["solver", "precision", "target"], key=mixed_order)[cols].copy()
    rows["epochs"] = rows["epochs"].where(rows["epochs"] < NEVER)
    rows["target"] = rows["target"].astype(str)
    return rows.reset_index(drop=True)


TIME_BASELINE = ("svrg", "fp32")
"""The run a time to accuracy is compared with (the fastest full-precision solver of the suite)."""


def time_to_target(frame, problem):
    """Solver seconds each solver × precision needed to reach each target on `problem` (the time to
    accuracy, `track_time_to_target`), and the speedup over TIME_BASELINE's time to the same target
    on the same machine, env and commit (its seconds / these; NaN where either never reached it).

    Columns: machine, env, commit, commit_short, order, solver, precision, label, target (str),
    seconds (float, +inf where never reached), speedup; sorted like `convergence`.
    """
    cols = ["machine", "env", "commit", "commit_short", "order", "solver", "precision", "label", "target",
            "seconds", "speedup"]
    rows = _solver_rows(frame, TIME_TO_TARGET, problem, "seconds")
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows = rows.assign(target=rows["target"].astype(str))
    key = ["machine", "env", "commit", "target"]
    base = rows[(rows["solver"] == TIME_BASELINE[0]) & (rows["precision"] == TIME_BASELINE[1])]
    rows = rows.merge(base[key + ["seconds"]].rename(columns={"seconds": "base"}), on=key, how="left")
    finite = np.isfinite(rows["seconds"]) & np.isfinite(rows["base"]) & (rows["seconds"] > 0)
    rows["speedup"] = (rows["base"] / rows["seconds"]).where(finite)
    rows = rows.sort_values(["solver", "precision", "target"], key=mixed_order)
    return rows[cols].reset_index(drop=True)


def time_to_target_text(table):
    """`time_to_target`'s rows as a table to read: one row per machine × label, one column per target
    ('f − f* ≤ 1e-06'), each cell '0.123 s (2.1× svrg fp32)' or 'not reached'."""
    def cell(row):
        if not np.isfinite(row["seconds"]):
            return "not reached"
        ratio = f" ({row['speedup']:.2g}× {' '.join(TIME_BASELINE)})" if np.isfinite(row["speedup"]) else ""
        return f"{row['seconds']:.3g} s{ratio}"
    if table.empty:
        return pd.DataFrame(columns=["machine", "run"])
    text = table.assign(cell=table.apply(cell, axis=1), column="f − f* ≤ " + table["target"])
    order = list(dict.fromkeys(table["label"]))
    wide = text.pivot_table(index=["machine", "label"], columns="column", values="cell", aggfunc="first")
    wide = wide.reset_index().rename(columns={"label": "run"}).rename_axis(columns=None)
    wide["run"] = pd.Categorical(wide["run"], order, ordered=True)
    return wide.sort_values(["machine", "run"]).assign(run=lambda t: t["run"].astype(str)).reset_index(drop=True)

