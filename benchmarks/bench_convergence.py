"""Convergence of every solver x precision on three problems, deterministically.

Problems (``common.CONV_SPECS``; all with 8-bit data shared by every solver, uniform sampling,
seed 0, T = n inner steps per epoch, HALP with the fixed mu = lam on the three problems below,
passed explicitly (the library's default is mu="auto" since issue 11; this suite keeps mu = lam so
that its series stay comparable across commits) and with the library's default on a user's file
problem (``common.conv_mu``), lp-sgd/lp-svrg on their default grid; the low-precision solvers
at fixed-point bits and with a float-format iterate (bf16, fp16, fp8-e4m3, fp8-e5m2) on the same
8-bit data, so every curve of a problem is measured against one f*):
  lsq       synthetic least squares, 4096 x 32, Hessian spectrum over 3 decades, lam 0.05;
  logistic  synthetic binary logistic, 4096 x 32, lam 0.1;
  digits    scikit-learn digits, multinomial (1797 x 64, 10 classes), lam 0.01;
  then the user's file problem, under its name, where HALP_BENCH_FILE declares one
            (``common.FILE_PROBLEMS``: ``./run bench --file``), its lam the user's.
Step for every solver: 0.5 / L_max of the problem (L_max = c * max ||x_i||^2 + lam).
lam is large enough that mu = lam is close to the true strong convexity, which HALP's bit
centering needs at 8 bits; at 4 bits the grid is too coarse and HALP diverges (reported as is;
``solve`` warns, and the warning is silenced here because divergence is data).

``setup_cache`` runs every trajectory once (``solve`` for 32 epochs); the ``track_`` methods
only read it:
  track_subopt            f(w_k) - f* after k epochs (float64, shared evaluation; may be 0
                          or a tiny negative number at the limit of float64);
  track_seconds           solver seconds up to epoch k (evaluation excluded);
  track_epochs_to_target  first epoch k <= 32 with f(w_k) - f* <= target; 1e6 if never;
  track_time_to_target    solver seconds up to that epoch (time to accuracy); +inf if never.
A run that stops early (non-finite iterate) reads inf for the epochs it did not reach.
"""

import math
import warnings

from . import common
from .common import (CONV_EPOCHS, CONV_MAX_EPOCH, CONV_PROBLEMS, CONV_TARGETS, NEVER,
                     PRECISIONS, SOLVERS)


def _trajectories(_self=None):
    """{(problem, solver, precision): {"subopt": [...], "seconds": [...]}} for epochs 0..32."""
    out = {}
    for problem in CONV_PROBLEMS:
        prob = common.conv_problem(problem)
        prob.f_star  # noqa: B018 (reference optimum, once per problem)
        step = common.conv_step(problem)
        for solver in SOLVERS:
            for precision in PRECISIONS:
                try:
                    common.check_combo(solver, precision)
                except NotImplementedError:
                    continue
                mu = common.conv_mu(problem, solver, prob)   # explicit: see the docstring
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # divergence is data here
                    res = common.api().solve(prob, solver, precision=precision, step=step,
                                             epochs=CONV_MAX_EPOCH, sampling=common.CONV_SAMPLING,
                                             seed=common.CONV_SEED, mu=mu)
                h = res.history
                out[(problem, solver, precision)] = {
                    "subopt": [float(v) for v in h["subopt"]],
                    "seconds": [float(v) for v in h["seconds"]],
                }
    return out


def _at(values, epoch):
    """Value at ``epoch`` (row ``epoch`` of the history), inf if the run stopped before."""
    if epoch < len(values) and math.isfinite(values[epoch]):
        return values[epoch]
    return math.inf


class Convergence:
    params = [list(CONV_PROBLEMS), list(SOLVERS), list(PRECISIONS), list(CONV_EPOCHS)]
    param_names = ["problem", "solver", "precision", "epoch"]
    setup_cache = _trajectories
    timeout = common.FILE_TIMEOUT_S if common.FILE_PROBLEMS else 900   # a file's size is the user's

    def setup(self, trajectories, problem, solver, precision, _epoch_or_target):
        common.check_combo(solver, precision)
        self.run = trajectories[(problem, solver, precision)]

    def track_subopt(self, trajectories, problem, solver, precision, epoch):
        return _at(self.run["subopt"], epoch)

    track_subopt.unit = "f - f*"

    def track_seconds(self, trajectories, problem, solver, precision, epoch):
        return _at(self.run["seconds"], epoch)

    track_seconds.unit = "seconds"

    def track_epochs_to_target(self, trajectories, problem, solver, precision, target):
        goal = float(target)
        for epoch in range(1, CONV_MAX_EPOCH + 1):
            value = _at(self.run["subopt"], epoch)
            if math.isfinite(value) and value <= goal:
                return float(epoch)
        return NEVER

    # Its own grid (asv reads params from the method before the class).
    track_epochs_to_target.params = [list(CONV_PROBLEMS), list(SOLVERS), list(PRECISIONS),
                                     list(CONV_TARGETS)]
    track_epochs_to_target.param_names = ["problem", "solver", "precision", "target"]
    track_epochs_to_target.unit = "epochs"

    def track_time_to_target(self, trajectories, problem, solver, precision, target):
        """Solver seconds (evaluation excluded) up to the first epoch with f - f* <= target: the
        time to accuracy; +inf (a target not reached) when no epoch up to CONV_MAX_EPOCH reaches it."""
        epoch = self.track_epochs_to_target(trajectories, problem, solver, precision, target)
        return math.inf if epoch == NEVER else _at(self.run["seconds"], int(epoch))

    track_time_to_target.params = track_epochs_to_target.params
    track_time_to_target.param_names = track_epochs_to_target.param_names
    track_time_to_target.unit = "seconds"
