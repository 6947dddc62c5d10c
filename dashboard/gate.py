"""The gate's verdicts on the History page: every commit-to-commit change judged by the rules of
`./run compare` (`halp_bench.compare.rule`, the timing rule; `halp_bench.compare.convergence`,
the rule of the convergence benchmarks), and the gate's latest report (plain pandas, no
Streamlit).

Public tables: `verdicts` (every change of the history), `regressions` (its regressions, largest
first) and `newest_changes` (each machine's newest commit against the one before it, the
Overview's and the report's "did the last commit make anything slower").

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
from halp_bench.compare import convergence, rule
from halp_bench.compare.report import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
GATE_DIR = ROOT / "compare-results"
"""Where the History page looks for the gate's report.json when $HALP_COMPARE is unset
(`./run compare`'s default --out)."""
ACK_FILE = ROOT / ack.ACK_FILE
"""The repository's declared acknowledgements."""
RULES = (rule.NAME, convergence.NAME)
"""Values of the `rule` column: which rule judged a change."""


VERDICT_COLUMNS = SERIES + ["unit", "rule", "base_commit", "head_commit", "base", "head", "ratio", "low",
                            "high", "threshold", "verdict", "note"]
"""Columns of `verdicts`, `regressions` and `newest_changes`."""


def _thresholds(values):
    """Per position i of one series' values (oldest first): the gate's history threshold from the
    values up to and including i - 1 (the BASE of the change into i), `rule.history_threshold`."""
    return np.array([rule.history_threshold(values[:i]) for i in range(len(values))])


def _timing(pairs, rows):
    """ratio, low, high, threshold, verdict, note of the timing rule for `pairs` (rows with their
    base), the threshold from each series' earlier values in `rows`."""
    ratio, low, high = rule.interval_from_summaries(pairs["base"], pairs["base_low"], pairs["base_high"],
                                                    pairs["head"], pairs["ci_low"], pairs["ci_high"])
    out = pd.DataFrame({"ratio": ratio, "low": low, "high": high, "threshold": rule.MIN_EFFECT},
                       index=pairs.index)
    # A history threshold is never below MIN_EFFECT, so only changes flagged at MIN_EFFECT can change.
    flagged = out.index[rule.verdict(ratio, low, high, rule.MIN_EFFECT) != rule.NO_CHANGE]
    for key in rows.loc[flagged, SERIES].drop_duplicates().itertuples(index=False):
        mask = np.logical_and.reduce([rows[c] == v for c, v in zip(SERIES, key)])
        part = rows[mask]
        thresholds = pd.Series(_thresholds(part["value"].to_numpy(dtype="float64")), index=part.index)
        hit = thresholds.index.intersection(out.index)
        out.loc[hit, "threshold"] = thresholds.loc[hit]
    out["verdict"] = rule.verdict(out["ratio"], out["low"], out["high"], out["threshold"])
    out["note"] = ""
    return out.assign(rule=rule.NAME)


def _convergence(pairs, goals):
    """ratio, low, high, threshold (NaN: none), verdict, note of the convergence rule for `pairs`."""
    changes = [convergence.judge(u, b, h, goals) for u, b, h in zip(pairs["unit"], pairs["base"], pairs["head"])]
    return pd.DataFrame({"ratio": [c.ratio for c in changes], "low": np.nan, "high": np.nan, "threshold": np.nan,
                         "verdict": [c.verdict for c in changes], "note": [c.note for c in changes],
                         "rule": convergence.NAME}, index=pairs.index)


def targets(params_keys):
    """`convergence.targets` of the keys that name a valid target: a results file may hold any value,
    and the page judges with the targets it can read rather than fail (a key whose target is not a
    positive finite number is left out)."""
    def valid(key):
        try:
            convergence.targets([key])
        except ValueError:
            return False
        return True
    return convergence.targets([k for k in params_keys if valid(k)])


def _judged(frame, acknowledgements):
    """`verdicts` with the head commit's full hash in a column `commit` (rows of one series
    together, oldest change first)."""
    rows = finite_rows(comparable_rows(frame))
    if rows.empty:
        return pd.DataFrame(columns=VERDICT_COLUMNS + ["commit"])
    keys = [rows[c] for c in SERIES]
    prev = rows.groupby(keys, sort=False)[["commit_short", "value", "ci_low", "ci_high"]].shift(1)
    pairs = rows.assign(base_commit=prev["commit_short"], base=prev["value"], base_low=prev["ci_low"],
                        base_high=prev["ci_high"]).dropna(subset=["base_commit"])
    pairs = pairs.rename(columns={"commit_short": "head_commit", "value": "head"})
    by_convergence = pairs["unit"].isin(convergence.UNITS)
    goals = targets(frame.loc[frame["unit"] == convergence.EPOCHS_UNIT, "params"].unique())
    judged = pd.concat([_timing(pairs[~by_convergence], rows),
                        _convergence(pairs[by_convergence], goals)]).reindex(pairs.index)
    out = pd.concat([pairs[SERIES + ["unit", "base_commit", "head_commit", "commit", "base", "head"]], judged],
                    axis=1)
    if acknowledgements:
        for i in out.index[out["verdict"].isin([rule.REGRESSION, rule.IMPROVEMENT])]:
            found = ack.find(acknowledgements, [out.at[i, "commit"]], out.at[i, "benchmark"], out.at[i, "params"])
            if found is not None:
                out.at[i, "note"] = f"{out.at[i, 'verdict']} acknowledged: {found.reason}"
                out.at[i, "verdict"] = rule.ACKNOWLEDGED
    return out[VERDICT_COLUMNS + ["commit"]].reset_index(drop=True)


def verdicts(frame, acknowledgements=()):
    """The gate's verdict for every change from one measured commit to the next, per series, by
    the rule `./run compare` applies to it: the convergence rule (`halp_bench.compare.convergence`)
    for convergence benchmarks (asv unit in `convergence.UNITS`), the timing rule
    (`halp_bench.compare.rule`) for every other one.

    frame: `results.load_results(...).frame`. Only finite values of the series' newest benchmark
    version are compared. Timing rule: the shipped result files hold asv's summary statistics,
    not samples, so the ratio's interval comes from the two stored 99% intervals
    (`rule.interval_from_summaries`; none for track_ benchmarks or --quick runs: "no change"); the
    threshold is the series' own noise over its earlier commits, as the gate computes it
    (`rule.history_threshold`). Convergence rule: `convergence.judge` against the targets of the
    epochs-to-target results in `frame` (`convergence.targets`); no interval or threshold (NaN).
    A regression or improvement that `acknowledgements` (see `halp_bench.compare.acknowledged`)
    declares for the later commit is "acknowledged".

    Returns a DataFrame with VERDICT_COLUMNS, one row per change, rows of one series together,
    oldest change first: rule (RULES), base_commit / head_commit (commit_short), base, head (values
    in `unit`), ratio = head / base (the convergence rule's size for its rows) with [low, high],
    threshold, verdict (`rule.VERDICTS` but "failed"), note (what the convergence rule saw, or
    the acknowledgement).
    """
    return _judged(frame, acknowledgements).drop(columns="commit")


def regressions(frame, acknowledgements=()):
    """Every regression of the history by either rule (`verdicts` rows whose verdict is
    "regression"), largest ratio head / base first. Acknowledged ones are not regressions.
    Columns: VERDICT_COLUMNS."""
    found = verdicts(frame, acknowledgements)
    found = found[found["verdict"] == rule.REGRESSION]
    return found.sort_values("ratio", ascending=False, kind="stable").reset_index(drop=True)


def newest_changes(frame, acknowledgements=()):
    """The verdict (both rules, "no change" included) of each series' newest change: its newest
    measured commit against the commit it measured before that, the answer to "did the last
    commit make anything slower?". A machine's newest commit may have measured only some suites
    (e.g. only the peers); every other series is then judged at its own newest commit, which the
    head_commit column names.

    A series with fewer than two finite values of its newest benchmark version has no row.
    Columns: VERDICT_COLUMNS, rows in `verdicts`' order.
    """
    judged = _judged(frame, acknowledgements)
    newest = judged.groupby(SERIES, sort=False).tail(1) if len(judged) else judged
    return newest.drop(columns="commit").reset_index(drop=True)


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
