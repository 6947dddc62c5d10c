"""Seconds per epoch of every solver x precision x problem size x row width.

Problem: synthetic least squares with d features (every width of WIDTHS at WIDTH_SIZES_MB, EPOCH_D
= 1024 at the other sizes) and size_mb MiB of float32 data (n = size_mb * 2**20 / (4 d) rows; 8-bit quantized data, or for a float-format precision such as "bf16" or
"fp8-e4m3" the data in that format: ``common.epoch_data_bits``), step 0.25 / L_max,
uniform sampling, seed 0 (see ``common``). One timed call is exactly one ``run_epoch()``: a full
gradient for the SVRG types plus n inner steps. The solver is built, compiled and run for one
epoch before the first timed call and kept for the process, so later calls continue its run.
Solver/precision pairs the API does not define (svrg at 8 bits, halp in fp32, ...) are skipped,
and so are the float formats on commits before them and at any width but EPOCH_D, and the sizes
and widths the profile does not measure (``common.check_shape``).
"""

from . import common
from .common import PRECISIONS, SIZES_MB, SOLVERS, WIDTHS

_CACHE = {}


class EpochTime:
    params = [list(SOLVERS), list(PRECISIONS), list(SIZES_MB), list(WIDTHS)]
    param_names = ["solver", "precision", "size_mb", "d"]
    setup_cache = common.format_problem_files
    timeout = 900
    warmup_time = 0.0          # build_solver already ran one epoch
    repeat = (2, 5, 3.0)       # per round: 2..5 samples, ~3 s (two rounds: 4..10 samples)
    rounds = 2

    def setup(self, paths, solver, precision, size_mb, d):
        common.check_combo(solver, precision)
        common.check_shape(size_mb, d, precision)
        # asv_runner re-runs setup before every timed call: keep the warmed solver.
        key = (solver, precision, size_mb, d)
        if key not in _CACHE:
            _CACHE.clear()
            prob = common.load_epoch_problem(paths, size_mb, precision, d)
            _CACHE[key] = common.build_solver(prob, solver, precision, common.epoch_step(prob))
        self.solver = _CACHE[key]

    def time_epoch(self, paths, solver, precision, size_mb, d):
        self.solver.run_epoch()
