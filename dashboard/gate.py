"""The gate's verdicts on the History page: every commit-to-commit change judged by the rule of
`./run compare` (`halp_bench.compare.rule`), and the gate's latest report (plain pandas, no
Streamlit).

This module holds the dashboard's one import of `halp_bench.compare`; it raises ImportError where
halp_bench is not importable (the History page then shows asv's step detection and comparisons
without the gate's verdicts).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import locations
from dashboard.data.history import comparable_rows, finite_rows
from dashboard.results import SERIES
from halp_bench import files
from halp_bench.compare import acknowledged as ack
from halp_bench.compare import rule
from halp_bench.compare.report import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
GATE_DIR = ROOT / "compare-results"
"""Where the History page looks for the gate's report.json when $HALP_COMPARE is unset
(`./run compare`'s default --out)."""
ACK_FILE = ROOT / ack.ACK_FILE
"""The repository's declared acknowledgements."""


VERDICT_COLUMNS = SERIES + ["unit", "base_commit", "head_commit", "base", "head", "ratio", "low", "high",
                            "threshold", "verdict", "note"]
"""Columns of `verdicts`."""


def _thresholds(values):
    """Per position i of one series' values (oldest first): the gate's history threshold from the
    values up to and including i - 1 (the BASE of the change into i), `rule.history_threshold`."""
    return np.array([rule.history_threshold(values[:i]) for i in range(len(values))])


def verdicts(frame, acknowledgements=()):
    """The gate's verdict (`halp_bench.compare.rule`, the rule of `./run compare`) for every change
    from one measured commit to the next, per series.

    Only finite values of the series' newest benchmark version are compared. The shipped result
    files hold asv's summary statistics, not samples, so the ratio's interval comes from the two
    stored 99% intervals (`rule.interval_from_summaries`; none for track_ benchmarks or --quick
    runs: "no change"); the threshold is the series' own noise over its earlier commits, as the
    gate computes it (`rule.history_threshold`). A regression or improvement that
    `acknowledgements` (see `halp_bench.compare.acknowledged`) declares for the later commit is
    "acknowledged". Columns: VERDICT_COLUMNS (base_commit / head_commit: commit_short; base,
    head: values; ratio = head / base with [low, high]; note: the acknowledgement).
    """
    rows = finite_rows(comparable_rows(frame))
    if rows.empty:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    keys = [rows[c] for c in SERIES]
    prev = rows.groupby(keys, sort=False)[["commit_short", "value", "ci_low", "ci_high"]].shift(1)
    pairs = rows.assign(base_commit=prev["commit_short"], base=prev["value"], base_low=prev["ci_low"],
                        base_high=prev["ci_high"]).dropna(subset=["base_commit"])
    ratio, low, high = rule.interval_from_summaries(pairs["base"], pairs["base_low"], pairs["base_high"],
                                                    pairs["value"], pairs["ci_low"], pairs["ci_high"])
    out = pairs[SERIES + ["unit", "base_commit", "commit", "commit_short", "base", "value"]].rename(
        columns={"commit_short": "head_commit", "value": "head"})
    out["ratio"], out["low"], out["high"] = ratio, low, high
    out["threshold"] = rule.MIN_EFFECT
    out["verdict"] = rule.verdict(ratio, low, high, rule.MIN_EFFECT)
    # A history threshold is never below MIN_EFFECT, so only changes flagged at MIN_EFFECT can change.
    flagged = out.index[out["verdict"] != rule.NO_CHANGE]
    for key in rows.loc[flagged, SERIES].drop_duplicates().itertuples(index=False):
        mask = np.logical_and.reduce([rows[c] == v for c, v in zip(SERIES, key)])
        part = rows[mask]
        thresholds = pd.Series(_thresholds(part["value"].to_numpy(dtype="float64")), index=part.index)
        hit = thresholds.index.intersection(out.index)
        out.loc[hit, "threshold"] = thresholds.loc[hit]
    out["verdict"] = rule.verdict(out["ratio"], out["low"], out["high"], out["threshold"])
    out["note"] = ""
    if acknowledgements:
        for i in out.index[out["verdict"] != rule.NO_CHANGE]:
            found = ack.find(acknowledgements, [out.at[i, "commit"]], out.at[i, "benchmark"], out.at[i, "params"])
            if found is not None:
                out.at[i, "note"] = f"{out.at[i, 'verdict']} acknowledged: {found.reason}"
                out.at[i, "verdict"] = rule.ACKNOWLEDGED
    return out[VERDICT_COLUMNS].reset_index(drop=True)


def gate_dir():
    """The folder of the gate's report: $HALP_COMPARE, else GATE_DIR."""
    return locations.env_path("HALP_COMPARE", GATE_DIR)


def gate_report(folder):
    """(summary dict, rows DataFrame, problem) of the gate's JSON report `folder`/report.json
    (written by `./run compare --out folder`); (None, None, None) when there is none, (None, None,
    problem) when it cannot be read or is not a gate report."""
    path = Path(folder) / "report.json"
    if not path.exists():
        return None, None, None
    data, problem = files.checked(files.read_json, path)
    if problem:
        return None, None, problem
    if not isinstance(data, dict) or data.get("schema") != SCHEMA \
            or not isinstance(data.get("rows"), list):
        return None, None, f"{path} is not a report of ./run compare; skipped"
    table = pd.DataFrame([r for r in data["rows"] if isinstance(r, dict)])
    summary = {k: data.get(k) for k in ("base", "head", "machine", "rounds", "date", "exit_code", "counts")}
    return summary, table, None
