"""The user's file problem in the asv suite (issue 28): the HALP_BENCH_FILE* settings and their
refusals, what asv discovers with and without a file (FileSpeedup only with one, the convergence
problems appended, no benchmark version changed), FileSpeedup and the convergence trajectories
measured on a tiny svmlight file the test writes, and `./run bench`'s usage errors."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import bench_convergence, bench_speedup, common  # noqa: E402

from dashboard import benchmarks as dashboard_benchmarks  # noqa: E402

VARIABLES = tuple(common.FILE_VARIABLES.values())


def write_svmlight(path, n=300, d=6, seed=0):
    """A binary logistic problem (labels -1 / +1) of n rows and d features as an svmlight file."""
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    dump_svmlight_file(X, y, str(path))
    return path


def without_file(environ):
    """`environ` without any HALP_BENCH_FILE* variable."""
    return {k: v for k, v in environ.items() if k not in VARIABLES}


def discover(extra=None):
    """What asv discovers in benchmarks/ with the HALP_BENCH_FILE* variables of `extra` only."""
    code = "import sys; from asv_runner.discovery import list_benchmarks; list_benchmarks('benchmarks', sys.stdout)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**without_file(os.environ), **(extra or {})})
    return proc


# --- the settings ---------------------------------------------------------------------------

def test_no_file_declares_nothing():
    assert common.file_setting({}) is None
    assert common.file_setting({"HALP_BENCH_FILE": "  "}) is None


def test_a_file_with_the_default_settings(tmp_path):
    path = write_svmlight(tmp_path / "a9a.svm")
    setting = common.file_setting({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic"})
    assert setting == common.FileSetting(path=str(path), loss="logistic", lam=common.FILE_DEFAULT_LAM,
                                         name="a9a", label=None, scale=None)
    every = common.file_setting({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "multinomial",
                                 "HALP_BENCH_FILE_LAM": "1e-3", "HALP_BENCH_FILE_NAME": "mine",
                                 "HALP_BENCH_FILE_LABEL": "target", "HALP_BENCH_FILE_SCALE": "maxabs"})
    assert (every.loss, every.lam, every.name, every.label, every.scale) == ("multinomial", 1e-3, "mine",
                                                                            "target", "maxabs")


@pytest.mark.parametrize("change, message", [
    ({"HALP_BENCH_FILE": "data.svm"}, "HALP_BENCH_FILE must be an absolute path"),
    ({"HALP_BENCH_FILE": "/no/such/file.svm"}, "HALP_BENCH_FILE: no file at /no/such/file.svm"),
    ({"HALP_BENCH_FILE_LOSS": ""}, "HALP_BENCH_FILE_LOSS must be set with HALP_BENCH_FILE"),
    ({"HALP_BENCH_FILE_LOSS": "hinge"},
     "HALP_BENCH_FILE_LOSS must be one of least_squares, logistic, multinomial, not 'hinge'"),
    ({"HALP_BENCH_FILE_LAM": "small"}, "HALP_BENCH_FILE_LAM must be a number > 0"),
    ({"HALP_BENCH_FILE_LAM": "0"}, "HALP_BENCH_FILE_LAM must be a number > 0"),
    ({"HALP_BENCH_FILE_LAM": "-1e-4"}, "HALP_BENCH_FILE_LAM must be a number > 0"),
    ({"HALP_BENCH_FILE_LAM": "nan"}, "HALP_BENCH_FILE_LAM must be a number > 0"),
    ({"HALP_BENCH_FILE_NAME": "lsq"}, "HALP_BENCH_FILE_NAME is 'lsq', the name of a built-in"),
    ({"HALP_BENCH_FILE_NAME": "../up"}, "HALP_BENCH_FILE_NAME must be a letter or digit"),
    ({"HALP_BENCH_FILE_SCALE": "minmax"}, "HALP_BENCH_FILE_SCALE must be one of maxabs, standard"),
])
def test_a_bad_setting_names_its_variable(tmp_path, change, message):
    path = write_svmlight(tmp_path / "tiny.svm")
    environ = {"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic", **change}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        common.file_setting(environ)


def test_a_file_stem_that_is_no_name_asks_for_one(tmp_path):
    path = write_svmlight(tmp_path / "my data.svm")
    with pytest.raises(ValueError, match=r"HALP_BENCH_FILE_NAME \(default: the file's stem\)"):
        common.file_setting({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic"})
    named = common.file_setting({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic",
                                 "HALP_BENCH_FILE_NAME": "my-data"})
    assert named.name == "my-data"


def test_a_file_variable_without_the_file_is_refused():
    with pytest.raises(ValueError, match="HALP_BENCH_FILE_LOSS, HALP_BENCH_FILE_LAM set without HALP_BENCH_FILE"):
        common.file_setting({"HALP_BENCH_FILE_LOSS": "logistic", "HALP_BENCH_FILE_LAM": "1e-3"})


# --- what asv discovers -----------------------------------------------------------------------

def test_a_file_adds_its_benchmarks_and_changes_no_version(tmp_path):
    plain = discover()
    path = write_svmlight(tmp_path / "tiny.svm")
    with_file = discover({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic"})
    assert plain.returncode == 0 and with_file.returncode == 0, plain.stderr + with_file.stderr
    plain = {b["name"]: b for b in json.loads(plain.stdout)}
    found = {b["name"]: b for b in json.loads(with_file.stdout)}
    assert set(found) - set(plain) == {dashboard_benchmarks.FILE_SPEEDUP}
    speed = found[dashboard_benchmarks.FILE_SPEEDUP]
    assert speed["param_names"] == dashboard_benchmarks.PARAM_NAMES[dashboard_benchmarks.FILE_SPEEDUP]
    assert speed["params"] == [["'tiny'"], *plain[dashboard_benchmarks.SPEEDUP]["params"][:3]]
    assert speed["unit"] == "ratio"
    for name, bench in plain.items():   # same code, same version: old results stay comparable
        assert found[name]["version"] == bench["version"], name
        if name.startswith("bench_convergence."):
            assert found[name]["params"][0] == bench["params"][0] + ["'tiny'"], name   # appended
            assert found[name]["params"][1:] == bench["params"][1:]
        else:
            assert found[name]["params"] == bench["params"], name


def test_a_bad_setting_fails_discovery_naming_the_variable(tmp_path):
    path = write_svmlight(tmp_path / "tiny.svm")
    proc = discover({"HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "hinge"})
    assert proc.returncode != 0
    assert "HALP_BENCH_FILE_LOSS must be one of" in proc.stderr


def test_asv_check_is_clean_with_a_file(tmp_path):
    path = write_svmlight(tmp_path / "tiny.svm")
    env = {**without_file(os.environ), "HALP_BENCH_FILE": str(path), "HALP_BENCH_FILE_LOSS": "logistic"}
    proc = subprocess.run([sys.executable, "-m", "asv", "check", "-E", f"existing:{sys.executable}"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and "No problems found" in proc.stdout, proc.stdout + proc.stderr


# --- measured on a tiny file --------------------------------------------------------------------

@pytest.fixture
def file_suite(tmp_path, monkeypatch):
    """The suite's modules imported again with a tiny logistic svmlight file declared (lam 0.1, quick
    profile); imported once more without it afterwards."""
    path = write_svmlight(tmp_path / "tiny.svm")
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HALP_BENCH_FILE", str(path))
    monkeypatch.setenv("HALP_BENCH_FILE_LOSS", "logistic")
    monkeypatch.setenv("HALP_BENCH_FILE_LAM", "0.1")
    monkeypatch.setenv("HALP_BENCH_PROFILE", "quick")
    work = tmp_path / "asv-cache"   # setup_cache pickles into the current folder, as under asv
    work.mkdir()
    monkeypatch.chdir(work)
    for module in (common, bench_speedup, bench_convergence):
        importlib.reload(module)
    yield path
    monkeypatch.undo()
    for module in (common, bench_speedup, bench_convergence):
        importlib.reload(module)


def test_file_speedup_measures_the_file_problem(file_suite):
    assert common.FILE_PROBLEMS == ("tiny",)
    suite = bench_speedup.FileSpeedup
    paths = suite.setup_cache()
    assert set(paths) == {("tiny", common.EPOCH_DATA_BITS)}   # quick profile: the int8 data only
    bench = suite()
    bench.setup(paths, "tiny", "halp", 8, "fp32")
    assert (bench.low.name, bench.low.precision, bench.base.name, bench.base.precision) == ("halp", 8, "svrg", "fp32")
    assert bench.low.problem is bench.base.problem and bench.low.problem.name == "tiny"
    assert bench.low.problem.n == 300 and bench.low.problem.data_bits == 8
    assert bench.low.step == pytest.approx(common.EPOCH_STEP_FACTOR / bench.low.problem.L_max)
    ratio = bench.track_speedup(paths, "tiny", "halp", 8, "fp32")
    assert np.isfinite(ratio) and ratio > 0
    for bits in (16, "bf16"):   # measured in the full profile only: skipped, as in Speedup
        with pytest.raises(NotImplementedError):
            suite().setup(paths, "tiny", "halp", bits, "fp32")
    with pytest.raises(NotImplementedError):   # a pair the API does not define (check_combo)
        suite().setup(paths, "tiny", "halp", "fp32", "fp32")


def test_the_convergence_suite_runs_the_file_problem_with_its_settings(file_suite, monkeypatch):
    assert common.CONV_PROBLEMS == ("lsq", "logistic", "digits", "tiny")
    assert bench_convergence.Convergence.params[0] == ["lsq", "logistic", "digits", "tiny"]
    prob = common.conv_problem("tiny")
    assert (prob.name, prob.kind, prob.lam, prob.data_bits) == ("tiny", "logistic", 0.1, 8)
    assert common.conv_step("tiny") == pytest.approx(0.5 / prob.L_max)
    monkeypatch.setattr(bench_convergence, "CONV_PROBLEMS", ("tiny",))   # the file's trajectories only
    runs = bench_convergence.Convergence.setup_cache()
    assert {problem for problem, _, _ in runs} == {"tiny"}
    assert ("tiny", "halp", 8) in runs and ("tiny", "svrg", "fp64") in runs
    svrg = runs["tiny", "svrg", "fp64"]["subopt"]
    assert len(svrg) == common.CONV_MAX_EPOCH + 1 and svrg[-1] < 1e-6 * svrg[0]


# --- ./run bench's usage errors (before any set-up) ----------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--loss", "logistic"], "--loss without --file"),
    (["--file", "data.svm"], "--file needs --loss"),
    (["--file"], "--file needs a value"),
    (["--file", "data.svm", "--lam"], "--lam needs a value"),
    (["--file=data.svm", "--lam", "--loss", "logistic"], "--lam needs a value"),
])
def test_run_bench_refuses_incomplete_file_options(args, message):
    proc = subprocess.run([str(REPO / "run"), "bench", *args], capture_output=True, text=True, timeout=60,
                          env=without_file(os.environ))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "usage: ./run bench" in proc.stderr
