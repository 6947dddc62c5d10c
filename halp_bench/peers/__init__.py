"""Peer solvers: what a user would pick instead of halp_core, run on *our* objective.

Every peer solves f(w) = (1/n) sum_i l(x_i^T w, y_i) + (lam/2) ||w||^2 of a halp_core problem
(least squares or binary logistic; no intercept) on the problem's data ``problem.X`` (the
dequantized b-bit data, so f* is shared with our solvers). Each peer's regularization convention
is mapped to lam below; tests/halp_bench/test_peers.py checks every mapping numerically against
``problem.loss`` / ``problem.w_star``:

  scikit-learn SGDClassifier / SGDRegressor   alpha = lam        (penalty "l2": alpha ||w||^2 / 2)
  scikit-learn sag / saga (sag_solver)         alpha = n lam      (sum of losses + alpha ||w||^2 / 2)
    = LogisticRegression(C = 1 / (n lam)), Ridge(alpha = n lam)
  scikit-learn LogisticRegression lbfgs        C = 1 / (n lam)
  cyanure LogisticRegression / Regression     lambda_1 = lam
  tick ModelLogReg / ModelLinReg + ProxL2Sq    strength = lam
  lightning SVRG* / SAGA*                      alpha = lam
  copt minimize_svrg                           alpha = lam        (logistic labels (y + 1) / 2)

Steps: the peers whose API takes a step (``PeerSpec.step == "same"``) run with the caller's
absolute step alpha; the others (scikit-learn sag / saga, cyanure, lbfgs) choose their own
(``"automatic"``) and ignore it. Details and the reasons per peer: docs/peers.md.

tick's float32 solvers apply the L2 term as the prox x / (1 + alpha lam) in float32, so alpha lam
is rounded to a multiple of 2^-23: at alpha = 1/L_max on binary MNIST (alpha lam = 1.37e-6) they
solve lam_eff = 0.960 lam, which left them 8% below their float64 twins after 10 epochs
(measured; docs/peers.md). :func:`tick_float32_lam` gives lam_eff, the adapter warns when it is
more than 1% off, and :func:`float32_exact_step` gives the largest step <= alpha at which
alpha lam is exact in float32 (the step of the MNIST cross-check).

Sampling (``PeerSpec.sampling``): "uniform" (with replacement), "permutation" (one shuffle per
epoch) or None (deterministic, or not documented by the peer); a comparison with our solvers
runs ours with the same scheme (the design contract, section 4: every solver in a comparison
uses the same scheme).

Trajectories: a run records the iterate after every epoch (or, for peers that cannot be resumed,
after every checkpoint of a restart grid) together with the peer's own time, and evaluates every
recorded iterate afterwards with the shared float64 objective (``halp_core.trajectory.evaluate``),
so evaluation is never inside the timed work. Three ways to get there, per peer:

  "stepped"   the peer exposes one-epoch calls that resume exactly (sklearn SGD partial_fit,
              sklearn's sag_solver with its warm-start memory, tick's C++ solver.solve());
              seconds = sum of the timed epoch calls.
  "callback"  one call with a per-epoch callback that copies the iterate (lightning, copt);
              seconds = time since the call started (copt: since its first callback, which comes
              after its data conversion and before its Numba compilation) minus the callbacks' time.
  "restarted" no resumable epochs: a fresh fit per checkpoint k of ``restart_grid(epochs)`` with
              max_iter = k (cyanure, lbfgs); seconds = the time of that fit.

One module per library (``sklearn``, ``cyanure``, ``tick``, ``lightning``, ``copt``) holds its
runners; this package holds the registry of peers (:data:`PEERS`) and the functions that run them.

A peer whose library is not installed is listed by :func:`peer_status` with the reason; the
suites and the dashboard iterate over :func:`available_peers` and so skip it.
"""

import importlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from halp_core import validate, trajectory
from halp_core.problems import BinaryLogistic, LeastSquares, Problem

from . import copt, cyanure, lightning, sklearn, tick
from .recorders import restart_grid
from .tick import float32_exact_step, tick_float32_lam

__all__ = ["KINDS", "PEERS", "PeerSpec", "PeerUnavailable", "available_peers", "check_peer",
           "float32_exact_step", "peer_status", "restart_grid", "seconds_per_epoch", "solve_peer",
           "tick_float32_lam", "time_to_target"]

KINDS = ("logistic", "least_squares")


@dataclass(frozen=True)
class PeerSpec:
    """One peer. name: registry key; library: import name; package: pip name; algorithm: sgd,
    sag, saga, svrg or lbfgs; precision: fp64 / fp32 (the dtype the peer computes in); step:
    "same" (takes our step) or "automatic"; trajectory: stepped / callback / restarted;
    kinds: problem kinds it solves; passes_per_epoch: data passes of one epoch (NaN: unknown);
    sampling: "uniform" (with replacement), "permutation" (a shuffle per epoch) or None
    (deterministic or not documented)."""

    name: str
    library: str
    package: str
    algorithm: str
    precision: str
    step: str
    trajectory: str
    kinds: tuple
    passes_per_epoch: float
    runner: object
    sampling: object = None


# ---- registry ------------------------------------------------------------------------------------

def _spec(name, library, package, algorithm, precision, step, trajectory, passes, runner,
          kinds=KINDS, sampling=None):
    return PeerSpec(name, library, package, algorithm, precision, step, trajectory, kinds,
                    passes, runner, sampling)


_NAN = float("nan")
PEERS = {s.name: s for s in (
    _spec("sklearn-sgd", "sklearn", "scikit-learn", "sgd", "fp64", "same", "stepped", 1.0,
          lambda p, a, e, s: sklearn.sgd(p, a, e, s), sampling="permutation"),
    _spec("sklearn-sag", "sklearn", "scikit-learn", "sag", "fp64", "automatic", "stepped", 1.0,
          lambda p, a, e, s: sklearn.sag(p, e, s, False), sampling="uniform"),
    _spec("sklearn-saga", "sklearn", "scikit-learn", "saga", "fp64", "automatic", "stepped", 1.0,
          lambda p, a, e, s: sklearn.sag(p, e, s, True), sampling="uniform"),
    _spec("sklearn-lbfgs", "sklearn", "scikit-learn", "lbfgs", "fp64", "automatic", "restarted",
          _NAN, lambda p, a, e, s: sklearn.lbfgs(p, e, s), kinds=("logistic",)),
    _spec("cyanure-svrg", "cyanure", "cyanure", "svrg", "fp64", "automatic", "restarted", _NAN,
          lambda p, a, e, s: cyanure.svrg(p, e, s)),
    _spec("tick-svrg-fp64", "tick", "tick", "svrg", "fp64", "same", "stepped", 2.0,
          lambda p, a, e, s: tick.solve(p, a, e, s, "svrg", np.float64), sampling="permutation"),
    _spec("tick-svrg-fp32", "tick", "tick", "svrg", "fp32", "same", "stepped", 2.0,
          lambda p, a, e, s: tick.solve(p, a, e, s, "svrg", np.float32), sampling="permutation"),
    _spec("tick-saga-fp64", "tick", "tick", "saga", "fp64", "same", "stepped", 1.0,
          lambda p, a, e, s: tick.solve(p, a, e, s, "saga", np.float64), sampling="permutation"),
    _spec("tick-saga-fp32", "tick", "tick", "saga", "fp32", "same", "stepped", 1.0,
          lambda p, a, e, s: tick.solve(p, a, e, s, "saga", np.float32), sampling="permutation"),
    _spec("lightning-svrg", "lightning", "sklearn-contrib-lightning", "svrg", "fp64", "same",
          "callback", 2.0, lambda p, a, e, s: lightning.solve(p, a, e, s, "svrg"),
          sampling="uniform"),
    _spec("lightning-saga", "lightning", "sklearn-contrib-lightning", "saga", "fp64", "same",
          "callback", 1.0, lambda p, a, e, s: lightning.solve(p, a, e, s, "saga"),
          sampling="uniform"),
    _spec("copt-svrg", "copt", "copt", "svrg", "fp64", "same", "callback", 2.0,
          lambda p, a, e, s: copt.svrg(p, a, e, s), sampling="permutation"),
)}
"""Every peer, by name (the names are asv parameter values: append only)."""


class PeerUnavailable(ImportError):
    """The library of a requested peer cannot be imported."""


def peer_status():
    """{peer name: None if its library imports, else the reason it is skipped (str)}."""
    status, libs = {}, {}
    for name, spec in PEERS.items():
        if spec.library not in libs:
            try:
                importlib.import_module(spec.library)
                libs[spec.library] = None
            except Exception as exc:  # a broken install is as unusable as a missing one
                libs[spec.library] = (f"{spec.package} is not importable ({type(exc).__name__}: "
                                      f"{exc}); install the extra: pip install 'halp-core[peers]'")
        status[name] = libs[spec.library]
    return status


def available_peers(kind=None):
    """Names of the installed peers (all kinds, or those that solve problems of ``kind``)."""
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise ValueError(f"peers solve {' and '.join(KINDS)} problems, not {kind!r}")
    return [name for name, reason in peer_status().items()
            if reason is None and (kind is None or kind in PEERS[name].kinds)]


def check_peer(problem, name):
    """The PeerSpec of ``name`` for ``problem``; clear errors for an unknown peer, an unsupported
    problem, or a peer that is not installed (PeerUnavailable)."""
    validate.instance(problem, Problem, "problem")
    if not isinstance(name, str) or name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; choose one of {', '.join(PEERS)}")
    spec = PEERS[name]
    if not isinstance(problem, (BinaryLogistic, LeastSquares)) or problem.kind not in spec.kinds:
        raise ValueError(f"{name} solves {' and '.join(spec.kinds)} problems; "
                         f"{problem.name} is {problem.kind}")
    reason = peer_status()[name]
    if reason is not None:
        raise PeerUnavailable(f"peer {name} is skipped: {reason}")
    return spec


def solve_peer(problem, name, *, step=None, epochs, seed=0):
    """Run peer ``name`` on ``problem`` for ``epochs`` epochs and record its trajectory.

    step: absolute step alpha > 0, required by peers with ``step == "same"``, ignored (and stored
    as None in the settings) by the others; epochs: int >= 1 (for lbfgs: iterations); seed: int.
    Returns a :class:`halp_core.Result` (built by halp_core.trajectory.record) whose ``history``
    has the columns of ``halp_core.solve`` (epoch, passes, seconds, loss, subopt, grad_norm,
    dist): one row for the start (w = 0) and one per recorded epoch (restarted peers: per
    checkpoint of ``restart_grid(epochs)``); seconds is the peer's own time, evaluation excluded;
    passes is NaN where the peer's count is unknown. A non-finite iterate ends the record with one
    RuntimeWarning (``Result.diverged_epoch``).
    """
    spec = check_peer(problem, name)
    epochs = validate.integer(epochs, "epochs", 1)
    seed = validate.integer(seed, "seed", 0)
    if spec.step == "same":
        if step is None:
            raise ValueError(f"{name} takes our step: pass step=alpha (absolute, > 0)")
        step = validate.real(step, "step", positive=True)
    else:
        step = None
    points = spec.runner(problem, step, epochs, seed)
    settings = dict(problem=problem.name, solver=name, precision=spec.precision, step=step,
                    sampling=spec.sampling, seed=seed, library=spec.package,
                    algorithm=spec.algorithm, trajectory=spec.trajectory)

    def check(epoch, w, row, first, w_prev):
        if not np.isfinite(w).all():
            return f"{name} diverged at epoch {epoch} (non-finite iterate); try a smaller step"
        return None

    record = trajectory.record(points, lambda w: trajectory.evaluate(problem, w),
                               np.zeros(problem.weight_shape),
                               passes_per_epoch=spec.passes_per_epoch, settings=settings,
                               check=check)
    return trajectory.Result(w=record.state, history=record.history,
                             saturations=np.zeros(len(record.history) - 1, dtype=np.int64),
                             settings=settings, diverged_epoch=record.diverged_epoch,
                             divergence=record.divergence)


def _check_history(history, columns):
    """TypeError / ValueError unless ``history`` is a DataFrame with ``columns`` (a Result's)."""
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame (Result.history), got "
                        f"{type(history).__name__}")
    missing = [c for c in columns if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks the column(s) {', '.join(missing)}")


def seconds_per_epoch(history):
    """Steady per-epoch time (s) of a trajectory: (seconds at the last recorded epoch - seconds
    at the first) / (epochs between); this leaves out one-off set-up (copt's compilation, a
    restarted peer's fixed cost). NaN with fewer than two recorded epochs."""
    _check_history(history, ("epoch", "seconds"))
    done = history[history["epoch"] >= 1]
    if len(done) < 2:
        return float("nan")
    first, last = done.iloc[0], done.iloc[-1]
    return float((last["seconds"] - first["seconds"]) / (last["epoch"] - first["epoch"]))


def time_to_target(history, target):
    """Seconds at the first recorded epoch with f - f* <= target (a number; inf if never
    reached)."""
    _check_history(history, ("epoch", "seconds", "subopt"))
    target = validate.real(target, "target")
    hit = history[(history["epoch"] >= 1) & (history["subopt"] <= target)]
    return float(hit["seconds"].iloc[0]) if len(hit) else float("inf")
