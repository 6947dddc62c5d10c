"""Read asv results directories into one tidy pandas frame (plain Python, no Streamlit).

An asv results directory holds `benchmarks.json` and one folder per machine with `machine.json` and
`<hash8>-<env>.json` result files (schema version 2). `load_results` turns any number of such
directories into a `Results`: one frame row per source × machine × env × commit × benchmark ×
parameter combination, a table of machines, and a list of warnings for everything it had to skip.
Nothing here raises on bad input: a malformed or unexpected file becomes a warning.
"""

import ast
import itertools
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

COLUMNS = [
    "source", "machine", "env", "commit", "commit_short", "date", "order", "benchmark", "suite",
    "type", "unit", "version", "current", "params", "param_values", "value", "ci_low", "ci_high",
    "status",
]
"""Columns of `Results.frame`.

source: results directory (str); machine, env: names; commit: full hash, commit_short: 8 chars;
date: commit time (UTC Timestamp); order: commit position, 0 = oldest (int); benchmark: full asv
name; suite: its module; type: time / track / peakmem / mem; unit: e.g. "seconds", "bytes",
"ratio"; version: asv benchmark version; current: True when that version is the one in
benchmarks.json (False when the benchmark changed since or vanished); params: readable key such as
"method=halp, bits=8" ("" when not parametrized); param_values: dict name -> Python value;
value: float (NaN unless status is ok); ci_low, ci_high: asv's 99% confidence interval (NaN when
asv stored none, e.g. for track_ benchmarks, or an infinite one, as `asv run --quick` does); status: "ok", "failed" (asv stored null) or
"skipped" (asv stored NaN).
"""

SERIES = ["machine", "env", "benchmark", "params"]
"""A series is keyed by these columns: values are never joined across environments."""

UNIT_BY_TYPE = {"time": "seconds", "peakmem": "bytes", "mem": "bytes"}


@dataclass
class Results:
    """Everything read from the results directories.

    frame: the tidy frame (see COLUMNS); machines: one row per (source, machine) with the fields of
    machine.json (missing fields filled from the result files); warnings: human-readable messages
    about skipped files and entries; files: number of result files read.
    """

    frame: pd.DataFrame
    machines: pd.DataFrame
    warnings: list = field(default_factory=list)
    files: int = 0


def result_files(results_dir):
    """Result files of one results directory: `<dir>/<machine>/*.json` except machine.json."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if p.name != "machine.json")


def fingerprint(dirs):
    """Cheap change detector for `dirs`: (path, size, mtime_ns) of every JSON file, as a tuple."""
    stamps = []
    for d in dirs:
        root = Path(d)
        if root.is_dir():
            for p in sorted(root.glob("*.json")) + sorted(root.glob("*/*.json")):
                st = p.stat()
                stamps.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(stamps)


def parse_param(text):
    """Python value of one asv parameter repr ("'halp'" -> 'halp', "8" -> 8); the text if not a literal."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _read_json(path, warnings):
    """Parsed JSON of `path` (bare NaN/Infinity accepted), or None with a warning."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warnings.append(f"Skipped malformed file {path}: {exc}")
        return None


def _benchmark_info(results_dir, warnings):
    """benchmarks.json of a results directory as a dict (empty, with a warning, when unreadable)."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.exists():
        warnings.append(f"{path} is missing: units and parameter names are guessed.")
        return {}
    info = _read_json(path, warnings)
    if not isinstance(info, dict):
        return {}
    return {k: v for k, v in info.items() if isinstance(v, dict)}


def _float(x):
    """x as a float; NaN for None and anything that is not a number."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return math.nan
    return float(x)


def _bound(x):
    """A confidence-interval bound as a float; NaN unless finite."""
    x = _float(x)
    return x if math.isfinite(x) else math.nan


def _status(x):
    if x is None:
        return "failed"
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isnan(x):
        return "skipped"
    return "ok" if isinstance(x, (int, float)) and not isinstance(x, bool) else "failed"


def _column(entry, columns, name, n):
    """Per-combination list of result column `name` (None-padded to n); asv drops empty trailing columns."""
    i = columns.index(name) if name in columns else len(entry)
    values = entry[i] if i < len(entry) else None
    if not isinstance(values, list):
        values = [values] * n if name == "result" else [None] * n
    return (values + [None] * n)[:n]


def _entry_rows(name, entry, columns, info, base, warnings, where):
    """Rows of one benchmark entry of a result file (one per parameter combination)."""
    if not isinstance(entry, list) or not entry:
        warnings.append(f"{where}: entry {name!r} is not a list; skipped.")
        return []
    params = entry[columns.index("params")] if "params" in columns and len(entry) > 1 else []
    if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
        warnings.append(f"{where}: entry {name!r} has malformed params; skipped.")
        return []
    meta = info.get(name, {})
    names = meta.get("param_names") if meta.get("params") is not None else None
    if not isinstance(names, list) or len(names) != len(params):
        names = [f"param{i + 1}" for i in range(len(params))]
    combos = list(itertools.product(*params))
    n = len(combos)
    values = _column(entry, columns, "result", n)
    ci_a = _column(entry, columns, "stats_ci_99_a", n)
    ci_b = _column(entry, columns, "stats_ci_99_b", n)
    version = entry[columns.index("version")] if "version" in columns and len(entry) > 2 else None
    kind = meta.get("type") or name.rsplit(".", 1)[-1].split("_", 1)[0]
    common = dict(
        base,
        benchmark=name,
        suite=name.split(".", 1)[0],
        type=kind,
        unit=meta.get("unit") or UNIT_BY_TYPE.get(kind, ""),
        version=version,
        current=bool(meta) and meta.get("version") == version,
    )
    rows = []
    for combo, value, lo, hi in zip(combos, values, ci_a, ci_b):
        param_values = {k: parse_param(v) for k, v in zip(names, combo)}
        status = _status(value)
        ok = status == "ok"
        rows.append(dict(
            common,
            params=", ".join(f"{k}={v}" for k, v in param_values.items()),
            param_values=param_values,
            value=_float(value) if ok else math.nan,
            ci_low=_bound(lo) if ok else math.nan,
            ci_high=_bound(hi) if ok else math.nan,
            status=status,
        ))
    return rows


def _file_rows(path, info, source, warnings):
    """(rows, run params) of one result file; ([], None) with a warning when it is unusable."""
    data = _read_json(path, warnings)
    if data is None:
        return [], None
    required = ("commit_hash", "env_name", "result_columns", "results")
    if not isinstance(data, dict) or any(k not in data for k in required):
        warnings.append(f"Skipped {path}: not an asv result file (needs {', '.join(required)}).")
        return [], None
    if data.get("version") != 2:
        warnings.append(f"{path}: result schema version {data.get('version')!r}, expected 2; read anyway.")
    columns, results = data["result_columns"], data["results"]
    if not isinstance(columns, list) or not isinstance(results, dict):
        warnings.append(f"Skipped {path}: result_columns or results has the wrong type.")
        return [], None
    run = data.get("params") if isinstance(data.get("params"), dict) else {}
    commit = str(data["commit_hash"])
    date = _float(data.get("date"))
    base = dict(
        source=source,
        machine=str(run.get("machine") or path.parent.name),
        env=str(data["env_name"]),
        commit=commit,
        commit_short=commit[:8],
        date=pd.Timestamp(date, unit="ms", tz="UTC") if math.isfinite(date) else pd.NaT,
    )
    rows = []
    for name, entry in results.items():
        rows.extend(_entry_rows(name, entry, columns, info, base, warnings, path))
    return rows, run


def _machine_rows(results_dir, runs, warnings):
    """One dict per machine folder: machine.json fields, missing ones filled from its result files."""
    rows = []
    for folder in sorted(p for p in Path(results_dir).iterdir() if p.is_dir()):
        spec = {}
        path = folder / "machine.json"
        if path.exists():
            loaded = _read_json(path, warnings)
            spec = loaded if isinstance(loaded, dict) else {}
        elif folder.name in runs:
            warnings.append(f"{path} is missing; machine specs come from the result files.")
        if folder.name not in runs and not spec:
            continue
        merged = {k: v for k, v in runs.get(folder.name, {}).items() if k != "python"}
        merged.update({k: v for k, v in spec.items() if k != "version"})
        merged["machine"] = str(merged.get("machine") or folder.name)
        rows.append(dict(merged, source=str(results_dir)))
    return rows


def git_positions(directory):
    """Topological position of every commit of the git repository holding `directory` (0 = oldest).

    Empty when `directory` is not in a git repository or git is unavailable.
    """
    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "rev-list", "--all", "--topo-order", "--reverse"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {h: i for i, h in enumerate(out.split())}


def commit_order(frame, positions):
    """Position (0 = oldest) of each commit of `frame`, ordered by (date, git position, hash).

    asv stores the commit time in whole milliseconds and many commits share one second, so ties
    are broken by git's topological order where git knows the commit (`positions`).
    """
    commits = frame.groupby("commit", sort=False)["date"].min().reset_index()
    commits["git"] = commits["commit"].map(positions).fillna(math.inf)
    commits = commits.sort_values(["date", "git", "commit"], na_position="first")
    return {c: i for i, c in enumerate(commits["commit"])}


def load_results(dirs):
    """Read every results directory in `dirs` (paths) into one `Results`.

    Missing directories, malformed files and odd entries are skipped with a warning. When the same
    machine × env × commit × benchmark × params appears in several directories, the later
    directory wins.
    """
    warnings, rows, machines, files, positions = [], [], [], 0, {}
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            warnings.append(f"Results directory {root} does not exist.")
            continue
        info = _benchmark_info(root, warnings)
        runs = {}
        for path in result_files(root):
            file_rows, run = _file_rows(path, info, str(root), warnings)
            files += run is not None
            rows.extend(file_rows)
            if run is not None:
                runs[path.parent.name] = run
        machines.extend(_machine_rows(root, runs, warnings))
        positions.update(git_positions(root))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    key = ["machine", "env", "commit", "benchmark", "params"]
    duplicated = frame.duplicated(key, keep="last")
    if duplicated.any():
        warnings.append(f"{int(duplicated.sum())} results appear in more than one directory; "
                        "the last directory listed wins.")
        frame = frame[~duplicated].reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    frame["order"] = frame["commit"].map(commit_order(frame, positions)).astype("int64")
    for col in ("value", "ci_low", "ci_high"):
        frame[col] = frame[col].astype("float64")
    frame["current"] = frame["current"].astype(bool)
    machine_frame = pd.DataFrame(machines)
    if machine_frame.empty:
        machine_frame = pd.DataFrame(columns=["machine", "source"])
    return Results(frame=frame, machines=machine_frame, warnings=warnings, files=files)


def param_table(frame):
    """`frame` with one extra column per parameter name (from `param_values`), for one benchmark family."""
    expanded = pd.DataFrame(list(frame["param_values"]), index=frame.index)
    return frame.join(expanded.drop(columns=[c for c in expanded if c in frame]))


def commit_url_prefix(asv_conf):
    """Prefix that a commit hash completes into a link, from an asv.conf.json (// comments allowed).

    asv's `show_commit_url`, else `<project_url>/commit/` for a GitHub project, else "".
    """
    from asv.util import load_json

    try:
        conf = load_json(str(asv_conf), js_comments=True)
    except Exception:  # a missing or unreadable config only costs the commit links
        return ""
    url = str(conf.get("show_commit_url") or "")
    project = str(conf.get("project_url") or "").rstrip("/")
    if not url and project.startswith("https://github.com/"):
        url = project + "/commit/"
    return url
