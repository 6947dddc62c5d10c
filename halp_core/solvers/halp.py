"""HALP (De Sa et al. 2018; docs/design.md section 4): SVRG with bit centering, a
full-precision anchor w~ plus a low-precision offset z = s k re-centred and re-scaled every epoch;
the class and its registry entry. Its inner loop is the low-precision one
(halp_core.solvers.fixed_grid, .float_grid) with center w~. Once the anchor's gradient needs
float64, a linear model on a fixed-point grid updates it from the last offset instead of a full
pass (``HalpSolver._anchor_gradient``, full_gradient.moved_grad_linear).
"""

import numpy as np

from .. import bit_centering, registry, validate
from ..registry import LOW, SolverSpec
from .full_gradient import FLUSH_ROWS, moved_grad_linear
from .low_precision import FLOAT32_MARGIN, FLOAT32_ROUNDOFF, LowPrecisionSolver

# float64's unit roundoff, 2^-53: the drift of margins updated by increments instead of recomputed.
FLOAT64_ROUNDOFF = float(np.finfo(np.float64).eps) / 2
# Moved-anchor passes may carry this many times a float64 pass's own rounding error before a full
# pass, where ||g~|| is too small for FLOAT32_MARGIN to tell (at float64's floor every pass is
# rounding noise, and a full pass would not make g~ more accurate than that).
DRIFT_LIMIT = 4.0


class HalpSolver(LowPrecisionSolver):
    """``halp``: full-precision anchor w~ plus a b-bit offset z = s k re-centred every epoch.

    Bit centering (per epoch): g~ = grad f(w~), s = ||g~|| / (mu (2^(b-1) - 1)), z = 0; after the
    inner loop w~ <- w~ + z. mu="auto" (the default) picks mu every epoch with
    halp_core.bit_centering's secant rule, never below its rounding-noise floor on a fixed-point
    grid (first epoch: ``bit_centering.initial_mu``); a number fixes it (units of
    f / ||w||^2). A fixed mu must not be far below the curvature the data add: mu = lam, the
    strong-convexity lower bound, makes the grid too coarse and diverges at 8 bits on most
    problems (docs/design.md section 4). ``mu`` keeps the setting (a float or "auto"); ``mus`` lists
    the mu of each epoch. Multinomial problems: the anchor's class mean is removed after every
    epoch (``_end_epoch``; ``remove_class_mean = False`` on an instance turns it off, for
    comparisons).
    """

    remove_class_mean = True

    def __init__(self, problem, name, bits, *, mu="auto", **options):
        self.auto = isinstance(mu, str)
        if self.auto and mu != "auto":
            raise ValueError(f"mu must be a number > 0 or 'auto', got {mu!r}")
        self.mu = mu if self.auto else validate.real(mu, "mu", positive=True)
        self.mus = []
        self.center = np.zeros(problem.weight_shape)
        self._g_prev = None   # mu="auto": full gradient at the previous anchor
        self._offset = None   # mu="auto": the previous epoch's offset z
        self._moved = None    # (k, s) of the last epoch's offset, for the moved-anchor pass
        self._moved_sum = 0.0     # float32 rounding the moved-anchor passes added since a full pass
        self._moved_passes = 0    # moved-anchor passes since a full pass
        super().__init__(problem, name, bits, scale=1.0, **options)
        self._mu = (bit_centering.initial_mu(problem, self.alpha, bits) if self.auto
                    else self.mu)
        # a linear model's offset on a fixed-point grid moves the anchor by exactly s k
        self._moves_on_grid = not (self.multinomial or self.format)
        if self._moves_on_grid:   # compile the moved-anchor pass before any timing
            self._on_first_rows(lambda a, r: moved_grad_linear(
                problem.Xq[:1], problem.x_scale, problem.y[:1], np.zeros_like(self._k), 1.0,
                problem.lam, self.kind, a, r, np.zeros_like(self._g), blocks=self.threads))

    def advice(self, cause):
        """The likely fix of a failure (see ``Solver.advice``): with mu="auto" a step or width
        change, with a fixed mu the automatic choice or another mu."""
        wider = "a wider format" if self.format else "more bits"
        if cause == "float32":
            return super().advice(cause)
        if cause == "stuck":
            return (f"use a larger step or {wider}" if self.auto
                    else f"use mu='auto' or a larger mu (mu={self.mu:g} here), or a larger step")
        if cause == "clamped":
            return f"use {wider}" if self.auto else "use mu='auto' or a smaller mu"
        return (f"use a smaller step or {wider}" if self.auto
                else f"use mu='auto' or a larger mu (mu={self.mu:g} here), or a smaller step")

    def may_clamp(self, epoch):
        """HALP's first mu="auto" epoch runs on a grid sized for the largest curvature
        (``bit_centering.initial_mu``) that may clamp most of its updates."""
        return self.auto and epoch == 1

    @property
    def w(self):
        """Current iterate w~ + s k, float64 copy of ``weight_shape``."""
        return self.center + self.scale * self._k_values()

    def _begin_epoch(self):
        """Bit centering: full gradient at w~ (caching x_i^T w~ as the center dots), (auto) the
        epoch's mu, new scale."""
        self.timed_gradient(self._anchor_gradient)
        if self._gradient_overflowed():
            self.center[...] = np.nan
            self.mus.append(self._mu)
            return False
        if self.auto:
            if self._offset is not None:
                self._mu = bit_centering.next_mu_unchecked(self._mu, self._g_prev, self._g,
                                                           self._offset, self.saturations[-1] > 0,
                                                           self.alpha, self.bits)
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

    def _gradient_arrays(self):
        """HALP's anchor pass fills the center dots and derivatives its steps read."""
        return self._a, self._r

    def _anchor_gradient(self):
        """g~ at the center into ``_g``, with the center dots and derivatives (``_a``, ``_r``).

        Once the pass is float64 for good (``LowPrecisionSolver.full_gradient``), a linear model
        on a fixed-point grid takes the moved-anchor pass instead (``moved_grad_linear``): the
        center moved by exactly s k last epoch, so its dots move by exact integer dots and only
        the derivatives' changes are summed, in float32: rounding relative to the change, at
        about a float32 pass's cost. Its error accumulates until a full float64 pass: the float32
        sums' (``_float32_noise`` of the changes, added up) and the updated dots' float64 drift
        (a float64 pass's error times the square root of the passes). A full pass runs whenever
        that error comes within FLOAT32_MARGIN of ||g~|| and exceeds DRIFT_LIMIT float64 passes'
        error, so g~ stays as accurate as the float64 pass requires and HALP still reaches
        float64's floor."""
        p = self.problem
        moved, self._moved = self._moved, None
        if moved is not None and self._exact and np.isfinite(moved[1]):
            k, scale = moved
            change = moved_grad_linear(p.Xq, p.x_scale, p.y, k, scale, p.lam, self.kind,
                                       *self._gradient_arrays(), self._g, blocks=self.threads)
            self._moved_passes += 1
            # the float32 sums of the n changes dr_i x_i (rms sizes change / sqrt(n) and
            # _row_rms): each of n / FLUSH_ROWS partial sums rounds relative to its size, up to
            # FLUSH_ROWS terms when the changes share a sign, and the partial sums' errors add
            # up at random
            self._moved_sum += (FLOAT32_ROUNDOFF * change * self._row_rms * np.sqrt(FLUSH_ROWS)
                                / p.n)
            float64_error = (FLOAT64_ROUNDOFF / FLOAT32_ROUNDOFF
                             * self._float32_noise(self._a, self._r))
            error = self._moved_sum + np.sqrt(self._moved_passes) * float64_error
            if (np.linalg.norm(self._g) >= FLOAT32_MARGIN * error
                    or error <= DRIFT_LIMIT * float64_error):
                return
        self.full_gradient(p.Xq, p.x_scale, self.center, *self._gradient_arrays(), self._g)
        self._moved_sum, self._moved_passes = 0.0, 0

    def _end_epoch(self):
        """w~ <- w~ + s k; the offset restarts at 0 next epoch. Multinomial: then the anchor's
        class mean is removed, w~ <- w~ - mean_c(w~) (exact: every score of a sample moves by
        the same x_i^T m, so the softmax is unchanged; the L2 term only falls; the optimum has zero
        class mean). The stochastic rounding of the offset puts error into the class-mean
        directions, which get no curvature from the softmax, only lam (docs/design.md
        section 4)."""
        before = self.center.copy() if self.auto else None
        if self._moves_on_grid:
            self._moved = (self._k.copy(), self.scale)
        self.center += self.scale * self._k_values()
        if self.multinomial and self.remove_class_mean:
            self.center -= self.center.mean(axis=1, keepdims=True)
        if self.auto:
            self._offset = self.center - before
        self._k[...] = 0


registry.register(SolverSpec("halp", "HALP", "low", LOW, "svrg", True, ("mu",), HalpSolver))
