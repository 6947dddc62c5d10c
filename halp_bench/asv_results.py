"""The one reader of asv's results tree (schema version 2), without importing asv: the gate
(`halp_bench.compare`), the dashboard and tools.docs_numbers read through it.

A results directory holds `benchmarks.json` (per benchmark: type, unit, version, param_names,
params) and one folder per machine with `machine.json` (the machine's fields) and result files
`<hash8>-<env>.json`. A result file holds commit_hash, env_name, date (commit time, ms since the
epoch), params (the machine's fields at the run), durations and, per benchmark, one row aligned
with `result_columns` (trailing empty columns dropped): `result` (one value per parameter
combination in `itertools.product(*params)` order; null for the whole row = the benchmark failed),
`params` (repr strings), `version`, `duration`, `stats_ci_99_a` / `stats_ci_99_b` (asv's 99%
interval of the median) and, with `--record-samples`, `samples` (one list per combination).

One rule for every value (`value_status`): null = failed, NaN = skipped, +inf in a time to a
target (TO_TARGET) = not reached, any other non-finite value or non-number invalid.

`load` reads one result file: a file that cannot be used raises ResultFileError naming it; a
malformed benchmark row is left out and named in `ResultFile.skipped`; what is read anyway (a bad
date, an invalid value, a bad interval bound) is named in `ResultFile.notes`. The strict readers
(`measurements`, `read`, `benchmark_values`) raise on a skipped row; the dashboard shows both lists
as warnings.
"""

import ast
import itertools
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from halp_bench.files import FileFormatError, read_json

OK, FAILED, SKIPPED, INVALID, NOT_REACHED = "ok", "failed", "skipped", "invalid", "not reached"
"""Statuses of one stored result (see `value_status`)."""

TO_TARGET = re.compile(r"track_(time|epochs)_to_")
"""Benchmarks whose method name starts so track how long a run takes to reach a target, or a ratio
of such times (e.g. ``bench_peers.PeerTimeToTarget.track_time_to_target``,
``bench_peers.PeerRatio.track_time_to_1e4_ratio``): they store +inf for a target not reached."""

MAX_COMBINATIONS = 100_000
"""Most parameter combinations of one benchmark expanded from a single null (failed) result."""

COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")
REQUIRED = {"commit_hash": "a hexadecimal commit hash", "env_name": "a non-empty string",
            "result_columns": "a list of column names", "results": "an object"}
"""Fields every result file needs -> what each must be."""


def _is_str(x):
    return isinstance(x, str)


def _is_str_list(x):
    return isinstance(x, list) and all(isinstance(v, str) for v in x)


META_FIELDS = {"type": _is_str, "unit": _is_str, "version": _is_str, "param_names": _is_str_list,
               "params": lambda x: isinstance(x, list)}
"""Fields of a benchmarks.json entry that readers use -> the check each value must pass."""


class ResultFileError(FileFormatError):
    """An asv results file (result file, benchmarks.json, machine.json) that is missing,
    unreadable or not in asv's format (the message names it)."""


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
    ci_low / ci_high: asv's 99% interval (NaN when absent, not a number or infinite, as
    `asv run --quick` stores it); samples: tuple of raw samples (empty when not recorded or the
    status is not OK); version: the benchmark's asv version (None when not recorded as text);
    raw: the value as stored (for messages about an INVALID one).
    """

    status: str
    value: float
    ci_low: float
    ci_high: float
    samples: tuple
    version: str
    raw: object = None


@dataclass
class Benchmark:
    """One benchmark row of a result file: name, params (lists of parameter reprs, as asv stores
    them), version (None when not recorded as text), duration (s, None when not recorded) and
    measurements: [(tuple of parameter reprs, Measurement)] in `itertools.product(*params)` order."""

    name: str
    params: list
    version: object
    duration: object
    measurements: list


@dataclass
class ResultFile:
    """One asv result file as `load` reads it.

    path; commit: full hash; env: asv's environment name; date: commit time in ms since the epoch
    (None when missing or not a finite number); run: the machine's fields of the run (`params`,
    as text, lists and objects left out); durations: {name: seconds} of setup caches and builds;
    benchmarks: {name: Benchmark}; skipped: messages naming the rows left out (malformed);
    notes: messages naming what was read anyway (schema version, date, fields, invalid values).
    """

    path: Path
    commit: str
    env: str
    date: object
    run: dict
    durations: dict
    benchmarks: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)


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


def param_names_of(names, count):
    """(names, problem) of a benchmark row with `count` parameter lists given benchmarks.json's
    `names` (None when unknown): a file measured before a parameter was added holds fewer lists,
    and parameters are only ever appended (docs/contributing.md, "Add a benchmark"), so its lists
    are the first ones named; when the names still do not fit they are guessed as param1,
    param2, ... and problem says so (None otherwise)."""
    if names is not None and count < len(names):
        names = names[:count]
    if names is not None and len(names) == count:
        return list(names), None
    problem = None if names is None else (f"{count} parameter lists but benchmarks.json names "
                                          f"{len(names)}; names guessed")
    return [f"param{i + 1}" for i in range(count)], problem


def text_of(x):
    """`x` as a short readable string for a message."""
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(x):
    """float of a JSON number (int or float, not bool); None when `x` is not one or overflows."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        return float(x)
    except OverflowError:
        return None


def _read(path):
    """Parsed JSON of an asv file; ResultFileError naming it when it cannot be read or parsed."""
    try:
        return read_json(path)
    except FileFormatError as exc:
        raise ResultFileError(str(exc)) from None


def _column(row, columns, name):
    """Value of result column `name` in `row`; None when the column is absent (asv drops empty
    trailing columns)."""
    i = columns.index(name) if name in columns else len(row)
    return row[i] if i < len(row) else None


def _per_combination(values, n, name, where):
    """Result column `values` as a list of n entries: None (absent) -> n Nones; a list of n items
    as it is; ValueError naming the column otherwise."""
    if values is None:
        return [None] * n
    if isinstance(values, list) and len(values) == n:
        return values
    size = f"{len(values)} values" if isinstance(values, list) else text_of(values)
    raise ValueError(f"{where}: column {name!r} holds {size} for {n} parameter combination(s); "
                     "entry skipped.")


def _benchmark(name, row, columns, where, notes):
    """The Benchmark of one result row; ValueError with a message naming the file, row and field
    when it is malformed. Values read anyway (invalid ones, bad interval bounds) go to `notes`."""
    where = f"{where}: entry {name!r}"
    if not isinstance(row, list) or not row:
        raise ValueError(f"{where} is not a non-empty list; skipped.")
    params = _column(row, columns, "params") if "params" in columns else []
    params = [] if params is None else params
    if not isinstance(params, list) or not all(_is_str_list(p) for p in params):
        raise ValueError(f"{where} has malformed params ({text_of(params)}); skipped.")
    n = math.prod(len(p) for p in params)
    values = _column(row, columns, "result")
    if values is None and n > MAX_COMBINATIONS:
        raise ValueError(f"{where} failed for {n:,} parameter combinations, more than "
                         f"{MAX_COMBINATIONS:,}; skipped.")
    values = _per_combination(values, n, "result", where)  # null: the whole benchmark failed
    lows = _per_combination(_column(row, columns, "stats_ci_99_a"), n, "stats_ci_99_a", where)
    highs = _per_combination(_column(row, columns, "stats_ci_99_b"), n, "stats_ci_99_b", where)
    samples = _per_combination(_column(row, columns, "samples"), n, "samples", where)
    version = _column(row, columns, "version")
    if version is not None and not isinstance(version, str):
        notes.append(f"{where}: field 'version' is {text_of(version)}, not text; treated as unknown.")
        version = None
    duration = _number(_column(row, columns, "duration"))
    found, invalid, bad = [], [], []
    for i, (combo, v, lo, hi, s) in enumerate(zip(itertools.product(*params), values, lows, highs,
                                                   samples)):
        status = value_status(name, v)
        stored = tuple(s) if isinstance(s, list) else ()
        if status == OK and not all(value_status(name, x) == OK for x in stored):
            status = INVALID
            invalid.append(f"samples[{i}] = {text_of(s)}")
        elif status == INVALID:
            invalid.append(f"result[{i}] = {text_of(v)}")
        bounds = []
        for col, b in (("stats_ci_99_a", lo), ("stats_ci_99_b", hi)):
            number = _number(b)
            if b is not None and number is None:
                bad.append(f"{col}[{i}] = {text_of(b)}")
            bounds.append(number if number is not None and math.isfinite(number) else math.nan)
        value = float(v) if status in (OK, NOT_REACHED) else math.nan
        found.append((combo, Measurement(status, value, bounds[0], bounds[1],
                                         tuple(float(x) for x in stored) if status == OK else (),
                                         version, v)))
    if invalid:
        notes.append(f"{where}: {len(invalid)} value(s) are invalid (not a finite number, nor a "
                     f"target not reached), e.g. {invalid[0]}; read as invalid.")
    if bad:
        notes.append(f"{where}: {len(bad)} interval bound(s) are not numbers, e.g. {bad[0]}; "
                     "those intervals are blank.")
    return Benchmark(name, params, version, duration, found)


def _machine_fields(mapping, path):
    """(fields, problems) of the machine's fields `mapping` (machine.json, or a result file's
    params) read from `path`: every value as text; a list or object left out with a problem
    naming the file and field, a null silently."""
    out, problems = {}, []
    for key, value in mapping.items():
        if isinstance(value, (str, int, float, bool)):
            out[key] = str(value)
        elif value is not None:
            problems.append(f"{path}: field {key!r} is {type(value).__name__} ({text_of(value)}), "
                            "not text; left out.")
    return out, problems


def _bad_field(key, value):
    """Whether a required result-file field holds the wrong kind of value."""
    if key == "commit_hash":
        return not (isinstance(value, str) and COMMIT.fullmatch(value))
    if key == "env_name":
        return not (isinstance(value, str) and value.strip())
    if key == "result_columns":
        return not (_is_str_list(value) and "result" in value)
    return not isinstance(value, dict)


def load(path):
    """The ResultFile of one asv result file. Raises ResultFileError naming the file when it
    cannot be read, is not UTF-8 or JSON (a truncated file included), is not a JSON object or
    lacks a required field (REQUIRED) or holds one of the wrong kind; a malformed benchmark row is
    left out (`ResultFile.skipped`), other faults are read around (`ResultFile.notes`)."""
    path = Path(path)
    data = _read(path)
    if not isinstance(data, dict):
        raise ResultFileError(f"{path}: not an asv result file (a JSON {type(data).__name__}, "
                              "not an object)")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ResultFileError(f"{path}: not an asv result file (no {', '.join(missing)})")
    wrong = [f"{k} is {text_of(data[k])}, not {REQUIRED[k]}" for k in REQUIRED
             if _bad_field(k, data[k])]
    if wrong:
        raise ResultFileError(f"{path}: " + "; ".join(wrong))
    notes = []
    if data.get("version") != 2:
        notes.append(f"{path}: result schema version {text_of(data.get('version'))}, expected 2; "
                     "read anyway.")
    date = _number(data.get("date"))
    if date is None or not math.isfinite(date):
        notes.append(f"{path}: field 'date' is {text_of(data.get('date'))}, not a commit time in "
                     "ms; read without a date.")
        date = None
    run = data.get("params", {})
    if not isinstance(run, dict):
        notes.append(f"{path}: field 'params' is {text_of(run)}, not an object; ignored.")
        run = {}
    run, problems = _machine_fields(run, path)
    notes += problems
    durations = data.get("durations")
    durations = {k: _number(v) for k, v in durations.items()} if isinstance(durations, dict) else {}
    out = ResultFile(path, data["commit_hash"], data["env_name"], date, run, durations, notes=notes)
    for name, row in data["results"].items():
        try:
            out.benchmarks[name] = _benchmark(name, row, data["result_columns"], path, out.notes)
        except ValueError as exc:
            out.skipped.append(str(exc))
    return out


def load_strict(path):
    """The ResultFile of one asv result file, every benchmark row read: ResultFileError naming the
    file when `load` raises or leaves a malformed row out (what the gate and the docs read)."""
    found = load(path)
    if found.skipped:
        raise ResultFileError(found.skipped[0])
    return found


def measurements(path):
    """[(benchmark, parameter reprs, Measurement)] of every combination in one asv result file
    (see `load_strict`)."""
    found = load_strict(path)
    return [(b.name, combo, m) for b in found.benchmarks.values() for combo, m in b.measurements]


def keyed(found, param_names=None):
    """{(benchmark, params key): Measurement} of a ResultFile `found`.

    param_names: {benchmark: [names]} (benchmarks.json's param_names); without it a benchmark's
    parameters are called param1, param2, ... (see `param_names_of`)
    """
    out = {}
    for bench in found.benchmarks.values():
        names, _ = param_names_of((param_names or {}).get(bench.name), len(bench.params))
        for combo, m in bench.measurements:
            out[(bench.name, params_key(names, combo))] = m
    return out


def read(path, param_names=None):
    """{(benchmark, params key): Measurement} of one asv result file (see `load_strict`, `keyed`)."""
    return keyed(load_strict(path), param_names)


def benchmark_values(path, benchmark):
    """{tuple of parameter values: Measurement} of one benchmark in an asv result file, e.g.
    {('halp', 8, 100): ...}; ResultFileError naming the file when it has no such benchmark."""
    found = {tuple(parse_param(r) for r in combo): m
             for name, combo, m in measurements(path) if name == benchmark}
    if not found:
        raise ResultFileError(f"{path}: no results of {benchmark}")
    return found


def read_benchmarks(results_dir):
    """(entries, problems) of `<results_dir>/benchmarks.json`: {benchmark: its fields} with the
    fields META_FIELDS names checked, and a message for every entry or field left out (wrong
    type); None when the file does not exist. ResultFileError naming the file when it cannot be
    read or is not a JSON object."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.exists() and not path.is_symlink():
        return None
    data = _read(path)
    if not isinstance(data, dict):
        raise ResultFileError(f"{path}: not asv's benchmarks.json (not a JSON object but "
                              f"{type(data).__name__})")
    out, problems = {}, []
    for name, meta in data.items():
        if name == "version":  # asv's schema version of the file
            continue
        if not isinstance(meta, dict):
            problems.append(f"{path}: entry {name!r} is {type(meta).__name__}, not an object; ignored.")
            continue
        good = {}
        for key, value in meta.items():
            if META_FIELDS.get(key, lambda x: True)(value):
                good[key] = value
            else:
                problems.append(f"{path}: field {key!r} of {name!r} has the wrong type "
                                f"({text_of(value)}); ignored.")
        out[name] = good
    return out, problems


def benchmark_info(results_dir):
    """{benchmark: its fields} of `<results_dir>/benchmarks.json` ({} when absent);
    ResultFileError naming the file when it cannot be read or an entry is malformed (see
    `read_benchmarks`)."""
    found = read_benchmarks(results_dir)
    if found is None:
        return {}
    entries, problems = found
    if problems:
        raise ResultFileError(problems[0])
    return entries


def param_names(results_dir):
    """{benchmark: [parameter names]} from `<results_dir>/benchmarks.json` ({} when absent; see
    `benchmark_info`)."""
    return {k: v.get("param_names", []) for k, v in benchmark_info(results_dir).items()}


def read_machine(folder):
    """(fields, problems) of `<folder>/machine.json`: every value as text, a list or object left out
    with a problem naming the file and field; None when it does not exist. ResultFileError
    naming the file when it cannot be read or is not a JSON object."""
    path = Path(folder) / "machine.json"
    if not path.exists() and not path.is_symlink():
        return None
    data = _read(path)
    if not isinstance(data, dict):
        raise ResultFileError(f"{path}: a JSON {type(data).__name__}, not an object")
    return _machine_fields(data, path)


def result_files(results_dir):
    """Result files of one results directory: `<dir>/<machine>/*.json` except machine.json."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if p.name != "machine.json")


def commit_file(results_dir, machine, commit):
    """The one result file of `commit` (full hash) for `machine` in `results_dir`; ResultFileError
    when there is none or several (the gate runs one environment)."""
    found = sorted((Path(results_dir) / machine).glob(f"{commit[:8]}-*.json"))
    if len(found) != 1:
        raise ResultFileError(f"expected one asv result file of commit {commit[:8]} in "
                              f"{Path(results_dir) / machine}, found {len(found)}")
    return found[0]
