"""The gate's outputs from its rows (`judge.Row`): a plain-text table for the terminal, Markdown for
a pull-request comment and JSON for machines (the dashboard's History page reads it)."""

import json
import math

from halp_bench.compare import convergence, rule

SCHEMA = "halp-bench-compare/1"
"""`schema` field of the JSON report."""
HEADER = ("benchmark", "params", "BASE", "HEAD", "ratio [interval]", "threshold", "verdict")
MARK = {rule.REGRESSION: "❌", rule.IMPROVEMENT: "✅", rule.ACKNOWLEDGED: "☑️", rule.FAILED: "⚠️",
        rule.NO_CHANGE: ""}


def value_text(value, unit):
    """A measured value with 3 significant digits and an SI-style unit (seconds -> ns/us/ms/s,
    bytes -> B/kB/MB/GB); '-' for NaN."""
    if value is None or not math.isfinite(value):
        return "-" if value is None or math.isnan(value) else str(value)
    if unit == "seconds":
        for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if abs(value) >= scale or scale == 1e-9:
                return f"{value / scale:.3g} {name}"
    if unit == "bytes":
        for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")):
            if abs(value) >= scale or scale == 1.0:
                return f"{value / scale:.3g} {name}"
    return f"{value:.3g}" + (f" {unit}" if unit else "")


def ratio_text(row):
    """'1.52 [1.47, 1.58]' ('-' without a ratio; no brackets without an interval)."""
    if not math.isfinite(row.ratio):
        return "-"
    if not (math.isfinite(row.low) and math.isfinite(row.high)):
        return f"{row.ratio:.3f}"
    return f"{row.ratio:.3f} [{row.low:.3f}, {row.high:.3f}]"


def threshold_text(row):
    """'1.10 (default)'; the threshold's source alone where there is no threshold (a convergence
    row: its targets)."""
    if not math.isfinite(row.threshold):
        return row.threshold_from
    return f"{row.threshold:.2f} ({row.threshold_from})"


def cells(row):
    """The HEADER cells of one row (text)."""
    return [row.benchmark, row.params or "-", value_text(row.base, row.unit), value_text(row.head, row.unit),
            ratio_text(row), threshold_text(row),
            row.verdict + (f" ({row.note})" if row.note else "")]


def counts(rows):
    """{verdict: number of rows} for every verdict (zeros included), worst first."""
    return {v: sum(r.verdict == v for r in rows) for v in rule.VERDICTS}


def summary(rows, code):
    """One line: the exit code's meaning and the count of each verdict."""
    what = {0: "passed", 1: "FAILED: significant regression", 2: "could not decide: a benchmark failed"}[code]
    return f"{what} — " + ", ".join(f"{n} {v}" for v, n in counts(rows).items() if n)


def text_table(rows):
    """Fixed-width text table of HEADER and every row."""
    table = [list(HEADER)] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md(text):
    return text.replace("|", "\\|")


def markdown(rows, info, code):
    """A pull-request comment: title, summary, the table (changed rows first, then the others
    folded in a <details> block) and the rule.

    info: dict with base, head (full hashes), machine and rounds (see `to_json`)."""
    title = f"### Benchmark gate: `{info['base'][:8]}` → `{info['head'][:8]}` on `{info['machine']}`"
    head = "| " + " | ".join(HEADER) + " |\n|" + "---|" * len(HEADER)

    def table(part):
        return "\n".join([head] + ["| " + " | ".join(_md(c) for c in cells(r)[:-1])
                                   + f" | {MARK[r.verdict]} {_md(cells(r)[-1])} |" for r in part])

    changed = [r for r in rows if r.verdict != rule.NO_CHANGE]
    quiet = [r for r in rows if r.verdict == rule.NO_CHANGE]
    parts = [title, "", f"**{summary(rows, code)}** (exit code {code})", ""]
    if changed:
        parts += [table(changed), ""]
    if quiet:
        parts += [f"<details><summary>{len(quiet)} without change</summary>", "", table(quiet), "",
                  "</details>", ""]
    parts += [f"Rule: {rule.RULE_TEXT}. BASE and HEAD are medians of {info['rounds']} interleaved asv "
              "rounds per commit; the interval is a bootstrap of the ratio of medians "
              f"(`./run compare`, docs/benchmarks.md). Convergence rule: {convergence.RULE_TEXT}."]
    return "\n".join(parts) + "\n"


def to_json(rows, info, code):
    """The JSON report (str): schema, base, head, machine, rounds, bench, rule (the timing rule),
    convergence_rule, exit_code, counts and rows (`judge.Row.as_dict`, NaN as null)."""
    doc = {"schema": SCHEMA, **info, "rule": {
        "text": rule.RULE_TEXT, "min_effect": rule.MIN_EFFECT, "confidence": rule.CONFIDENCE,
        "noise_z": rule.NOISE_Z, "lookback": rule.LOOKBACK, "n_resamples": rule.N_RESAMPLES},
        "convergence_rule": {"text": convergence.RULE_TEXT, "units": list(convergence.UNITS),
                             "never": convergence.NEVER, "floor": convergence.FLOOR,
                             "default_targets": list(convergence.DEFAULT_TARGETS)},
        "exit_code": code, "counts": counts(rows), "rows": [r.as_dict() for r in rows]}
    return json.dumps(doc, indent=1, allow_nan=False)
