"""Adversarial inputs to the dashboard's loaders: every bad file or value must become a warning that
names the file and the problem, never an exception, and the good data beside it must still load.

Results cases add one bad thing to a copy of the asv fixtures (tests/dashboard/fixtures/asv_results) and
check `results.load_results`; reproduction cases spoil one file of a copy of docs/reproduction/
with the hand-made networks' files (dashboard_helpers.nets) and check `data.reproduction.load`.
Each case is (id, setup, file named, problem words): setup makes the fault under the copied folder;
the warning must name that file and hold those words.
"""

import json
import math
import os
import shutil

import pytest
from dashboard_helpers import FIXTURES, MACHINES, ROOT
from dashboard_helpers import nets as hand_nets

from dashboard import results
from halp_bench import files
from dashboard.data import reproduction

BAD = "feedbeef-existing-py.json"
"""Name of the added result file of most cases (in machine folder fixture-bare)."""
BAD_COMMIT = "feedbeef" * 5
GOOD = "bench_memory.Memory.peakmem_solve"
"""The well-formed entry every added result file also holds."""
ENTRY = "bench_bad.Bad.track_bad"
"""The entry the entry-level cases spoil."""
COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b"]


def result_file(**changes):
    """A valid asv result file (dict) holding GOOD, with top-level fields replaced by `changes`
    (a value of `...` deletes the field)."""
    data = {"commit_hash": BAD_COMMIT, "env_name": "existing-py", "date": 1736769600000,
            "params": {"machine": "fixture-bare", "cpu": "test cpu"}, "result_columns": COLUMNS,
            "results": {GOOD: [[1.0, 2.0, 3.0], [["'fp64'", "'fp32'", "8"]], "v1", 0, 0.1,
                               [0.9, 1.9, 2.9], [1.1, 2.1, 3.1]]},
            "version": 2}
    for key, value in changes.items():
        if value is ...:
            del data[key]
        else:
            data[key] = value
    return data


def write(path, content):
    """Write `content` to `path`: bytes as they are, str as UTF-8, anything else as JSON (bare NaN
    and Infinity allowed, as asv writes them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))


def file_case(content, name=BAD):
    """Setup writing `content` as machine fixture-bare's file `name`."""
    return lambda d: write(d / "fixture-bare" / name, content)


def entry_case(entry):
    """Setup adding a result file whose ENTRY is `entry` (GOOD stays well-formed and must load)."""
    data = result_file()
    data["results"][ENTRY] = entry
    setup = file_case(data)
    setup.keeps_good = True
    return setup


def good_entry(result, params=(("'a'", "'b'"),), **cols):
    """An asv entry with `result` and `params`, other columns from `cols` (name -> value)."""
    row = [result, [list(p) for p in params], "v1", 0, 0.1]
    for name, value in cols.items():
        while len(row) <= COLUMNS.index(name):
            row.append(None)
        row[COLUMNS.index(name)] = value
    return row


def symlink(target, name=BAD, folder="fixture-bare"):
    """Setup adding a symlink `folder/name` -> `target` (relative to the folder)."""
    return lambda d: os.symlink(target, d / folder / name)


def symlink_loop(d):
    os.symlink("loop-b.json", d / "fixture-bare" / "loop-a.json")
    os.symlink("loop-a.json", d / "fixture-bare" / "loop-b.json")


def directory(name, folder="fixture-bare"):
    return lambda d: (d / folder / name).mkdir()


def fifo(d):
    os.mkfifo(d / "fixture-bare" / BAD)


LIMIT = 200_000
"""MAX_BYTES of the 'larger than the limit' case: above every fixture file, below the added one."""


def machine_json(content):
    return lambda d: write(d / "fixture-bare" / "machine.json", content)


def benchmarks_json(content):
    return lambda d: write(d / "benchmarks.json", content)


def benchmark_entry(value, name=GOOD):
    """Setup replacing benchmarks.json's entry `name` by `value`."""
    def setup(d):
        info = json.loads((d / "benchmarks.json").read_text())
        info[name] = value
        write(d / "benchmarks.json", info)
    return setup


def benchmark_field(key, value, name=GOOD):
    """Setup setting field `key` of benchmarks.json's entry `name` to `value`."""
    def setup(d):
        info = json.loads((d / "benchmarks.json").read_text())
        info[name][key] = value
        write(d / "benchmarks.json", info)
    return setup


def new_machine(files_by_name):
    """Setup adding machine folder 'bad-machine' with `files_by_name` (name -> content)."""
    def setup(d):
        for name, content in files_by_name.items():
            write(d / "bad-machine" / name, content)
    return setup


def deep(levels):
    return "[" * levels + "]" * levels


# (id, setup, file the warning names, words the warning holds)
RESULT_CASES = [
    # whole files that are not JSON, not text or not files
    ("empty file", file_case(""), BAD, "not JSON"),
    ("whitespace only", file_case("  \n\t "), BAD, "not JSON"),
    ("binary garbage", file_case(bytes(range(256)) * 4), BAD, "not UTF-8"),
    ("nul bytes", file_case(b"\x00" * 64), BAD, "not JSON"),
    ("truncated JSON", file_case(json.dumps(result_file())[:200]), BAD, "not JSON"),
    ("trailing garbage", file_case(json.dumps(result_file()) + "xyz"), BAD, "not JSON"),
    ("UTF-8 byte order mark", file_case(b"\xef\xbb\xbf" + json.dumps(result_file()).encode()), BAD,
     "not JSON"),
    ("UTF-16 text", file_case(json.dumps(result_file()).encode("utf-16")), BAD, "not UTF-8"),
    ("latin-1 byte in a string", file_case(json.dumps(result_file()).replace("test cpu", "caf\xe9")
                                           .encode("latin-1")), BAD, "not UTF-8"),
    ("JSON array", file_case([1, 2]), BAD, "not an object"),
    ("JSON string", file_case('"text"'), BAD, "not an object"),
    ("JSON number", file_case("42"), BAD, "not an object"),
    ("JSON null", file_case("null"), BAD, "not an object"),
    ("bare NaN", file_case("NaN"), BAD, "not an object"),
    ("nested 100,000 deep", file_case(deep(100_000)), BAD, "nests deeper"),
    ("nested 100 deep inside a result", file_case(json.dumps(result_file(params={"x": json.loads(deep(100))}))),
     BAD, "nests deeper"),
    ("directory named .json", directory(BAD), BAD, "not a regular file"),
    ("dangling symlink", symlink("missing-target.json"), BAD, "cannot be read"),
    ("symlink loop", symlink_loop, "loop-a.json", "cannot be read"),
    ("symlink to itself", symlink(BAD), BAD, "cannot be read"),
    ("symlink to a directory", symlink("."), BAD, "not a regular file"),
    ("named pipe", fifo, BAD, "not a regular file"),
    ("larger than the limit", file_case(result_file(pad="x" * LIMIT)), BAD, "bytes, more than"),
    # required fields missing or of the wrong type
    ("no commit_hash", file_case(result_file(commit_hash=...)), BAD, "no commit_hash"),
    ("no env_name", file_case(result_file(env_name=...)), BAD, "no env_name"),
    ("no result_columns", file_case(result_file(result_columns=...)), BAD, "no result_columns"),
    ("no results", file_case(result_file(results=...)), BAD, "no results"),
    ("commit_hash null", file_case(result_file(commit_hash=None)), BAD, "commit_hash is None"),
    ("commit_hash number", file_case(result_file(commit_hash=12345678)), BAD, "commit_hash is 12345678"),
    ("commit_hash list", file_case(result_file(commit_hash=["ab"])), BAD, "commit_hash is ['ab']"),
    ("commit_hash empty", file_case(result_file(commit_hash="")), BAD, "commit_hash is ''"),
    ("commit_hash not hex", file_case(result_file(commit_hash="not a hash!")), BAD, "hexadecimal"),
    ("commit_hash too long", file_case(result_file(commit_hash="a" * 1000)), BAD, "hexadecimal"),
    ("env_name null", file_case(result_file(env_name=None)), BAD, "env_name is None"),
    ("env_name number", file_case(result_file(env_name=5)), BAD, "env_name is 5"),
    ("env_name blank", file_case(result_file(env_name="  ")), BAD, "env_name is '  '"),
    ("result_columns text", file_case(result_file(result_columns="result")), BAD, "result_columns is"),
    ("result_columns without result", file_case(result_file(result_columns=["params", "version"])), BAD,
     "result_columns is"),
    ("result_columns numbers", file_case(result_file(result_columns=[1, 2, 3])), BAD, "result_columns is"),
    ("results a list", file_case(result_file(results=[1])), BAD, "results is [1]"),
    ("results null", file_case(result_file(results=None)), BAD, "results is None"),
    ("results text", file_case(result_file(results="x")), BAD, "results is 'x'"),
    # optional fields of the wrong type or out of range
    ("date 1e20", file_case(result_file(date=1e20)), BAD, "field 'date' is 1e+20"),
    ("date -1e20", file_case(result_file(date=-1e20)), BAD, "field 'date'"),
    ("date text", file_case(result_file(date="2025-01-01")), BAD, "field 'date' is '2025-01-01'"),
    ("date null", file_case(result_file(date=None)), BAD, "field 'date' is None"),
    ("date missing", file_case(result_file(date=...)), BAD, "field 'date' is None"),
    ("date NaN", file_case(result_file(date=math.nan)), BAD, "field 'date' is nan"),
    ("date Infinity", file_case(result_file(date=math.inf)), BAD, "field 'date' is inf"),
    ("date boolean", file_case(result_file(date=True)), BAD, "field 'date' is True"),
    ("date 10**400", file_case(json.dumps(result_file()).replace("1736769600000", "1" + "0" * 400)), BAD,
     "field 'date'"),
    ("schema version 3", file_case(result_file(version=3)), BAD, "schema version 3"),
    ("schema version text", file_case(result_file(version="2")), BAD, "schema version '2'"),
    ("params a list", file_case(result_file(params=["machine"])), BAD, "field 'params'"),
    ("params text", file_case(result_file(params="fixture-bare")), BAD, "field 'params'"),
    ("machine name a list", file_case(result_file(params={"machine": ["a", "b"]})), BAD, "field 'machine'"),
    ("cpu an object", file_case(result_file(params={"machine": "fixture-bare", "cpu": {"x": 1}})), BAD,
     "field 'cpu'"),
    # benchmark entries
    ("entry text", entry_case("not a list"), BAD, ENTRY),
    ("entry number", entry_case(3.5), BAD, ENTRY),
    ("entry null", entry_case(None), BAD, ENTRY),
    ("entry object", entry_case({"result": [1]}), BAD, ENTRY),
    ("entry empty list", entry_case([]), BAD, ENTRY),
    ("entry params text", entry_case([[1.0], "nope"]), BAD, "malformed params"),
    ("params flat list", entry_case([[1.0], ["'a'"]]), BAD, "malformed params"),
    ("params numbers", entry_case([[1.0, 2.0], [[1, 2]]]), BAD, "malformed params"),
    ("params objects", entry_case([[1.0], [[{"a": 1}]]]), BAD, "malformed params"),
    ("fewer results than combinations", entry_case(good_entry([1.0])), BAD, "holds 1 values for 2"),
    ("more results than combinations", entry_case(good_entry([1.0, 2.0, 3.0])), BAD, "holds 3 values for 2"),
    ("a billion combinations", entry_case(good_entry([1.0], params=[["'a'"] * 1000] * 3)), BAD,
     "for 1000000000 parameter"),
    ("result text", entry_case(good_entry("fast")), BAD, "column 'result'"),
    ("result number for two combinations", entry_case(good_entry(1.0)), BAD, "column 'result'"),
    ("result object", entry_case(good_entry({"a": 1})), BAD, "column 'result'"),
    ("number as text", entry_case(good_entry(["1.5", 2.0])), BAD, "result[0] = '1.5'"),
    ("NaN as text", entry_case(good_entry(["NaN", 2.0])), BAD, "result[0] = 'NaN'"),
    ("Infinity as text", entry_case(good_entry([1.0, "Infinity"])), BAD, "result[1] = 'Infinity'"),
    ("boolean value", entry_case(good_entry([True, 2.0])), BAD, "result[0] = True"),
    ("list value", entry_case(good_entry([[1.0], 2.0])), BAD, "result[0] = [1.0]"),
    ("object value", entry_case(good_entry([{"v": 1}, 2.0])), BAD, "result[0] = {'v': 1}"),
    ("integer beyond float", file_case(json.dumps(result_file()).replace("[1.0, 2.0, 3.0]", "[1" + "0" * 400
                                                                          + ", 2.0, 3.0]")), BAD,
     "result[0] = 1000"),
    ("interval text", entry_case(good_entry([1.0, 2.0], stats_ci_99_a=["low", 1.5])), BAD,
     "stats_ci_99_a[0] = 'low'"),
    ("interval of the wrong length", entry_case(good_entry([1.0, 2.0], stats_ci_99_b=[1.0])), BAD,
     "column 'stats_ci_99_b'"),
    ("entry version a number", entry_case(good_entry([1.0, 2.0])[:2] + [7]), BAD, "field 'version' is 7"),
    # machine.json
    ("machine.json a list", machine_json(["fixture-bare"]), "machine.json", "not an object"),
    ("machine.json text", machine_json('"fixture-bare"'), "machine.json", "not an object"),
    ("machine.json null", machine_json("null"), "machine.json", "not an object"),
    ("machine.json empty", machine_json(""), "machine.json", "not JSON"),
    ("machine.json garbage", machine_json(b"\xff\xfe\x00garbage"), "machine.json", "not UTF-8"),
    ("machine.json field a list", machine_json({"machine": "fixture-bare", "cpu": ["a", "b"]}),
     "machine.json", "field 'cpu' is list"),
    ("machine.json field an object", machine_json({"machine": "fixture-bare", "ram": {"GB": 8}}),
     "machine.json", "field 'ram' is dict"),
    ("machine.json a directory", lambda d: ((d / "fixture-bare" / "machine.json").unlink(),
                                            (d / "fixture-bare" / "machine.json").mkdir()),
     "machine.json", "not a regular file"),
    ("machine.json dangling symlink", lambda d: ((d / "fixture-bare" / "machine.json").unlink(),
                                                 symlink("gone.json", "machine.json")(d)),
     "machine.json", "cannot be read"),
    ("machine folder with only a bad machine.json", new_machine({"machine.json": "{"}), "machine.json",
     "not JSON"),
    # benchmarks.json
    ("benchmarks.json a list", benchmarks_json([1, 2]), "benchmarks.json", "not a JSON object"),
    ("benchmarks.json garbage", benchmarks_json(b"\x89PNG\r\n\x1a\n"), "benchmarks.json", "not UTF-8"),
    ("benchmarks.json empty", benchmarks_json(""), "benchmarks.json", "not JSON"),
    ("benchmarks.json nested too deep", benchmarks_json(deep(5000)), "benchmarks.json", "nests deeper"),
    ("benchmarks.json a directory", lambda d: ((d / "benchmarks.json").unlink(), (d / "benchmarks.json").mkdir()),
     "benchmarks.json", "not a regular file"),
    ("benchmarks.json dangling symlink", lambda d: ((d / "benchmarks.json").unlink(),
                                                    os.symlink("gone.json", d / "benchmarks.json")),
     "benchmarks.json", "cannot be read"),
    ("benchmark entry a list", benchmark_entry([1]), "benchmarks.json", f"entry '{GOOD}' is list"),
    ("benchmark entry text", benchmark_entry("peakmem"), "benchmarks.json", f"entry '{GOOD}' is str"),
    ("param_names text", benchmark_field("param_names", "precision"), "benchmarks.json", "'param_names'"),
    ("param_names numbers", benchmark_field("param_names", [1]), "benchmarks.json", "'param_names'"),
    ("param_names too few", benchmark_field("param_names", []), "benchmarks.json", "names 0; names guessed"),
    ("unit a number", benchmark_field("unit", 5), "benchmarks.json", "'unit'"),
    ("type a list", benchmark_field("type", ["peakmem"]), "benchmarks.json", "'type'"),
    ("version a number", benchmark_field("version", 1), "benchmarks.json", "'version'"),
    ("params an object", benchmark_field("params", {"a": 1}), "benchmarks.json", "'params'"),
    # folders
    ("machine folder a symlink loop", lambda d: os.symlink("loop-folder", d / "loop-folder"), None, None),
    ("machine folder dangling symlink", lambda d: os.symlink("nowhere", d / "gone-machine"), None, None),
]
"""Cases whose `file` is None only need loading to go on (no file holds a problem to report)."""


def ids(cases):
    return [c[0] for c in cases]


@pytest.fixture(scope="module")
def baseline():
    """Rows and machines of the untouched fixtures."""
    res = results.load_results([FIXTURES])
    return len(res.frame), set(res.machines["machine"])


def bad_results_dir(tmp_path, setup):
    d = tmp_path / "r"
    shutil.copytree(FIXTURES, d)
    (d / "fixture-zen5" / "0badf00d-malformed.json").unlink()  # the fixtures' own bad file
    setup(d)
    return d


@pytest.mark.parametrize("case", RESULT_CASES, ids=ids(RESULT_CASES))
def test_results_loader_warns_and_keeps_good_data(tmp_path, monkeypatch, baseline, case):
    name, setup, bad_file, words = case
    monkeypatch.setattr(files, "MAX_BYTES", LIMIT)
    d = bad_results_dir(tmp_path, setup)
    res = results.load_results([d])
    if bad_file is not None:
        named = [w for w in res.warnings if bad_file in w and words in w]
        assert named, f"no warning naming {bad_file} with {words!r}: {res.warnings}"
    rows, machines = baseline
    assert MACHINES <= set(res.frame["machine"]) and machines <= set(res.machines["machine"])
    assert len(res.frame) >= rows - 1  # the fixtures' malformed file held no rows; one entry spoilt at most
    added = res.frame[(res.frame["commit"] == BAD_COMMIT) & (res.frame["benchmark"] == GOOD)]
    if getattr(setup, "keeps_good", False):  # the good entry beside the bad one still loads
        assert len(added) == 3 and set(added["status"]) == {"ok"}
    assert "None" not in set(res.frame["commit"]) and not res.frame["commit"].isna().any()


def test_results_directory_that_is_a_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{}")
    res = results.load_results([path, FIXTURES])
    assert any(str(path) in w and "is not a directory" in w for w in res.warnings)
    assert set(res.frame["machine"]) == MACHINES


def test_missing_results_directory(tmp_path):
    res = results.load_results([tmp_path / "gone", FIXTURES])
    assert any("gone" in w and "does not exist" in w for w in res.warnings)
    assert set(res.frame["machine"]) == MACHINES


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_result_file(tmp_path):
    d = bad_results_dir(tmp_path, file_case(result_file()))
    (d / "fixture-bare" / BAD).chmod(0)
    res = results.load_results([d])
    assert any(BAD in w and "cannot be read" in w for w in res.warnings)


def test_every_value_of_a_result_file_is_loaded_or_reported(tmp_path):
    """Numbers load; null is failed, NaN skipped; +inf, -inf and text in a benchmark that is not a
    time to a target are invalid rows with a warning, never 'ok' and never a 'failed' row."""
    data = result_file()
    data["results"][ENTRY] = good_entry([None, math.nan, math.inf, -math.inf, "x", 2.0],
                                        params=[["'a'", "'b'", "'c'", "'d'", "'e'", "'f'"]])
    d = bad_results_dir(tmp_path, file_case(data))
    res = results.load_results([d])
    rows = res.frame[res.frame["benchmark"] == ENTRY].set_index("params")
    assert list(rows["status"]) == ["failed", "skipped", "invalid", "invalid", "invalid", "ok"]
    assert rows["value"].isna().sum() == 5 and rows.loc["param1=f", "value"] == 2.0
    assert any(BAD in w and "3 value(s) are invalid" in w and "result[2] = inf" in w
               for w in res.warnings)


def test_infinity_in_a_time_to_a_target_is_a_target_not_reached(tmp_path):
    """+inf in a *_to_target benchmark loads as ok with an infinite value (not reached); -inf
    there is still invalid."""
    name = "bench_peers.PeerTimeToTarget.track_time_to_target"
    data = result_file()
    data["results"][name] = good_entry([math.inf, -math.inf, 0.5], params=[["'a'", "'b'", "'c'"]])
    d = bad_results_dir(tmp_path, file_case(data))
    res = results.load_results([d])
    rows = res.frame[res.frame["benchmark"] == name].set_index("params")
    assert list(rows["status"]) == ["ok", "invalid", "ok"]
    assert rows.loc["param1=a", "value"] == math.inf


REPRO_CASES = [
    ("convex empty", "convex.csv", b"", "could not be read"),
    ("convex binary", "convex.csv", bytes(range(256)) * 8, "could not be read"),
    ("convex not UTF-8", "convex.csv", "problem,label,epoch,seconds,subopt,grad_norm\nlsq,caf\xe9,0,0,1,1\n"
     .encode("latin-1"), "could not be read"),
    ("convex lacks a column", "convex.csv", "problem,label,epoch\nlsq,a,0\n", "lacks the columns"),
    ("convex header only", "convex.csv", "problem,label,epoch,seconds,subopt,grad_norm\n", "no usable rows"),
    ("convex text in subopt", "convex.csv", None, "column 'subopt'"),
    ("convex ragged rows", "convex.csv", "problem,label,epoch,seconds,subopt,grad_norm\nlsq,a,0,0,1,1,9,9,9\n",
     "could not be read"),
    ("convex a directory", "convex.csv", "dir", "not a regular file"),
    ("convex dangling symlink", "convex.csv", "link", "cannot be read"),
    ("mu_sweep text in epochs_to_tol", "mu_sweep.csv", None, "column 'epochs_to_tol'"),
    ("mu_sweep NUL bytes", "mu_sweep.csv", b"\x00" * 100, "lacks the columns"),
    ("mlp text in val_accuracy", "mlp.csv", None, "column 'val_accuracy'"),
    ("mlp only garbage", "mlp.csv", "a\nb\n", "lacks the columns"),
    ("summary not UTF-8", "summary.md", "# R\u00e9sum\u00e9\n".encode("latin-1"), "not UTF-8"),
    ("summary a directory", "summary.md", "dir", "not a regular file"),
    ("summary dangling symlink", "summary.md", "link", "cannot be read"),
    ("nets lacks val_accuracy", "nets.csv", "network,method,precision,label,seed,epoch,seconds,val_loss,failure\n"
     "cnn,halp,8,halp-8,0,0,0,2.3,\n", "lacks the columns val_accuracy"),
    ("nets text in val_accuracy", "nets.csv", None, "column 'val_accuracy'"),
    ("nets header only", "nets.csv", "network,method,precision,label,seed,epoch,seconds,val_loss,val_accuracy,"
     "failure\n", "no usable rows"),
    ("nets_run not JSON", "nets_run.json", "{\"command\": ", "not JSON"),
    ("nets_run a list", "nets_run.json", "[1, 2]", "not a JSON object"),
    ("nets_run wall time as text", "nets_run.json",
     '{"command": "python -m halp_bench.nets", "wall_seconds": "12 s", "machine": "cpu"}', "lacks wall_seconds"),
    ("nets.md not UTF-8", "nets.md", "# R\u00e9sum\u00e9\n".encode("latin-1"), "not UTF-8"),
    ("nets.md a directory", "nets.md", "dir", "not a regular file"),
]


def spoil(folder, name, content):
    """Replace `folder/name` by `content` ('dir': a directory, 'link': a dangling symlink, None:
    text in the table's first numeric column of row 2)."""
    path = folder / name
    if content is None:
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        column = {"convex.csv": "subopt", "mu_sweep.csv": "epochs_to_tol", "mlp.csv": "val_accuracy",
                  "nets.csv": "val_accuracy"}[name]
        cells = lines[2].split(",")
        cells[header.index(column)] = "n/a (crashed)"
        lines[2] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
        return
    path.unlink(missing_ok=True)
    if content == "dir":
        path.mkdir()
    elif content == "link":
        os.symlink("gone.csv", path)
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def sample(dest):
    """A copy of docs/reproduction/ at `dest` with the hand-made networks' files (dashboard_helpers.nets)."""
    shutil.copytree(ROOT / "docs" / "reproduction", dest)
    return hand_nets.write_nets(dest)


@pytest.mark.parametrize("case", REPRO_CASES, ids=ids(REPRO_CASES))
def test_reproduction_loader_warns_and_keeps_good_data(tmp_path, case):
    _, name, content, words = case
    folder = sample(tmp_path / "rep")
    rows = len((folder / name).read_bytes().splitlines()) - 1 if name.endswith(".csv") else None
    spoil(folder, name, content)
    rep = reproduction.load(folder)
    assert any(name in p and words in p for p in rep.problems), rep.problems
    for attr, table in reproduction.TABLES.items():
        if table != name:
            assert getattr(rep, attr) is not None and len(getattr(rep, attr)) > 0
    if name != "summary.md":
        assert rep.summary.startswith("# HALP reproduction")
    if name != "nets.md":
        assert rep.nets_summary == hand_nets.SUMMARY
    if name != "nets_run.json":
        assert rep.nets_run == {k: hand_nets.RUN[k] for k in reproduction.RUN_FIELDS}
    if content is None:  # only the spoilt row is left out
        attr = {v: k for k, v in reproduction.TABLES.items()}[name]
        assert len(getattr(rep, attr)) == rows - 1


def test_reproduction_loader_reads_the_networks(tmp_path):
    """A hand-made nets.csv (two networks, eight runs, two seeds) reads back whole: numbers as
    numbers, every label, an empty failure for healthy runs and the divergence message for the
    failed one; nets.md and nets_run.json beside it; no problem."""
    folder = sample(tmp_path / "rep")
    rep = reproduction.load(folder)
    assert rep.problems == [] and rep.nets_ran
    written = hand_nets.histories()
    assert rep.nets.shape == written.shape
    for column in reproduction.NUMERIC["nets"]:
        assert rep.nets[column].dtype.kind in "if", column
        assert rep.nets[column].tolist() == pytest.approx(written[column].tolist()), column
    assert set(rep.nets["label"]) == set(hand_nets.LABELS) and set(rep.nets["network"]) == {"cnn", "lstm"}
    assert set(rep.nets["precision"]) == {"fp32", "8", "bf16", "fp8-e4m3"}
    failed = rep.nets[rep.nets["failure"] != ""]
    assert set(failed["failure"]) == {hand_nets.FAILURE} and len(failed) == 2
    assert set(zip(failed["network"], failed["label"], failed["seed"])) == {hand_nets.FAILED}
    assert rep.nets_summary == hand_nets.SUMMARY
    assert reproduction.run_sentence(rep.nets_run) == (
        "`python -m halp_bench.nets --quick` took 123 s on Hand-made CPU (2 cores).")
    assert {name for name, _, _ in reproduction.fingerprint(folder)} >= {"nets.csv", "nets.md", "nets_run.json"}


def test_a_folder_without_the_networks_is_no_problem(tmp_path):
    """Without nets.csv the networks were not run: no problem, nothing read. With nets.csv, its
    nets.md and nets_run.json are expected."""
    folder = sample(tmp_path / "rep")
    for name in ("nets.csv", "nets.md", "nets_run.json"):
        (folder / name).unlink()
    rep = reproduction.load(folder)
    assert rep.problems == [] and not rep.nets_ran
    assert rep.nets is None and rep.nets_summary == "" and rep.nets_run == {}
    hand_nets.write_nets(folder)
    (folder / "nets.md").unlink()
    (folder / "nets_run.json").unlink()
    rep = reproduction.load(folder)
    assert rep.problems == ["nets.md is missing", "nets_run.json is missing"]
    assert rep.nets_ran and rep.nets is not None


def test_the_networks_tables_and_verdicts(tmp_path):
    """`networks` on the hand-made nets.csv: both networks in the experiment's order with their
    titles, the final accuracies (median and 5–95% over seeds of 0.85 and 0.86 for the CNN's
    halp-8), seconds per epoch, the failed run counted and listed, and the verdicts the hand-made
    numbers give by the rule (dashboard_helpers.nets.VERDICTS)."""
    rep = reproduction.load(sample(tmp_path / "rep"))
    rule, nets = reproduction.networks(rep.nets)
    assert "ahead" in rule and "spread" in rule
    assert [(n.name, n.title) for n in nets] == [("cnn", "LeNet-5 on Fashion-MNIST"),
                                                  ("lstm", "LSTM tagger on the Brown corpus")]
    cnn, lstm = nets
    assert list(cnn.accuracy["run"]) == list(hand_nets.LABELS)
    halp = cnn.accuracy.set_index("run").loc["halp-8"]
    assert (halp["final validation accuracy, median"], halp["5–95% over seeds"], halp["seconds per epoch"],
            halp["failed runs"]) == ("0.8550", "0.8505–0.8595", "2.00", "0 of 2")
    assert lstm.accuracy.set_index("run").loc["halp-fp8-e4m3", "failed runs"] == "1 of 2"
    assert cnn.failed == [] and lstm.failed == [f"{hand_nets.FAILURE} (seed 1)"]
    for net in nets:
        assert dict(zip(net.verdicts["precision"], net.verdicts["verdict"])) == hand_nets.VERDICTS[net.name]
        assert set(net.histories["network"]) == {net.name}
    assert cnn.verdicts.set_index("precision").loc["8", "gap (HALP − LP-SGD)"] == "+0.1000"


def test_the_networks_without_a_precision_where_both_ran():
    """A nets.csv of SGD runs alone: an accuracy table, and a verdict table with no rows."""
    only_sgd = hand_nets.histories().query("method == 'sgd'")
    rule, nets = reproduction.networks(only_sgd)
    assert [len(n.accuracy) for n in nets] == [1, 1] and all(n.verdicts.empty for n in nets)


def test_reproduction_folder_that_is_a_file(tmp_path):
    path = tmp_path / "summary.md"
    path.write_text("x")
    rep = reproduction.load(path)
    assert rep.empty and any("is not a folder" in p for p in rep.problems)


def test_reproduction_file_larger_than_the_limit(tmp_path, monkeypatch):
    folder = tmp_path / "rep"
    shutil.copytree(ROOT / "docs" / "reproduction", folder)
    limit = (folder / "convex.csv").stat().st_size - 1
    monkeypatch.setattr(files, "MAX_BYTES", limit)
    rep = reproduction.load(folder)
    assert rep.convex is None and any("convex.csv" in p and "more than" in p for p in rep.problems)


def test_at_least_80_distinct_cases():
    """The issue asks for at least 80 distinct bad inputs (the parametrized ones alone)."""
    names = ids(RESULT_CASES) + ids(REPRO_CASES)
    assert len(set(names)) == len(names) >= 80


@pytest.mark.parametrize("variable", ["HALP_SHIPPED_RESULTS", "HALP_REPRODUCTION"])
@pytest.mark.parametrize("value", ["", "   "])
def test_empty_folder_variables_count_as_unset(monkeypatch, variable, value):
    from dashboard import ui

    monkeypatch.setenv(variable, value)
    folder = ui.shipped_dir() if variable == "HALP_SHIPPED_RESULTS" else \
        reproduction.shipped_dir()
    assert folder.is_absolute() and folder.name in ("results", "reproduction")
