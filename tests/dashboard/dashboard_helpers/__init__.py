"""Shared helpers of the dashboard tests: fixture paths, synthetic large results, AppTest access."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repository root on sys.path
    sys.path.insert(0, str(ROOT))

from dashboard.pages import PAGES as APP_PAGES  # noqa: E402  (after the sys.path fix above)

FIXTURES = ROOT / "tests" / "dashboard" / "fixtures" / "asv_results"
"""Results directory made by real asv runs (tests/dashboard/fixtures/make_asv_fixtures.py)."""
APP = ROOT / "dashboard" / "app.py"
MALFORMED = "0badf00d-malformed.json"
MACHINES = {"fixture-zen5", "fixture-laptop", "fixture-bare"}
PAGES = [path for path, _, _ in APP_PAGES if path not in ("views/peers.py", "views/reproduction.py", "views/sweeps.py")]
"""Pages of the app that read the asv results (Peers, Reproduction and Sweeps are tested on their own data)."""


def fixture_commits():
    """Full hashes of the fixture commits, oldest first (read from the result files' dates)."""
    found = {}
    for path in FIXTURES.glob("*/*-existing*.json"):
        data = json.loads(path.read_text())
        found[data["commit_hash"]] = data["date"]
    return sorted(found, key=found.get)


def copy_fixtures(dest):
    """Copy the fixture results directory to `dest` (a path that does not exist yet); return dest."""
    shutil.copytree(FIXTURES, dest)
    return Path(dest)


def copy_fixtures_without(dest, prefixes):
    """Copy the fixture results directory to `dest` minus every benchmark whose name starts with one
    of `prefixes` (dropped from benchmarks.json and every readable result file); return dest."""
    dest = copy_fixtures(dest)
    for path in [dest / "benchmarks.json", *dest.glob("*/*-existing*.json")]:
        data = json.loads(path.read_text())
        table = data["results"] if "results" in data else data
        for name in [n for n in table if n.startswith(tuple(prefixes))]:
            del table[name]
        path.write_text(json.dumps(data))
    return dest


FORMAT_FACTORS = {"bf16": 0.8, "fp8-e4m3": 0.6}
"""Float formats `copy_fixtures_with_formats` adds, and the factor on the 8-bit value each copies."""
FORMAT_BENCHMARKS = {"bench_speedup.Speedup.track_speedup": 1, "bench_epoch.EpochTime.time_epoch": 1,
                     "bench_convergence.Convergence.track_subopt": 2,
                     "bench_convergence.Convergence.track_seconds": 2,
                     "bench_convergence.Convergence.track_epochs_to_target": 2}
"""Benchmark -> index of its bit-width / precision parameter (the one the float formats extend)."""
_SCALED = {"result", "stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"}


def append_values(values, shape, dim, source, factors):
    """`values` (a flat list over the parameter grid `shape`) with one new slice per factor appended
    along `dim`: the slice at index `source` times the factor (None and NaN stay as they are)."""
    grid = np.array(values, dtype=object).reshape(shape)
    base = np.take(grid, [source], axis=dim)
    scale = np.vectorize(lambda v, f: v * f if isinstance(v, (int, float)) and v is not None else v,
                         otypes=[object])
    slices = [grid] + [base if f is None else scale(base, f) for f in factors]
    return np.concatenate(slices, axis=dim).reshape(-1).tolist()


def copy_fixtures_with_formats(dest, formats=FORMAT_FACTORS):
    """Copy the fixture results to `dest` with float formats appended to the bit-width / precision
    parameter of the speedup, epoch-time and convergence benchmarks (FORMAT_BENCHMARKS), as asv
    writes them: "'bf16'" after "4", "8", "16". Each format's values are those at 8 bits times its
    factor in `formats` (a smaller ratio / time: faster); f − f* and epoch counts are copied as they
    are. Returns dest."""
    dest = copy_fixtures(dest)
    for path in [dest / "benchmarks.json", *dest.glob("*/*-existing*.json")]:
        data = json.loads(path.read_text())
        if "results" not in data:   # benchmarks.json: the parameter lists only
            for name, dim in FORMAT_BENCHMARKS.items():
                data[name]["params"][dim] += [repr(f) for f in formats]
            path.write_text(json.dumps(data))
            continue
        columns = data["result_columns"]
        for name, dim in FORMAT_BENCHMARKS.items():
            entry = data["results"].get(name)
            if not entry:
                continue
            params = entry[columns.index("params")]
            shape = [len(p) for p in params]
            source = params[dim].index("8")
            timing = "seconds" not in name and "subopt" not in name and "epochs" not in name
            factors = [f if timing else None for f in formats.values()]
            for i, column in enumerate(columns):
                if i < len(entry) and isinstance(entry[i], list) and column != "params" \
                        and len(entry[i]) == int(np.prod(shape)):
                    entry[i] = append_values(entry[i], shape, dim, source,
                                              factors if column in _SCALED else [None] * len(factors))
            params[dim] = params[dim] + [repr(f) for f in formats]
        path.write_text(json.dumps(data))
    return dest


def synthetic_results(dest, machines=2, commits=26):
    """Write an asv results directory of machines × commits result files cloned from the fixtures.

    Every file is a real fixture result file (newest commit of fixture-zen5) with a new commit hash,
    date and values scaled by a per-commit factor. About 197 rows per file: the defaults give
    10,244 rows. Returns dest.
    """
    dest = Path(dest)
    dest.mkdir(parents=True)
    shutil.copy(FIXTURES / "benchmarks.json", dest)
    newest = fixture_commits()[-1]
    template = json.loads(next((FIXTURES / "fixture-zen5").glob(f"{newest[:8]}-*.json")).read_text())
    for m in range(machines):
        folder = dest / f"synthetic-{m}"
        folder.mkdir()
        (folder / "machine.json").write_text(json.dumps({"machine": folder.name, "cpu": f"cpu {m}",
                                                         "version": 1}))
        for c in range(commits):
            data = json.loads(json.dumps(template))
            data["commit_hash"] = f"{c:08x}" + "ab" * 16
            data["date"] = template["date"] + c * 3_600_000
            data["params"]["machine"] = folder.name
            scale = (1 + 0.01 * (c % 5)) * (1.5 if c >= commits // 2 else 1.0) * (1 + 0.3 * m)
            for entry in data["results"].values():
                if isinstance(entry[0], list):
                    entry[0] = [v * scale if isinstance(v, float) else v for v in entry[0]]
            (folder / f"{data['commit_hash'][:8]}-{data['env_name']}.json").write_text(json.dumps(data))
    return dest


def charts(at):
    """Figure specs (dicts with 'data' and 'layout') of every plotly chart an AppTest rendered."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def chart(at, title):
    """The figure spec whose layout title starts with `title` (AssertionError when absent)."""
    for spec in charts(at):
        text = spec["layout"].get("title", {}).get("text", "")
        if text.startswith(title):
            return spec
    raise AssertionError(f"no chart titled {title!r}; have {titles(at)}")


def titles(at):
    """Layout titles of the rendered plotly charts."""
    return [spec["layout"].get("title", {}).get("text", "") for spec in charts(at)]


def trace_names(spec):
    """Set of trace names of a figure spec."""
    return {trace.get("name") for trace in spec["data"]}


def array(values):
    """A trace's data array as a list: plotly JSON may hold it as {'dtype': ..., 'bdata': base64}."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


@lru_cache(maxsize=1)
def asv_benchmarks():
    """What asv itself discovers in benchmarks/: name -> its attributes (param_names, params as
    repr strings, ...), listed by asv_runner in a subprocess as `asv run` does, with a user's file
    declared (HALP_BENCH_FILE: a one-row svmlight file, not read at discovery), so that the
    benchmarks that exist only with one (bench_speedup.FileSpeedup) are listed too."""
    code = "import sys; from asv_runner.discovery import list_benchmarks; list_benchmarks('benchmarks', sys.stdout)"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "yours.svm"
        path.write_text("1 1:0.5\n")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("HALP_BENCH_FILE")},
               "HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic"}
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, check=True, env=env)
    return {b["name"]: b for b in json.loads(proc.stdout)}


def app_page(page=None, query=None, timeout=300):
    """The app (`dashboard/app.py`) under AppTest at `page` (a path of `dashboard.pages.PAGES`; None:
    the first page), with the URL query parameters `query` (a dict), run once; fails when the page
    raised. Returns the AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if page:
        at.switch_page(page)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return at

