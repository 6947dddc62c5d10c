"""Speedup of the low-precision solvers over their full-precision baselines, as a time ratio
measured inside one process with the two contenders interleaved (machine noise hits both).

``track_speedup(method, bits, baseline, size_mb, d)`` = median epoch time of ``method`` at
``bits`` / median epoch time of its baseline in ``baseline`` precision, on the same problem (the one
of bench_epoch, with rows of d features: int8 data for fixed-point bits, the format's own data for a float format such as
"bf16", so HALP-bf16 and SVRG-fp32 share one bf16 copy of the data), same step, seed and sampling:
  method 'halp'   -> baseline solver 'svrg';
  method 'lp-sgd' -> baseline solver 'sgd'
(the registry entries' ``baseline``: ``BASELINE_SOLVER``, from ``common.baselines``).
Lower is better (asv treats higher as worse): 0.5 means the low-precision epoch takes half the
time. Both solvers are built and warmed first; then rounds alternate the order (A B, B A, ...)
until at least MIN_ROUNDS rounds and BUDGET_S seconds are spent (at most MAX_ROUNDS; in the quick
profile ``common.QUICK_BUDGET_S`` seconds).

``AllCoresSpeedup.track_speedup``: the same ratio with both solvers on all of Numba's threads
(NUMBA_NUM_THREADS: Hogwild! inner steps and a row-block full gradient), at 8 bits against
float32, out of cache, at every width.

``FileSpeedup.track_speedup(problem, method, bits, baseline)``: the same ratio on the user's file
problem (``common.FILE_PROBLEMS``, declared by HALP_BENCH_FILE: ``./run bench --file``), with its
data in int8 or in the float format (``common.epoch_data_bits``), the same step rule, seed and
sampling, bits and baselines; 4 and 16 bits and the formats in the full profile only. The class
exists only when a file is declared: asv lists no benchmark without parameter values (``asv
check`` fails on an empty parameter list), and a run without a file records nothing of it.
"""

import time

import numba
import numpy as np

from . import common
from .common import SIZES_MB, WIDTHS, WIDTH_SIZES_MB

BASELINE_SOLVER = common.baselines()
METHODS = ["halp", "lp-sgd"]
LOW_PRECISIONS = [4, 8, 16, *common.FORMATS]
BASELINES = ["fp32", "fp64"]
MIN_ROUNDS = 7
MAX_ROUNDS = 201
BUDGET_S = 3.0


def interleaved_times(run_a, run_b, min_rounds=MIN_ROUNDS, max_rounds=MAX_ROUNDS,
                      budget_s=BUDGET_S, clock=time.perf_counter):
    """(median time of run_a, median time of run_b) in seconds, calls interleaved A B / B A."""
    times_a, times_b = [], []
    start = clock()
    for r in range(max_rounds):
        order = ((run_a, times_a), (run_b, times_b))
        if r % 2:
            order = order[::-1]
        for run, times in order:
            t0 = clock()
            run()
            times.append(clock() - t0)
        if r + 1 >= min_rounds and clock() - start >= budget_s:
            break
    return float(np.median(times_a)), float(np.median(times_b))


def interleaved_ratio(run_a, run_b, min_rounds=MIN_ROUNDS, max_rounds=MAX_ROUNDS,
                      budget_s=BUDGET_S, clock=time.perf_counter):
    """median(time of run_a) / median(time of run_b), calls interleaved A B / B A
    (``interleaved_times``)."""
    a, b = interleaved_times(run_a, run_b, min_rounds, max_rounds, budget_s, clock)
    return a / b


def budget_s():
    """Seconds of interleaving per speedup in the current profile (QUICK_BUDGET_S or BUDGET_S)."""
    return common.QUICK_BUDGET_S if common.profile() == "quick" else BUDGET_S


class Speedup:
    params = [METHODS, LOW_PRECISIONS, BASELINES, list(SIZES_MB), list(WIDTHS)]
    param_names = ["method", "bits", "baseline", "size_mb", "d"]
    unit = "ratio"
    setup_cache = common.format_problem_files
    timeout = 900

    def threads(self):
        return 1

    def setup(self, paths, method, bits, baseline, size_mb, d):
        common.check_combo(method, bits)   # the float formats skip on commits before them
        common.check_shape(size_mb, d, bits)
        prob = common.load_epoch_problem(paths, size_mb, bits, d)
        step = common.epoch_step(prob)
        self.low = common.build_solver(prob, method, bits, step, threads=self.threads())
        self.base = common.build_solver(prob, BASELINE_SOLVER[method], baseline, step,
                                        threads=self.threads())

    def track_speedup(self, paths, method, bits, baseline, size_mb, d):
        budget = common.QUICK_BUDGET_S if common.profile() == "quick" else BUDGET_S
        return interleaved_ratio(self.low.run_epoch, self.base.run_epoch, budget_s=budget)


class AllCoresSpeedup(Speedup):
    params = [["halp", "lp-sgd"], [8], ["fp32"], list(WIDTH_SIZES_MB), list(WIDTHS)]

    def threads(self):
        return numba.config.NUMBA_NUM_THREADS


if common.FILE_PROBLEMS:   # only with a user's file: see the module's docstring
    class FileSpeedup:
        params = [list(common.FILE_PROBLEMS), METHODS, LOW_PRECISIONS, BASELINES]
        param_names = ["problem", "method", "bits", "baseline"]
        unit = "ratio"
        setup_cache = common.file_problem_files
        timeout = common.FILE_TIMEOUT_S

        def setup(self, paths, problem, method, bits, baseline):
            common.check_combo(method, bits)
            common.check_profile_precision(bits)
            prob = common.load_file_problem(paths, problem, bits)
            step = common.epoch_step(prob)
            self.low = common.build_solver(prob, method, bits, step)
            self.base = common.build_solver(prob, BASELINE_SOLVER[method], baseline, step)

        def track_speedup(self, paths, problem, method, bits, baseline):
            return interleaved_ratio(self.low.run_epoch, self.base.run_epoch, budget_s=budget_s())
