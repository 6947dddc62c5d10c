"""The asv suite itself: configuration, benchmark names the dashboard relies on, the measuring
helpers, that the convergence settings make the suite meaningful, and the shipped results.

Runs in well under a minute; the one end-to-end regression test (asv builds two commits, the gate
must catch a 2x slowdown) is tests/halp_bench/test_compare_e2e.py.
"""

import io
import json
import re
import subprocess
import sys
import time
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest
from asv import util as asv_util

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import (bench_bandwidth, bench_convergence, bench_epoch,  # noqa: E402
                        bench_kernels, bench_memory, bench_speedup, bench_threads, common)

from dashboard.benchmarks import FILE_SPEEDUP, PARAM_NAMES  # noqa: E402

# The benchmark names and parameter names the dashboard is built against (dashboard/benchmarks.py),
# and those of the suites it shows only through the generic pages. FILE_SPEEDUP exists only with a
# user's file declared: tests/benchmarks/test_bench_file.py checks it.
CONTRACT = {
    **{name: params for name, params in PARAM_NAMES.items() if name != FILE_SPEEDUP},
    "bench_memory.Memory.peakmem_solve": ["precision"],
    "bench_kernels.Dot.time_dot": ["dtype", "level"],
    "bench_kernels.Axpy.time_axpy": ["dtype", "level"],
    "bench_kernels.Quantize.time_quantize_nearest": ["bits", "level"],
    "bench_kernels.Quantize.time_quantize_stochastic": ["bits", "level"],
}


@pytest.fixture(scope="module")
def discovered():
    """What asv itself discovers in benchmarks/ (name -> attributes, version included)."""
    out = io.StringIO()
    code = ("import sys; from asv_runner.discovery import list_benchmarks; "
            f"list_benchmarks({str(REPO / 'benchmarks')!r}, sys.stdout)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out.write(proc.stdout)
    return {b["name"]: b for b in json.loads(out.getvalue())}


# --- configuration -------------------------------------------------------------------------

def test_asv_conf_pins_match_pyproject():
    conf = asv_util.load_json(str(REPO / "asv.conf.json"), js_comments=True)
    assert conf["environment_type"] == "virtualenv"
    assert conf["benchmark_dir"] == "benchmarks" and conf["results_dir"] == "results"
    pins = {}
    for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, version = re.split(r"==", dep)
        pins[name.strip().lower()] = version.strip()
    req = {k.lower(): v for k, v in conf["matrix"]["req"].items()}
    # Dependencies that do not touch the timings (threadpoolctl only reports which BLAS kernels
    # run) stay out of the matrix, whose entries name the environment: the environment gets them
    # at constraints.txt's version through the install command.
    constraints = dict(re.split(r"==", line.strip().lower(), maxsplit=1)
                       for line in (REPO / "constraints.txt").read_text().splitlines()
                       if "==" in line and not line.lstrip().startswith("#"))
    assert all("--constraint {conf_dir}/constraints.txt" in cmd
               for cmd in conf["install_command"][1:]), conf["install_command"]
    for name, version in pins.items():
        if name in NOT_IN_ENVIRONMENT_NAME:
            assert name not in req and constraints.get(name) == version, name
            continue
        assert req.get(name) == [version], f"asv.conf.json pins {name} {req.get(name)}, " \
                                           f"pyproject.toml {version}"


NOT_IN_ENVIRONMENT_NAME = {"threadpoolctl"}


def test_asv_check_is_clean():
    proc = subprocess.run([sys.executable, "-m", "asv", "check", "-E", f"existing:{sys.executable}"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout, proc.stdout + proc.stderr


# --- names and parameters ------------------------------------------------------------------

def test_contract_names_and_params(discovered):
    for name, param_names in CONTRACT.items():
        assert name in discovered, f"{name} is missing from the suite"
        assert discovered[name]["param_names"] == param_names, name
    speed = discovered["bench_speedup.Speedup.track_speedup"]
    assert speed["unit"] == "ratio"
    formats = [repr(f) for f in common.FORMATS]                       # appended after the bits
    widths = [repr(d) for d in common.WIDTHS]
    assert speed["params"] == [["'halp'", "'lp-sgd'"], ["4", "8", "16", *formats],
                               ["'fp32'", "'fp64'"], [repr(s) for s in common.SIZES_MB], widths]
    assert discovered["bench_epoch.EpochTime.time_epoch"]["params"][3] == widths
    assert common.EPOCH_D in common.WIDTHS and set(common.WIDTH_SIZES_MB) <= set(common.SIZES_MB)
    epoch = discovered["bench_epoch.EpochTime.time_epoch"]["params"]
    assert epoch[1] == ["'fp64'", "'fp32'", "16", "8", "4", *formats]   # mixed on purpose
    memory = discovered["bench_memory.Memory.peakmem_solve"]["params"]
    assert memory[0] == epoch[1]
    assert min(common.SIZES_MB) <= 1 and max(common.SIZES_MB) >= 400
    conv = discovered["bench_convergence.Convergence.track_subopt"]["params"]
    assert conv[0] == ["'lsq'", "'logistic'", "'digits'"]
    assert conv[2] == epoch[1]
    assert conv[3] == ["1", "2", "4", "8", "16", "32"]
    target = discovered["bench_convergence.Convergence.track_epochs_to_target"]["params"]
    assert target[3] == ["'1e-06'", "'1e-10'", "'1e-04'"]   # appended, never reordered: older files
    assert discovered["bench_convergence.Convergence.track_time_to_target"]["params"] == target


def test_invalid_combinations_skip_exactly_where_the_api_refuses():
    """check_combo raises NotImplementedError (asv: skipped) exactly where make_solver raises
    ValueError."""
    from halp_core import datasets, make_solver

    prob = datasets.synthetic_least_squares(64, 4, lam=0.1, noise=0.1, seed=0)
    for solver in common.SOLVERS:
        for precision in common.PRECISIONS:
            try:
                make_solver(prob, solver, precision=precision, step=0.01)
                api_ok = True
            except ValueError:
                api_ok = False
            try:
                common.check_combo(solver, precision)
                ours = True
            except NotImplementedError:
                ours = False
            assert ours == api_ok, (solver, precision)
    with pytest.raises(NotImplementedError):
        common.check_combo("svrg", 8)
    with pytest.raises(NotImplementedError):
        common.check_combo("halp", "fp32")


def test_bandwidth_figures_on_a_small_problem(monkeypatch):
    """The bandwidth benchmark's arithmetic: bytes_per_epoch over the epoch time, and the ratio
    to the read kernel over the solver's own data, on a problem small enough for a unit test."""
    from halp_core import datasets

    prob = datasets.synthetic_least_squares(512, 64, lam=0.1, noise=0.1, seed=0)
    monkeypatch.setattr(common, "load_epoch_problem",
                        lambda paths, size_mb, precision=None, d=None: prob)
    bench = bench_bandwidth.Bandwidth()
    bench.setup(None, "halp-8", 1)
    assert bench.solver.bytes_per_epoch == 2 * 512 * 64   # int8 data: full gradient + n rows
    gbps = bench.track_epoch_gbps(None, "halp-8", 1)
    fraction = bench.track_fraction_of_read(None, "halp-8", 1)
    assert 0 < gbps < 1e3 and 0 < fraction < 10
    read = bench_bandwidth.Read()
    read.setup(1)
    assert read.nbytes == common.epoch_rows(1) * common.EPOCH_D and read.track_read_gbps(1) > 0


def test_thread_counts_beyond_numba_skip():
    import numba

    bench = bench_threads.ThreadScaling()
    with pytest.raises(NotImplementedError):
        bench.setup(None, "svrg", "fp32", numba.config.NUMBA_NUM_THREADS + 1)
    with pytest.raises(NotImplementedError):
        bench.setup(None, "halp", "fp32", 1)


def _small_problems(monkeypatch, sizes=(1,), widths=(8, 16, 32), width_sizes=()):
    """format_problem_files on problems of 256 x 16 per MiB (one per size and data precision, and
    one per width at ``width_sizes``), written to the current folder as asv's setup_cache would."""
    monkeypatch.setattr(common, "SIZES_MB", sizes)
    monkeypatch.setattr(common, "EPOCH_D", 16)
    monkeypatch.setattr(common, "WIDTHS", widths)
    monkeypatch.setattr(common, "WIDTH_SIZES_MB", width_sizes)
    monkeypatch.setattr(common, "epoch_rows", lambda size_mb, d=None: 256 * size_mb)
    common.LOADED.clear()
    return common.format_problem_files()


def test_a_format_comparison_shares_one_copy_of_the_format_data(monkeypatch, tmp_path):
    """Speedup at a float format builds both contenders on one problem whose data are in that
    format (HALP-bf16 and SVRG-fp32 with bf16 data); at fixed-point bits on the int8 problem."""
    monkeypatch.chdir(tmp_path)
    paths = _small_problems(monkeypatch)
    assert set(paths) == {(1, 16, 8)} | {(1, 16, name) for name in common.FORMATS}
    dtypes = {"bf16": np.uint16, "fp16": np.uint16, "fp8-e4m3": np.uint8, "fp8-e5m2": np.uint8}
    bench = bench_speedup.Speedup()
    for bits in (8, *common.FORMATS):
        bench.setup(paths, "halp", bits, "fp32", 1, 16)
        assert bench.low.problem is bench.base.problem
        assert bench.low.problem.data_bits == bits
        assert bench.low.problem.Xq.dtype == dtypes.get(bits, np.int8)
        assert 0 < bench.track_speedup(paths, "halp", bits, "fp32", 1, 16) < 1e3
    epoch = bench_epoch.EpochTime()
    epoch.setup(paths, "lp-sgd", "fp8-e5m2", 1, 16)
    assert epoch.solver.problem.data_bits == "fp8-e5m2"
    epoch.setup(paths, "sgd", "fp32", 1, 16)
    assert epoch.solver.problem.data_bits == 8
    with pytest.raises(NotImplementedError):   # no such pair
        epoch.setup(paths, "svrg", "bf16", 1, 16)


def test_widths_are_measured_at_their_sizes_and_the_quick_profile_is_a_subset(monkeypatch,
                                                                              tmp_path):
    """Every width at the width sizes (int8 data), EPOCH_D alone at the others and for the float
    formats; the quick profile builds and measures only its sizes, every width among them; any
    other shape skips (NotImplementedError), never fails."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HALP_BENCH_PROFILE", "full")
    monkeypatch.setattr(common, "QUICK_SIZES_MB", (2,))
    paths = _small_problems(monkeypatch, sizes=(1, 2), width_sizes=(2,))
    assert set(paths) == ({(1, 16, 8)} | {(2, d, 8) for d in (8, 16, 32)}
                          | {(s, 16, f) for s in (1, 2) for f in common.FORMATS})
    epoch, speed = bench_epoch.EpochTime(), bench_speedup.Speedup()
    for d in (8, 32):
        epoch.setup(paths, "halp", 8, 2, d)
        assert epoch.solver.problem.d == d
        speed.setup(paths, "lp-sgd", 8, "fp32", 2, d)
        assert speed.low.problem.d == d and speed.base.problem is speed.low.problem
        with pytest.raises(NotImplementedError):   # no width axis at this size
            epoch.setup(paths, "halp", 8, 1, d)
        with pytest.raises(NotImplementedError):   # no width axis for a float format
            speed.setup(paths, "halp", "bf16", "fp32", 2, d)
    monkeypatch.setenv("HALP_BENCH_PROFILE", "quick")
    quick = _small_problems(monkeypatch, sizes=(1, 2), width_sizes=(2,))
    assert set(quick) == {(2, 8, 8), (2, 16, 8), (2, 32, 8)}
    for d in (8, 32):
        speed.setup(quick, "halp", 8, "fp64", 2, d)
    with pytest.raises(NotImplementedError):
        epoch.setup(quick, "svrg", "fp32", 1, 16)
    for precision in (16, "bf16"):
        assert precision not in common.QUICK_PRECISIONS
        with pytest.raises(NotImplementedError):
            epoch.setup(quick, "halp", precision, 2, 16)
    monkeypatch.setenv("HALP_BENCH_PROFILE", "fast")
    with pytest.raises(ValueError, match="HALP_BENCH_PROFILE"):
        common.profile()


def test_formats_skip_on_commits_before_them(monkeypatch, tmp_path):
    """A commit whose registry has no float formats (or no registry): the setup_cache writes the
    int8 problems only, and every benchmark at a format skips (NotImplementedError) instead of
    failing."""
    monkeypatch.chdir(tmp_path)
    for old in (None, types.SimpleNamespace(SPECS={}, names=lambda family=None: ())):
        monkeypatch.setattr(common, "registry", lambda old=old: old)
        assert common.registered_formats() == ()
        paths = _small_problems(monkeypatch)
        assert set(paths) == {(1, 16, 8)}
        for bits in common.FORMATS:
            with pytest.raises(NotImplementedError):
                common.check_combo("halp", bits)
            with pytest.raises(NotImplementedError):
                common.load_epoch_problem(paths, 1, bits)
            with pytest.raises(NotImplementedError):
                bench_speedup.Speedup().setup(paths, "lp-sgd", bits, "fp32", 1, 16)
            with pytest.raises(NotImplementedError):
                bench_memory.Memory().setup(paths, bits)
        assert common.load_epoch_problem(paths, 1, 8).data_bits == 8


# --- measuring helpers ---------------------------------------------------------------------

def test_interleaved_ratio_alternates_and_takes_medians():
    now = [0.0]
    calls = []

    def clock():
        return now[0]

    def run(name, cost):
        def f():
            calls.append(name)
            now[0] += cost
        return f

    ratio = bench_speedup.interleaved_ratio(run("a", 3.0), run("b", 1.5), min_rounds=4,
                                            max_rounds=10, budget_s=1.0, clock=clock)
    assert ratio == pytest.approx(2.0)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]   # 4 rounds, order alternates
    # An outlier in one round does not move the median.
    costs = iter([1.0, 1.0, 100.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])

    def spiky():
        now[0] += next(costs)

    assert bench_speedup.interleaved_ratio(spiky, run("c", 2.0), min_rounds=5, max_rounds=5,
                                           budget_s=0.0, clock=clock) == pytest.approx(0.5)
    # The times themselves, in seconds of the clock: each contender's median.
    assert bench_speedup.interleaved_times(run("d", 3.0), run("e", 0.5), min_rounds=3,
                                           max_rounds=3, budget_s=0.0,
                                           clock=clock) == pytest.approx((3.0, 0.5))


def _best_of(f, repeats=5):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_kernel_repeat_loop_is_not_optimised_away(dtype):
    """The compiled repeat loop must do the kernel `reps` times: time grows ~linearly."""
    bench = bench_kernels.Dot()
    bench.setup(dtype, "L2")
    a, b, loop = bench.a, bench.b, bench.loop
    t1 = _best_of(lambda: loop(a, b, 40))
    t4 = _best_of(lambda: loop(a, b, 160))
    assert 2.5 < t4 / t1 < 6.0, (t1, t4)


def test_kernel_sizes_sit_in_their_cache_level():
    """Working sets (two vectors, 1..8 bytes per element) against this machine's caches:
    L1d 32 KiB, L2 512 KiB per core, L3 32 MiB."""
    kib, mib = 2**10, 2**20
    bounds = {"L1": (0, 32 * kib), "L2": (32 * kib, 512 * kib), "L3": (512 * kib, 32 * mib),
              "DRAM": (32 * mib, np.inf)}
    for level, n in common.KERNEL_N.items():
        lo, hi = bounds[level]
        for itemsize in (1, 2, 4, 8):
            assert lo < 2 * n * itemsize <= hi, (level, itemsize)
        assert 2**23 <= n * common.kernel_reps(level) <= 2**25


def test_kernel_loops_match_the_kernels():
    from halp_core import kernels

    for dtype in common.KERNEL_DTYPES:
        a, b = common.kernel_vectors(dtype, "L1")
        bench = bench_kernels.Dot()
        bench.setup(dtype, "L1")
        assert bench.loop(a, b, 3) == pytest.approx(3 * float(kernels.dot(a, b)), rel=1e-6)


# --- convergence -----------------------------------------------------------------------------

def test_convergence_reading_rules():
    run = {"subopt": [1.0, 1e-3, 1e-7, 1e-11], "seconds": [0.0, 0.1, 0.2, 0.3]}
    conv = bench_convergence.Convergence()
    conv.run = run
    assert conv.track_subopt(None, "lsq", "svrg", "fp64", 2) == 1e-7
    assert conv.track_subopt(None, "lsq", "svrg", "fp64", 8) == np.inf   # run stopped early
    assert conv.track_seconds(None, "lsq", "svrg", "fp64", 3) == 0.3
    assert conv.track_epochs_to_target(None, "lsq", "svrg", "fp64", "1e-06") == 2.0
    assert conv.track_epochs_to_target(None, "lsq", "svrg", "fp64", "1e-10") == 3.0
    conv.run = {"subopt": [1.0] + [1e-3] * 32, "seconds": [0.0] * 33}
    assert conv.track_epochs_to_target(None, "lsq", "sgd", "fp64", "1e-06") == common.NEVER


def test_convergence_settings_are_meaningful():
    """With the suite's steps, on least squares: SVRG and HALP (8 bits) converge linearly
    below 1e-10 in 32 epochs; LP-SGD and LP-SVRG at 8 bits stall above 1e-6."""
    from halp_core import solve

    prob = common.conv_problem("lsq")
    step = common.conv_step("lsq")
    assert step == pytest.approx(0.5 / prob.L_max)

    def final(solver, precision):
        mu = prob.lam if solver == "halp" else None   # what bench_convergence runs
        h = solve(prob, solver, precision=precision, step=step, epochs=32, mu=mu, seed=0).history
        return h["subopt"].to_numpy()

    for solver, precision in (("svrg", "fp64"), ("halp", 8)):
        s = final(solver, precision)
        assert s[32] < 1e-10, (solver, s)
        assert s[16] < 1e-3 * s[4], (solver, s)   # keeps improving geometrically
    for solver in ("lp-sgd", "lp-svrg"):
        s = final(solver, 8)
        assert s[16:].min() > 1e-6, (solver, s)


# --- shipped results -----------------------------------------------------------------------

def _result_files():
    return sorted(p for p in (REPO / "results").glob("*/*.json") if p.name != "machine.json")


def test_shipped_results_load_with_plain_json_and_match_the_suite(discovered):
    files = _result_files()
    assert files, "no asv results in results/: run the suite and commit them (docs/benchmarks.md)"
    bench_json = json.loads((REPO / "results" / "benchmarks.json").read_text())
    for machine_dir in {f.parent for f in files}:
        machine = json.loads((machine_dir / "machine.json").read_text())
        assert machine["machine"] == machine_dir.name
    versions = {}   # benchmark name -> versions that have a real value in some shipped file
    for f in files:
        data = json.loads(f.read_text())   # bare NaN / Infinity are fine for Python's json
        assert data["version"] == 2
        rc = subprocess.run(["git", "cat-file", "-e", data["commit_hash"] + "^{commit}"],
                            cwd=REPO).returncode
        assert rc == 0, f"{f.name}: commit {data['commit_hash']} is not in this repository"
        cols = data["result_columns"]
        for name, row in data["results"].items():
            values = row[cols.index("result")]
            if values is not None and any(v is not None and v == v for v in values):
                versions.setdefault(name, set()).add(row[cols.index("version")])
    # Every benchmark of today's suite has real shipped values at its current version (asv
    # hashes the benchmark's code): results are refreshed whenever the suite changes.
    for name, bench in discovered.items():
        assert name in bench_json, f"{name} is missing from results/benchmarks.json"
        assert name in versions, f"{name} has no shipped result: run it and commit results/"
        assert bench["version"] in versions[name], (
            f"{name} changed since its shipped results were measured: re-run it and commit "
            f"results/ (docs/benchmarks.md)")
