"""What every solver shares: the ``Solver`` base class (validation of the common options, sample
order, Hogwild! threads, the full-gradient pass, the learning-rate schedule, ``check()``).

A solver family subclasses ``Solver`` with ``run_epoch()`` (one epoch of solver work, appending
its saturation count, nothing else: what the benchmarks time) and its iterate (``iterate``, or a
``w`` of its own),
and registers itself with a ``registry.SolverSpec`` naming the class; ``make_solver``
(halp_core.solvers.api) builds it through that entry. Per-solver failure advice and an epoch
exempt from the clamping rule come from the class too (``advice``, ``may_clamp``), which the
divergence rules (halp_core.solvers.divergence) read without testing any name.
"""

from concurrent.futures import ThreadPoolExecutor

import time
import warnings

import numba
import numpy as np

from .. import fixed_point, registry, schedules, trajectory, validate
from ..losses import LEAST_SQUARES, LOGISTIC
from ..problems import Problem
from . import divergence
from .full_gradient import full_grad_linear, full_grad_multinomial

SAMPLING = ("uniform", "permutation")
"""Sample orders of an epoch: with replacement, or one shuffle per epoch."""
_KIND_CODE = {"least_squares": LEAST_SQUARES, "logistic": LOGISTIC}


def draw_indices(rng, n, steps, sampling):
    """Sample order of one epoch: ``steps`` indices in [0, n) (int64 array) from the numpy
    Generator ``rng``, with replacement ("uniform") or from consecutive shuffles
    ("permutation")."""
    if sampling == "uniform":
        return rng.integers(0, n, size=steps, dtype=np.int64)
    reps = -(-steps // n)
    return np.concatenate([rng.permutation(n) for _ in range(reps)])[:steps].astype(np.int64)


class Solver:
    """Base class of the registered solvers.

    Arguments (every option goes to the constructor; ``make_solver`` checks and passes them):
    problem: a Problem; name: the registry entry's name (the instance reads its entry as
    ``spec``); precision: as ``check_precision`` returns it; step: alpha > 0; sampling: one of
    SAMPLING; seed: int in [0, 2^64); steps_per_epoch: inner steps T (None: n); threads: cores
    (Hogwild!, 1..NUMBA_NUM_THREADS); schedule: a ``schedules.Schedule`` or None (constant step).

    State: problem, name, spec, precision, step, sampling, seed, steps_per_epoch, threads,
    schedule, ``variance_reduced`` (the entry's), ``start`` (w_0 = 0: every solver starts at the
    origin, the divergence rule's reference), the epoch counter ``epochs_done``, the saturation
    log ``saturations``, ``gradient_seconds`` (the wall-clock seconds of each epoch's
    full-gradient pass, the anchor's: variance-reduced solvers only, empty for the others) and
    what ``check()`` found (``diverged_epoch``, ``divergence``,
    ``no_progress``, ``failed``, as in a Result). Subclasses add ``run_epoch()`` and keep their
    iterate in ``iterate`` (a float array of the problem's weight shape) or override ``w``.
    """

    def __init__(self, problem, name, precision, *, step, sampling, seed, steps_per_epoch,
                 threads, schedule=None):
        validate.instance(problem, Problem, "problem")
        validate.choice(sampling, "sampling", SAMPLING)
        if schedule is not None:
            validate.instance(schedule, schedules.Schedule, "schedule")
        self.problem = problem
        self.name = name
        self.spec = registry.spec(name)
        self.variance_reduced = self.spec.variance_reduced
        self.precision = precision
        self.step = validate.real(step, "step", positive=True)
        self.sampling = sampling
        self.seed = fixed_point.check_seed(seed)
        self.threads = validate.integer(threads, "threads", 1)
        if self.threads > numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads must be at most {numba.config.NUMBA_NUM_THREADS} "
                             f"(NUMBA_NUM_THREADS, the cores Numba uses), got {self.threads}")
        self.steps_per_epoch = problem.n if steps_per_epoch is None else validate.integer(
            steps_per_epoch, "steps_per_epoch", 1)
        validate.memory(8 * self.steps_per_epoch, f"steps_per_epoch={self.steps_per_epoch} "
                        f"(its sample indices)")
        self.schedule = schedule
        self.multinomial = problem.kind == "multinomial"
        self.labels = problem.labels if self.multinomial else None
        self.kind = _KIND_CODE.get(problem.kind, -1)
        self.start = np.zeros(problem.weight_shape)
        self.epochs_done = 0
        self.saturations = []
        self.gradient_seconds = []
        self._rng = np.random.default_rng(self.seed)
        self._pool = None   # Hogwild! threads, started on first use (threads > 1)
        self.diverged_epoch, self.divergence, self.no_progress = None, "", ""   # check()
        self._checked = []           # check(): the history rows it evaluated, the start's first
        self._w_checked = self.start  # check(): the last iterate it saw

    # ---- what the divergence rules ask of a solver (halp_core.solvers.divergence) ----------

    def advice(self, cause):
        """The likely fix (str) of a failure of ``cause``: a divergence ("overflow",
        "float32", "growth", "clamped") or no progress ("stuck"). Families with more knobs
        override it."""
        if cause == "float32":
            return "use precision='fp64' or rescale the data"
        return "use a larger step" if cause == "stuck" else "use a smaller step"

    def may_clamp(self, epoch):
        """Whether epoch ``epoch`` (1-based) may clamp most of its updates without diverging
        (the clamping rule skips it). No epoch, unless a family says otherwise."""
        return False

    def overflows_float32(self, w):
        """Whether a run's non-finite iterate comes from float32's range: its data are float32
        and at w (float64, its last finite iterate) the float64 gradient is finite but the
        float32 full-gradient pass is not."""
        if self.data.dtype != np.float32:
            return False
        with np.errstate(over="ignore", invalid="ignore"):
            if not np.isfinite(self.problem.grad(w)).all():
                return False
            a, r = self.per_sample_arrays(np.float32)
            g = np.zeros(self.problem.weight_shape, dtype=np.float32)
            self.full_gradient(self.data, 1.0, w.astype(np.float32), a, r, g)
        return not np.isfinite(g).all()

    @property
    def failed(self):
        """Whether ``check()`` found the run diverged or making no progress."""
        return self.diverged_epoch is not None or bool(self.no_progress)

    def check(self):
        """Apply solve()'s divergence and no-progress rules to this run so far, for callers of
        ``run_epoch()`` (which evaluates nothing). Evaluates the current iterate with the
        problem's float64 objective (a data pass, outside any timing; on the first call the
        start's too), applies the divergence rule to the latest epoch and the no-progress rule to
        the epochs run so far. The first failure raises one RuntimeWarning and is kept in
        ``diverged_epoch`` / ``divergence`` or ``no_progress``. Returns the failure's text, ""
        while the run is healthy. Call it after every epoch (divergence is judged per epoch)."""
        if not self._checked:
            self._checked.append(self._evaluate(self.start))
        if self.failed or len(self._checked) > self.epochs_done:
            return self.divergence or self.no_progress
        w = self.w
        row = self._evaluate(w)
        self._checked.append(row)
        self.divergence = divergence.diverged(self, self.epochs_done, w, row["loss"],
                                              self._checked[0]["loss"], self._w_checked) or ""
        self._w_checked = w
        if self.divergence:
            self.diverged_epoch = self.epochs_done
        else:
            self.no_progress = divergence.no_progress(self, self._checked) or ""
        if self.failed:
            warnings.warn(self.divergence or self.no_progress, RuntimeWarning, stacklevel=2)
        return self.divergence or self.no_progress

    def _evaluate(self, w):
        """The history row of iterate w: loss, subopt, grad_norm, dist (trajectory.evaluate)."""
        return dict(zip(trajectory.HISTORY_COLUMNS[3:], trajectory.evaluate(self.problem, w)))

    # ---- what every epoch uses ------------------------------------------------------------

    @property
    def w(self):
        """Current iterate, a float64 copy of the problem's weight shape: by default the float
        array ``iterate`` a family keeps (the low-precision ones compute it from their grid)."""
        return self.iterate.astype(np.float64)

    @property
    def alpha(self):
        """The step of the current epoch: ``step`` times the schedule's factor for epoch
        ``epochs_done`` (``step`` itself without a schedule)."""
        if self.schedule is None:
            return self.step
        return self.step * self.schedule.factor(self.epochs_done)

    @property
    def passes_per_epoch(self):
        """Data passes of one epoch: T/n inner steps, plus one full gradient for SVRG types."""
        return self.steps_per_epoch / self.problem.n + (1 if self.variance_reduced else 0)

    @property
    def data(self):
        """The data matrix the epochs read: (n, d) float64/float32 for sgd/svrg, the int8/int16
        quantized copy for the low-precision solvers."""
        return self.problem.Xq

    @property
    def bytes_per_epoch(self):
        """Bytes of data one epoch streams from memory: ``passes_per_epoch`` times the size of
        ``data`` (each sampled row is loaded once; its second use in the update hits the cache)."""
        return self.passes_per_epoch * self.data.nbytes

    def run_steps(self, run, idx):
        """Run the inner steps ``idx`` with ``run(chunk, first)`` (first: the chunk's offset in
        idx; returns a count) and return the summed counts. One thread: one call. ``threads`` > 1:
        Hogwild! (Recht et al. 2011): idx is cut into ``threads`` contiguous chunks run at once on
        as many threads, every one updating the shared iterate without locks (the epoch kernels
        release the GIL), so the result is not bit-reproducible."""
        if self.threads == 1 or idx.shape[0] < self.threads:
            return run(idx, 0)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="halp-hogwild")
        cuts = np.linspace(0, idx.shape[0], self.threads + 1).astype(np.int64)
        chunks = [self._pool.submit(run, idx[a:b], int(a)) for a, b in zip(cuts[:-1], cuts[1:])]
        return sum(chunk.result() for chunk in chunks)

    def timed_gradient(self, run):
        """Call ``run()``, this epoch's full-gradient pass, and append its wall-clock seconds to
        ``gradient_seconds``; returns what ``run()`` returns."""
        t0 = time.perf_counter()
        out = run()
        self.gradient_seconds.append(time.perf_counter() - t0)
        return out

    def sample_order(self):
        """The sample order of the next epoch (int64, (steps_per_epoch,)), from the run's
        generator."""
        return draw_indices(self._rng, self.problem.n, self.steps_per_epoch, self.sampling)

    def per_sample_arrays(self, dtype=np.float64):
        """Zeroed cache arrays (a, r) for per-sample margins or scores and loss derivatives,
        (n,) or (n, C) of ``dtype``."""
        shape = (self.problem.n, self.problem.n_classes) if self.multinomial else (self.problem.n,)
        return np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=dtype)

    def full_gradient(self, X, x_scale, w, a, r, g):
        """One full-gradient pass at w over X (any dtype) on ``threads`` threads; fills a, r, g
        in place (halp_core.solvers.full_gradient)."""
        p = self.problem
        if self.multinomial:
            full_grad_multinomial(X, x_scale, self.labels, w, p.lam, a, r, g,
                                  blocks=self.threads, x_format=p.x_format)
        else:
            full_grad_linear(X, x_scale, p.y, w, p.lam, self.kind, a, r, g,
                             blocks=self.threads, x_format=p.x_format)
