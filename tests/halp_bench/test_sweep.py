"""Sweeps on dask.distributed. On the default LocalCluster (2 worker processes on 127.0.0.1):
every run stored in the contract format, equal to serial runs bit for bit; diverged runs counted
and named; unreadable parts run again. On a cluster of separately started `dask scheduler` and
`dask worker` processes that cannot see the client's output folder (a private mount namespace):
the client stores every run exactly once, also when a worker is killed mid-sweep, and an
interrupted sweep resumes with only the rest. Bad specs fail before any work, naming the entry."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from distributed import Client
from sklearn.datasets import dump_svmlight_file, make_classification

from dashboard.data import sweeps as dashboard_sweeps
from halp_bench.sweep import COLUMNS, PARAMS, PartWarning, SpecError, engine, load, parse, runner
from halp_bench.sweep import spec, storage, summary
from halp_bench.sweep.__main__ import main
from halp_core import datasets

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "sweeps" / "tiny.toml"
# Runs of a few tenths of a second, so that a worker can be killed while it works on one.
SLOWER = """
epochs = 30
seeds = {from = 0, to = 7, step = 1}
step = 0.5
[[problem]]
name = "synthetic_least_squares"
n = 20000
d = 20
lam = 1e-2
noise = 0.1
[[solver]]
name = "halp"
precision = 8
"""


@pytest.fixture(scope="module")
def client():
    with engine.client(workers=2) as c:
        yield c


def assert_each_run_once(out, runs):
    frame = load(out)
    assert sorted(p.stem for p in (Path(out) / "runs").glob("*.parquet")) == \
        sorted(r.run_id for r in runs)
    rows = frame.groupby("run_id").size()
    expected = {r.run_id: r.epochs + 1 for r in runs}
    assert rows.to_dict() == expected
    assert not list((Path(out) / "runs").glob(".*.tmp"))
    return frame


def test_cluster_is_local_and_single_threaded(client):
    info = client.scheduler_info()
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    assert all(a.startswith("tcp://127.0.0.1:") for a in info["workers"])
    assert all(w["nthreads"] == 1 for w in info["workers"].values())
    threads = client.run(lambda: __import__("numba").config.NUMBA_NUM_THREADS)
    assert set(threads.values()) == {1}


def test_grid_runs_once_in_the_contract_format_and_equals_serial_runs(client, tmp_path):
    grid = parse(TINY.read_text(), "tiny.toml")
    assert len(grid.runs) == 12 and grid.skipped == 4   # svrg takes no mu: 2 x 2 x 2 skipped
    outcome = engine.run_grid(client, grid.runs, tmp_path, progress=False)
    assert sorted(outcome.ran) == sorted(r.run_id for r in grid.runs) and not outcome.failed
    frame = assert_each_run_once(tmp_path, grid.runs)
    builds = client.run(lambda: runner.problem.cache_info().misses)
    assert 2 <= sum(builds.values()) <= 4      # 2 problems, built at most once per worker
    part = next((tmp_path / "runs").glob("*.parquet"))
    assert json.loads(pq.read_schema(part).metadata[b"halp.params"]) == list(PARAMS)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["saturations"].dtype == np.int64 and frame["kappa"].notna().all()
    assert set(frame["mu"]) == {"", "auto", "1.0"}
    assert (frame.loc[frame["epoch"] == 0, "saturations"] == 0).all()
    for run in grid.runs[::3]:
        serial = runner.execute(run).frame
        stored = frame[frame["run_id"] == run.run_id].sort_values("epoch")
        assert np.array_equal(serial["subopt"].to_numpy(), stored["subopt"].to_numpy())
        assert np.array_equal(serial["saturations"].to_numpy(), stored["saturations"].to_numpy())
    table = summary(frame)
    assert len(table) == 12 and table["epochs_to_0.0001"].notna().any()
    assert table["epochs_to_1e-10"].isna().all()       # 4 epochs do not get there


def test_load_warns_about_a_corrupt_part_and_keeps_the_rest(tmp_path):
    run = parse(TINY.read_text(), "tiny.toml").runs[0]
    (tmp_path / "runs").mkdir()
    runner.execute(run).store(tmp_path)
    (tmp_path / "runs" / "broken.parquet").write_bytes(b"not parquet")
    with pytest.warns(PartWarning, match="broken.parquet"):
        frame = load(tmp_path)
    assert set(frame["run_id"]) == {run.run_id}
    assert load(tmp_path / "nothing").empty


def test_read_part_is_the_one_reader_of_a_part_and_names_what_it_refuses(tmp_path):
    run = parse(TINY.read_text(), "tiny.toml").runs[0]
    (tmp_path / "runs").mkdir()
    runner.execute(run).store(tmp_path)
    path = storage.part_path(tmp_path, run.run_id)
    part = storage.read_part(path)
    assert part.params == list(PARAMS) and not part.problems
    assert list(part.frame.columns) == list(COLUMNS) and set(part.frame["run_id"]) == {run.run_id}
    part.frame.assign(passes="many").to_parquet(path)   # text where the format has numbers
    with pytest.raises(storage.PartError, match=rf"^{path}: column 'passes' does not hold numbers"):
        storage.read_part(path)
    with pytest.warns(PartWarning, match=rf"^{path}: column 'passes' does not hold numbers; left out"):
        assert load(tmp_path).empty


def test_a_resumed_sweep_runs_an_unreadable_part_again(client, tmp_path):
    runs = parse(TINY.read_text(), "tiny.toml").runs[:3]
    engine.run_grid(client, runs, tmp_path, progress=False)
    broken = storage.part_path(tmp_path, runs[1].run_id)
    broken.write_bytes(b"not parquet")
    with pytest.warns(PartWarning, match=f"{broken.name}: not a readable sweep part.*run again"):
        again = engine.run_grid(client, runs, tmp_path, progress=False)
    assert again.ran == [runs[1].run_id] and again.skipped == 2
    assert_each_run_once(tmp_path, runs)


def test_a_result_that_cannot_be_fetched_runs_again(client, tmp_path, monkeypatch):
    """A finished run whose result the client cannot fetch (its worker died after finishing) is
    run again as a new task and stored once; one that never can be fetched fails, named."""
    import distributed
    runs = parse(TINY.read_text(), "tiny.toml").runs[:3]
    real, calls = distributed.Future.result, []

    def flaky(self, *args, **kwargs):
        calls.append(self.key)
        if len(calls) == 1:
            raise RuntimeError("<asyncio.locks.Event> is bound to a different event loop")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Future, "result", flaky)
    outcome = engine.run_grid(client, runs, tmp_path / "once", progress=False)
    assert not outcome.failed and sorted(outcome.ran) == sorted(r.run_id for r in runs)
    assert len(calls) == len(runs) + 1
    assert_each_run_once(tmp_path / "once", runs)

    def never(self, *args, **kwargs):
        raise RuntimeError("lost")

    monkeypatch.setattr(distributed.Future, "result", never)
    outcome = engine.run_grid(client, runs[:1], tmp_path / "never", progress=False)
    assert list(outcome.failed) == [runs[0].run_id] and not outcome.ran
    assert f"result lost {engine.LOST_FETCHES + 1} times" in outcome.failed[runs[0].run_id]


def test_diverged_runs_are_counted_in_the_last_line_and_named(client, tmp_path, capsys):
    """step = 1e6 diverges: the runs are stored (diverged_epoch >= 0), named with their parameters
    and the solver's warning, and counted in the last line; the exit status stays 0."""
    spec_file = tmp_path / "diverge.toml"
    spec_file.write_text("seeds = [0, 1]\n" + BASE.replace("step = 0.5", "step = 1e6")
                         .replace("epochs = 2", "epochs = 4"))
    runs = parse(spec_file.read_text(), "diverge.toml").runs
    assert len(runs) == 2
    out = tmp_path / "out"
    assert main([str(spec_file), "--out", str(out), "--scheduler", client.scheduler.address]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "2 runs done now, 0 stored already: 0 failed, 2 diverged, 0 no progress"
    named = lines[lines.index("diverged:") + 1:-1]
    assert sorted(line.split()[0] for line in named) == sorted(r.run_id for r in runs)
    assert all("step 1e+06" in line and "diverged at epoch" in line for line in named), named
    frame = assert_each_run_once(out, runs)
    assert (frame["diverged_epoch"] >= 0).all()


def test_runs_without_progress_are_counted_in_the_last_line_and_named(client, tmp_path, capsys):
    """mu = 1e-300 sizes HALP's grid so fine that no update moves the iterate: the run is stored
    with its verdict, named with the solver's warning and counted in the last line."""
    spec_file = tmp_path / "stuck.toml"
    spec_file.write_text("mu = [1e-300]\n" + BASE.replace("epochs = 2", "epochs = 4"))
    runs = parse(spec_file.read_text(), "stuck.toml").runs
    out = tmp_path / "out"
    assert main([str(spec_file), "--out", str(out), "--scheduler", client.scheduler.address]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "1 runs done now, 0 stored already: 0 failed, 0 diverged, 1 no progress"
    named = lines[lines.index("no progress:") + 1:-1]
    assert [line.split()[0] for line in named] == [runs[0].run_id]
    assert "made no progress" in named[0], named
    assert storage.summary(assert_each_run_once(out, runs))["verdict"].tolist() == ["no progress"]


def test_a_healthy_run_has_no_verdict():
    part = runner.execute(parse(BASE, "spec.toml").runs[0])
    assert (part.kind, part.text) == ("", "") and (part.frame["diverged_epoch"] == -1).all()


def test_a_spec_that_is_not_utf8_is_named(tmp_path, capsys):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(("# caf\u00e9\n" + BASE).encode("latin-1"))
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    assert f"{bad}: not UTF-8 text (byte 0xe9 at offset 5)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "spec.toml").write_bytes(b"\xff\xfe")
    assert main([str(good), "--out", str(tmp_path / "out")]) == 2
    assert f"{tmp_path / 'out' / 'spec.toml'}: not UTF-8 text (byte 0xff" in capsys.readouterr().err


@pytest.mark.parametrize("value, kind, values", [
    ({"from": 0.5, "to": 32, "times": 2}, "mu", [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
    ([{"from": 4, "to": 10, "step": 3}, 16], "bits", [4, 7, 10, 16]),
    ({"from": 10, "to": 1000, "times": 10}, "cond", [10.0, 100.0, 1000.0]),
    ([0.1, [0.2, {"from": 0.3, "to": 0.5, "step": 0.1}]], "real", [0.1, 0.2, 0.3, 0.4, 0.5]),
    (["auto", 1], "mu", ["auto", 1.0]),
])
def test_axes_expand_lists_and_ranges(value, kind, values):
    assert spec.axis(value, kind, "x") == values


def test_example_specs_parse():
    sizes = {p.name: len(parse(p.read_text(), p.name).runs) for p in (REPO / "sweeps").glob("*.toml")}
    assert set(sizes) >= {"mu.toml", "bits-cond.toml", "tiny.toml"} and all(sizes.values())


BASE = """epochs = 2
step = 0.5
[[problem]]
name = "synthetic_least_squares"
n = 50
d = 5
lam = 1e-2
noise = 0.1
[[solver]]
name = "halp"
precision = 8
"""


@pytest.mark.parametrize("edit, named", [
    (lambda s: s.replace('name = "halp"', 'name = "hlap"'), "solver[0]: unknown solver 'hlap'"),
    (lambda s: s.replace("precision = 8", 'precision = "fp64"'), "solver[0] (halp).precision"),
    (lambda s: s.replace("precision = 8", "precision = 17"), "solver[0] (halp).precision"),
    (lambda s: s.replace("precision = 8", "precision = [8, 1]"), "(halp).precision[1]"),
    (lambda s: s.replace("precision = 8", 'precission = 8'), "did you mean 'precision'"),
    (lambda s: s.replace('"halp"', '"svrg"').replace("precision = 8",
                                                     "precision = {from = 4, to = 8, step = 2}"),
     "solver[0] (svrg).precision: svrg runs in 'fp64' or 'fp32'"),
    (lambda s: s.replace('name = "synthetic_least_squares"', 'name = "lsq"'),
     "problem[0]: unknown problem 'lsq'"),
    (lambda s: s.replace("noise = 0.1", "nosie = 0.1"), "did you mean 'noise'"),
    (lambda s: s.replace("noise = 0.1\n", ""), "parameter 'noise' is missing"),
    (lambda s: s.replace("n = 50", 'n = "50"'), "problem[0] (synthetic_least_squares).n"),
    (lambda s: s.replace("n = 50", "n = 50.5"), "n must be an int"),
    (lambda s: s.replace("lam = 1e-2", "lam = -1"), "(synthetic_least_squares).lam"),
    (lambda s: s.replace("d = 5", "d = []"), "(synthetic_least_squares).d: no values"),
    (lambda s: s.replace("epochs = 2", "epochs = 0"), "spec.toml: epochs"),
    (lambda s: s.replace("epochs = 2", "epoch = 2"), "did you mean 'epochs'"),
    (lambda s: s.replace("epochs = 2\n", ""), "'epochs' is missing"),
    (lambda s: s.replace("step = 0.5", 'step = "big"'), "spec.toml: step"),
    (lambda s: s.replace("step = 0.5", "step = {from = 1, to = 0.5, step = 0.1}"), "step: no values"),
    (lambda s: s.replace("step = 0.5", "step = {from = 0.1, to = 1}"), "step: a range is"),
    (lambda s: "mu = [0]\n" + s, "spec.toml: mu[0]"),
    (lambda s: "mu = \"sometimes\"\n" + s, "spec.toml: mu"),
    (lambda s: "mu = {from = \"auto\", to = 2, times = 2}\n" + s, "a range takes numbers"),
    (lambda s: "seeds = {from = 0, to = 3, step = 0.5}\n" + s, "seeds.step: must be an int"),
    (lambda s: "seeds = [0, -1]\n" + s, "spec.toml: seeds[1]"),
    (lambda s: "data_bits = 1\n" + s, "spec.toml: data_bits"),
    (lambda s: "mu_unit = \"kappa\"\n" + s, "spec.toml: mu_unit"),
    (lambda s: s.split("[[solver]]")[0], "needs at least one [[solver]]"),
    (lambda s: s + "[[solver]\n", "not valid TOML"),
])
def test_bad_specs_fail_naming_the_entry(edit, named):
    with pytest.raises(SpecError) as info:
        parse(edit(BASE), "spec.toml")
    assert named in str(info.value), str(info.value)


def test_a_bad_spec_fails_before_any_work(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.replace('name = "halp"', 'name = "hlap"'))
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "solver[0]: unknown solver 'hlap'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_mu_in_units_of_mu_min_is_stored_as_the_absolute_value():
    run = parse("mu = 2\nmu_unit = \"mu_min\"\n" + BASE.replace("epochs = 2", "epochs = 1"),
                "spec.toml").runs[0]
    frame = runner.execute(run).frame
    mu_min = frame["L_max"].iloc[0] / frame["kappa"].iloc[0]
    assert float(frame["mu"].iloc[0]) == pytest.approx(2 * mu_min, rel=1e-12)


def test_a_sweep_runs_float_formats_beside_bit_widths():
    """precision = [8, "bf16", "fp8-e4m3"]: each run solves with that precision (the text "bf16"
    is a format, "8" a bit width) and stores it as given."""
    grid = parse(BASE.replace("precision = 8", 'precision = [8, "bf16", "fp8-e4m3"]'),
                 "spec.toml")
    assert [r.precision for r in grid.runs] == ["8", "bf16", "fp8-e4m3"]
    for run in grid.runs:
        frame = runner.execute(run).frame
        assert set(frame["precision"]) == {run.precision} and (frame["diverged_epoch"] == -1).all()
        assert frame["subopt"].iloc[-1] < frame["subopt"].iloc[0]


# ---- problems read from a data file -----------------------------------------------------------

def write_svmlight(path, rows=300, features=8, classes=2, seed=0):
    """A small classification data set (labels -1/1, or 0..classes-1 when classes > 2) written
    as svmlight to ``path``; returns ``path``."""
    X, y = make_classification(n_samples=rows, n_features=features, n_informative=4,
                               n_classes=classes, random_state=seed)
    dump_svmlight_file(X, np.where(y == 0, -1, 1) if classes == 2 else y, str(path))
    return path


FILE_SPEC = """epochs = 3
step = 0.5
[[problem]]
name = "file"
path = "data/blobs.svm"
loss = "logistic"
lam = [1e-3, 1e-2]
title = "blobs"
[[solver]]
name = "halp"
precision = 8
[[solver]]
name = "svrg"
precision = "fp64"
"""


def write_file_spec(folder, text=FILE_SPEC):
    """FILE_SPEC (or ``text``) as folder/spec.toml with its data file folder/data/blobs.svm."""
    (folder / "data").mkdir(exist_ok=True)
    write_svmlight(folder / "data" / "blobs.svm")
    (folder / "spec.toml").write_text(text)
    return folder / "spec.toml"


def test_a_file_problem_is_read_from_the_specs_folder_and_keyed_by_its_content(tmp_path):
    spec_file = write_file_spec(tmp_path)
    data = tmp_path / "data" / "blobs.svm"
    runs = parse(spec_file.read_text(), str(spec_file)).runs
    assert len(runs) == 4 and {r.problem for r in runs} == {"blobs"}
    sha = datasets.file_sha256(data)
    assert {r.source for r in runs} == {spec.DataFile("data/blobs.svm", str(data), sha)}
    assert {dict(r.params)["lam"] for r in runs} == {1e-3, 1e-2}
    assert dict(runs[0].params) | {"lam": 0} == {"file_sha256": sha, "format": "svmlight",
                                                  "label": "", "lam": 0, "loss": "logistic",
                                                  "scale": ""}
    assert runs[0].label.startswith(f"blobs(data/blobs.svm, sha256 {sha[:12]}, format=svmlight")
    moved = tmp_path / "elsewhere"              # the same content elsewhere: the same runs
    moved.mkdir()
    shutil.copytree(tmp_path / "data", moved / "data")
    (moved / "spec.toml").write_text(FILE_SPEC)
    again = parse(FILE_SPEC, str(moved / "spec.toml")).runs
    assert [r.run_id for r in again] == [r.run_id for r in runs]
    assert again[0].source.abspath == str(moved / "data" / "blobs.svm")
    write_svmlight(data, seed=1)                # other content: other runs
    changed = parse(FILE_SPEC, str(spec_file)).runs
    assert not {r.run_id for r in changed} & {r.run_id for r in runs}
    untitled = parse(FILE_SPEC.replace('title = "blobs"\n', ""), str(spec_file)).runs
    assert {r.problem for r in untitled} == {"blobs"}          # the file's stem


@pytest.mark.parametrize("edit, named", [
    (lambda s: s.replace('path = "data/blobs.svm"\n', ""), "problem[0] (file): 'path' is missing"),
    (lambda s: s.replace("data/blobs.svm", "data/nothing.svm"),
     "problem[0] (file).path: data/nothing.svm ({folder}/data/nothing.svm) cannot be read (No "
     "such file or directory)"),
    (lambda s: s.replace("data/blobs.svm", "data"), "(file).path: data ({folder}/data) is not a "
                                                    "regular file"),
    (lambda s: s.replace("data/blobs.svm", "data/empty.svm"), "data/empty.svm ({folder}/data/"
                                                              "empty.svm) is empty"),
    (lambda s: s.replace("data/blobs.svm", "data/blobs.dat"),
     "(file).path: the suffix '.dat' of data/blobs.dat does not tell its format; add format ="),
    (lambda s: s.replace('"logistic"', '"hinge"'),
     "problem[0] (file).loss: must be one of least_squares, logistic, multinomial; got 'hinge'"),
    (lambda s: s.replace('loss = "logistic"\n', ""), "problem[0] (file): 'loss' is missing"),
    (lambda s: s.replace("lam = [1e-3, 1e-2]\n", ""), "problem[0] (file): 'lam' is missing"),
    (lambda s: s.replace("lam = [1e-3, 1e-2]", "lam = -1"), "problem[0] (file).lam"),
    (lambda s: s.replace('title = "blobs"', 'label = "y"'),
     "problem[0] (file).label: a svmlight file holds its labels itself; remove label"),
    (lambda s: s.replace('title = "blobs"', 'format = "npz"\nlabel = "y"'),
     "problem[0] (file).label: a npz file holds its labels itself"),
    (lambda s: s.replace('title = "blobs"', 'format = "csv"'),
     "problem[0] (file): 'label' is missing: a csv file's label column must be named"),
    (lambda s: s.replace('title = "blobs"', 'format = "arff"'), "(file).format: must be one of "
                                                                "svmlight, npz, csv, parquet"),
    (lambda s: s.replace('title = "blobs"', 'scale = "minmax"'),
     "(file).scale: must be one of maxabs, standard; got 'minmax'"),
    (lambda s: s.replace('title = "blobs"', 'scal = "maxabs"'), "did you mean 'scale'"),
    (lambda s: s.replace('title = "blobs"', 'title = "digits"'),
     "problem[0] (file).title: 'digits' is a built-in problem's name"),
    (lambda s: s.replace('title = "blobs"', "title = 3"), "(file).title: must be a non-empty text"),
    (lambda s: s + '[[problem]]\nname = "file"\npath = "data/other.svm"\nloss = "logistic"\n'
                   'lam = 1e-3\ntitle = "blobs"\n',
     "problem: the title 'blobs' names two different file problems (data/blobs.svm and "
     "data/other.svm)"),
    (lambda s: s.replace('"logistic"', '"multinomial"').replace("epochs = 3", "epochs = 3\nmu = 2\n"
                                                                "mu_unit = \"mu_min\""),
     "mu_min is computed only for least squares and logistic problems"),
    (lambda s: s.replace('name = "file"', 'name = "files"'),
     "unknown problem 'files'; choose one of synthetic_least_squares, synthetic_logistic, digits, "
     "mnist, file"),
])
def test_bad_file_problems_fail_before_any_work_naming_the_entry(tmp_path, edit, named):
    spec_file = write_file_spec(tmp_path)
    (tmp_path / "data" / "empty.svm").touch()
    shutil.copy(tmp_path / "data" / "blobs.svm", tmp_path / "data" / "blobs.dat")
    write_svmlight(tmp_path / "data" / "other.svm", seed=2)
    spec_file.write_text(edit(FILE_SPEC))
    with pytest.raises(SpecError) as info:
        parse(spec_file.read_text(), str(spec_file))
    assert str(info.value).startswith(f"{spec_file}: "), str(info.value)
    assert named.format(folder=tmp_path) in str(info.value), str(info.value)
    assert main([str(spec_file), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_mnist_may_be_named():
    run, = parse(BASE.replace(BASE[BASE.index('name = "synthetic'):BASE.index("[[solver]]")],
                              'name = "mnist"\nlam = 1e-4\n'), "spec.toml").runs
    assert (run.problem, run.params, run.source) == ("mnist", (("lam", 1e-4),), None)


def test_a_file_sweep_runs_on_workers_that_cannot_open_the_file(client, tmp_path, monkeypatch,
                                                                capsys):
    """The client reads the data file once and sends its bytes: the file is deleted right after
    that read, before any run starts, and every run is still done and stored with the file's
    path and sha256; a second pass (the file back) finds them all; a changed file is refused."""
    spec_file = write_file_spec(tmp_path)
    data = tmp_path / "data" / "blobs.svm"
    content, sha = data.read_bytes(), datasets.file_sha256(data)
    runs = parse(spec_file.read_text(), str(spec_file)).runs
    read = spec.DataFile.read

    def read_then_delete(source):
        found = read(source)
        Path(source.abspath).unlink()
        return found

    monkeypatch.setattr(spec.DataFile, "read", read_then_delete)  # in the client process only
    out = tmp_path / "out"
    command = [str(spec_file), "--out", str(out), "--scheduler", client.scheduler.address]
    assert main(command) == 0
    assert not data.exists()
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "4 runs done now, 0 stored already: 0 failed, 0 diverged, 0 no progress"
    frame = load(out)
    assert list(frame.columns) == [*PARAMS, *storage.FILE_PARAMS, *COLUMNS[len(PARAMS):]]
    assert set(frame.groupby("run_id").size()) == {4}
    first = frame.drop_duplicates("run_id")
    assert set(first["problem"]) == {"blobs"} and set(first["lam"]) == {1e-3, 1e-2}
    assert set(first["file_sha256"]) == {sha} and set(first["file_path"]) == {"data/blobs.svm"}
    assert set(first["file_abspath"]) == {str(data)} and set(first["file_loss"]) == {"logistic"}
    assert set(first["file_format"]) == {"svmlight"} and set(first[["n", "d"]].itertuples(
        index=False, name=None)) == {(300, 8)}
    table = summary(frame)
    assert set(table["file_sha256"]) == {sha} and (table["final_subopt"] < 1).all()
    for run in runs[::3]:    # the workers computed what a serial run on the same bytes gives
        stored = frame[frame["run_id"] == run.run_id].sort_values("epoch")
        assert np.array_equal(runner.execute(run, content).frame["subopt"].to_numpy(),
                              stored["subopt"].to_numpy())
    shown = dashboard_sweeps.load(out)   # the dashboard's Sweeps page reads them like any other
    assert not shown.problems and {"file_sha256", "file_path"} <= set(shown.params)
    assert set(dashboard_sweeps.summary(shown.runs, shown.params)["problem"]) == {"blobs"}
    monkeypatch.setattr(spec.DataFile, "read", read)
    data.write_bytes(content)
    assert main(command) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "0 runs done now, 4 stored already: 0 failed, 0 diverged, 0 no progress"
    write_svmlight(data, seed=3)
    assert main(command) == 2
    assert (f"{out / 'runs'}: holds runs of 'blobs' made from a file of sha256 {sha}; {data} now "
            f"has sha256 {datasets.file_sha256(data)}: it changed since") in capsys.readouterr().err


def test_a_file_gone_or_changed_after_the_check_stops_the_sweep_before_any_run(client, tmp_path):
    spec_file = write_file_spec(tmp_path)
    data = tmp_path / "data" / "blobs.svm"
    runs = parse(spec_file.read_text(), str(spec_file)).runs
    write_svmlight(data, seed=4)
    with pytest.raises(SpecError, match=f"^{data}: changed since the spec was checked"):
        engine.run_grid(client, runs, tmp_path / "out", progress=False)
    data.unlink()
    with pytest.raises(SpecError, match=f"^{data}: cannot be read"):
        engine.run_grid(client, runs, tmp_path / "out", progress=False)
    assert not list((tmp_path / "out" / "runs").iterdir())


def test_a_worker_refuses_bytes_that_are_not_the_files(tmp_path):
    spec_file = write_file_spec(tmp_path)
    write_svmlight(tmp_path / "data" / "blobs.svm", seed=5)   # a content no test reads
    run = parse(spec_file.read_text(), str(spec_file)).runs[0]
    with pytest.raises(datasets.DataFileError, match=f"^{run.source.abspath}: the bytes sent to "
                                                     f"this worker have sha256 .* not the "
                                                     f"{run.source.sha256} the spec was checked"):
        runner.execute(run, b"1 1:0.5\n")


def test_a_workers_copy_is_never_named_the_reader_warns_with_the_clients_file(tmp_path):
    spec_file = write_file_spec(tmp_path)
    data = tmp_path / "data" / "blobs.svm"
    write_svmlight(data, seed=6)   # svmlight data are sparse: the reader densifies them, warning
    run = parse(spec_file.read_text(), str(spec_file)).runs[0]
    with pytest.warns(datasets.DensifiedWarning) as warned:
        runner.execute(run, data.read_bytes())
    texts = [str(w.message) for w in warned if issubclass(w.category, datasets.DensifiedWarning)]
    assert texts and all(t.startswith(f"{run.source.abspath}: sparse data") for t in texts)


def test_a_file_sweep_whose_runs_fail_says_so_naming_the_file(client, tmp_path, capsys):
    """Three classes for the logistic loss: every run fails on the workers, is named with the
    reader's error (naming the client's file, not the worker's copy) and counted; none stored."""
    spec_file = write_file_spec(tmp_path, FILE_SPEC.replace("lam = [1e-3, 1e-2]", "lam = 1e-3"))
    write_svmlight(tmp_path / "data" / "blobs.svm", classes=3)
    out = tmp_path / "out"
    assert main([str(spec_file), "--out", str(out), "--scheduler", client.scheduler.address]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "0 runs done now, 0 stored already: 2 failed, 0 diverged, 0 no progress"
    failed = lines[lines.index("failed:") + 1:-1]
    assert len(failed) == 2 and all("blobs(data/blobs.svm" in line and "DataFileError" in line
                                    and str(tmp_path / "data" / "blobs.svm") in line
                                    for line in failed), failed
    assert not list((out / "runs").iterdir())


# ---- a cluster of separate processes that cannot see the client's disk ------------------------

DASK = Path(sys.executable).with_name("dask")
"""The dask command of this Python's environment."""
START_SECONDS = 120
"""Longest wait for the scheduler and the workers to come up."""


@contextmanager
def deadline(seconds):
    """Raise TimeoutError in the body after ``seconds`` (whole seconds; SIGALRM, main thread)."""
    def expire(signum, frame):
        raise TimeoutError(f"not done within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def stop(process):
    """End ``process`` (started in its own session) and everything it started: SIGTERM to its
    process group, SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """(client, hidden): a Client of a `dask scheduler` and a `dask worker --nworkers 2
    --nthreads 1` started as separate processes on 127.0.0.1, and the folder ``hidden`` in which
    the tests keep their outputs. The workers run in a private mount namespace where ``hidden`` is
    an empty tmpfs, with their own working folder and TMPDIR; they import the project from this
    checkout (PYTHONPATH)."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to hide the client's folder from the workers")
    base = tmp_path_factory.mktemp("cluster")
    hidden, home = base / "client", base / "worker"
    for folder in (hidden, home / "cwd", home / "tmp"):
        folder.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_NUM_THREADS": "1",
           "TMPDIR": str(home / "tmp")}
    address_file = base / "scheduler.json"
    logs = {name: open(base / f"{name}.log", "w") for name in ("scheduler", "workers")}
    started, client = [], None
    try:
        started.append(subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", address_file], cwd=home / "cwd", env=env,
            stdout=logs["scheduler"], stderr=subprocess.STDOUT, start_new_session=True))
        with deadline(START_SECONDS):
            address = None
            while address is None:
                assert started[0].poll() is None, (base / "scheduler.log").read_text()
                time.sleep(0.2)
                try:
                    address = json.loads(address_file.read_text())["address"]
                except (OSError, ValueError):     # not written yet, or not whole yet
                    continue
            assert address.startswith("tcp://127.0.0.1:")
            started.append(subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount -t tmpfs none "$1" && cd "$2" && exec "$3" worker "$4" --nworkers 2 '
                 '--nthreads 1 --host 127.0.0.1 --no-dashboard --death-timeout 60',
                 "sh", hidden, home / "cwd", DASK, address], cwd=home / "cwd", env=env,
                stdout=logs["workers"], stderr=subprocess.STDOUT, start_new_session=True))
            client = Client(address, timeout=START_SECONDS)
            client.wait_for_workers(2, timeout=START_SECONDS)
        yield client, hidden
    finally:
        if client is not None:
            client.close()
        for process in reversed(started):
            stop(process)
        for log in logs.values():
            log.close()


def test_the_workers_do_not_share_the_clients_folders(remote):
    client, hidden = remote
    info = client.scheduler_info()
    assert len(info["workers"]) == 2
    assert all(a.startswith("tcp://127.0.0.1:") for a in info["workers"])
    assert all(w["nthreads"] == 1 for w in info["workers"].values())
    (hidden / "seen-by-the-client").touch()
    assert list(client.run(os.listdir, str(hidden)).values()) == [[], []]
    assert os.getcwd() not in client.run(os.getcwd).values()
    assert tempfile.gettempdir() not in client.run(tempfile.gettempdir).values()


def test_the_client_stores_every_run_once_and_a_sweep_resumes(remote, capsys):
    client, hidden = remote
    out = hidden / "tiny"
    grid = parse(TINY.read_text(), "tiny.toml")
    with deadline(300):
        first = engine.run_grid(client, grid.runs[:5], out, progress=False)
        assert sorted(first.ran) == sorted(r.run_id for r in grid.runs[:5]) and not first.failed
        stamps = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
        command = [str(TINY), "--out", str(out), "--scheduler", client.scheduler.address]
        assert main(command) == 0
        assert capsys.readouterr().err.strip().splitlines()[-1] == \
            "7 runs done now, 5 stored already: 0 failed, 0 diverged, 0 no progress"
        frame = assert_each_run_once(out, grid.runs)
        assert {n: (out / "runs" / n).stat().st_mtime_ns for n in stamps} == stamps
        stamps = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
        assert main(command) == 0
        assert capsys.readouterr().err.strip().splitlines()[-1] == \
            "0 runs done now, 12 stored already: 0 failed, 0 diverged, 0 no progress"
        assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")} == stamps
    for run in grid.runs[::5]:       # what the workers computed is what a serial run gives
        stored = frame[frame["run_id"] == run.run_id].sort_values("epoch")
        assert np.array_equal(runner.execute(run).frame["subopt"].to_numpy(),
                              stored["subopt"].to_numpy())


def test_a_worker_killed_mid_sweep_loses_and_repeats_nothing(remote):
    client, hidden = remote
    out = hidden / "slower"
    runs = parse(SLOWER, "slower").runs
    before = client.run(os.getpid)
    killed, done = [], []

    def kill(run_id):
        done.append(run_id)
        if killed:
            return
        busy = [w for w, tasks in client.processing().items() if tasks]
        assert busy, "no worker was busy: the sweep was over before the kill"
        killed.append(before[busy[0]])
        os.kill(before[busy[0]], signal.SIGKILL)

    with deadline(300):
        outcome = engine.run_grid(client, runs, out, progress=False, on_done=kill)
        assert killed and not outcome.failed
        assert sorted(done) == sorted(outcome.ran) == sorted(r.run_id for r in runs)
        assert_each_run_once(out, runs)
        client.wait_for_workers(2, timeout=START_SECONDS)
    assert killed[0] not in client.run(os.getpid).values()
