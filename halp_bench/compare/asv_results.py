"""Read asv result files (schema version 2) without importing asv: the one reader of their values
(the gate and tools.docs_numbers read through it; the dashboard applies its `value_status` and
`parse_param`).

An asv result file `<results>/<machine>/<hash8>-<env>.json` holds, per benchmark, one row aligned
with `result_columns` (trailing empty columns dropped): `result` (one value per parameter
combination in `itertools.product(*params)` order; null = failed, NaN = skipped, +inf in a time
to a target = not reached (TO_TARGET), any other non-finite value invalid), `params`
(repr strings), `version`, `stats_ci_99_a` / `stats_ci_99_b` (asv's 99% interval of the median)
and, with `--record-samples`, `samples` (one list per combination).
"""

import ast
import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from halp_bench.files import FileFormatError, read_json

OK, FAILED, SKIPPED, INVALID, NOT_REACHED = "ok", "failed", "skipped", "invalid", "not reached"
"""Statuses of one stored result (see `value_status`)."""

TO_TARGET = re.compile(r"track_(time|epochs)_to_")
"""Benchmarks whose method name starts so track how long a run takes to reach a target, or a ratio
of such times (e.g. ``bench_peers.PeerTimeToTarget.track_time_to_target``,
``bench_peers.PeerRatio.track_time_to_1e4_ratio``): they store +inf for a target not reached."""


class ResultFileError(FileFormatError):
    """An asv result file that is missing, unreadable or not in asv's format (the message names it)."""


def value_status(benchmark, value):
    """The status of one result value as stored in an asv result file, the one rule every reader
    of the format applies: FAILED (null: the benchmark raised), SKIPPED (NaN: asv's mark of a
    skipped benchmark), NOT_REACHED (+inf in a benchmark whose method name matches TO_TARGET),
    OK (a finite number), INVALID (anything else: -inf, +inf elsewhere, text, a bool, a list)."""
    if value is None:
        return FAILED
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return INVALID
    try:
        number = float(value)
    except OverflowError:   # an integer beyond float's range
        return INVALID
    if math.isnan(number):
        return SKIPPED
    if math.isinf(number):
        reached = TO_TARGET.match(benchmark.rsplit(".", 1)[-1])
        return NOT_REACHED if number > 0 and reached else INVALID
    return OK


@dataclass(frozen=True)
class Measurement:
    """One benchmark × parameter combination of one result file.

    status: see `value_status` (INVALID too when a recorded sample is not a finite number);
    value: asv's central value (median): a float when OK, +inf when NOT_REACHED, NaN otherwise;
    ci_low / ci_high: asv's 99% interval (NaN when absent or infinite, as `asv run --quick` stores
    it); samples: tuple of raw samples (empty when not recorded); version: the benchmark's asv
    version; raw: the value as stored (for messages about an INVALID one).
    """

    status: str
    value: float
    ci_low: float
    ci_high: float
    samples: tuple
    version: str
    raw: object = None


@lru_cache(maxsize=4096)
def parse_param(text):
    """Python value of one asv parameter repr ("'halp'" -> 'halp', "8" -> 8); the text itself when
    it is not the literal of a str, int, float, bool or None."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return value if value is None or isinstance(value, (str, int, float, bool)) else text


def params_key(names, reprs):
    """The readable key of one parameter combination, e.g. "dtype=float32, level=L2" ("" when the
    benchmark has no parameters): names from benchmarks.json, reprs as asv stores them."""
    return ", ".join(f"{n}={parse_param(r)}" for n, r in zip(names, reprs))


def _bound(x):
    """A stored interval bound as a float: NaN when absent, not a number or infinite."""
    ok = isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
    return float(x) if ok else math.nan


def _column(row, columns, name):
    i = columns.index(name) if name in columns else len(row)
    return row[i] if i < len(row) else None


def _measurement(name, v, lo, hi, s, version):
    """The Measurement of one stored combination (see `value_status`)."""
    status = value_status(name, v)
    samples = tuple(s) if isinstance(s, list) else ()
    if status == OK and not all(value_status(name, x) == OK for x in samples):
        status = INVALID
    value = float(v) if status in (OK, NOT_REACHED) else math.nan
    return Measurement(status, value, _bound(lo), _bound(hi),
                       tuple(float(x) for x in samples) if status == OK else (), version, v)


def measurements(path):
    """[(benchmark, parameter reprs, Measurement)] of every combination in one asv result file.
    Raises ResultFileError naming the file when it cannot be read, is not UTF-8 or JSON (a
    truncated file included) or is not an asv result file (no result_columns / results, a row
    whose values do not line up with its parameters)."""
    path = Path(path)
    try:
        data = read_json(path)
    except FileFormatError as exc:
        raise ResultFileError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("result_columns"), list) \
            or not isinstance(data.get("results"), dict):
        raise ResultFileError(f"{path}: not an asv result file (no result_columns / results)")
    columns = data["result_columns"]
    out = []
    for name, row in data["results"].items():
        if not isinstance(row, list):
            raise ResultFileError(f"{path}: benchmark {name} is not a list")
        params = _column(row, columns, "params") or []
        if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
            raise ResultFileError(f"{path}: benchmark {name} has malformed params")
        combos = list(itertools.product(*params))
        values = _column(row, columns, "result")
        if values is None or not isinstance(values, list):
            values = [values]
        lows = _column(row, columns, "stats_ci_99_a") or [None] * len(values)
        highs = _column(row, columns, "stats_ci_99_b") or [None] * len(values)
        samples = _column(row, columns, "samples") or [None] * len(values)
        if not all(isinstance(c, list) for c in (lows, highs, samples)) or \
                not (len(combos) == len(values) == len(lows) == len(highs) == len(samples)):
            raise ResultFileError(f"{path}: benchmark {name} has {len(values)} results for "
                                  f"{len(combos)} parameter combinations")
        version = str(_column(row, columns, "version"))
        for combo, v, lo, hi, s in zip(combos, values, lows, highs, samples):
            out.append((name, combo, _measurement(name, v, lo, hi, s, version)))
    return out


def read(path, param_names=None):
    """{(benchmark, params key): Measurement} of one asv result file (see `measurements`).

    param_names: {benchmark: [names]} (benchmarks.json's param_names); without it a benchmark's
    parameters are called param1, param2, ...
    """
    out = {}
    for name, combo, m in measurements(path):
        names = (param_names or {}).get(name) or [f"param{i + 1}" for i in range(len(combo))]
        out[(name, params_key(names, combo))] = m
    return out


def benchmark_values(path, benchmark):
    """{tuple of parameter values: Measurement} of one benchmark in an asv result file, e.g.
    {('halp', 8, 100): ...}; ResultFileError naming the file when it has no such benchmark."""
    found = {tuple(parse_param(r) for r in combo): m
             for name, combo, m in measurements(path) if name == benchmark}
    if not found:
        raise ResultFileError(f"{path}: no results of {benchmark}")
    return found


def param_names(results_dir):
    """{benchmark: [parameter names]} from `<results_dir>/benchmarks.json` ({} when absent)."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.exists():
        return {}
    try:
        data = read_json(path)
    except FileFormatError as exc:
        raise ResultFileError(str(exc)) from None
    if not isinstance(data, dict):
        raise ResultFileError(f"{path}: not asv's benchmarks.json (a JSON {type(data).__name__})")
    return {k: v.get("param_names", []) for k, v in data.items() if isinstance(v, dict)}


def commit_file(results_dir, machine, commit):
    """The one result file of `commit` (full hash) for `machine` in `results_dir`; ResultFileError
    when there is none or several (the gate runs one environment)."""
    found = sorted((Path(results_dir) / machine).glob(f"{commit[:8]}-*.json"))
    if len(found) != 1:
        raise ResultFileError(f"expected one asv result file of commit {commit[:8]} in "
                              f"{Path(results_dir) / machine}, found {len(found)}")
    return found[0]
