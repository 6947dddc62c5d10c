"""Read asv results directories into one tidy pandas frame, and the selections of it that several
pages share (plain Python, no Streamlit).

An asv results directory holds `benchmarks.json` and one folder per machine with `machine.json` and
`<hash8>-<env>.json` result files (schema version 2), read through `halp_bench.asv_results`.
`load_results` turns any number of such directories into a `Results`: one frame row per source ×
machine × env × commit × benchmark × parameter combination, a table of machines, and a list of
warnings for everything it had to skip.
Nothing here raises on bad input: a malformed or unexpected file becomes a warning.
"""

import math
import numbers
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from halp_bench import asv_results
from halp_bench.asv_results import NOT_REACHED, OK, parse_param

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
value: float (NaN unless status is ok; +inf where a target was not reached, see
`halp_bench.asv_results.value_status`); ci_low, ci_high: asv's 99% confidence interval
(NaN when asv stored none, e.g. for track_ benchmarks, or an infinite one, as `asv run --quick`
does); status: "ok" (a finite value, or +inf: a target not reached), "failed" (asv stored null),
"skipped" (asv stored NaN) or "invalid" (any other non-finite value or one that is not a number:
-inf, +inf outside a time to a target, text; `load_results` also warns about it).
"""

STATUSES = ("ok", "failed", "skipped", "invalid")
"""Values of the status column."""

NO_CPU = "CPU not recorded"
"""What `machine_descriptions` says for a machine without a cpu field."""

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


def fingerprint(dirs):
    """Cheap change detector for `dirs`: (path, size, mtime_ns) of every JSON file, as a tuple
    (size and mtime -1 for an entry that cannot be stat'ed, e.g. a dangling symlink)."""
    stamps = []
    for d in dirs:
        root = Path(d)
        if root.is_dir():
            for p in sorted(root.glob("*.json")) + sorted(root.glob("*/*.json")):
                try:
                    st = p.stat()
                except OSError:
                    stamps.append((str(p), -1, -1))
                else:
                    stamps.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(stamps)


def _benchmark_info(results_dir, warnings):
    """benchmarks.json of a results directory as a dict of valid entries (see
    `asv_results.read_benchmarks`); empty, with a warning, when missing or unreadable; entries and
    fields of the wrong type are dropped with a warning."""
    try:
        found = asv_results.read_benchmarks(results_dir)
    except asv_results.ResultFileError as exc:
        warnings.append(f"Skipped: {exc}.")
        return {}
    if found is None:
        warnings.append(f"{Path(results_dir) / 'benchmarks.json'} is missing: units and parameter names "
                        "are guessed.")
        return {}
    info, problems = found
    warnings.extend(problems)
    return info


def _benchmark_rows(bench, info, base, warnings, where):
    """Rows of one benchmark of a result file (an `asv_results.Benchmark`), one per parameter
    combination, with benchmarks.json's names, type and unit (guessed where it has none)."""
    meta = info.get(bench.name, {})
    names, problem = asv_results.param_names_of(meta.get("param_names"), len(bench.params))
    if problem:
        warnings.append(f"{where}: entry {bench.name!r} has {problem}.")
    kind = meta.get("type") or bench.name.rsplit(".", 1)[-1].split("_", 1)[0]
    common = dict(
        base,
        benchmark=bench.name,
        suite=bench.name.split(".", 1)[0],
        type=kind,
        unit=meta.get("unit") or UNIT_BY_TYPE.get(kind, ""),
        version=bench.version,
        current=bool(meta) and meta.get("version") == bench.version,
    )
    rows = []
    for combo, m in bench.measurements:
        status = "ok" if m.status in (OK, NOT_REACHED) else m.status
        ok = status == "ok"
        param_values = {k: parse_param(v) for k, v in zip(names, combo)}
        rows.append(dict(
            common,
            params=", ".join(f"{k}={v}" for k, v in param_values.items()),
            param_values=param_values,
            value=m.value if ok else math.nan,
            ci_low=m.ci_low if ok else math.nan,
            ci_high=m.ci_high if ok else math.nan,
            status=status,
        ))
    return rows


def _date(value, path, warnings):
    """Commit time of a result file (ms since the epoch, None when it has none) as a UTC Timestamp;
    NaT, with a warning when the time is out of pandas' range (years 1677-2262)."""
    if value is None:   # asv_results.load named it
        return pd.NaT
    try:
        return pd.Timestamp(value, unit="ms", tz="UTC")
    except (ValueError, OverflowError):
        warnings.append(f"{path}: field 'date' is {asv_results.text_of(value)}, not a commit time in ms; "
                        "shown without a date.")
        return pd.NaT


def _file_rows(path, info, source, warnings):
    """(rows, run params) of one result file; ([], None) with a warning when it is unusable."""
    try:
        found = asv_results.load(path)
    except asv_results.ResultFileError as exc:
        warnings.append(f"Skipped: {exc}.")
        return [], None
    warnings.extend(found.notes + found.skipped)
    base = dict(
        source=source,
        machine=found.run.get("machine") or path.parent.name,
        env=found.env,
        commit=found.commit,
        commit_short=found.commit[:8],
        date=_date(found.date, path, warnings),
    )
    rows = []
    for bench in found.benchmarks.values():
        rows.extend(_benchmark_rows(bench, info, base, warnings, path))
    return rows, found.run


def _machine_rows(results_dir, runs, warnings):
    """One dict per machine folder: machine.json fields, missing ones filled from its result files."""
    try:
        folders = sorted(p for p in Path(results_dir).iterdir() if p.is_dir())
    except OSError as exc:
        warnings.append(f"{results_dir} cannot be listed: {exc}")
        return []
    rows = []
    for folder in folders:
        spec = {}
        try:
            found = asv_results.read_machine(folder)
        except asv_results.ResultFileError as exc:
            warnings.append(f"Skipped: {exc}.")
        else:
            if found is not None:
                spec, problems = found
                warnings.extend(problems)
            elif folder.name in runs:
                warnings.append(f"{folder / 'machine.json'} is missing; machine specs come from the result files.")
        if folder.name not in runs and not spec:
            continue
        merged = {k: v for k, v in runs.get(folder.name, {}).items() if k != "python"}
        merged.update({k: v for k, v in spec.items() if k != "version"})
        merged["machine"] = merged.get("machine") or folder.name
        rows.append(dict(merged, source=str(results_dir)))
    return rows


def as_text(values):
    """A numeric column as the text a table shows: 'not reached' for +inf (a target not reached,
    see `halp_bench.asv_results.value_status`), '' for NaN, else 4 significant digits."""
    return values.map(lambda v: NOT_REACHED if v == math.inf else "" if pd.isna(v) else f"{v:.4g}")


def short_env(env):
    """An asv environment's name as a label shows it: its kind and Python version
    ('virtualenv-py3.11-llvmlite0.50.0-…' -> 'virtualenv py3.11'; 'existing-py_work_…' ->
    'existing'); the full name goes in tooltips. Not unique in general: series stay keyed by the
    full name."""
    parts = str(env).split("-")
    version = next((p for p in parts[1:2] if p.startswith("py") and p[2:3].isdigit()), "")
    return " ".join(p for p in (parts[0], version) if p)


def machine_descriptions(machines):
    """{machine: its cpu description} from `Results.machines` (machine.json's cpu field, e.g. 'AMD
    EPYC, 2 logical CPUs, znver4, AVX-512 with VNNI, OpenBLAS SkylakeX'; NO_CPU where there is
    none); the last directory read wins, as for results."""
    if machines.empty or "cpu" not in machines:
        return {}
    known = machines.dropna(subset=["cpu"]).drop_duplicates("machine", keep="last")
    return dict(zip(known["machine"], known["cpu"].astype(str)))


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

    Never raises on a bad file: missing directories, unreadable or malformed files and malformed
    entries or values are skipped with a warning that names the file (and field). When the same
    machine × env × commit × benchmark × params appears in several directories, the later
    directory wins.
    """
    warnings, rows, machines, files, positions = [], [], [], 0, {}
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            what = "is not a directory" if root.exists() else "does not exist"
            warnings.append(f"Results directory {root} {what}.")
            continue
        info = _benchmark_info(root, warnings)
        runs = {}
        for path in asv_results.result_files(root):
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
        warnings.append(f"{int(duplicated.sum())} results appear in more than one directory or file; "
                        "the last one read wins.")
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


def latest(frame):
    """Rows of the newest commit measured for each (machine, env, benchmark)."""
    if frame.empty:
        return frame
    newest = frame.groupby(["machine", "env", "benchmark"])["order"].transform("max")
    return frame[frame["order"] == newest]


def mixed_key(value):
    """Sort key of one value of a column that may mix numbers and strings (one result file writes
    a parameter as a number, another as a name): numbers (and strings that read as one) first in
    numeric order, then the other strings."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (0, float(value), "")
    try:
        return (0, float(str(value)), str(value))
    except ValueError:
        return (1, 0.0, str(value))


def mixed_order(values):
    """``mixed_key`` over a column: pass as ``sort_values(..., key=mixed_order)``."""
    return values.map(mixed_key)


def newest_ok(frame, benchmark, needed=()):
    """ok rows of `benchmark` at each machine × env's newest commit, one column per parameter
    (`param_table`); None when there are none or the parameter names `needed` are unknown (without
    benchmarks.json asv's names are guessed as param1, param2, ...)."""
    rows = param_table(latest(frame[(frame["benchmark"] == benchmark) & (frame["status"] == "ok")]))
    if rows.empty or not set(needed) <= set(rows):
        return None
    return rows


def commit_choices(frame):
    """Commits of `frame`, newest first: DataFrame with commit, commit_short, date, order."""
    commits = frame.groupby(["commit", "commit_short"], as_index=False).agg(date=("date", "min"),
                                                                          order=("order", "min"))
    return commits.sort_values("order", ascending=False).reset_index(drop=True)


def precision_label(precision):
    """Readable precision parameter: 'fp64' -> 'fp64', 8 -> '8-bit', a float format's name as is
    ('bf16', 'fp8-e4m3'); a width written as text ('8', as some files write it) reads as 8."""
    if isinstance(precision, bool):
        return str(precision)
    return f"{precision}-bit" if isinstance(precision, int) or str(precision).isdigit() \
        else str(precision)


def precision_labels(values):
    """``precision_label`` of each distinct value of `values` (parameter values that may mix bit
    widths and names), in ``mixed_key`` order: bit widths in numeric order, then the names
    ('4-bit', '8-bit', '16-bit', 'bf16', 'fp16', 'fp8-e4m3', ...)."""
    return list(dict.fromkeys(precision_label(v) for v in sorted(set(values), key=mixed_key)))


def run_order(table, label="label"):
    """The distinct `label` values of `table` (rows with solver and precision columns) ordered by
    solver, then precision in ``mixed_key`` order: 'halp 4-bit', 'halp 8-bit', 'halp 16-bit',
    'halp bf16', ... instead of the text order that puts '16-bit' before '4-bit'."""
    rows = table.drop_duplicates(label).sort_values(["solver", "precision"], key=mixed_order)
    return rows[label].tolist()


REMOTE_HOSTS = ("github.com", "gitlab.com", "codeberg.org")
"""Hosts whose commit pages live at <repository URL>/commit/<hash>."""


def commit_url_prefix(repo_dir):
    """Prefix that a commit hash completes into a link: '<repository URL>/commit/' from the git
    repository at `repo_dir`'s remote (origin, else the first one), when it is on one of
    REMOTE_HOSTS, in https or ssh form ('git@github.com:o/r.git' -> 'https://github.com/o/r/commit/').
    "" (no links) when there is no remote, git is unavailable or the host is not one of those:
    links only to places that exist."""
    def git(*args):
        return subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True,
                              timeout=20).stdout.split()
    try:
        remotes = git("remote")
        if not remotes:
            return ""
        url = (git("remote", "get-url", "origin" if "origin" in remotes else remotes[0]) or [""])[0]
    except (OSError, subprocess.SubprocessError):
        return ""
    for host in REMOTE_HOSTS:
        for head in (f"https://{host}/", f"git@{host}:", f"ssh://git@{host}/"):
            if url.startswith(head):
                path = url[len(head):].removesuffix("/").removesuffix(".git")
                return f"https://{host}/{path}/commit/" if path.count("/") >= 1 else ""
    return ""
