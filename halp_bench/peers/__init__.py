"""Peer solvers: what a user would pick instead of halp_core, run on *our* objective.

Every peer solves f(w) = (1/n) sum_i l(x_i^T w, y_i) + (lam/2) ||w||^2 of a halp_core problem
(least squares or binary logistic; no intercept) on the problem's data ``problem.X`` (the
dequantized b-bit data, so f* is shared with our solvers). Each peer's regularization convention
is mapped to lam below; tests/test_peers.py checks every mapping numerically against
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
recorded iterate afterwards with the shared float64 objective (``halp_core.solvers._evaluate``),
so evaluation is never inside the timed work. Three ways to get there, per peer:

  "stepped"   the peer exposes one-epoch calls that resume exactly (sklearn SGD partial_fit,
              sklearn's sag_solver with its warm-start memory, tick's C++ solver.solve());
              seconds = sum of the timed epoch calls.
  "callback"  one call with a per-epoch callback that copies the iterate (lightning, copt);
              seconds = time since the call started (copt: since its first callback, which comes
              after its data conversion and before its Numba compilation) minus the callbacks' time.
  "restarted" no resumable epochs: a fresh fit per checkpoint k of ``restart_grid(epochs)`` with
              max_iter = k (cyanure, lbfgs); seconds = the time of that fit.

A peer whose library is not installed is listed by :func:`peer_status` with the reason; the
suites and the dashboard iterate over :func:`available_peers` and so skip it.
"""

import importlib
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _validate
from .problems import BinaryLogistic, LeastSquares, Problem
from .solvers import HISTORY_COLUMNS, Result, _evaluate, _positive, _whole

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


# ---- trajectory recorders ------------------------------------------------------------------------

def _stepped(run_epoch, current_w, epochs):
    """[(epoch, seconds, w)] from ``epochs`` timed calls of run_epoch(); stops at a non-finite w."""
    out, seconds = [], 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        run_epoch()
        seconds += time.perf_counter() - start
        w = current_w()
        out.append((epoch, seconds, w))
        if not np.isfinite(w).all():
            break
    return out


class _Recorder:
    """Per-epoch callback: copies the iterate and its time (its own time is subtracted)."""

    def __init__(self, current_w, start_at_first_call=False):
        self.current_w = current_w
        self.points = []
        self.start = None
        self.overhead = 0.0
        self.skip_first = start_at_first_call

    def begin(self):
        self.start = time.perf_counter()

    def __call__(self, state):
        now = time.perf_counter()
        if self.skip_first:
            self.skip_first, self.start = False, now
        else:
            w = self.current_w(state)
            self.points.append((len(self.points) + 1, now - self.start - self.overhead, w))
        self.overhead += time.perf_counter() - now


def restart_grid(epochs):
    """Checkpoints of restarted peers: 1, 2, ..., then k -> max(k + 1, floor(1.25 k)) (so no gap
    is wider than 25%), ending at ``epochs`` (an int >= 1)."""
    epochs = _whole(epochs, "epochs", 1)
    grid, k = [], 1
    while k < epochs:
        grid.append(k)
        k = max(k + 1, k * 5 // 4)
    return grid + [epochs]


def _restarted(fit, epochs):
    """[(k, seconds, w)] from one fresh timed ``fit(k) -> w`` per checkpoint k of restart_grid."""
    out = []
    for k in restart_grid(epochs):
        start = time.perf_counter()
        w = fit(k)
        out.append((k, time.perf_counter() - start, w))
        if not np.isfinite(w).all():
            break
    return out


# ---- scikit-learn --------------------------------------------------------------------------------

def _sklearn_sgd(problem, step, epochs, seed):
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    common = dict(penalty="l2", alpha=problem.lam, fit_intercept=False, learning_rate="constant",
                  eta0=step, shuffle=True, random_state=np.random.RandomState(seed))
    if problem.kind == "logistic":
        model = SGDClassifier(loss="log_loss", **common)
        fit = lambda: model.partial_fit(problem.X, problem.y, classes=np.array([-1.0, 1.0]))  # noqa: E731
    else:
        model = SGDRegressor(loss="squared_error", **common)
        fit = lambda: model.partial_fit(problem.X, problem.y)  # noqa: E731
    return _stepped(fit, lambda: model.coef_.ravel().astype(np.float64), epochs)


def _sklearn_sag(problem, epochs, seed, is_saga):
    """One sag_solver epoch per call, resumed through its warm-start memory (the kernel that
    LogisticRegression / Ridge with solver sag or saga run; automatic step)."""
    from sklearn.linear_model._sag import sag_solver

    X = problem.X
    y = (problem.y + 1.0) / 2.0 if problem.kind == "logistic" else problem.y  # log loss: 0/1 labels
    mem = {"coef": np.zeros((problem.d, 1))}
    rng = np.random.RandomState(seed)
    max_sq = float(np.einsum("ij,ij->i", X, X).max())
    loss = "log" if problem.kind == "logistic" else "squared"

    def run_epoch():
        nonlocal mem
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, mem = sag_solver(X, y, None, loss, problem.n * problem.lam, 0.0, 1, 0.0, 0, rng,
                                   False, max_sq, mem, is_saga)

    return _stepped(run_epoch, lambda: np.array(mem["coef"][:, 0], dtype=np.float64), epochs)


def _sklearn_lbfgs(problem, epochs, seed):
    from sklearn.linear_model import LogisticRegression

    def fit(k):
        model = LogisticRegression(solver="lbfgs", C=1.0 / (problem.n * problem.lam),
                                   fit_intercept=False, max_iter=k, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(problem.X, problem.y)
        return model.coef_.ravel().astype(np.float64)

    return _restarted(fit, epochs)


# ---- cyanure -------------------------------------------------------------------------------------

def _cyanure_svrg(problem, epochs, seed):
    from cyanure.estimators import LogisticRegression, Regression

    def fit(k):
        cls = LogisticRegression if problem.kind == "logistic" else Regression
        model = cls(lambda_1=problem.lam, penalty="l2", fit_intercept=False, solver="svrg",
                    max_iter=k, tol=0.0, duality_gap_interval=10**9, verbose=False, n_threads=1,
                    random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(problem.X, problem.y)
        return model.coef_.ravel().astype(np.float64)

    return _restarted(fit, epochs)


# ---- tick ----------------------------------------------------------------------------------------

def _tick(problem, step, epochs, seed, algorithm, dtype):
    """tick's C++ SVRG / SAGA, one epoch per ``_solver.solve()`` call (the loop tick's own
    verbose mode runs), a new permutation per epoch: with tick's uniform sampling
    (rand_type="unif") its SAGA converged to a point 4.3e-3 (relative) away from w* on a
    600-sample problem whatever the step, as if one sample were never drawn (docs/peers.md).
    float32: the L2 prox rounds step * lam to a multiple of 2^-23 (see tick_float32_lam); a warning
    says when the lam it then solves is more than 1% off ours."""
    from tick.linear_model import ModelLinReg, ModelLogReg
    from tick.prox import ProxL2Sq
    from tick.solver import SAGA, SVRG

    if dtype == np.float32:
        lam_eff = tick_float32_lam(step, problem.lam)
        if abs(lam_eff / problem.lam - 1) > 0.01:
            warnings.warn(f"tick's float32 L2 prox rounds step * lam = {step * problem.lam:.4g} to "
                          f"a multiple of 2^-23: it solves lam = {lam_eff:.6g} "
                          f"({lam_eff / problem.lam:.4f} x ours); peers.float32_exact_step(step, "
                          f"lam) = {_exact_or_none(step, problem.lam)} avoids it", RuntimeWarning,
                          stacklevel=4)
    model_cls = ModelLogReg if problem.kind == "logistic" else ModelLinReg
    model = model_cls(fit_intercept=False).fit(problem.X.astype(dtype), problem.y.astype(dtype))
    solver = (SVRG if algorithm == "svrg" else SAGA)(step=step, tol=0.0, max_iter=epochs,
                                                     verbose=False, seed=seed, rand_type="perm")
    solver.set_model(model).set_prox(ProxL2Sq(strength=problem.lam))
    _, _, iterate, _ = solver._initialize_values(np.zeros(problem.d, dtype=dtype), step,
                                                  n_empty_vectors=1)
    solver._solver.set_starting_iterate(iterate)

    def current_w():
        solver._solver.get_minimizer(iterate)
        return iterate.astype(np.float64)

    return _stepped(solver._solver.solve, current_w, epochs)


_F32_ULP = 2.0 ** -23  # spacing of float32 numbers just above 1


def tick_float32_lam(step, lam):
    """The lam that tick's float32 solvers really apply at ``step``: their ProxL2Sq computes
    x / (1 + step * lam) in float32, where 1 + step * lam rounds to 1 + k 2^-23 (measured:
    step = 1/L_max on binary MNIST, lam = 1e-4, gives k = 11 for 11.46, lam_eff = 0.960 lam).
    step: finite > 0; lam: finite >= 0."""
    step, lam = _positive(step, "step"), _validate.real(lam, "lam", minimum=0)
    one_plus = np.float32(1.0) + np.float32(step) * np.float32(lam)
    return (float(one_plus) - 1.0) / step


def float32_exact_step(step, lam):
    """The largest step <= ``step`` with step * lam a whole multiple of 2^-23, at which tick's
    float32 L2 prox applies exactly lam (:func:`tick_float32_lam`). ValueError when
    step * lam < 2^-23 (the float32 prox would not regularize at all)."""
    step, lam = _positive(step, "step"), _positive(lam, "lam")
    k = np.floor(step * lam / _F32_ULP)
    if k < 1:
        raise ValueError(f"step * lam = {step * lam:.3g} is below float32's resolution at 1 "
                         f"(2^-23 = {_F32_ULP:.3g}): no step <= {step:.3g} is exact")
    return float(k * _F32_ULP / lam)


def _exact_or_none(step, lam):
    try:
        return f"{float32_exact_step(step, lam):.6g}"
    except ValueError:
        return "none (step * lam < 2^-23)"


# ---- lightning -----------------------------------------------------------------------------------

def _lightning(problem, step, epochs, seed, algorithm):
    """lightning's SVRG / SAGA (Cython), uniform sampling with replacement (its randomkit draws
    the stream of numpy's RandomState(seed).randint). Its SAGA is the textbook variant: the
    gradient table starts at the gradients of w = 0 (one uncounted pass), unlike tick's zero table;
    measured on binary MNIST, that leaves it 5-9% above SVRG after 10 epochs (docs/peers.md)."""
    from lightning.classification import SAGAClassifier, SVRGClassifier
    from lightning.regression import SAGARegressor, SVRGRegressor

    logistic = problem.kind == "logistic"
    rec = _Recorder(lambda est: (est.coef_[0] * est.coef_scale_[0]).astype(np.float64))
    kw = dict(eta=step, alpha=problem.lam, loss="log" if logistic else "squared", max_iter=epochs,
              tol=0.0, callback=rec, random_state=seed)
    if algorithm == "svrg":
        model = (SVRGClassifier if logistic else SVRGRegressor)(**kw)
    else:
        model = (SAGAClassifier if logistic else SAGARegressor)(beta=0.0, **kw)
    rec.begin()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(problem.X, problem.y)
    return rec.points


# ---- copt ----------------------------------------------------------------------------------------

def _copt_svrg(problem, step, epochs, seed):
    """copt's minimize_svrg (Numba, compiled inside every call; per-epoch permutation drawn from
    NumPy's global RNG, which is seeded here and restored afterwards). Its logistic derivative is
    a ``parallel=True`` kernel called once per sample: it runs on one Numba thread here, like
    every other solver (a parallel launch per sample on 2 threads made it ~100x slower)."""
    import copt
    import numba
    from copt import loss

    if problem.kind == "logistic":
        b = (problem.y + 1.0) / 2.0
        f_deriv = loss.LogLoss(problem.X, b).partial_deriv
    else:
        b = problem.y
        f_deriv = loss.SquareLoss(problem.X, b).partial_deriv
    rec = _Recorder(lambda state: state["x"].astype(np.float64), start_at_first_call=True)
    saved, threads = np.random.get_state(), numba.get_num_threads()
    np.random.seed(seed)
    numba.set_num_threads(1)
    try:
        copt.minimize_svrg(f_deriv, problem.X, b, np.zeros(problem.d), step, alpha=problem.lam,
                           max_iter=epochs, tol=0.0, callback=rec)
    finally:
        np.random.set_state(saved)
        numba.set_num_threads(threads)
    return rec.points


# ---- registry ------------------------------------------------------------------------------------

def _spec(name, library, package, algorithm, precision, step, trajectory, passes, runner,
          kinds=KINDS, sampling=None):
    return PeerSpec(name, library, package, algorithm, precision, step, trajectory, kinds,
                    passes, runner, sampling)


_NAN = float("nan")
PEERS = {s.name: s for s in (
    _spec("sklearn-sgd", "sklearn", "scikit-learn", "sgd", "fp64", "same", "stepped", 1.0,
          lambda p, a, e, s: _sklearn_sgd(p, a, e, s), sampling="permutation"),
    _spec("sklearn-sag", "sklearn", "scikit-learn", "sag", "fp64", "automatic", "stepped", 1.0,
          lambda p, a, e, s: _sklearn_sag(p, e, s, False), sampling="uniform"),
    _spec("sklearn-saga", "sklearn", "scikit-learn", "saga", "fp64", "automatic", "stepped", 1.0,
          lambda p, a, e, s: _sklearn_sag(p, e, s, True), sampling="uniform"),
    _spec("sklearn-lbfgs", "sklearn", "scikit-learn", "lbfgs", "fp64", "automatic", "restarted",
          _NAN, lambda p, a, e, s: _sklearn_lbfgs(p, e, s), kinds=("logistic",)),
    _spec("cyanure-svrg", "cyanure", "cyanure", "svrg", "fp64", "automatic", "restarted", _NAN,
          lambda p, a, e, s: _cyanure_svrg(p, e, s)),
    _spec("tick-svrg-fp64", "tick", "tick", "svrg", "fp64", "same", "stepped", 2.0,
          lambda p, a, e, s: _tick(p, a, e, s, "svrg", np.float64), sampling="permutation"),
    _spec("tick-svrg-fp32", "tick", "tick", "svrg", "fp32", "same", "stepped", 2.0,
          lambda p, a, e, s: _tick(p, a, e, s, "svrg", np.float32), sampling="permutation"),
    _spec("tick-saga-fp64", "tick", "tick", "saga", "fp64", "same", "stepped", 1.0,
          lambda p, a, e, s: _tick(p, a, e, s, "saga", np.float64), sampling="permutation"),
    _spec("tick-saga-fp32", "tick", "tick", "saga", "fp32", "same", "stepped", 1.0,
          lambda p, a, e, s: _tick(p, a, e, s, "saga", np.float32), sampling="permutation"),
    _spec("lightning-svrg", "lightning", "sklearn-contrib-lightning", "svrg", "fp64", "same",
          "callback", 2.0, lambda p, a, e, s: _lightning(p, a, e, s, "svrg"),
          sampling="uniform"),
    _spec("lightning-saga", "lightning", "sklearn-contrib-lightning", "saga", "fp64", "same",
          "callback", 1.0, lambda p, a, e, s: _lightning(p, a, e, s, "saga"),
          sampling="uniform"),
    _spec("copt-svrg", "copt", "copt", "svrg", "fp64", "same", "callback", 2.0,
          lambda p, a, e, s: _copt_svrg(p, a, e, s), sampling="permutation"),
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
    _validate.instance(problem, Problem, "problem")
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
    Returns a :class:`halp_core.Result` whose ``history`` has the columns of ``halp_core.solve``
    (epoch, passes, seconds, loss, subopt, grad_norm, dist): one row for the start (w = 0) and one
    per recorded epoch (restarted peers: per checkpoint of ``restart_grid(epochs)``); seconds is
    the peer's own time, evaluation excluded; passes is NaN where the peer's count is unknown.
    """
    spec = check_peer(problem, name)
    epochs = _whole(epochs, "epochs", 1)
    seed = _whole(seed, "seed", 0)
    if spec.step == "same":
        if step is None:
            raise ValueError(f"{name} takes our step: pass step=alpha (absolute, > 0)")
        step = _positive(step, "step")
    else:
        step = None
    points = spec.runner(problem, step, epochs, seed)
    w0 = np.zeros(problem.weight_shape)
    rows = [dict(zip(HISTORY_COLUMNS, (0, 0.0, 0.0, *_evaluate(problem, w0))))]
    for epoch, seconds, w in points:
        rows.append(dict(zip(HISTORY_COLUMNS, (epoch, epoch * spec.passes_per_epoch, seconds,
                                               *_evaluate(problem, w)))))
    if points and not np.isfinite(points[-1][2]).all():
        warnings.warn(f"{name} diverged at epoch {points[-1][0]} (non-finite iterate); try a "
                      f"smaller step", RuntimeWarning, stacklevel=2)
    settings = dict(problem=problem.name, solver=name, precision=spec.precision, step=step,
                    sampling=spec.sampling, seed=seed, library=spec.package,
                    algorithm=spec.algorithm, trajectory=spec.trajectory)
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    history.attrs.update(settings)
    w = points[-1][2] if points else w0
    return Result(w=w, history=history, saturations=np.zeros(len(points), dtype=np.int64),
                  settings=settings)


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
    target = _validate.real(target, "target")
    hit = history[(history["epoch"] >= 1) & (history["subopt"] <= target)]
    return float(hit["seconds"].iloc[0]) if len(hit) else float("inf")
