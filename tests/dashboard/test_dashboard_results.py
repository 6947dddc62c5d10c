"""Data layer: asv results directories (fixtures from real asv runs) into one tidy frame."""

import json
import math
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from dashboard_helpers import FIXTURES, MACHINES, MALFORMED, copy_fixtures, fixture_commits

from dashboard import results
from dashboard.results import (COLUMNS, commit_order, fingerprint, load_results, param_table, precision_label,
                               precision_labels, run_order)


@pytest.fixture(scope="module")
def loaded():
    return load_results([FIXTURES])


@pytest.fixture(scope="module")
def frame(loaded):
    return loaded.frame


def rows(frame, benchmark, machine=None, **params):
    """Rows of one benchmark whose param_values contain `params`."""
    out = frame[frame["benchmark"] == benchmark]
    if machine:
        out = out[out["machine"] == machine]
    keep = out["param_values"].map(lambda p: all(p.get(k) == v for k, v in params.items()))
    return out[keep]


def test_frame_has_every_machine_env_commit_and_column(frame):
    assert list(frame.columns) == COLUMNS
    assert set(frame["machine"]) == MACHINES
    assert frame["commit"].nunique() == 4
    per_machine = frame.groupby("machine")["commit"].nunique().to_dict()
    assert per_machine == {"fixture-zen5": 4, "fixture-laptop": 3, "fixture-bare": 1}
    assert frame["env"].nunique() == 1 and frame["env"].iloc[0].startswith("existing-")


def test_one_row_per_machine_env_commit_benchmark_params(frame):
    key = ["machine", "env", "commit", "benchmark", "params"]
    assert not frame.duplicated(key).any()
    # track_speedup has 2 methods x 3 bit widths x 2 baselines x 2 sizes per machine x commit
    assert len(rows(frame, "bench_speedup.Speedup.track_speedup", "fixture-zen5")) == 4 * 24


def test_commit_order_and_dates(frame):
    commits = fixture_commits()
    order = frame.drop_duplicates("commit").set_index("commit")["order"]
    assert [order[c] for c in commits] == [0, 1, 2, 3]
    dates = frame.drop_duplicates("commit").set_index("commit")["date"]
    assert dates[commits[0]] == pd.Timestamp("2025-01-10 12:00", tz="UTC")
    assert (frame["commit_short"] == frame["commit"].str[:8]).all()


def test_commit_order_breaks_date_ties_with_git():
    same = pd.Timestamp("2025-01-01", tz="UTC")
    frame = pd.DataFrame({"commit": ["c", "a", "b"], "date": [same, same, same]})
    assert commit_order(frame, {"c": 0, "a": 1, "b": 2}) == {"c": 0, "a": 1, "b": 2}
    assert commit_order(frame, {}) == {"a": 0, "b": 1, "c": 2}


def test_failed_and_skipped(frame):
    failed = frame[frame["benchmark"] == "bench_broken.Broken.time_raises"]
    assert set(failed["status"]) == {"failed"} and failed["value"].isna().all()
    skipped = frame[frame["benchmark"] == "bench_broken.Unsupported.track_unsupported"]
    assert set(skipped["status"]) == {"skipped"}
    invalid = rows(frame, "bench_epoch.EpochTime.time_epoch", solver="svrg", precision=8)
    assert set(invalid["status"]) == {"skipped"}
    ok = frame[frame["status"] == "ok"]
    assert ok["value"].notna().all()


def test_params_are_python_values_with_names(frame):
    epoch = rows(frame, "bench_epoch.EpochTime.time_epoch", "fixture-zen5")
    precisions = {p["precision"] for p in epoch["param_values"]}
    assert precisions == {"fp64", "fp32", 8}
    assert "solver=halp, precision=8, size_mb=1" in set(epoch["params"])
    table = param_table(rows(frame, "bench_speedup.Speedup.track_speedup"))
    assert set(table["bits"]) == {4, 8, 16} and set(table["baseline"]) == {"fp32", "fp64"}
    assert frame.loc[frame["benchmark"] == "bench_kernels.Quantize.time_quantize", "params"].eq("").all()


def test_units_types_and_confidence_intervals(frame):
    unit = frame.drop_duplicates("benchmark").set_index("benchmark")["unit"]
    assert unit["bench_speedup.Speedup.track_speedup"] == "ratio"
    assert unit["bench_epoch.EpochTime.time_epoch"] == "seconds"
    assert unit["bench_memory.Memory.peakmem_solve"] == "bytes"
    assert unit["bench_convergence.Convergence.track_subopt"] == "f - f*"
    timed = frame[(frame["type"] == "time") & (frame["status"] == "ok")]
    assert len(timed) > 0
    assert ((timed["ci_low"] <= timed["value"]) & (timed["value"] <= timed["ci_high"])).all()
    tracked = frame[frame["type"] == "track"]
    assert tracked["ci_low"].isna().all()


def test_changed_and_vanished_benchmarks(frame):
    commits = fixture_commits()
    quantize = rows(frame, "bench_kernels.Quantize.time_quantize", "fixture-zen5").set_index("commit")
    assert quantize["version"].nunique() == 2
    assert list(quantize.loc[commits, "current"]) == [False, False, True, True]
    axpy = frame[frame["benchmark"] == "bench_kernels.Axpy.time_axpy"]
    assert len(axpy) > 0 and not axpy["current"].any()
    assert set(axpy["unit"]) == {"seconds"}  # guessed from the name: gone from benchmarks.json
    assert frame.loc[frame["benchmark"] == "bench_epoch.EpochTime.time_epoch", "current"].all()


def test_malformed_file_is_skipped_with_a_warning(loaded):
    assert any(MALFORMED in w for w in loaded.warnings)
    assert loaded.files == 8
    assert "0badf00d" not in set(loaded.frame["commit_short"])


def test_machines_table(loaded):
    machines = loaded.machines.set_index("machine")
    assert set(machines.index) == MACHINES
    assert machines.loc["fixture-laptop", "cpu"] == "Intel Core i5 (fixture)"
    assert machines.loc["fixture-laptop", "num_cpu"] == "4"
    assert pd.isna(machines.loc["fixture-bare", "cpu"])  # machine.json holds only a name


def test_missing_machine_json_uses_result_file_params(tmp_path):
    d = copy_fixtures(tmp_path / "r")
    (d / "fixture-laptop" / "machine.json").unlink()
    res = load_results([d])
    assert res.machines.set_index("machine").loc["fixture-laptop", "cpu"] == "Intel Core i5 (fixture)"
    assert any("machine.json is missing" in w for w in res.warnings)


def test_missing_directory_gives_warning_and_empty_frame(tmp_path):
    res = load_results([tmp_path / "nope"])
    assert res.frame.empty and list(res.frame.columns) == COLUMNS
    assert any("does not exist" in w for w in res.warnings)


def test_missing_benchmarks_json_guesses_names_and_units(tmp_path):
    d = copy_fixtures(tmp_path / "r")
    (d / "benchmarks.json").unlink()
    res = load_results([d])
    assert any("benchmarks.json is missing" in w for w in res.warnings)
    epoch = res.frame[res.frame["benchmark"] == "bench_epoch.EpochTime.time_epoch"]
    assert epoch["unit"].eq("seconds").all() and not epoch["current"].any()
    assert {tuple(p) for p in epoch["param_values"]} == {("param1", "param2", "param3")}


def test_a_file_from_before_a_parameter_was_appended_reads_with_the_first_names(tmp_path):
    """A benchmark gained a last parameter (as bench_epoch gained the row width d): files measured
    before it hold one parameter list fewer and read with the names they had, without a warning."""
    d = copy_fixtures(tmp_path / "r")
    info = json.loads((d / "benchmarks.json").read_text())
    names = info["bench_epoch.EpochTime.time_epoch"]["param_names"]
    info["bench_epoch.EpochTime.time_epoch"]["param_names"] = [*names, "d"]
    (d / "benchmarks.json").write_text(json.dumps(info))
    res = load_results([d])
    epoch = res.frame[res.frame["benchmark"] == "bench_epoch.EpochTime.time_epoch"]
    assert {tuple(p) for p in epoch["param_values"]} == {tuple(names)}
    assert not any("names guessed" in w for w in res.warnings)


def _rewrite(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))  # json.dumps writes bare NaN / Infinity, as asv does


def test_bare_infinity_nan_and_odd_entries(tmp_path):
    d = copy_fixtures(tmp_path / "r")
    path = sorted((d / "fixture-bare").glob("*-existing*.json"))[0]

    def edit(data):
        res = data["results"]
        res["bench_memory.Memory.peakmem_solve"][0] = [math.inf, None, math.nan]
        res["bench_odd.entry"] = "not a list"
        res["bench_odd.params"] = [[1.0], "nope"]
    _rewrite(path, edit)
    assert "Infinity" in path.read_text() and "NaN" in path.read_text()
    res = load_results([d])
    mem = res.frame[(res.frame["benchmark"] == "bench_memory.Memory.peakmem_solve")
                    & (res.frame["machine"] == "fixture-bare")].set_index("params")
    # +inf is "not reached" only in a *_to_target benchmark: a peak memory of inf is invalid
    assert mem.loc["precision=fp64", "status"] == "invalid"
    assert math.isnan(mem.loc["precision=fp64", "value"])
    assert any("peakmem_solve" in w and "invalid" in w for w in res.warnings)
    assert mem.loc["precision=fp32", "status"] == "failed"
    assert mem.loc["precision=8", "status"] == "skipped"
    assert any("bench_odd.entry" in w for w in res.warnings)
    assert any("bench_odd.params" in w for w in res.warnings)


def test_infinite_intervals_of_quick_runs_become_missing(tmp_path):
    d = copy_fixtures(tmp_path / "r")
    path = sorted((d / "fixture-bare").glob("*-existing*.json"))[0]

    def edit(data):
        entry = data["results"]["bench_kernels.Dot.time_dot"]
        cols = data["result_columns"]
        entry[cols.index("stats_ci_99_a")] = [-math.inf] * 4
        entry[cols.index("stats_ci_99_b")] = [math.inf] * 4
    _rewrite(path, edit)
    frame = load_results([d]).frame
    dot = frame[(frame["benchmark"] == "bench_kernels.Dot.time_dot") & (frame["machine"] == "fixture-bare")]
    assert len(dot) == 4 and dot["value"].notna().all()
    assert dot["ci_low"].isna().all() and dot["ci_high"].isna().all()


@pytest.mark.parametrize("content", ["[1, 2]", "{}", '{"commit_hash": "x", "env_name": "e", '
                                     '"result_columns": "bad", "results": {}}', "\x00\x01", ""])
def test_files_that_are_not_result_files(tmp_path, content):
    d = copy_fixtures(tmp_path / "r")
    (d / "fixture-zen5" / "feedbeef-odd.json").write_text(content)
    res = load_results([d])
    assert any("feedbeef-odd.json" in w for w in res.warnings)
    assert set(res.frame["machine"]) == MACHINES


def test_several_directories_later_wins(tmp_path):
    first, second = copy_fixtures(tmp_path / "a"), copy_fixtures(tmp_path / "b")
    path = sorted((second / "fixture-bare").glob("*-existing*.json"))[0]
    _rewrite(path, lambda data: data["results"]["bench_memory.Memory.peakmem_solve"][0].__setitem__(0, 7.0))
    res = load_results([first, second])
    assert any("more than one directory" in w for w in res.warnings)
    mem = res.frame[(res.frame["benchmark"] == "bench_memory.Memory.peakmem_solve")
                    & (res.frame["machine"] == "fixture-bare") & (res.frame["params"] == "precision=fp64")]
    assert list(mem["value"]) == [7.0] and list(mem["source"]) == [str(second)]


def test_fingerprint_changes_when_a_file_changes(tmp_path):
    d = copy_fixtures(tmp_path / "r")
    before = fingerprint([d])
    path = sorted((d / "fixture-bare").glob("*-existing*.json"))[0]
    _rewrite(path, lambda data: data["results"].pop("bench_memory.Memory.peakmem_solve"))
    assert fingerprint([d]) != before
    frame = load_results([d]).frame
    assert frame[(frame["machine"] == "fixture-bare")
                 & (frame["benchmark"] == "bench_memory.Memory.peakmem_solve")].empty


def test_parse_param():
    assert results.parse_param("'halp'") == "halp"
    assert results.parse_param("8") == 8
    assert results.parse_param("<function f>") == "<function f>"


@pytest.mark.parametrize("remote, prefix", [
    (None, ""),
    ("https://github.com/o/r.git", "https://github.com/o/r/commit/"),
    ("https://github.com/o/r/", "https://github.com/o/r/commit/"),
    ("git@github.com:o/r.git", "https://github.com/o/r/commit/"),
    ("ssh://git@gitlab.com/group/sub/r.git", "https://gitlab.com/group/sub/r/commit/"),
    ("/srv/git/r.git", ""),                       # a local remote has no commit pages
    ("https://example.invalid/o/r.git", ""),      # nor does a host we do not know
])
def test_commit_links_come_from_the_repositorys_own_remote_or_there_are_none(tmp_path, remote, prefix):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if remote is not None:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", remote], check=True)
    assert results.commit_url_prefix(tmp_path) == prefix
    assert results.commit_url_prefix(tmp_path / "not-a-repository") == ""


def test_precision_labels_put_float_formats_after_the_bit_widths():
    assert [precision_label(p) for p in (8, "8", "fp32", "bf16", "fp8-e4m3")] == \
        ["8-bit", "8-bit", "fp32", "bf16", "fp8-e4m3"]
    assert precision_labels([16, "fp8-e5m2", "bf16", 4, "8", 8, "fp16"]) == \
        ["4-bit", "8-bit", "16-bit", "bf16", "fp16", "fp8-e5m2"]
    runs = pd.DataFrame({"solver": ["halp", "halp", "halp", "halp", "svrg", "halp"],
                         "precision": [16, "bf16", 4, 8, "fp32", "fp8-e4m3"]})
    runs["label"] = runs["solver"] + " " + runs["precision"].map(precision_label)
    assert run_order(runs) == ["halp 4-bit", "halp 8-bit", "halp 16-bit", "halp bf16", "halp fp8-e4m3",
                               "svrg fp32"]


def test_shipped_machines_are_named_by_microarchitecture_and_described():
    """Every shipped machine folder has its CPU description; the Zen 4 results carry znver4."""
    shipped = load_results([Path(__file__).resolve().parents[2] / "results"])
    described = results.machine_descriptions(shipped.machines)
    assert set(described) == set(shipped.frame["machine"]) >= {"vm", "vm-znver4-avx512-vnni"}
    assert "znver4" in described["vm-znver4-avx512-vnni"]
    assert "not recorded" in described["vm"]
    assert list(results.as_text(pd.Series([math.inf, math.nan, 0.123456]))) == ["not reached", "", "0.1235"]
