"""Tables of the Machines page: each machine's results relative to a baseline machine, from the tidy
frame of `results.load_results` (plain pandas, no Streamlit)."""

import numpy as np
import pandas as pd

from dashboard.tables import column_name

MISSING = "—"
"""What the specs table shows where a machine did not record a spec."""


def specs(machines):
    """The machines' specs side by side: one row per spec a machine recorded (column `spec`, named as
    a table names columns: `tables.column_name`, e.g. 'logical CPUs'), one column per machine (the
    newest machine.json of each), every value as text, MISSING where a machine has none.

    machines: `Results.machines` (one row per machine.json read, with its `source` directory).
    """
    table = machines.drop(columns="source", errors="ignore").drop_duplicates("machine", keep="last")
    table = table.set_index("machine").T.dropna(how="all")
    table = table.astype(object).where(table.notna(), MISSING).astype(str)
    return table.rename(index=column_name).rename_axis("spec").reset_index().rename_axis(columns=None)


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
