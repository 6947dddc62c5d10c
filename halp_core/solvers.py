"""The five solvers (docs/design.md section 4) behind one interface: validate once, allocate once,
compile before timing, then run epochs of Numba kernels.

``make_solver`` returns an object whose ``run_epoch()`` does one epoch of solver work and nothing
else (what benchmarks time); ``solve`` runs whole trajectories through ``halp_core.trajectory``
(each epoch evaluated outside the timed region with the problem's shared float64 objective) and
checks them for divergence (one RuntimeWarning and ``Result.diverged_epoch``; the rule is
``_divergence``'s, stated in ``solve``).

Where the HALP inner loop lives: ``halp_core.epochs._lp_epoch_linear`` (and ``_multinomial``);
the bit centering (s = ||g~|| / (mu (2^(b-1) - 1)), offset z = 0) is ``HalpSolver._begin_epoch``
with ``halp_core.bit_centering.grid_scale``.
"""

from concurrent.futures import ThreadPoolExecutor

import warnings

import numba
import numpy as np

from . import (_validate, bit_centering, epochs, fixed_point, float_formats, registry,
               schedules, trajectory)
from .losses import LEAST_SQUARES, LOGISTIC
from .problems import Problem
from .registry import FLOAT_PRECISIONS, LOW, SolverSpec
from .trajectory import Result

FULL_PRECISION = {"fp64": np.float64, "fp32": np.float32}
SAMPLING = ("uniform", "permutation")

# Per-step saturation counts of the float32 LP kernels are exact up to 2**24.
_MAX_F32_COORDS = 2**24
# The low-precision solvers' full gradient switches from float32 to float64 when ||g|| falls
# below this many times the float32 pass's error (LowPrecisionSolver._full_grad).
FLOAT32_MARGIN = 1e3
# float32's unit roundoff, 2^-24: the relative rounding error of one float32 operation.
FLOAT32_ROUNDOFF = float(np.finfo(np.float32).eps) / 2

_KIND_CODE = {"least_squares": LEAST_SQUARES, "logistic": LOGISTIC}


def _positive(value, name):
    """``value`` as a finite float > 0 (see halp_core._validate.real)."""
    return _validate.real(value, name, positive=True)


def _whole(value, name, minimum):
    """``value`` as an int >= minimum (see halp_core._validate.integer)."""
    return _validate.integer(value, name, minimum)


def check_precision(solver, precision):
    """Validate a (solver, precision) pair against the registry; return a numpy float dtype (full
    precision), an int number of bits (fixed point) or a registered float format's name."""
    entry = registry.spec(solver)
    if entry.family == "full":
        if isinstance(precision, str) and precision in entry.precisions:
            return np.dtype(FULL_PRECISION[precision])
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


def _draw_indices(rng, n, steps, sampling):
    """Sample order of one epoch: ``steps`` indices in [0, n) (int64)."""
    if sampling == "uniform":
        return rng.integers(0, n, size=steps, dtype=np.int64)
    reps = -(-steps // n)
    return np.concatenate([rng.permutation(n) for _ in range(reps)])[:steps].astype(np.int64)


class Solver:
    """Base class of the registered solvers. Common state: problem, name, precision, step,
    sampling, seed, steps per epoch, threads, ``variance_reduced`` (the registry entry's), the
    epoch counter, the saturation log and what ``check()`` found (``diverged_epoch``,
    ``divergence``, ``no_progress``, ``failed``, as in a Result); subclasses add ``run_epoch()``
    (one epoch, appending its saturation count) and ``w`` (the current iterate, float64 of the
    problem's weight shape)."""

    def __init__(self, problem, name, precision, step, sampling, seed, steps_per_epoch, threads):
        _validate.instance(problem, Problem, "problem")
        _validate.choice(sampling, "sampling", SAMPLING)
        self.problem = problem
        self.name = name
        self.variance_reduced = registry.spec(name).variance_reduced
        self.precision = precision
        self.step = _positive(step, "step")
        self.sampling = sampling
        self.seed = fixed_point.check_seed(seed)
        self.threads = _whole(threads, "threads", 1)
        if self.threads > numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads must be at most {numba.config.NUMBA_NUM_THREADS} "
                             f"(NUMBA_NUM_THREADS, the cores Numba uses), got {self.threads}")
        self.steps_per_epoch = problem.n if steps_per_epoch is None else _whole(
            steps_per_epoch, "steps_per_epoch", 1)
        _validate.memory(8 * self.steps_per_epoch, f"steps_per_epoch={self.steps_per_epoch} "
                         f"(its sample indices)")
        self.multinomial = problem.kind == "multinomial"
        self.labels = problem.labels if self.multinomial else None
        self.kind = _KIND_CODE.get(problem.kind, -1)
        self.epochs_done = 0
        self.saturations = []
        self._rng = np.random.default_rng(self.seed)
        self._pool = None   # Hogwild! threads, started on first use (threads > 1)
        self.schedule = None   # a schedules.Schedule (make_solver sets it), None: constant step
        self.diverged_epoch, self.divergence, self.no_progress = None, "", ""   # check()
        self._checked = []       # check(): the history rows it evaluated, the start's first
        self._w_checked = None   # check(): the last iterate it saw (make_solver sets the start)

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
            self._checked.append(self._evaluate(self._w_checked))
        if self.failed or len(self._checked) > self.epochs_done:
            return self.divergence or self.no_progress
        w = self.w
        row = self._evaluate(w)
        self._checked.append(row)
        first = self._checked[0]
        self.divergence = _divergence(self, self.epochs_done, w, row["loss"], first["loss"],
                                      self._w_checked) or ""
        self._w_checked = w
        if self.divergence:
            self.diverged_epoch = self.epochs_done
        else:
            self.no_progress = _no_progress(self, self._checked) or ""
        if self.failed:
            warnings.warn(self.divergence or self.no_progress, RuntimeWarning, stacklevel=2)
        return self.divergence or self.no_progress

    def _evaluate(self, w):
        """The history row of iterate w: loss, subopt, grad_norm, dist (trajectory.evaluate)."""
        return dict(zip(trajectory.HISTORY_COLUMNS[3:], trajectory.evaluate(self.problem, w)))

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

    def _run_steps(self, run, idx):
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

    def _next_indices(self):
        return _draw_indices(self._rng, self.problem.n, self.steps_per_epoch, self.sampling)

    def _per_sample_arrays(self, dtype=np.float64):
        """Zeroed cache arrays for per-sample margins/scores (a) and derivatives (r)."""
        shape = (self.problem.n, self.problem.n_classes) if self.multinomial else (self.problem.n,)
        return np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=dtype)

    def _full_grad(self, X, x_scale, w, a, r, g):
        """One full-gradient pass at w over X (any dtype) on ``threads`` threads; fills a, r, g
        in place."""
        p = self.problem
        if self.multinomial:
            epochs._full_grad_multinomial(X, x_scale, self.labels, w, p.lam, a, r, g,
                                         blocks=self.threads, x_format=p.x_format)
        else:
            epochs._full_grad_linear(X, x_scale, p.y, w, p.lam, self.kind, a, r, g,
                                    blocks=self.threads, x_format=p.x_format)


class FullPrecisionSolver(Solver):
    """``sgd`` and ``svrg`` in float64 or float32 (data, iterate and arithmetic in that dtype)."""

    def __init__(self, problem, name, dtype, step, sampling, seed, steps_per_epoch, threads):
        super().__init__(problem, name, dtype.name.replace("float", "fp"), step, sampling, seed,
                         steps_per_epoch, threads)
        self.X = problem.X if dtype == np.float64 else problem.X32
        self._w = np.zeros(problem.weight_shape, dtype=dtype)
        self._v = np.zeros(problem.weight_shape, dtype=dtype)
        self._g = np.zeros(problem.weight_shape, dtype=dtype)
        self._a, self._r = self._per_sample_arrays(dtype)
        self._inner(np.zeros(0, dtype=np.int64))  # compile before any timing
        if self.variance_reduced:
            self._full_grad(self.X[:1], 1.0, self._w, self._a[:1].copy(), self._r[:1].copy(),
                            self._g.copy())

    @property
    def data(self):
        return self.X

    @property
    def w(self):
        """Current iterate, float64 copy of ``weight_shape``."""
        return self._w.astype(np.float64)

    def _inner(self, idx):
        p = self.problem

        def run(chunk, first):
            if self.multinomial:
                epochs._fp_epoch_multinomial(self.X, self.labels, self._w, self._r, self._v, p.lam,
                                            self.alpha, chunk)
            else:
                epochs._fp_epoch_linear(self.X, p.y, self._w, self._r, self._v, p.lam, self.alpha,
                                       chunk, self.kind)
            return 0

        self._run_steps(run, idx)

    def run_epoch(self):
        """One epoch: (SVRG) full gradient at the anchor w~ = w, then T inner steps."""
        idx = self._next_indices()
        if self.variance_reduced:
            self._full_grad(self.X, 1.0, self._w, self._a, self._r, self._g)
            self._v[...] = self._g - self.problem.lam * self._w   # v = g~ - lam w~
        self._inner(idx)
        self.saturations.append(0)
        self.epochs_done += 1


class LowPrecisionSolver(Solver):
    """``lp-sgd`` and ``lp-svrg``: the iterate w = s k lives on a fixed low-precision grid of
    scale s: k is a b-bit integer (fixed point) or a value of a float format (bf16, fp16, fp8),
    stored as its bit pattern and rounded stochastically at every store.

    Default scale: the finest grid whose range covers twice the largest |w*| coordinate,
    s = 2 max|w*| / top with top = 2^(b-1) - 1 (fixed point) or the format's
    ``bit_centering.grid_top`` (it uses the reference optimum, so it favours the baseline).
    """

    def __init__(self, problem, name, bits, step, sampling, seed, steps_per_epoch, threads,
                 scale=None):
        super().__init__(problem, name, bits, step, sampling, seed, steps_per_epoch, threads)
        if problem.Xq is None:
            raise ValueError(f"{name} reads quantized data: build the problem with data_bits set "
                             f"(it was built with data_bits=None)")
        self.format = bits if isinstance(bits, str) else None   # a float format's name, or None
        if self.format is None and problem.Xq.dtype.kind == "u":
            raise ValueError(f"{name} at {bits} bits reads fixed-point data, but this problem "
                             f"carries {problem.data_bits} data: build it with an int data_bits, "
                             f"or run {name} with precision={problem.data_bits!r}")
        self.bits = bits
        self.top = bit_centering.grid_top(bits)
        self.compute_dtype = np.dtype(np.float32)   # grid-unit arithmetic, every width
        size = int(np.prod(problem.weight_shape))
        if size > _MAX_F32_COORDS:
            raise ValueError(f"{name} handles at most {_MAX_F32_COORDS} weight coordinates (its "
                             f"kernels count saturations per step in float32); this problem has "
                             f"{size}")
        self._k = np.zeros(problem.weight_shape, dtype=float_formats.storage_dtype(bits)
                           if self.format else fixed_point.storage_dtype(bits))
        self._vg = np.zeros(problem.weight_shape, dtype=self.compute_dtype)
        self._g = np.zeros(problem.weight_shape)
        self._a, self._r = self._per_sample_arrays()     # center dots, anchor derivatives
        self._a_anchor = np.zeros_like(self._a)          # x_i^T w~ (scratch of the full gradient)
        self._f32_error = None                           # measured ||g32 - g64||, _full_grad
        # rms ||x_i|| (the data's Frobenius norm / sqrt(n)): the rows' size in _float32_noise
        self._row_rms = float(np.linalg.norm(problem.X)) / np.sqrt(problem.n)
        self._exact = False                              # full gradient in float64 from now on
        self._rounding = (fixed_point.seed_key(self.seed) if self.format else
                          fixed_point.make_rounding(self.seed, bits, self.compute_dtype))
        self._k_format = float_formats.params(bits) if self.format else None
        self._step_count = 0
        self.scale = self._initial_scale(scale)
        self._inner(np.zeros(0, dtype=np.int64))  # compile before any timing, both passes
        for dtype in (np.float32, np.float64):
            Solver._full_grad(self, problem.Xq[:1], problem.x_scale, self.w.astype(dtype),
                              self._a[:1].copy(), self._r[:1].copy(), self._g.copy())

    def _full_grad(self, X, x_scale, w, a, r, g):
        """The full-gradient pass on the narrow data, with the anchor rounded to float32 (int8
        rows convert to float32 lanes, twice float64's width; partial sums go to the float64
        gradient every epochs.FLUSH_ROWS rows) while that is accurate enough, in float64 after.

        The float32 pass's error e is the larger of two figures, so that neither alone can keep
        float32 passes beyond their accuracy: its last measurement ||g32 - g64|| (the first pass
        runs both ways), and ``_float32_noise``, the size float32's roundings of the terms it sums
        add up to, computed at every pass. A measurement can be exactly 0 at a point where every
        value is a float32 (w = 0 on logistic regression with +-1 labels or a multinomial one
        with 2, 4, 8... classes: every derivative is -+1/2 or 1/C), yet the error at a rounded
        anchor elsewhere is not; the noise figure cannot be fooled that way, and a measurement
        can exceed it (it is a scale, not a bound: measured 0.4 to 14 times it). Once
        ||g|| < FLOAT32_MARGIN e, both passes run again (the error changes with the iterate, so it
        is measured anew), and when ||g|| is still that small every later pass is float64 only:
        the anchor's gradient stays exact to the end, and HALP reaches SVRG-fp64's floor."""
        if self._exact:
            super()._full_grad(X, x_scale, w, a, r, g)
            return
        with np.errstate(over="ignore"):   # an anchor beyond float32's range: float64 below
            super()._full_grad(X, x_scale, w.astype(np.float32), a, r, g)
        if not np.isfinite(g).all():
            super()._full_grad(X, x_scale, w, a, r, g)
            return
        if self._f32_error is None or self._float32_inaccurate(g, a, r):
            g32 = g.copy()
            super()._full_grad(X, x_scale, w, a, r, g)
            self._f32_error = float(np.linalg.norm(g32 - g))
            self._exact = self._float32_inaccurate(g, a, r)

    def _float32_inaccurate(self, g, a, r):
        """Whether ||g|| is below FLOAT32_MARGIN times the float32 pass's error: the larger of
        its last measurement and ``_float32_noise(a, r)``."""
        error = max(self._f32_error, self._float32_noise(a, r))
        return bool(np.linalg.norm(g) < FLOAT32_MARGIN * error)

    def _float32_noise(self, a, r):
        """The rounding error a float32 full-gradient pass is bound to carry at a point with
        margins or scores ``a`` and loss derivatives ``r`` (float64, (n,) or (n, C)), in the
        gradient's units. The data part of the gradient is the mean of n terms r_i x_i; float32
        rounds each with a relative error up to FLOAT32_ROUNDOFF, independently from row to row,
        so the mean carries about FLOAT32_ROUNDOFF t / sqrt(n), t the terms' rms size,
        (rms |r_i| + c_l rms |a_i|) rms ||x_i|| (c_l the loss's smoothness, l'' <= c_l): the r
        part is the rounding of the derivatives and of the float32 row sums; the a part that of
        the float32 dot products and the rounded anchor, which move r_i by up to c_l times their
        error. The anchor's rounding also moves every row the same way, an error that does not
        average out: the measurement sees it, this figure need not. Costs O(n), against the
        pass's O(n d)."""
        n = self.problem.n
        size = (np.linalg.norm(r) + self.problem.smoothness * np.linalg.norm(a)) / np.sqrt(n)
        return FLOAT32_ROUNDOFF * float(size) * self._row_rms / np.sqrt(n)

    def _initial_scale(self, scale):
        if scale is not None:
            return _positive(scale, "scale")
        peak = float(np.abs(self.problem.w_star).max())
        return 2.0 * peak / self.top if peak > 0 else 1.0 / self.top

    def _k_values(self):
        """The stored iterate k as float64 values (grid units), ``weight_shape``."""
        if self.format:
            return float_formats.decode(self._k, self.format)
        return self._k.astype(np.float64)

    @property
    def w(self):
        """Current iterate s k, float64 copy of ``weight_shape``."""
        return self.scale * self._k_values()

    def _inner(self, idx):
        p = self.problem
        k = np.ascontiguousarray(self._k.T) if self.multinomial else self._k

        def run(chunk, first):   # the multinomial kernel steps the rows of K^T (one per class)
            if self.format:
                return self._float_format_steps(k, chunk, self._step_count + first)
            kernel_args = (p.Xq, p.x_scale, self.labels if self.multinomial else p.y, k,
                           self.scale, self._a, self._r, self._vg, p.lam, self.alpha, chunk)
            if self.multinomial:
                return epochs._lp_epoch_multinomial(*kernel_args, self._rounding,
                                                    self._step_count + first)
            return epochs._lp_epoch_linear(*kernel_args, self.kind, self._rounding,
                                           self._step_count + first)

        sat = self._run_steps(run, idx)
        if self.multinomial:
            self._k[...] = k.T
        self._step_count += idx.shape[0]
        return int(sat)

    def _float_format_steps(self, k, chunk, step0):
        """The inner steps ``chunk`` on an iterate stored in a float format (k: the patterns, K^T
        for multinomial models); returns the saturation count."""
        p = self.problem
        head = (p.Xq, p.x_format, p.x_scale)
        tail = (self.scale, self._a, self._r, self._vg, p.lam, self.alpha, chunk)
        if self.multinomial:
            return epochs._lpf_epoch_multinomial(*head, self.labels, k, self._k_format, *tail,
                                                 self._rounding, step0)
        return epochs._lpf_epoch_linear(*head, p.y, k, self._k_format, *tail, self.kind,
                                        self._rounding, step0)

    def _begin_epoch(self):
        """LP-SVRG: anchor w~ = s k, full gradient g~ there, v = g~ - lam w~ (center stays 0)."""
        anchor = self.w
        self._full_grad(self.problem.Xq, self.problem.x_scale, anchor, self._a_anchor, self._r,
                        self._g)
        if self._gradient_overflowed():
            return False
        with np.errstate(over="ignore"):   # beyond float32: the moves clamp, solve reports it
            self._vg[...] = (self.alpha / self.scale) * (self._g - self.problem.lam * anchor)
        return True

    def _gradient_overflowed(self):
        """True when the anchor's full gradient is not finite: the run has diverged, and the
        iterate is made NaN so that solve() reports it (a RuntimeWarning, Result.diverged_epoch)
        and stops, instead of rounding NaN moves into integers."""
        if np.isfinite(self._g).all():
            return False
        self.scale = np.nan
        return True

    def _end_epoch(self):
        """Nothing to fold back: the iterate is s k itself."""

    def run_epoch(self):
        """One epoch: (variance-reduced solvers) full gradient, then T quantized inner steps."""
        idx = self._next_indices()
        active = self._begin_epoch() if self.variance_reduced else True
        self.saturations.append(self._inner(idx) if active else 0)
        self._end_epoch()
        self.epochs_done += 1


class HalpSolver(LowPrecisionSolver):
    """``halp``: full-precision anchor w~ plus a b-bit offset z = s k re-centred every epoch.

    Bit centering (per epoch): g~ = grad f(w~), s = ||g~|| / (mu (2^(b-1) - 1)), z = 0; after the
    inner loop w~ <- w~ + z. mu="auto" (the default) picks mu every epoch with
    halp_core.bit_centering's secant rule (first epoch mu = L_max); a number fixes it (units of
    f / ||w||^2). A fixed mu must not be far below the curvature the data add: mu = lam, the
    strong-convexity lower bound, makes the grid too coarse and diverges at 8 bits on most
    problems (docs/design.md section 4). ``mu`` keeps the setting (a float or "auto"); ``mus`` lists
    the mu of each epoch. Multinomial problems: the anchor's class mean is removed after every
    epoch (``_end_epoch``; ``remove_class_mean = False`` on an instance turns it off, for
    comparisons).
    """

    remove_class_mean = True

    def __init__(self, problem, bits, step, sampling, seed, steps_per_epoch, threads, mu="auto"):
        self.auto = isinstance(mu, str)
        if self.auto and mu != "auto":
            raise ValueError(f"mu must be a number > 0 or 'auto', got {mu!r}")
        self.mu = mu if self.auto else _positive(mu, "mu")
        self._mu = bit_centering.initial_mu(problem) if self.auto else self.mu
        self.mus = []
        self.center = np.zeros(problem.weight_shape)
        self._g_prev = None   # mu="auto": full gradient at the previous anchor
        self._offset = None   # mu="auto": the previous epoch's offset z
        super().__init__(problem, "halp", bits, step, sampling, seed, steps_per_epoch, threads,
                         scale=1.0)

    @property
    def w(self):
        """Current iterate w~ + s k, float64 copy of ``weight_shape``."""
        return self.center + self.scale * self._k_values()

    def _begin_epoch(self):
        """Bit centering: full gradient at w~ (caching x_i^T w~ as the center dots), (auto) the
        epoch's mu, new scale."""
        p = self.problem
        self._full_grad(p.Xq, p.x_scale, self.center, self._a, self._r, self._g)
        if self._gradient_overflowed():
            self.center[...] = np.nan
            self.mus.append(self._mu)
            return False
        if self.auto:
            if self._offset is not None:
                self._mu = bit_centering._next_mu(self._mu, self._g_prev, self._g, self._offset,
                                                 self.saturations[-1] > 0)
            self._g_prev = self._g.copy()
        self.mus.append(self._mu)
        scale = bit_centering.grid_scale(float(np.linalg.norm(self._g)), self._mu, self.bits)
        if scale is None:
            return False  # w~ is exactly optimal: nothing to do this epoch
        self.scale = scale
        self._k[...] = 0
        with np.errstate(over="ignore"):   # beyond float32: the moves clamp, solve reports it
            self._vg[...] = (self.alpha / self.scale) * self._g
        return True

    def _end_epoch(self):
        """w~ <- w~ + s k; the offset restarts at 0 next epoch. Multinomial: then the anchor's
        class mean is removed, w~ <- w~ - mean_c(w~) (exact: every score of a sample moves by
        the same x_i^T m, so the softmax is unchanged; the L2 term only falls; the optimum has zero
        class mean). The stochastic rounding of the offset puts error into the class-mean
        directions, which get no curvature from the softmax, only lam (docs/design.md
        section 4)."""
        before = self.center.copy() if self.auto else None
        self.center += self.scale * self._k_values()
        if self.multinomial and self.remove_class_mean:
            self.center -= self.center.mean(axis=1, keepdims=True)
        if self.auto:
            self._offset = self.center - before
        self._k[...] = 0


# ---- the built-in solvers in the registry (halp_core.registry) ------------------------------

def _build_full(name):
    def build(problem, dtype, step, sampling, seed, steps_per_epoch, threads):
        return FullPrecisionSolver(problem, name, dtype, step, sampling, seed, steps_per_epoch,
                                   threads)
    return build


def _build_fixed_grid(name):
    def build(problem, bits, step, sampling, seed, steps_per_epoch, threads, scale=None):
        return LowPrecisionSolver(problem, name, bits, step, sampling, seed, steps_per_epoch,
                                  threads, scale=scale)
    return build


def _build_halp(problem, bits, step, sampling, seed, steps_per_epoch, threads, mu="auto"):
    return HalpSolver(problem, bits, step, sampling, seed, steps_per_epoch, threads, mu=mu)


for _spec in (
        SolverSpec("sgd", "SGD", "full", FLOAT_PRECISIONS, None, False, (), _build_full("sgd")),
        SolverSpec("svrg", "SVRG", "full", FLOAT_PRECISIONS, None, True, (), _build_full("svrg")),
        SolverSpec("lp-sgd", "LP-SGD", "low", LOW, "sgd", False, ("scale",),
                   _build_fixed_grid("lp-sgd")),
        SolverSpec("lp-svrg", "LP-SVRG", "low", LOW, "svrg", True, ("scale",),
                   _build_fixed_grid("lp-svrg")),
        SolverSpec("halp", "HALP", "low", LOW, "svrg", True, ("mu",), _build_halp)):
    registry.register(_spec)

SOLVERS = registry.names()
"""The built-in solvers; ``registry.names()`` lists every registered one."""


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
    _validate.instance(problem, Problem, "problem")
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
    run = entry.build(problem, kind, step, sampling, seed, steps_per_epoch, threads, **options)
    run.schedule = plan
    run._w_checked = run.w   # the start, for check()
    return run


# The divergence rule of solve(): epoch k diverged if its iterate or loss is not finite, if
# f(w_k) > GROWTH f(w_0) (w_0 = 0, the start; VR_GROWTH for the variance-reduced solvers svrg,
# lp-svrg and halp), or if more than MOSTLY_CLAMPED of the epoch's T x (number of weights)
# coordinate updates saturated. Measured on 504 healthy runs (7 problems including pure-noise
# targets and random labels, every solver, steps 0.25 .. 1.5 / L_max, two seeds;
# tests/halp_core/test_divergence.py keeps four of the problems): f(w_k) <= 1.82 f(w_0) for SGD's noisy
# trajectories, f(w_k) <= 0.997 f(w_0) for the variance-reduced solvers (so a 4-bit HALP run that
# ends 1.5-6x above its start is caught), and at most 6% of the updates clamped, except in HALP's
# first mu="auto" epoch (mu = L_max, a deliberately fine grid: up to 72%), which the rule skips.
# Saturation is not divergence either once f(w_k) - f* is within AT_FLOOR float64 roundings of f*:
# there the anchor's gradient is rounding noise, the grid it sizes is that fine, and a converged
# HALP run clamped up to 53% of one epoch's updates with f - f* unchanged at 1e-29 (a 500-epoch
# sweep run, docs/bits.md).
GROWTH = 10.0
VR_GROWTH = 1.2
MOSTLY_CLAMPED = 0.5
AT_FLOOR = 1e3   # f - f* within this many float64 roundings of f*: converged (_at_float_floor)

# The no-progress rule of solve(): a run that did not diverge made no progress if f - f*,
# ||grad f|| and ||w - w*|| all stayed within STUCK of their start values at every recorded epoch,
# judged only once the run has taken at least n inner steps (one data pass: fewer steps may move
# f by less than that and be healthy) and only when the start is not already at float64's floor
# of f* (there the three are rounding noise). A run that moves at all changes one of them by far
# more: after one epoch of 182 healthy runs (7 problems, every solver including 2- and 4-bit HALP
# and the float formats, steps 0.05 and 1.5 / L_max, two seeds) the smallest largest change was
# 6.9% (SVRG on pure-noise targets). SGD near its noise floor, whose f - f* rises above a start
# close to f*, moved: that is not this rule's failure. A HALP grid that is too coarse (mu=1e-300)
# rounds every offset to 0 and leaves all three exactly where they started.
STUCK = 0.01


def _float32_overflow(run, w):
    """Whether a float32 run's non-finite iterate comes from float32's range: at w (its last
    finite iterate, float64) the float64 gradient is finite but the float32 one is not."""
    if run.data.dtype != np.float32:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isfinite(run.problem.grad(w)).all():
            return False
        a, r = run._per_sample_arrays(np.float32)
        g = np.zeros(run.problem.weight_shape, dtype=np.float32)
        run._full_grad(run.data, 1.0, w.astype(np.float32), a, r, g)
    return not np.isfinite(g).all()


def _advice(run, cause):
    """The likely fix of a failure of ``cause`` in ``run``: a divergence ("overflow", "float32",
    "growth" or "clamped") or no progress ("stuck")."""
    if cause == "float32":
        return "use precision='fp64' or rescale the data"
    wider = "a wider format" if getattr(run, "format", None) else "more bits"
    if cause == "stuck":
        if run.name == "halp":
            return (f"use a larger step or {wider}" if run.auto
                    else f"use mu='auto' or a larger mu (mu={run.mu:g} here), or a larger step")
        if isinstance(run, LowPrecisionSolver):
            return f"use a larger step, a smaller scale (scale={run.scale:.3g} here) or {wider}"
        return "use a larger step"
    if run.name == "halp":
        if cause == "clamped":
            return f"use {wider}" if run.auto else "use mu='auto' or a smaller mu"
        return (f"use a smaller step or {wider}" if run.auto
                else f"use mu='auto' or a larger mu (mu={run.mu:g} here), or a smaller step")
    if cause == "clamped":
        return f"use a larger scale (scale={run.scale:.3g} here) or {wider}"
    return "use a smaller step"


def _at_float_floor(problem, loss):
    """Whether f(w) is within AT_FLOOR float64 roundings of f*: the run has converged, and a
    grid sized by a gradient that is rounding noise may saturate without any harm."""
    f_star = abs(problem.f_star)
    return loss - problem.f_star <= AT_FLOOR * np.finfo(np.float64).eps * max(f_star, 1e-300)


def _divergence(run, epoch, w, loss, start_loss, w_prev):
    """The warning text if epoch ``epoch`` of ``run`` (iterate w, loss f(w)) met the divergence
    rule, given the start's loss and the last epoch's iterate w_prev; None otherwise."""
    size = int(np.prod(run.problem.weight_shape))
    clamped = run.saturations[-1] / (run.steps_per_epoch * size)
    # HALP's first automatic epoch runs on a deliberately fine grid (mu = L_max) that may clamp.
    probing = run.name == "halp" and run.auto and epoch == 1
    growth = VR_GROWTH if run.variance_reduced else GROWTH
    if not (np.isfinite(w).all() and np.isfinite(loss)):
        cause = "float32" if _float32_overflow(run, w_prev) else "overflow"
        seen = ("float32 overflow: the float32 gradient at the last finite iterate is not "
                f"finite while its float64 evaluation is (max |x_ij| {np.abs(run.data).max():.3g}, "
                f"max |w_j| {np.abs(w_prev).max():.3g}; float32 ends at 3.4e38)"
                if cause == "float32" else "the iterate or its loss is not finite")
    elif loss > growth * start_loss:
        cause, seen = "growth", f"loss {loss:.3g} > {growth:g} x its start {start_loss:.3g}"
    elif clamped > MOSTLY_CLAMPED and not probing and not _at_float_floor(run.problem, loss):
        cause, seen = "clamped", f"{clamped:.0%} of the coordinate updates saturated"
    else:
        return None
    return f"{_label(run)} diverged at epoch {epoch}: {seen}; {_advice(run, cause)}"


def _no_progress(run, rows):
    """The warning text if the run whose history rows are ``rows`` (dicts with loss, subopt,
    grad_norm and dist: the start's, then one per recorded epoch) met the no-progress rule (see
    STUCK); None otherwise."""
    start, epochs = rows[0], run.epochs_done
    if epochs * run.steps_per_epoch < run.problem.n or _at_float_floor(run.problem,
                                                                       start["loss"]):
        return None
    metrics = ("subopt", "grad_norm", "dist")
    if any(not abs(row[m] - start[m]) <= STUCK * start[m] for row in rows[1:] for m in metrics):
        return None
    return (f"{_label(run)} made no progress in {epochs} epoch{'s' * (epochs > 1)}: f - f* "
            f"({start['subopt']:.3g}), ||grad f|| and ||w - w*|| stayed within {STUCK:.0%} of "
            f"their start values; {_advice(run, 'stuck')}")


def _label(run):
    """'<solver> (<precision>)' of ``run``, e.g. 'halp (8 bits)', 'sgd (fp32)'."""
    precision = run.precision if isinstance(run.precision, str) else f"{run.precision} bits"
    return f"{run.name} ({precision})"


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
    epochs = _whole(epochs, "epochs", 1)
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
        return _divergence(run, epoch, w, row["loss"], first["loss"], w_prev)

    points = trajectory.timed_epochs(run.run_epoch, lambda: run.w, epochs)
    record = trajectory.record(points, lambda w: trajectory.evaluate(problem, w), run.w,
                               passes_per_epoch=run.passes_per_epoch, settings=settings,
                               check=check, progress=lambda rows: _no_progress(run, rows),
                               callback=callback)
    return Result(w=run.w, history=record.history,
                  saturations=np.asarray(run.saturations, dtype=np.int64), settings=settings,
                  diverged_epoch=record.diverged_epoch, divergence=record.divergence,
                  no_progress=record.no_progress)
