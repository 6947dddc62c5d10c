"""Judge every benchmark of two asv result files: one row per benchmark and parameter combination,
the gate's verdicts and its exit code. Convergence benchmarks (asv unit in `convergence.UNITS`)
are judged by the convergence rule (`convergence.py`), every other one by the timing rule
(`rule.py`)."""

import math
from dataclasses import asdict, dataclass

import numpy as np

from halp_bench import asv_results
from halp_bench.compare import acknowledged as ack
from halp_bench.compare import convergence, rule

EXIT_OK, EXIT_REGRESSION, EXIT_FAILED = 0, 1, 2
"""Exit codes of the gate: 0 nothing regressed beyond its threshold (improvements, acknowledged
changes and noise included); 1 a significant regression beyond its threshold; 2 the gate could
not decide (a benchmark failed or was missing on a side, or the gate itself could not run). 2
wins over 1."""


@dataclass
class Row:
    """One judged benchmark × parameter combination.

    base / head: median of the samples (asv's value when none were recorded), in `unit`; ratio =
    head / base with its interval [low, high]; threshold and threshold_from ("default" or
    "history of N commits"); n_base / n_head: samples used; note: why failed, what the
    convergence rule saw, or the acknowledgement's reason; rule: the rule that judged it
    (`rule.NAME` or `convergence.NAME`). A convergence row has no interval and no threshold
    (NaN; threshold_from names its targets) and its ratio is `convergence.judge`'s."""

    benchmark: str
    params: str
    unit: str
    base: float
    head: float
    ratio: float
    low: float
    high: float
    threshold: float
    threshold_from: str
    n_base: int
    n_head: int
    verdict: str
    note: str = ""
    rule: str = rule.NAME

    def as_dict(self):
        """JSON-ready dict (NaN -> None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def _center(m):
    """Median of a Measurement's finite samples; asv's value when it has none."""
    samples = np.asarray(m.samples, dtype="float64")
    samples = samples[np.isfinite(samples)]
    return float(np.median(samples)) if samples.size else m.value


def judge(base, head, units=None, thresholds=None, acknowledgements=(), commits=()):
    """Rows (sorted by benchmark, params) comparing two `asv_results.read` outputs.

    units: {benchmark: unit}; thresholds: {(benchmark, params): (threshold, n earlier values)}
    (`history.thresholds`; absent keys get rule.MIN_EFFECT); acknowledgements: `acknowledged.load`
    output, applied for `commits` (the compared range, full hashes). A combination skipped, or
    with its target not reached, on both sides is left out; failed, invalid (a non-finite value),
    not reached or missing on a side, or of another benchmark version: "failed". Benchmarks whose
    unit is a convergence unit are judged by `convergence.judge` against the targets of the
    epochs-to-target combinations of BASE and HEAD (`convergence.targets`); thresholds do not
    apply to them.
    """
    units = units or {}
    keys = sorted(set(base) | set(head))
    goals = convergence.targets(p for b, p in keys if units.get(b) == convergence.EPOCHS_UNIT)
    goals_text = "targets " + ", ".join(f"{g:g}" for g in goals)
    rows = []
    for key in keys:
        bench, params = key
        b, h = base.get(key), head.get(key)
        unit = units.get(bench, "")
        if convergence.applies(unit):
            common = dict(benchmark=bench, params=params, unit=unit, threshold=math.nan,
                          threshold_from=goals_text, rule=convergence.NAME)
        else:
            threshold, n_hist = (thresholds or {}).get(key, (rule.MIN_EFFECT, 0))
            source = f"history of {n_hist} commits" if n_hist >= rule.MIN_HISTORY else "default"
            common = dict(benchmark=bench, params=params, unit=unit, threshold=threshold, threshold_from=source)
        if b is not None and h is not None and b.status == h.status and \
                b.status in (asv_results.SKIPPED, asv_results.NOT_REACHED):
            continue
        problem = ("missing in BASE" if b is None else "missing in HEAD" if h is None
                   else f"BASE {b.status}" if b.status != asv_results.OK
                   else f"HEAD {h.status}" if h.status != asv_results.OK
                   else "benchmark version changed" if b.version != h.version else "")
        if problem:
            rows.append(Row(**common, base=b.value if b else math.nan, head=h.value if h else math.nan,
                            ratio=math.nan, low=math.nan, high=math.nan, n_base=len(b.samples) if b else 0,
                            n_head=len(h.samples) if h else 0, verdict=rule.FAILED, note=problem))
            continue
        if convergence.applies(unit):
            change = convergence.judge(unit, _center(b), _center(h), goals)
            ratio, low, high, verdict, note = change.ratio, math.nan, math.nan, change.verdict, change.note
        else:
            if b.samples and h.samples:
                ratio, low, high = rule.interval_from_samples(b.samples, h.samples)
            else:
                ratio, low, high = (float(x) for x in rule.interval_from_summaries(
                    b.value, b.ci_low, b.ci_high, h.value, h.ci_low, h.ci_high))
            verdict, note = rule.verdict(ratio, low, high, common["threshold"]), ""
        found = ack.find(acknowledgements, commits, bench, params)
        if found is not None and verdict in (rule.REGRESSION, rule.IMPROVEMENT):
            verdict, note = rule.ACKNOWLEDGED, f"{verdict} acknowledged for {found.commit}: {found.reason}"
        rows.append(Row(**common, base=_center(b), head=_center(h), ratio=ratio, low=low, high=high,
                        n_base=len(b.samples), n_head=len(h.samples), verdict=verdict, note=note))
    return rows


def exit_code(rows):
    """EXIT_FAILED if a row failed, else EXIT_REGRESSION if a row is a regression, else EXIT_OK;
    EXIT_FAILED too when there are no rows (nothing was measured)."""
    verdicts = {r.verdict for r in rows}
    if not rows or rule.FAILED in verdicts:
        return EXIT_FAILED
    return EXIT_REGRESSION if rule.REGRESSION in verdicts else EXIT_OK
