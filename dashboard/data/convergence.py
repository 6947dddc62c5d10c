"""Tables of the Convergence page: suboptimality per epoch and per second and epochs to a target,
from the tidy frame of `results.load_results` (plain pandas, no Streamlit). The page's live runs
are `dashboard.live`."""

import pandas as pd

from dashboard.benchmarks import EPOCHS_TO_TARGET, SECONDS, SUBOPT
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
