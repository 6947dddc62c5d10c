"""How many bits does a problem need? HALP's bit requirement, predicted from the problem before any
epoch is run (``bits_needed``).

The theory (De Sa, Leszczynski, Zhang, Marzoev, Aberger, Olukotun, Re, "High-Accuracy
Low-Precision Training", arXiv:1803.03383, 2018, section 3, Theorem 1). Its conditions:

1. f = (1/n) sum_i f_i is mu-strongly convex and every f_i is L-smooth (here L = L_max, the
   largest per-sample smoothness, docs/design.md section 2), so kappa = L / mu;
2. bit centering every epoch: the offset grid has scale delta = ||g~|| / (mu (2^(b-1) - 1)), so
   it covers the ball ||z|| <= ||g~|| / mu that holds the epoch's optimum
   (``halp_core.bit_centering.grid_scale``);
3. SVRG's step size and epoch length (alpha of order 1 / L, T of order kappa), with stochastic
   rounding (unbiased) of every inner update;
4. enough bits: 2^(b-1) - 1 of order kappa sqrt(d), with d the number of weights.

Under these HALP converges linearly, E[f(w~_{k+1}) - f*] <= gamma (f(w~_k) - f*) with a rate
gamma < 1 close to full-precision SVRG's. Where sqrt(d) comes from: stochastic rounding adds a
variance of about delta^2 / 4 per coordinate and step, d delta^2 / 4 in all, while the progress
per step is of order alpha ||g~||^2; with delta proportional to ||g~|| / (mu 2^(b-1)) and
alpha ~ 1 / L, the rounding noise stays below the progress when 2^(b-1) >~ kappa sqrt(d).

What is a rule of thumb here, not the theorem: the theorem's condition carries a constant, and
the prediction takes it as 1,

    the smallest b with 2^(b-1) - 1 >= kappa sqrt(d)          (RULE)

so it says "of this order", and ``docs/bits.md`` measures how often it is right within one bit.
It is sufficient-style reasoning from a worst case (every rounding error aligned with the
flattest direction); a problem whose flat directions carry little of the error (the class-mean
directions of a multinomial model, removed exactly by ``HalpSolver``) can need fewer bits.

Measured (``docs/bits.md``: least squares and logistic regression, d = 10 and 40, kappa 5 to 1e5,
five seeds, f - f* <= 1e-10 within 2x SVRG's epochs): with mu = mu_min, the paper's bit centering,
RULE never asked for too few bits but asked for 3 to 7 too many; the same rule with the constant
CALIBRATION = 1/32 (2^(b-1) - 1 >= kappa sqrt(d) / 32, ``BitBudget.calibrated_bits``) matched
those measurements within one bit. That constant was read off that sweep (in sample), on those
two problem families only. With mu = "auto" (the default) HALP needed 4 to 7 bits at every kappa
of the sweep: the automatic rule widens the grid along the directions the offset actually
moves, and neither rule describes it.

mu_min, the smallest Hessian eigenvalue (``smallest_curvature``):

* least squares: exactly the smallest eigenvalue of X^T X / n + lam (the Hessian is constant);
* binary logistic: the Hessian's smallest eigenvalue at the optimum w* (the curvature the
  linear phase sees), computed; ``method="bound"`` gives lam instead, a lower bound (the data
  term's Hessian is positive semidefinite), which over-predicts the bits;
* multinomial: exactly lam: a class-mean direction (the same vector added to every class's
  weights) moves every score of a sample equally, so the softmax does not feel it and only the
  L2 term curves it. ``method="centered"`` gives the smallest eigenvalue on the weights of zero
  class mean (at w*), the curvature left once those directions are removed.

Features that are zero in every sample (MNIST's border pixels) are left out of mu_min and d
(``live_features``): their weights stay exactly 0 in every solver, so they are no part of the
requirement, although their lam-only curvature would otherwise set mu_min. Dense eigenvalues for
d <= DENSE_MAX_D weights; above that, Lanczos (scipy.sparse.linalg.eigsh) on Hessian-vector
products at w*, never a dense d x d matrix.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from . import validate, fixed_point
from .problems import Problem

DENSE_MAX_D = 2000
"""Weights up to which the Hessian is formed densely (float64, d x d) for its eigenvalues."""
METHODS = ("auto", "bound", "centered")
RULE = "smallest b with 2^(b-1) - 1 >= kappa sqrt(d)"
CALIBRATION = 1.0 / 32.0
"""The constant c of 2^(b-1) - 1 >= c kappa sqrt(d) that matched the measured requirement of HALP
with mu = mu_min within one bit on docs/bits.md's sweep (in sample; see the module docstring)."""


@dataclass(frozen=True)
class BitBudget:
    """The predicted bit requirement of one problem (:func:`bits_needed`).

    bits: the smallest b with 2^(b-1) - 1 >= kappa sqrt(d) (an int >= 2; may exceed 16);
    fits: whether bits <= max_bits (16 for halp_core's fixed-point format: above, no precision
    this library offers is predicted to converge linearly); kappa: L_max / mu_min;
    L_max: largest per-sample smoothness (units of f / ||w||^2); mu_min: the curvature used
    (same units); mu_source: how mu_min was had ("exact: ...", "lower bound: lam", "given");
    d: number of weights of the live features (``live_features``; times C for multinomial);
    rule: the rule applied (RULE);
    calibrated_bits: the same rule with the constant CALIBRATION (the measured typical need
    with mu = mu_min, in sample: module docstring).
    """

    bits: int
    fits: bool
    kappa: float
    L_max: float
    mu_min: float
    mu_source: str
    d: int
    calibrated_bits: int
    rule: str = RULE

    @property
    def kappa_sqrt_d(self):
        """kappa sqrt(d), the quantity the rule compares with 2^(b-1) - 1."""
        return self.kappa * math.sqrt(self.d)


def bits_for(kappa, d, constant=1.0):
    """The smallest b (int >= 2) with 2^(b-1) - 1 >= constant kappa sqrt(d); kappa: finite >= 1,
    d: int >= 1 (number of weights), constant: finite > 0 (1: RULE; CALIBRATION: the measured
    one)."""
    kappa = validate.real(kappa, "kappa", minimum=1.0)
    d = validate.integer(d, "d", 1)
    constant = validate.real(constant, "constant", positive=True)
    need = constant * kappa * math.sqrt(d)
    if not math.isfinite(need):
        raise ValueError(f"constant kappa sqrt(d) = {constant:g} x {kappa:g} x sqrt({d}) "
                         f"overflows float64: no number of bits is predicted")
    bits = max(fixed_point.MIN_BITS, math.ceil(math.log2(need + 1.0)) + 1)
    while 2 ** (bits - 2) - 1 >= need and bits > fixed_point.MIN_BITS:   # float log2 edge
        bits -= 1
    while 2 ** (bits - 1) - 1 < need:
        bits += 1
    return bits


def live_features(problem):
    """Boolean mask (d,) of the features with a nonzero value in some sample of the data the
    solvers see. A feature that is zero in every sample is inert: its block of the Hessian is
    lam I, decoupled from the rest, its weights are 0 at the optimum, and every solver started
    at 0 keeps them exactly 0 (their gradient is lam w_j, and HALP rounds a zero move to zero),
    so it takes no part in the bit requirement."""
    return np.asarray(problem.X != 0).any(axis=0)


def _hessian_operator(problem, w, project, live):
    """The Hessian of ``problem`` at w as a LinearOperator on the flattened weights of the
    ``live`` features; with ``project`` (multinomial), restricted to zero class mean:
    P H P + L_max (I - P)."""
    shape = problem.weight_shape
    part = (int(live.sum()),) + tuple(shape[1:])
    size = int(np.prod(part))
    shift = problem.L_max

    def center(v):
        return v - v.mean(axis=1, keepdims=True)

    def hessp(v):
        full = np.zeros(shape)
        full[live] = v
        return problem.hessp(w, full)[live]

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).reshape(part)
        if not project:
            return hessp(v).ravel()
        inside = center(v)
        return (center(hessp(inside)) + shift * (v - inside)).ravel()

    return scipy.sparse.linalg.LinearOperator((size, size), matvec=matvec, dtype=np.float64)


def _linear_hessian(problem, w, live):
    """The Hessian X^T diag(c_i) X / n + lam I of a least-squares (c_i = 1) or binary logistic
    (c_i = sigma_i (1 - sigma_i) at w) problem on its ``live`` features, formed densely in one
    product."""
    weights = np.ones(problem.n)
    if problem.kind == "logistic":
        sigma = 1.0 / (1.0 + np.exp(-(problem.X @ w)))
        weights = sigma * (1.0 - sigma)
    X = problem.X[:, live]
    return (X.T * weights) @ X / problem.n + problem.lam * np.eye(X.shape[1])


def _smallest_eigenvalue(op, size, upper, dense=None):
    """Smallest eigenvalue of the symmetric PSD operator ``op`` (size x size) whose spectrum
    lies below ``upper``: dense for size <= DENSE_MAX_D (``dense()`` builds the matrix when
    given, else op applied to the identity), else Lanczos on upper I - op."""
    if size <= DENSE_MAX_D:
        matrix = dense() if dense is not None else op.matmat(np.eye(size))
        return float(np.linalg.eigvalsh(0.5 * matrix + 0.5 * matrix.T)[0])
    flipped = scipy.sparse.linalg.LinearOperator(
        (size, size), matvec=lambda v: upper * v - op.matvec(v), dtype=np.float64)
    top = scipy.sparse.linalg.eigsh(flipped, k=1, which="LA", tol=1e-12,
                                    maxiter=20 * size, return_eigenvectors=False)
    return float(upper - top[0])


def smallest_curvature(problem, *, method="auto"):
    """(mu_min, source): the smallest Hessian eigenvalue of ``problem`` as described in the
    module docstring (float > 0, units of f / ||w||^2; source: a short text).

    method: "auto" (exact where the module docstring says so; logistic at w*), "bound" (lam
    for logistic and multinomial, a lower bound; least squares stays exact, it is cheap) or
    "centered" (multinomial only: on the zero-class-mean weights, at w*). ValueError when the
    value is 0 (lam = 0 and no curvature from the data: not strongly convex, HALP's theory does
    not apply) or the method does not fit the problem.
    """
    validate.instance(problem, Problem, "problem")
    validate.choice(method, "method", METHODS)
    problem.check_data()
    kind, lam = problem.kind, problem.lam
    if method == "centered" and kind != "multinomial":
        raise ValueError(f"method='centered' applies to multinomial problems only, not {kind}")
    live = live_features(problem)
    if not live.any():
        raise ValueError(f"{problem.name}: every feature is zero in every sample: nothing to "
                         f"learn, no bit requirement")
    size = int(live.sum()) * int(np.prod(problem.weight_shape[1:]))
    with validate.numerics(f"{problem.name}: the smallest curvature (method={method!r})"):
        value, source = _curvature(problem, method, live, size)
    if not value > 0:
        raise ValueError(f"{problem.name}: the smallest curvature is {value:.3g} (lam = {lam:g}): "
                         f"the objective is not strongly convex, so HALP's bit requirement is "
                         f"not defined; use lam > 0")
    return value, source


def _curvature(problem, method, live, size):
    """(mu_min, source) of smallest_curvature, its arguments checked."""
    kind, lam = problem.kind, problem.lam
    if kind == "least_squares":
        zero = np.zeros(problem.weight_shape)
        value = _smallest_eigenvalue(_hessian_operator(problem, zero, False, live), size,
                                     problem.L_max, lambda: _linear_hessian(problem, zero, live))
        source = "exact: smallest eigenvalue of X^T X / n + lam"
    elif method == "bound" or (kind == "multinomial" and method == "auto"):
        value = lam
        source = ("exact: lam (class-mean directions carry no softmax curvature)"
                  if kind == "multinomial" else "lower bound: lam")
    else:
        project = kind == "multinomial"
        value = _smallest_eigenvalue(
            _hessian_operator(problem, problem.w_star, project, live), size, problem.L_max,
            None if project else lambda: _linear_hessian(problem, problem.w_star, live))
        source = ("exact: smallest Hessian eigenvalue at w* on zero-class-mean weights"
                  if project else "exact: smallest Hessian eigenvalue at w*")
    return value, source


def bits_needed(problem, *, mu_min="auto", max_bits=fixed_point.MAX_BITS):
    """Predicted bits for HALP to converge linearly on ``problem`` (a halp_core Problem).

    The rule: the smallest b with 2^(b-1) - 1 >= kappa sqrt(d), kappa = L_max / mu_min, d the
    number of weights; the theory it rests on (the conditions of Theorem 1 of De Sa et al.,
    2018, arXiv:1803.03383) and where it is a rule of thumb: this module's docstring.

    mu_min: "auto", "bound" or "centered" (see :func:`smallest_curvature`), or a number > 0 to
    use a curvature you know; max_bits: the widest precision available (default 16, the
    library's; ``fits`` says whether the prediction is within it).
    Returns a :class:`BitBudget` (bits, fits, kappa, L_max, mu_min, mu_source, d, rule).
    ValueError for a problem that is not strongly convex (see smallest_curvature).
    """
    validate.instance(problem, Problem, "problem")
    max_bits = validate.integer(max_bits, "max_bits", fixed_point.MIN_BITS)
    if isinstance(mu_min, str):
        mu, source = smallest_curvature(problem, method=mu_min)
    else:
        mu, source = validate.real(mu_min, "mu_min", positive=True), "given"
    d = int(live_features(problem).sum()) * int(np.prod(problem.weight_shape[1:]))
    kappa = max(problem.L_max / mu, 1.0)
    bits = bits_for(kappa, d)
    return BitBudget(bits=bits, fits=bits <= max_bits, kappa=problem.L_max / mu,
                     L_max=problem.L_max, mu_min=mu, mu_source=source, d=d,
                     calibrated_bits=bits_for(kappa, d, CALIBRATION))
