"""The public door to the solvers: ``check_precision``, ``make_solver`` (a ready-to-run solver
object) and ``solve`` (a whole trajectory, checked by the divergence and no-progress rules of
halp_core.solvers.divergence). Each solver is built through its registry entry
(halp_core.registry: ``SolverSpec.solver``, the class).
"""

import numpy as np

from .. import fixed_point, registry, schedules, trajectory, validate
from ..problems import Problem
from ..trajectory import Result
from . import divergence
from .full_precision import DTYPES

SOLVERS = registry.names()
"""The built-in solvers (the families registered when halp_core.solvers was imported);
``registry.names()`` lists every registered one."""


def check_precision(solver, precision):
    """Validate a (solver, precision) pair against the registry; return a numpy float dtype (full
    precision), an int number of bits (fixed point) or a registered float format's name."""
    entry = registry.spec(solver)
    if entry.family == "full":
        if isinstance(precision, str) and precision in entry.precisions:
            return np.dtype(DTYPES[precision])
        low = [s.name for s in registry.SPECS.values() if s.baseline == solver]
        raise ValueError(f"{solver} runs in {' or '.join(map(repr, entry.precisions))}, got "
                         f"precision={precision!r}" + (f" (for b bits use {' or '.join(low)})"
                                                       if low else ""))
    if isinstance(precision, str):
        if precision in registry.FORMATS:
            return precision
        raise ValueError(f"{solver} is a low-precision solver: precision must be an int number "
                         f"of bits ({fixed_point.MIN_BITS}..{fixed_point.MAX_BITS}) or a float "
                         f"format ({', '.join(map(repr, registry.FORMATS))}), got {precision!r}")
    return fixed_point.check_bits(precision)


def make_solver(problem, solver, *, precision, step, mu=None, scale=None, sampling="uniform",
                seed=0, steps_per_epoch=None, threads=1, schedule=None, epochs=None):
    """Build a ready-to-run solver (validated, allocated and compiled).

    problem: a Problem (halp_core.datasets); solver: one of SOLVERS; precision: "fp64"/"fp32" for
    sgd and svrg, an int number of bits (2..16) or a float format ("bf16", "fp16", "fp8-e4m3",
    "fp8-e5m2": the iterate stored in that format, rounded stochastically) for lp-sgd, lp-svrg
    and halp; step: absolute step size alpha > 0 (epoch e runs at alpha times the schedule's
    factor); schedule: a learning-rate policy, anything ``schedules.make_schedule`` takes (None:
    constant), over ``epochs`` epochs (needed for a schedule unless it is a Schedule already); mu: halp's bit-centering constant, "auto" (the default, also what None means:
    chosen every epoch, see halp_core.bit_centering) or a float > 0; scale: fixed grid scale of
    lp-sgd / lp-svrg (default 2 max|w*| / (2^(b-1) - 1)); sampling: "uniform" (with replacement)
    or "permutation" (one shuffle per epoch); seed: int for sampling and stochastic rounding;
    steps_per_epoch: inner steps T per epoch (default n); threads: cores used
    (1..NUMBA_NUM_THREADS). The full-gradient pass is split into that many row blocks (results
    depend on it only through the summation order) and the inner steps run Hogwild!, lock-free on
    that many threads sharing the iterate (every solver alike, so comparisons stay fair): with
    threads > 1 a run is not bit-reproducible.
    The object's ``run_epoch()`` does one epoch; ``w`` is the current iterate (float64);
    ``check()`` applies solve()'s divergence and no-progress rules (a RuntimeWarning, and
    ``diverged_epoch`` / ``divergence`` / ``no_progress`` / ``failed`` on the object).
    """
    validate.instance(problem, Problem, "problem")
    kind = check_precision(solver, precision)
    entry = registry.spec(solver)
    options = {name: value for name, value in (("mu", mu), ("scale", scale)) if value is not None}
    for name in options:
        if name not in entry.options:
            raise ValueError(f"{solver} takes no {name} ({registry.OPTIONS[name]})")
    if schedule is not None and epochs is None:
        if not isinstance(schedule, schedules.Schedule):
            raise ValueError("a schedule needs epochs= (the run's length: cosine and the "
                             "factor checks depend on it), or a Schedule from make_schedule")
        epochs = schedule.epochs
    plan = None if schedule is None else schedules.make_schedule(schedule, epochs)
    return entry.solver(problem, solver, kind, step=step, sampling=sampling, seed=seed,
                        steps_per_epoch=steps_per_epoch, threads=threads, schedule=plan, **options)


def solve(problem, solver, *, precision, step, epochs, mu=None, scale=None, sampling="uniform",
          seed=0, steps_per_epoch=None, threads=1, schedule=None, callback=None):
    """Run ``solver`` for ``epochs`` epochs and record its trajectory.

    Arguments as in :func:`make_solver` (a ``schedule`` spans the ``epochs`` of the run), plus
    epochs (int >= 1) and an optional
    ``callback(epoch, row)`` called after each epoch with that epoch's history row (a dict), e.g.
    for progress display. Returns a :class:`Result`. ``history`` has one row for the start and one
    per epoch: epoch, passes (data passes so far), seconds (solver time so far, evaluation
    excluded), loss f(w), subopt f(w) - f*, grad_norm ||grad f(w)||, dist ||w - w*||.

    Divergence (every solver and precision): an epoch diverged if its iterate or loss is not
    finite, if its loss exceeds GROWTH (10) times the start's f(w_0) (VR_GROWTH, 1.2, for the
    variance-reduced svrg, lp-svrg and halp, which never rise above the start), or if more than
    MOSTLY_CLAMPED (half) of its coordinate updates saturated (HALP's first mu="auto" epoch
    excepted). The first such epoch raises one RuntimeWarning naming the solver, precision,
    epoch, what was seen and the likely fix (a float32 overflow, float32 gradient non-finite where
    float64's is finite, is told apart from a too-large step), and is recorded in
    ``Result.diverged_epoch`` / ``Result.divergence`` and ``history.attrs`` under the same names.
    A non-finite run stops there; a finite one runs on.

    No progress (every solver and precision): a run that did not diverge and, over at least one
    data pass of inner steps, kept f - f*, ||grad f|| and ||w - w*|| within STUCK (1%) of their
    start values at every epoch (a start already at float64's floor of f* excepted) raises one
    RuntimeWarning naming the solver, precision, what was seen and the likely fix, recorded in
    ``Result.no_progress`` and ``history.attrs["no_progress"]``. ``Result.failed``: either.
    """
    epochs = validate.integer(epochs, "epochs", 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable (epoch, row) or None, got "
                        f"{type(callback).__name__}")
    run = make_solver(problem, solver, precision=precision, step=step, mu=mu, scale=scale,
                      sampling=sampling, seed=seed, steps_per_epoch=steps_per_epoch,
                      threads=threads, schedule=schedule, epochs=epochs)
    settings = dict(problem=problem.name, solver=solver, precision=run.precision, step=run.step,
                    schedule=str(run.schedule) if run.schedule is not None else "constant",
                    sampling=sampling, seed=run.seed, steps_per_epoch=run.steps_per_epoch,
                    threads=run.threads, mu=getattr(run, "mu", None),
                    scale=run.scale if "scale" in registry.spec(solver).options else None)

    def check(epoch, w, row, first, w_prev):
        return divergence.diverged(run, epoch, w, row["loss"], first["loss"], w_prev)

    points = trajectory.timed_epochs(run.run_epoch, lambda: run.w, epochs)
    record = trajectory.record(points, lambda w: trajectory.evaluate(problem, w), run.w,
                               passes_per_epoch=run.passes_per_epoch, settings=settings,
                               check=check, progress=lambda rows: divergence.no_progress(run, rows),
                               callback=callback)
    return Result(w=run.w, history=record.history,
                  saturations=np.asarray(run.saturations, dtype=np.int64), settings=settings,
                  diverged_epoch=record.diverged_epoch, divergence=record.divergence,
                  no_progress=record.no_progress)
