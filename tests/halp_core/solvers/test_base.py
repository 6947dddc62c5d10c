"""halp_core.solvers.base: what every solver shares: the sample order (against the NumPy twin),
Hogwild! threads (chunks cover every step once, the same progress as one thread, safe from
several Python threads under every threading layer) and the bytes an epoch streams."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pytest
import solver_twins

from halp_core import datasets, make_solver, solve

REPO = Path(__file__).resolve().parents[3]


def test_permutation_sampling_matches_reference():
    prob = solver_twins.problem("least_squares")
    run = make_solver(prob, "svrg", precision="fp64", step=0.1 / prob.L_max, seed=5,
                      sampling="permutation")
    run.run_epoch()
    expected = solver_twins.reference_run(prob, "svrg", None, 0.1 / prob.L_max, 1, None, None, 5,
                                          "permutation")
    np.testing.assert_allclose(run.w, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("solver,precision", [("sgd", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8),
                                              ("lp-svrg", 16), ("halp", 8), ("halp", 16)])
@pytest.mark.parametrize("kind", ["least_squares", "multinomial"])
def test_threads_run_hogwild_and_make_the_same_progress(solver, precision, kind):
    """Two threads: the full gradient in two row blocks and the inner steps Hogwild! (lock-free on
    the shared iterate). Not bit-reproducible, but the same progress: f - f* after 6 epochs within
    a factor 10 of one thread's (or both at the noise of the float format)."""
    prob = solver_twins.problem(kind)
    runs = [solve(prob, solver, precision=precision, step=0.1, epochs=6, threads=t, seed=3)
            for t in (1, 2)]
    assert runs[1].settings["threads"] == 2 and runs[0].settings["threads"] == 1
    one, two = (run.history["subopt"].iloc[-1] for run in runs)
    assert np.isfinite(two) and runs[1].diverged_epoch is None
    assert max(one, two) <= 1e-12 or abs(np.log10(max(two, 1e-300) / max(one, 1e-300))) <= 1, (one, two)


def test_hogwild_chunks_cover_every_step_once():
    """threads = 3: the epoch's steps are cut into 3 contiguous chunks, each run once with its
    offset (the LP kernels number their random keys from it), and their counts are summed."""
    prob = solver_twins.problem("least_squares")
    s = make_solver(prob, "halp", precision=8, step=0.01, threads=min(3, numba.config.NUMBA_NUM_THREADS))
    seen = []

    def run(chunk, first):
        seen.append((first, chunk.copy()))
        return chunk.shape[0]

    assert s.run_steps(run, np.arange(11, 22)) == 11
    seen.sort(key=lambda item: item[0])
    assert len(seen) == s.threads
    np.testing.assert_array_equal(np.concatenate([chunk for _, chunk in seen]), np.arange(11, 22))
    assert [first for first, _ in seen] == [int(np.sum([len(c) for _, c in seen[:m]]))
                                           for m in range(len(seen))]


@pytest.mark.parametrize("solver,precision,itemsize,passes", [
    ("sgd", "fp32", 4, 1), ("svrg", "fp64", 8, 2), ("lp-sgd", 8, 1, 1),
    ("halp", 16, 1, 2)])  # halp-16: 16-bit iterate, the problem's 8-bit data
def test_bytes_per_epoch(solver, precision, itemsize, passes):
    prob = solver_twins.problem("least_squares")
    s = make_solver(prob, solver, precision=precision, step=0.01)
    assert s.data.itemsize == itemsize and s.data.shape == prob.X.shape
    assert s.bytes_per_epoch == passes * prob.X.size * itemsize


CONCURRENT_SOLVES = """
import threading, numba
from halp_core import datasets, solve
p = datasets.synthetic_least_squares(2000, 20, lam=1e-2, noise=0.1, seed=0)
failed = []
def work(seed):
    for solver, precision in (("svrg", "fp64"), ("halp", 8), ("lp-svrg", 8)):
        r = solve(p, solver, precision=precision, step=0.5 / p.L_max, epochs=2, seed=seed,
                  threads=2)
        failed.append(r.failed)
threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(numba.threading_layer(), len(failed), any(failed))
"""


@pytest.mark.parametrize("layer", ["workqueue", "default"])
def test_threaded_solves_from_several_threads_are_safe(layer):
    """Four Python threads each solving with threads=2: under Numba's workqueue layer (not
    thread-safe) concurrent parallel launches ended the process (rc 134); in a subprocess, so an
    abort fails this test. "default" is whatever this machine has (omp or tbb where installed)."""
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NUMBA_NUM_THREADS="2",
               PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", CONCURRENT_SOLVES], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    used, runs, failed = proc.stdout.split()
    assert (runs, failed) == ("12", "False")
    assert used == "workqueue" if layer == "workqueue" else used in ("omp", "tbb", "workqueue")


@pytest.mark.parametrize("solver, precision", [("sgd", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8),
                                               ("lp-svrg", 8), ("halp", 8), ("halp", "bf16")])
def test_gradient_seconds_times_each_epochs_full_gradient(solver, precision):
    """One entry per epoch for the variance-reduced solvers, each a part of its epoch's time;
    none for SGD and LP-SGD, which take no full gradient."""
    prob = datasets.synthetic_least_squares(3000, 40, lam=1e-2, noise=0.1, seed=0)
    run = make_solver(prob, solver, precision=precision, step=0.3 / prob.L_max)
    epochs = []
    for _ in range(3):
        t0 = time.perf_counter()
        run.run_epoch()
        epochs.append(time.perf_counter() - t0)
    if not run.variance_reduced:
        assert run.gradient_seconds == []
        return
    assert len(run.gradient_seconds) == 3
    assert all(0 < g < e for g, e in zip(run.gradient_seconds, epochs))


THREADS = [1, pytest.param(2, marks=pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here"))]

# In a fresh interpreter: make_solver, then 40 epochs, listing each kernel that gained a compiled
# signature during the epochs (compiled, or loaded from Numba's cache: either lands in the timed
# seconds). A fresh process, so that no earlier test has loaded a signature the epochs need.
_COMPILES_IN_EPOCHS = """
import sys
import numpy as np
from numba.core.registry import CPUDispatcher
import halp_core
from halp_core import datasets, make_solver

solver, precision, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
precision = int(precision) if precision.isdigit() else precision


def kernels():
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("halp_core"):
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    found[f"{name}.{attr}"] = len(value.signatures)
    return found


prob = datasets.synthetic_least_squares(400, 20, lam=1e-2, noise=0.1, seed=1)
run = make_solver(prob, solver, precision=precision, step=0.5 / prob.L_max, threads=threads)
before = kernels()
for _ in range(40):
    run.run_epoch()
print([k for k, v in kernels().items() if v > before.get(k, 0)])
print(np.linalg.norm(prob.grad(run.w)))
"""


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("solver, precision", [("svrg", "fp32"), ("lp-svrg", 8), ("halp", 8),
                                               ("halp", "bf16")])
def test_epochs_compile_nothing(solver, precision, threads):
    """make_solver compiles every kernel its epochs call, with the epochs' own array layouts,
    the moved-anchor pass of a converged HALP run included. A linear model's margins are
    strided columns of the sample table; a one-element view of them counts as contiguous, and
    a precompile on it left the full gradient of another layout to HALP's first epoch (a
    second or two of compiling on a fresh machine)."""
    out = subprocess.run([sys.executable, "-c", _COMPILES_IN_EPOCHS, solver, str(precision),
                          str(threads)], capture_output=True, text=True, cwd=REPO, check=True)
    compiled, grad = out.stdout.strip().splitlines()[-2:]
    assert compiled == "[]"
    if (solver, precision) == ("halp", 8):   # converged: the moved-anchor pass ran
        assert float(grad) < 1e-12
