"""A toy solver for tests/halp_core/test_registry.py: plain full-gradient descent, w <- w - alpha grad f(w)
once per epoch, in float64 or float32. Adding a solver to halp_core is this module plus the one
registry entry SPEC (registered by the test, not at import)."""

import numpy as np

from halp_core import registry, solvers


class ToyGradientDescent(solvers.Solver):
    """``toy-gd``: one full-gradient step per epoch (1 data pass), iterate in ``dtype``."""

    def __init__(self, problem, dtype, step, sampling, seed, steps_per_epoch, threads):
        super().__init__(problem, "toy-gd", dtype.name.replace("float", "fp"), step, sampling,
                         seed, steps_per_epoch, threads)
        self.dtype = dtype
        self.w = np.zeros(problem.weight_shape)  # float64 values of the dtype iterate

    @property
    def data(self):
        """The problem's data in the solver's dtype (what bytes_per_epoch counts)."""
        return self.problem.X.astype(self.dtype)

    def run_epoch(self):
        """One step along the full gradient (computed in float64, the iterate rounded to dtype);
        a new array each epoch, so recorded iterates are never overwritten."""
        moved = self.w - self.step * self.problem.grad(self.w)
        self.w = moved.astype(self.dtype).astype(np.float64)
        self.saturations.append(0)
        self.epochs_done += 1


SPEC = registry.SolverSpec("toy-gd", "Toy GD", "full", registry.FLOAT_PRECISIONS, None, False,
                           (), ToyGradientDescent)
