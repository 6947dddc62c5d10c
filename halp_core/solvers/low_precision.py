"""LP-SGD and LP-SVRG (docs/design.md section 4): the iterate on a fixed low-precision grid
of scale s, k a b-bit integer (its epochs: halp_core.solvers.fixed_grid) or a value of a float
format (halp_core.solvers.float_grid); the class and its registry entries. HALP
(halp_core.solvers.halp) is this class with a moving center and a grid re-sized every epoch.
"""

import numpy as np

from .. import bit_centering, fixed_point, float_formats, random_bits, registry, validate
from ..kernels import SAMPLE_A, SAMPLE_R, sample_table
from ..registry import LOW, SolverSpec
from .base import Solver
from .fixed_grid import lp_epoch_linear, lp_epoch_multinomial
from .float_grid import lpf_epoch_linear, lpf_epoch_multinomial

# Per-step saturation counts of the float32 LP kernels are exact up to 2**24.
MAX_F32_COORDS = 2**24
# The low-precision solvers' full gradient switches from float32 to float64 when ||g|| falls
# below this many times the float32 pass's error (LowPrecisionSolver.full_gradient).
FLOAT32_MARGIN = 1e3
# float32's unit roundoff, 2^-24: the relative rounding error of one float32 operation.
FLOAT32_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


def _norm(x):
    """||x||_2 (Frobenius for 2-D): a linear model's a and r are strided columns of the per-sample
    table, whose norm np.linalg.norm would take on a copy (an O(n) copy per full gradient, a few
    percent of a narrow-row epoch); x.dot(x) reads them in place."""
    return float(np.sqrt(x.dot(x))) if x.ndim == 1 else float(np.linalg.norm(x))


class LowPrecisionSolver(Solver):
    """``lp-sgd`` and ``lp-svrg``: the iterate w = s k lives on a fixed low-precision grid of
    scale s: k is a b-bit integer (fixed point) or a value of a float format (bf16, fp16, fp8),
    stored as its bit pattern and rounded stochastically at every store.

    Default scale: the finest grid whose range covers twice the largest |w*| coordinate,
    s = 2 max|w*| / top with top = 2^(b-1) - 1 (fixed point) or the format's
    ``bit_centering.grid_top`` (it uses the reference optimum, so it favours the baseline).
    """

    def __init__(self, problem, name, bits, *, scale=None, **options):
        super().__init__(problem, name, bits, **options)
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
        if size > MAX_F32_COORDS:
            raise ValueError(f"{name} handles at most {MAX_F32_COORDS} weight coordinates (its "
                             f"kernels count saturations per step in float32); this problem has "
                             f"{size}")
        self._k = np.zeros(problem.weight_shape, dtype=float_formats.storage_dtype(bits)
                           if self.format else fixed_point.storage_dtype(bits))
        self._vg = np.zeros(problem.weight_shape, dtype=self.compute_dtype)
        self._g = np.zeros(problem.weight_shape)
        # center dots, anchor derivatives: a linear model's are columns of the per-sample table
        # that its epoch kernels read (labels beside them: one cache line per sampled step)
        self._samples = None if self.multinomial else sample_table(problem.y)
        self._a, self._r = (self.per_sample_arrays() if self.multinomial else
                            (self._samples[:, SAMPLE_A], self._samples[:, SAMPLE_R]))
        self._a_anchor = np.zeros_like(self._a)          # x_i^T w~ (scratch of the full gradient)
        self._f32_error = None                           # measured ||g32 - g64||, full_gradient
        # rms ||x_i|| (the data's Frobenius norm / sqrt(n)): the rows' size in _float32_noise
        self._row_rms = float(np.linalg.norm(problem.X)) / np.sqrt(problem.n)
        self._exact = False                              # full gradient in float64 from now on
        self._rounding = (random_bits.seed_key(self.seed) if self.format else
                          fixed_point.make_rounding(self.seed, bits, self.compute_dtype))
        self._k_format = float_formats.params(bits) if self.format else None
        self._step_count = 0
        self.scale = self._initial_scale(scale)
        self._inner(np.zeros(0, dtype=np.int64))  # compile before any timing, both passes
        base_pass = super().full_gradient
        for dtype in (np.float32, np.float64):
            self._on_first_rows(lambda a, r, dtype=dtype: base_pass(
                problem.Xq[:1], problem.x_scale, self.w.astype(dtype), a, r, self._g.copy()))

    def full_gradient(self, X, x_scale, w, a, r, g):
        """The full-gradient pass on the narrow data, with the anchor rounded to float32 (int8
        rows convert to float32 lanes, twice float64's width; partial sums go to the float64
        gradient every full_gradient.FLUSH_ROWS rows) while that is accurate enough, in float64 after.

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
            super().full_gradient(X, x_scale, w, a, r, g)
            return
        with np.errstate(over="ignore"):   # an anchor beyond float32's range: float64 below
            super().full_gradient(X, x_scale, w.astype(np.float32), a, r, g)
        if not np.isfinite(g).all():
            super().full_gradient(X, x_scale, w, a, r, g)
            return
        if self._f32_error is None or self._float32_inaccurate(g, a, r):
            g32 = g.copy()
            super().full_gradient(X, x_scale, w, a, r, g)
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
        size = (_norm(r) + self.problem.smoothness * _norm(a)) / np.sqrt(n)
        return FLOAT32_ROUNDOFF * float(size) * self._row_rms / np.sqrt(n)

    def advice(self, cause):
        """The likely fix of a failure (see ``Solver.advice``): a grid too coarse or too fine
        for the steps, or too few bits."""
        wider = "a wider format" if self.format else "more bits"
        if cause == "stuck":
            return f"use a larger step, a smaller scale (scale={self.scale:.3g} here) or {wider}"
        if cause == "clamped":
            return f"use a larger scale (scale={self.scale:.3g} here) or {wider}"
        return super().advice(cause)

    def _initial_scale(self, scale):
        if scale is not None:
            return validate.real(scale, "scale", positive=True)
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
            tail = (self._vg, p.lam, self.alpha, chunk)
            if self.multinomial:
                return lp_epoch_multinomial(p.Xq, p.x_scale, self.labels, k, self.scale, self._a,
                                            self._r, *tail, self._rounding,
                                            self._step_count + first)
            return lp_epoch_linear(p.Xq, p.x_scale, self._samples, k, self.scale, *tail,
                                   self.kind, self._rounding, self._step_count + first)

        sat = self.run_steps(run, idx)
        if self.multinomial:
            self._k[...] = k.T
        self._step_count += idx.shape[0]
        return int(sat)

    def _float_format_steps(self, k, chunk, step0):
        """The inner steps ``chunk`` on an iterate stored in a float format (k: the patterns, K^T
        for multinomial models); returns the saturation count."""
        p = self.problem
        head = (p.Xq, p.x_format, p.x_scale)
        tail = (self._vg, p.lam, self.alpha, chunk)
        if self.multinomial:
            return lpf_epoch_multinomial(*head, self.labels, k, self._k_format, self.scale,
                                         self._a, self._r, *tail, self._rounding, step0)
        return lpf_epoch_linear(*head, self._samples, k, self._k_format, self.scale, *tail,
                                self.kind, self._rounding, step0)

    def _on_first_rows(self, call):
        """``call(a, r)`` on views of the first two rows of ``_gradient_arrays()``, their values
        restored after: a kernel compiled there before any timing has the epochs' array layouts
        (a linear model's a and r are strided columns of the sample table, and a view of one
        element would count as contiguous: a kernel of another layout, compiled in the first
        timed epoch)."""
        views = [v[:2] for v in self._gradient_arrays()]
        saved = [v.copy() for v in views]
        call(*views)
        for view, values in zip(views, saved):
            view[...] = values

    def _gradient_arrays(self):
        """The (margins, derivatives) arrays the anchor's full gradient fills: LP-SVRG's margins
        are scratch (its steps use none: center 0), its derivatives the sample table's."""
        return self._a_anchor, self._r

    def _begin_epoch(self):
        """LP-SVRG: anchor w~ = s k, full gradient g~ there, v = g~ - lam w~ (center stays 0)."""
        anchor = self.w
        a, r = self._gradient_arrays()
        self.timed_gradient(lambda: self.full_gradient(self.problem.Xq, self.problem.x_scale,
                                                       anchor, a, r, self._g))
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
        idx = self.sample_order()
        active = self._begin_epoch() if self.variance_reduced else True
        self.saturations.append(self._inner(idx) if active else 0)
        self._end_epoch()
        self.epochs_done += 1


registry.register(SolverSpec("lp-sgd", "LP-SGD", "low", LOW, "sgd", False, ("scale",),
                             LowPrecisionSolver))
registry.register(SolverSpec("lp-svrg", "LP-SVRG", "low", LOW, "svrg", True, ("scale",),
                             LowPrecisionSolver))
