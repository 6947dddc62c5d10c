"""Scaling of every solver with the thread count (reported beside, never mixed into, the
single-thread headline numbers of bench_epoch and bench_speedup).

``ThreadScaling.time_epoch(solver, precision, threads)``: seconds per epoch on the bench_epoch
problem at THREADS_SIZE_MB, built with ``make_solver(..., threads=threads)``. Threads split the
full-gradient pass of svrg / lp-svrg / halp into row blocks and run the inner steps of every
solver Hogwild! (lock-free on the shared iterate), so every solver can scale. Thread counts above
Numba's (NUMBA_NUM_THREADS, the machine's cores by default) are skipped; the largest one measured
is "all cores" on a machine with at most 8.
"""

import numba

from . import common
from .common import SOLVERS

THREADS = (1, 2, 4, 8)
THREADS_SIZE_MB = 100
THREADS_PRECISIONS = ("fp64", "fp32", 8)

_CACHE = {}


class ThreadScaling:
    params = [list(SOLVERS), list(THREADS_PRECISIONS), list(THREADS)]
    param_names = ["solver", "precision", "threads"]
    setup_cache = common.epoch_problem_files
    timeout = 900
    warmup_time = 0.0
    repeat = (2, 5, 3.0)
    rounds = 2

    def setup(self, paths, solver, precision, threads):
        common.check_combo(solver, precision)
        if threads > numba.config.NUMBA_NUM_THREADS:
            raise NotImplementedError(f"Numba runs {numba.config.NUMBA_NUM_THREADS} threads here")
        key = (solver, precision, threads)
        if key not in _CACHE:   # asv_runner re-runs setup before every timed call
            _CACHE.clear()
            prob = common.load_epoch_problem(paths, THREADS_SIZE_MB)
            try:
                solver_obj = common.api().make_solver(
                    prob, solver, precision=precision, step=common.epoch_step(prob),
                    sampling=common.EPOCH_SAMPLING, seed=0, threads=threads)
            except TypeError as err:   # a commit whose make_solver has no threads option
                raise NotImplementedError(str(err)) from err
            solver_obj.run_epoch()
            _CACHE[key] = solver_obj
        self.solver = _CACHE[key]

    def time_epoch(self, paths, solver, precision, threads):
        self.solver.run_epoch()
