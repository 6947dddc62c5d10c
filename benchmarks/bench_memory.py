"""Peak memory (maximum resident set size of the benchmark process) of a solve at the largest
problem size, per precision: SVRG in fp64 / fp32, HALP at 16 / 8 / 4 bits and in each float
format (bf16, fp16, fp8-e4m3, fp8-e5m2; skipped on commits before them).

The process loads the 400 MiB problem (float64 X of 800 MB, its 8-bit copy Xq, or for a float
format its copy in that format, and the targets, unpickled from the shared setup_cache: no
generation temporaries), then runs
``solve(..., epochs=2)``, which includes the per-epoch evaluation in float64. So the common floor
is the problem itself plus the interpreter; differences between precisions are what the solver
allocates (the fp32 copy of X, per-sample caches, ...).
"""

from . import common
from .common import MEMORY_SIZE_MB, PRECISIONS

MEMORY_EPOCHS = 2


class Memory:
    params = [list(PRECISIONS)]
    param_names = ["precision"]
    setup_cache = common.format_problem_files
    timeout = 900

    def setup(self, paths, precision):
        common.check_combo(common.memory_solver(precision), precision)
        self.prob = common.load_epoch_problem(paths, MEMORY_SIZE_MB, precision)
        self.step = common.epoch_step(self.prob)

    def peakmem_solve(self, paths, precision):
        common.api().solve(self.prob, common.memory_solver(precision), precision=precision,
                           step=self.step, epochs=MEMORY_EPOCHS, seed=0)
