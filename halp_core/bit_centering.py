"""Bit centering for HALP: the grid of each epoch (:func:`grid_scale`, used by
``halp_core.solvers.halp.HalpSolver`` and per layer by ``halp_bench.mlp``) and the automatic choice of
mu, ``solve(..., "halp", mu="auto")``.

HALP re-centres its b-bit offset every epoch on the grid s = ||g~|| / (mu (2^(b-1) - 1)), so the
offset can reach ||g~|| / mu per coordinate. A fixed mu must be tuned: too small and the grid is
too coarse (the rounding noise, about s per step, can exceed the progress and the anchor drifts
away); too large and the offset saturates (clamps), which slows progress but stays stable.

The automatic rule leans to the safe side and then measures:

* first epoch: mu_0 = L_max, the largest per-sample smoothness, an upper bound on every curvature,
  lowered on a fixed-point grid to :func:`noise_floor` at curvature L_max (below) when that is
  smaller: the widest grid whose rounding noise stays NOISE_SHARE of the gap whatever the
  curvature (f is L_max-smooth, so f - f* >= ||g~||^2 / (2 L_max)). At 16 bits that grid holds
  the first offset whole and the first epoch moves as far as SVRG's (mu = L_max, a grid thousands
  of times too fine, clamped most of its updates and lost an epoch); at 8 bits it is still finer
  than the offset needs and may clamp.
* after epoch k, with offset z_k (so w~_{k+1} = w~_k + z_k) and full gradients g~_k, g~_{k+1}
  at the two anchors:

      mu_{k+1} = ||g~_{k+1} - g~_k||_2 / (HEADROOM ||z_k||_inf)     (no update was clamped)
      mu_{k+1} = ||g~_{k+1} - g~_k||_2 / (HEADROOM ||z_k||_2)       (some update was clamped)

  ||g~_{k+1} - g~_k|| / ||z_k|| is a secant estimate of the curvature along z_k. Without
  saturation the next offset range ||g~_{k+1}|| / mu_{k+1} is HEADROOM times the last offset's
  largest coordinate, scaled by how much gradient remains relative to the gradient change that
  offset bought. After saturation the largest coordinate only tells the range was too small, so
  the 2-norm takes its place (the paper's bound ||z||_inf <= ||z||_2 <= ||g~|| / mu, with the
  measured curvature as mu); in many dimensions that shrinks mu at once by about the square root
  of the number of clamped coordinates. When z_k = 0 or g~ did not change, mu is kept.

* on a fixed-point grid the secant rule can settle on a grid so coarse that its rounding noise
  outweighs an epoch's progress: the noise inflates ||z_k||_inf, which lowers mu, which coarsens
  the grid further (8-bit HALP diverged so on least squares at d = 512 and 1024 and on binary
  MNIST). So mu never goes below :func:`noise_floor`, the mu at which the stochastic rounding's
  expected excess loss is NOISE_SHARE of the anchor's suboptimality.

      noise: each inner step rounds every coordinate of the offset with variance at most s^2 / 4;
             at step size alpha the error along a direction of curvature h settles at variance
             (s^2 / 4) / (2 alpha h), an excess loss h / 2 times that, s^2 / (16 alpha), whatever
             h; over the m coordinates of the offset, m s^2 / (16 alpha).
      gap:   f(w~) - f* ~ ||g~||^2 / (2 h), h = ||g~_{k+1} - g~_k||_2 / ||z_k||_2 the secant
             curvature.
      with s = ||g~|| / (mu top):  mu >= sqrt(m h / (8 alpha NOISE_SHARE)) / top.

  A float-format grid rounds relative to each value, not to the range, so the floor does not
  apply to it.

Measured (``tests/halp_core/test_bit_centering.py``, step 0.5 / L_max): on two least-squares problems with
per-sample condition numbers of about 140 and 2450, 8-bit HALP with mu="auto" reached f - f* <= 1e-10
in 14 and 35 epochs, against 13 and 37 for the best mu of a sweep mu_min x 2^j, j = -1..5
(docs/reproduction.md, "mu sweep").
"""

import numpy as np

from . import validate, float_formats
from .problems import Problem

HEADROOM = 2.0
NOISE_SHARE = 0.3


def grid_top(precision):
    """The largest offset, in units of the scale s, that a grid of ``precision`` is sized for:
    2^(b-1) - 1 for b-bit fixed point (an int), ``float_formats.top(name)`` for a float format
    (a name: the largest power of two it holds, at most 2^15, the largest finite value above it
    being headroom)."""
    if isinstance(precision, str):
        return float_formats.top(precision)
    return 2 ** (precision - 1) - 1


def grid_scale(g_norm, mu, bits):
    """Scale s = ||g~|| / (mu top) of the offset grid centred on an anchor whose full gradient has
    norm ``g_norm`` (float >= 0), so the offset reaches ||g~|| / mu per coordinate; mu: float > 0
    (units of f / ||w||^2); bits: int (top = 2^(bits-1) - 1) or a float format's name (top =
    ``grid_top(name)``). None when g_norm is 0 (the anchor is exactly stationary: no grid is
    needed). At least the smallest normal float64: a mu so large that the scale underflows gets
    the finest grid float64 has (every update clamps, and solve reports it)."""
    if g_norm == 0.0:
        return None
    return max(g_norm / (mu * grid_top(bits)), np.finfo(np.float64).tiny)


def initial_mu(problem, step=None, bits=None):
    """mu of the first automatic epoch (float > 0, units of f / ||w||^2): the problem's L_max,
    or, when ``step`` (the first epoch's alpha, float > 0) and an int ``bits`` are given, the
    smaller of L_max and ``noise_floor(L_max, step, weights, bits)`` (module docstring). A float
    format's name or None as ``bits``: L_max."""
    L_max = float(validate.instance(problem, Problem, "problem").L_max)
    if step is None or bits is None or isinstance(bits, str):
        return L_max
    size = int(np.prod(problem.weight_shape))
    return min(L_max, noise_floor(L_max, step, size, bits))


def noise_floor(curvature, step, size, bits):
    """The smallest mu (float > 0, units of f / ||w||^2) at which the stochastic rounding of a
    ``bits``-bit fixed-point offset costs at most NOISE_SHARE of the anchor's suboptimality
    (module docstring): sqrt(size curvature / (8 step NOISE_SHARE)) / (2^(bits-1) - 1).

    curvature: float > 0, the secant curvature along the last offset (units of f / ||w||^2);
    step: float > 0, the inner step alpha; size: int >= 1, coordinates in the offset; bits: int.
    """
    curvature = validate.real(curvature, "curvature", positive=True)
    step = validate.real(step, "step", positive=True)
    size = validate.integer(size, "size", 1)
    bits = validate.integer(bits, "bits", 2)
    return _floor(curvature, step, size, bits)


def _floor(curvature, step, size, bits):
    """:func:`noise_floor` without its argument checks."""
    return float(np.sqrt(size * curvature / (8.0 * step * NOISE_SHARE))) / grid_top(bits)


def next_mu(mu, g_prev, g_new, offset, saturated, step=None, bits=None):
    """mu for the next epoch from the last one (the secant rule above, raised to
    :func:`noise_floor` when ``step`` and an int ``bits`` are given).

    mu: float > 0, the mu of the last epoch; g_prev, g_new: full gradients at the last and the new
    anchor (arrays of the weight shape, float64); offset: the last epoch's offset z = w~_new -
    w~_prev (same shape); saturated: whether any update of the last epoch was clamped; step: the
    next epoch's inner step alpha (float > 0) or None; bits: the grid's precision (an int for
    fixed point, where the floor applies; a float format's name or None, where it does not).
    Returns a float > 0.
    """
    mu = validate.real(mu, "mu", positive=True)
    g_prev = validate.real_array(g_prev, "g_prev", None)
    g_new = validate.real_array(g_new, "g_new", None)
    offset = validate.real_array(offset, "offset", None)
    if not g_prev.shape == g_new.shape == offset.shape:
        raise ValueError(f"g_prev, g_new and offset must have one shape, got {g_prev.shape}, "
                         f"{g_new.shape} and {offset.shape}")
    if not isinstance(saturated, (bool, np.bool_)):
        raise TypeError(f"saturated must be a bool, got {saturated!r}")
    if step is not None:
        step = validate.real(step, "step", positive=True)
    if bits is not None and not isinstance(bits, str):
        bits = validate.integer(bits, "bits", 2)
    return next_mu_unchecked(mu, g_prev, g_new, offset, saturated, step, bits)


def next_mu_unchecked(mu, g_prev, g_new, offset, saturated, step=None, bits=None):
    """:func:`next_mu` without its argument checks, for the solver's own per-epoch call (its
    arrays are the solver's float64 state; the checks cost more than the rule on small problems)."""
    z = np.abs(offset)
    norm = float(np.sqrt(np.sum(z * z)))
    size = norm if saturated else float(np.max(z))
    change = float(np.linalg.norm(g_new - g_prev))
    if size == 0.0 or change == 0.0 or not np.isfinite(change / size):
        return mu
    secant = change / (HEADROOM * size)
    if step is None or bits is None or isinstance(bits, str):
        return secant
    return max(secant, _floor(change / norm, step, z.size, bits))
