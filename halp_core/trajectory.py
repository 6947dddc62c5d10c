"""The one trajectory loop: run epochs, time only the solver's work, evaluate each recorded iterate
outside the timed region, and build the history DataFrame and the :class:`Result`.

``halp_core.solve``, the peers (``halp_bench.peers.solve_peer``) and the MLP
(``halp_bench.mlp.train``) all record through :func:`record`; the timed points come from
:func:`timed_epochs` (one timed call per epoch) or, for peers that run all epochs in one call,
from the peer's own per-epoch list.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HISTORY_COLUMNS = ("epoch", "passes", "seconds", "loss", "subopt", "grad_norm", "dist")
"""Columns of a convex trajectory (``Result.history``)."""


@dataclass
class Result:
    """A solver run: final weights ``w`` (float64, the problem's weight shape), the per-epoch
    ``history`` (DataFrame with HISTORY_COLUMNS; seconds = cumulative solver time), the number of
    saturated (clamped) coordinate updates per epoch, the settings used, and the failure
    diagnosis: ``diverged_epoch``, the first epoch that met the divergence rule (int, None for a
    healthy run), ``divergence``, the warning it raised ("" for a healthy run), and
    ``no_progress``, the warning of a run that met the no-progress rule ("" otherwise)."""

    w: np.ndarray
    history: pd.DataFrame
    saturations: np.ndarray
    settings: dict = field(default_factory=dict)
    diverged_epoch: int | None = None
    divergence: str = ""
    no_progress: str = ""

    @property
    def diverged(self):
        """Whether the run met the divergence rule (see :func:`halp_core.solve`)."""
        return self.diverged_epoch is not None

    @property
    def failed(self):
        """Whether the run diverged or made no progress (see :func:`halp_core.solve`)."""
        return self.diverged or bool(self.no_progress)


@dataclass
class Trajectory:
    """What :func:`record` returns: ``history`` (DataFrame, one row for the start and one per
    recorded epoch, settings and the failure diagnosis in ``history.attrs``), ``state`` (the
    last recorded iterate), ``diverged_epoch`` (int or None), ``divergence`` and ``no_progress``
    (str, "" when not met)."""

    history: pd.DataFrame
    state: object
    diverged_epoch: int | None
    divergence: str
    no_progress: str = ""


def evaluate(problem, w):
    """(loss, subopt, grad_norm, dist) of w (float64, the problem's weight shape) with the shared
    float64 objective: f(w), f(w) - f*, ||grad f(w)||, ||w - w*|| (inf or NaN, without numpy's
    overflow warnings, once w has diverged)."""
    with np.errstate(over="ignore", invalid="ignore"):
        f, g = problem.loss_and_grad(w)
        return (f, problem.suboptimality(w), float(np.linalg.norm(g)),
                float(np.linalg.norm(w - problem.w_star)))


def finite(state):
    """Whether every entry of ``state`` (an array, or a list / tuple of arrays) is finite."""
    parts = state if isinstance(state, (list, tuple)) else (state,)
    return all(np.isfinite(part).all() for part in parts)


def timed_epochs(run_epoch, current, epochs):
    """Yield (epoch, seconds, state) for epoch = 1..epochs: ``run_epoch()`` does one epoch and is
    the only timed call (seconds: cumulative, float s); ``current()`` returns the iterate after it,
    read outside the timer. Lazy: the consumer evaluates epoch k before epoch k + 1 runs."""
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        run_epoch()
        seconds += time.perf_counter() - start
        yield epoch, seconds, current()


def record(points, evaluate, start, *, passes_per_epoch, settings, columns=HISTORY_COLUMNS,
           check=None, progress=None, callback=None):
    """Evaluate a trajectory and build its history.

    points: iterable of (epoch, seconds, state), seconds the cumulative solver time (s); evaluate:
    ``evaluate(state)`` -> the values of ``columns[3:]`` (called outside any timing); start: the
    state before epoch 1 (recorded as epoch 0, 0 passes, 0 s); passes_per_epoch: data passes of
    one epoch (float, NaN if unknown); settings: dict stored in ``history.attrs`` (with the
    divergence diagnosis when there is a check); columns: the history's columns, starting with
    epoch, passes, seconds; check: optional
    ``check(epoch, state, row, first_row, previous_state)`` -> a divergence message or None; the
    first message raises one RuntimeWarning and is recorded, and with a check a non-finite state
    or first evaluated value (the loss) ends the run; progress: optional ``progress(rows)`` (rows:
    the history's rows as dicts, the start's first) -> a no-progress message or None, called once
    after the last epoch of a run that did not diverge; its message raises one RuntimeWarning and
    is recorded; callback: optional ``callback(epoch, row)`` after each recorded epoch. With a
    check, ``history.attrs`` holds diverged_epoch, divergence and no_progress. Returns a
    :class:`Trajectory`.
    """
    rows = [dict(zip(columns, (0, 0.0, 0.0, *evaluate(start))))]
    state, diverged_epoch, divergence = start, None, ""
    for epoch, seconds, new in points:
        previous, state = state, new
        row = dict(zip(columns, (epoch, epoch * passes_per_epoch, seconds, *evaluate(state))))
        rows.append(row)
        if callback is not None:
            callback(epoch, row)
        if check is None:
            continue
        if diverged_epoch is None:
            message = check(epoch, state, row, rows[0], previous)
            if message is not None:
                diverged_epoch, divergence = epoch, message
                warnings.warn(message, RuntimeWarning, stacklevel=3)
        if not (finite(state) and np.isfinite(row[columns[3]])):
            break
    no_progress = ""
    if progress is not None and diverged_epoch is None:
        no_progress = progress(rows) or ""
        if no_progress:
            warnings.warn(no_progress, RuntimeWarning, stacklevel=3)
    history = pd.DataFrame(rows, columns=list(columns))
    history.attrs.update(settings)
    if check is not None:
        history.attrs.update(diverged_epoch=diverged_epoch, divergence=divergence,
                             no_progress=no_progress)
    return Trajectory(history, state, diverged_epoch, divergence, no_progress)
