"""Memory bandwidth an epoch achieves, beside the machine's read bandwidth (issue: "the HALP-8
inner loop streams its int8 data at >= 50% of this machine's read bandwidth").

Problem, step, sampling and seed are those of bench_epoch. ``bytes_per_epoch`` is what one
epoch streams from memory: the data matrix (int8 for 8 bits, float32/float64 for fp32/fp64) once
per inner pass, plus once more for the full gradient of the variance-reduced solvers.

- ``Read.track_read_gbps(size_mb)``: GB/s (1e9 bytes per second) of a STREAM-like read kernel
  (``halp_core.kernels.read_words``: one load and one add per 8 bytes) over a buffer the size of
  the 8-bit data matrix of that problem size: the read limit for that working set.
- ``Bandwidth.track_epoch_gbps(solver, size_mb)``: GB/s the solver's epochs achieve.
- ``Bandwidth.track_fraction_of_read(solver, size_mb)``: that figure divided by the read
  kernel's GB/s over the solver's own data matrix, the two interleaved in one process.

Higher is *better* for all three (asv colours increases red regardless: read them as figures).
"""

import time

import numpy as np

from . import common
from .bench_speedup import interleaved_ratio
from .common import SIZES_MB

SOLVER_LABELS = {"halp-8": ("halp", 8), "halp-16": ("halp", 16), "lp-sgd-8": ("lp-sgd", 8),
                 "svrg-fp32": ("svrg", "fp32"), "svrg-fp64": ("svrg", "fp64"),
                 "sgd-fp32": ("sgd", "fp32")}


def read_kernel(matrix):
    """A zero-argument callable that runs the read kernel once over ``matrix``'s bytes."""
    read_words = common.require(getattr(common.kernels(), "read_words", None),
                                "halp_core.kernels.read_words")
    words = matrix.reshape(-1).view(np.uint64)
    read_words(words)  # compile
    return lambda: read_words(words)


def best_seconds(run, min_calls=5, budget_s=1.0, clock=time.perf_counter):
    """Fastest of at least ``min_calls`` calls of ``run`` (more until ``budget_s`` is spent)."""
    times, start = [], clock()
    while len(times) < min_calls or clock() - start < budget_s:
        t0 = clock()
        run()
        times.append(clock() - t0)
    return min(times)


class Read:
    params = [list(SIZES_MB)]
    param_names = ["size_mb"]
    unit = "GB/s"

    def setup(self, size_mb):
        common.check_shape(size_mb)   # the sizes of the profile
        rows = common.epoch_rows(size_mb)
        buffer = np.random.default_rng(0).integers(-128, 128, (rows, common.EPOCH_D),
                                                   dtype=np.int8)
        self.nbytes = buffer.nbytes
        self.run = read_kernel(buffer)

    def track_read_gbps(self, size_mb):
        return self.nbytes / best_seconds(self.run) / 1e9


class Bandwidth:
    params = [list(SOLVER_LABELS), list(SIZES_MB)]
    param_names = ["solver", "size_mb"]
    unit = "GB/s"
    setup_cache = common.epoch_problem_files
    timeout = 900

    def setup(self, paths, solver, size_mb):
        prob = common.load_epoch_problem(paths, size_mb)
        self.solver = common.build_solver(prob, *SOLVER_LABELS[solver], common.epoch_step(prob))
        if not hasattr(self.solver, "bytes_per_epoch"):
            raise NotImplementedError("make_solver objects have no bytes_per_epoch in this commit")
        self.read = read_kernel(self.solver.data)

    def track_epoch_gbps(self, paths, solver, size_mb):
        return self.solver.bytes_per_epoch / best_seconds(self.solver.run_epoch, 3, 2.0) / 1e9

    def track_fraction_of_read(self, paths, solver, size_mb):
        # (bytes_epoch / t_epoch) / (bytes_data / t_read)
        read_over_epoch = interleaved_ratio(self.read, self.solver.run_epoch, budget_s=2.0)
        return read_over_epoch * self.solver.bytes_per_epoch / self.solver.data.nbytes
