"""Read what the gate needs from asv result files (schema version 2), without importing asv.

An asv result file `<results>/<machine>/<hash8>-<env>.json` holds, per benchmark, one row aligned
with `result_columns` (trailing empty columns dropped): `result` (one value per parameter
combination in `itertools.product(*params)` order; null = failed, NaN = skipped), `params`
(repr strings), `version`, `stats_ci_99_a` / `stats_ci_99_b` (asv's 99% interval of the median)
and, with `--record-samples`, `samples` (one list per combination).
"""

import ast
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


class ResultFileError(ValueError):
    """An asv result file that is missing, unreadable or not in asv's format (the message names it)."""


@dataclass(frozen=True)
class Measurement:
    """One benchmark × parameter combination of one result file.

    status: "ok", "failed" (asv stored null) or "skipped" (NaN); value: asv's central value
    (median; NaN unless ok); ci_low / ci_high: asv's 99% interval (NaN when absent); samples: tuple
    of raw samples (empty when not recorded); version: the benchmark's asv version.
    """

    status: str
    value: float
    ci_low: float
    ci_high: float
    samples: tuple
    version: str


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


def _float(x):
    return math.nan if x is None else float(x)


def _column(row, columns, name):
    i = columns.index(name) if name in columns else len(row)
    return row[i] if i < len(row) else None


def read(path, param_names=None):
    """{(benchmark, params key): Measurement} of one asv result file.

    param_names: {benchmark: [names]} (benchmarks.json's param_names); without it a benchmark's
    parameters are called param1, param2, ... Raises ResultFileError naming the file when it
    cannot be read, is not JSON or is not an asv result file (no result_columns / results, a row
    whose values do not line up with its parameters).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"{path}: cannot be read ({exc})") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ResultFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("result_columns"), list) \
            or not isinstance(data.get("results"), dict):
        raise ResultFileError(f"{path}: not an asv result file (no result_columns / results)")
    columns = data["result_columns"]
    out = {}
    for name, row in data["results"].items():
        if not isinstance(row, list):
            raise ResultFileError(f"{path}: benchmark {name} is not a list")
        params = _column(row, columns, "params") or []
        combos = list(itertools.product(*params))
        values = _column(row, columns, "result")
        if values is None or not isinstance(values, list):
            values = [values]
        lows = _column(row, columns, "stats_ci_99_a") or [None] * len(values)
        highs = _column(row, columns, "stats_ci_99_b") or [None] * len(values)
        samples = _column(row, columns, "samples") or [None] * len(values)
        if not (len(combos) == len(values) == len(lows) == len(highs) == len(samples)):
            raise ResultFileError(f"{path}: benchmark {name} has {len(values)} results for "
                                  f"{len(combos)} parameter combinations")
        names = (param_names or {}).get(name) or [f"param{i + 1}" for i in range(len(params))]
        version = str(_column(row, columns, "version"))
        for combo, v, lo, hi, s in zip(combos, values, lows, highs, samples):
            if v is not None and not isinstance(v, (int, float)):
                raise ResultFileError(f"{path}: benchmark {name} has a value that is not a number: {v!r}")
            status = FAILED if v is None else SKIPPED if math.isnan(v) else OK
            out[(name, params_key(names, combo))] = Measurement(
                status, _float(v) if status == OK else math.nan, _float(lo), _float(hi),
                tuple(_float(x) for x in s) if isinstance(s, list) else (), version)
    return out


def param_names(results_dir):
    """{benchmark: [parameter names]} from `<results_dir>/benchmarks.json` ({} when absent)."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: cannot be read as JSON ({exc})") from None
    return {k: v.get("param_names", []) for k, v in data.items() if isinstance(v, dict)}


def commit_file(results_dir, machine, commit):
    """The one result file of `commit` (full hash) for `machine` in `results_dir`; ResultFileError
    when there is none or several (the gate runs one environment)."""
    found = sorted((Path(results_dir) / machine).glob(f"{commit[:8]}-*.json"))
    if len(found) != 1:
        raise ResultFileError(f"expected one asv result file of commit {commit[:8]} in "
                              f"{Path(results_dir) / machine}, found {len(found)}")
    return found[0]
