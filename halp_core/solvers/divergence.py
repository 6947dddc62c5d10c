"""The rules that call a run failed: divergence (judged per epoch) and no progress (judged on
the epochs run so far). ``solve`` applies them to every trajectory, ``Solver.check()`` to runs
driven by ``run_epoch()``. What differs between solvers (the likely fix, an epoch allowed to
clamp) comes from the solver's class (``Solver.advice``, ``Solver.may_clamp``), never from its
name.

Divergence: epoch k diverged if its iterate or loss is not finite, if f(w_k) > GROWTH f(w_0)
(w_0 = 0, the start; VR_GROWTH for the variance-reduced solvers, whose registry entry says
``variance_reduced``), or if more than MOSTLY_CLAMPED of the epoch's T x (number of weights)
coordinate updates saturated. Measured on 504 healthy runs (7 problems including pure-noise
targets and random labels, every solver, steps 0.25 .. 1.5 / L_max, two seeds;
tests/halp_core/solvers/test_divergence.py keeps four of the problems): f(w_k) <= 1.82 f(w_0)
for SGD's noisy trajectories, f(w_k) <= 0.997 f(w_0) for the variance-reduced solvers (so a
HALP run that ends above its start, as fp8-e5m2 HALP does on wide rows, is caught), and at most 6% of the updates
clamped, except in HALP's first mu="auto" epoch (then at mu = L_max, a deliberately fine grid:
up to 72%; now ``bit_centering.initial_mu``, which may still clamp at 8 bits), which HALP's
``may_clamp`` exempts. Saturation is not divergence either once f(w_k) - f*
is within AT_FLOOR float64 roundings of f*: there the anchor's gradient is rounding noise, the
grid it sizes is that fine, and a converged HALP run clamped up to 53% of one epoch's updates
with f - f* unchanged at 1e-29 (a 500-epoch sweep run, docs/bits.md).

No progress: a run that did not diverge made no progress if f - f*, ||grad f|| and ||w - w*||
all stayed within STUCK of their start values at every recorded epoch, judged only once the run
has taken at least n inner steps (one data pass: fewer steps may move f by less than that and be
healthy) and only when the start is not already at float64's floor of f* (there the three are
rounding noise). A run that moves at all changes one of them by far more: after one epoch of 182
healthy runs (7 problems, every solver including 2- and 4-bit HALP and the float formats, steps
0.05 and 1.5 / L_max, two seeds) the smallest largest change was 6.9% (SVRG on pure-noise
targets). SGD near its noise floor, whose f - f* rises above a start close to f*, moved: that is
not this rule's failure. A HALP grid that is too coarse (mu=1e-300) rounds every offset to 0 and
leaves all three exactly where they started.
"""

import numpy as np

from .. import trajectory

GROWTH = 10.0
VR_GROWTH = 1.2
MOSTLY_CLAMPED = 0.5
AT_FLOOR = 1e3   # f - f* within this many float64 roundings of f*: converged (at_float_floor)
STUCK = 0.01


def at_float_floor(problem, loss):
    """Whether f(w) = ``loss`` is within AT_FLOOR float64 roundings of the problem's f*: the run
    has converged, and a grid sized by a gradient that is rounding noise may saturate without
    any harm."""
    f_star = abs(problem.f_star)
    return loss - problem.f_star <= AT_FLOOR * np.finfo(np.float64).eps * max(f_star, 1e-300)


def label(run):
    """'<solver> (<precision>)' of ``run``, e.g. 'halp (8 bits)', 'sgd (fp32)'."""
    precision = run.precision if isinstance(run.precision, str) else f"{run.precision} bits"
    return f"{run.name} ({precision})"


def diverged(run, epoch, w, loss, start_loss, w_prev):
    """The warning text if epoch ``epoch`` of ``run`` (a Solver; iterate w, float64, with loss
    f(w)) met the divergence rule, given the start's loss and the previous epoch's iterate
    w_prev; None otherwise."""
    size = int(np.prod(run.problem.weight_shape))
    clamped = run.saturations[-1] / (run.steps_per_epoch * size)
    growth = VR_GROWTH if run.variance_reduced else GROWTH
    if not (np.isfinite(w).all() and np.isfinite(loss)):
        cause = "float32" if run.overflows_float32(w_prev) else "overflow"
        seen = ("float32 overflow: the float32 gradient at the last finite iterate is not "
                f"finite while its float64 evaluation is (max |x_ij| {np.abs(run.data).max():.3g}, "
                f"max |w_j| {np.abs(w_prev).max():.3g}; float32 ends at 3.4e38)"
                if cause == "float32" else "the iterate or its loss is not finite")
    elif loss > growth * start_loss:
        cause, seen = "growth", f"loss {loss:.3g} > {growth:g} x its start {start_loss:.3g}"
    elif (clamped > MOSTLY_CLAMPED and not run.may_clamp(epoch)
          and not at_float_floor(run.problem, loss)):
        cause, seen = "clamped", f"{clamped:.0%} of the coordinate updates saturated"
    else:
        return None
    return f"{label(run)} diverged at epoch {epoch}: {seen}; {run.advice(cause)}"


def no_progress(run, rows):
    """The warning text if ``run`` (a Solver), whose history rows are ``rows`` (dicts with loss,
    subopt, grad_norm and dist: the start's, then one per recorded epoch), met the no-progress
    rule; None otherwise."""
    start, epochs = rows[0], run.epochs_done
    if epochs * run.steps_per_epoch < run.problem.n or at_float_floor(run.problem,
                                                                      start["loss"]):
        return None
    metrics = ("subopt", "grad_norm", "dist")
    if any(not abs(row[m] - start[m]) <= STUCK * start[m] for row in rows[1:] for m in metrics):
        return None
    return (f"{label(run)} made no progress in {epochs} epoch{'s' * (epochs > 1)}: f - f* "
            f"({start['subopt']:.3g}), ||grad f|| and ||w - w*|| stayed within {STUCK:.0%} of "
            f"their start values; {run.advice('stuck')}")


def training_check(name, fix):
    """The divergence rule of a network's training (``trajectory.record``'s ``check``; the MLP and
    halp_bench.nets): an epoch diverged when its weights or training loss (the row's
    ``train_loss``) are not finite or the loss exceeds GROWTH times the start's (a network's loss
    is not convex, so the variance-reduced VR_GROWTH rule does not apply). The message reads
    "<name> diverged at epoch k: <what was seen>; <fix>"."""
    def check(epoch, state, row, first, previous):
        loss, start = row["train_loss"], first["train_loss"]
        if not (trajectory.finite(state) and np.isfinite(loss)):
            seen = "the weights or the training loss are not finite"
        elif loss > GROWTH * start:
            seen = f"training loss {loss:.3g} > {GROWTH:g} x its start {start:.3g}"
        else:
            return None
        return f"{name} diverged at epoch {epoch}: {seen}; {fix}"

    return check
