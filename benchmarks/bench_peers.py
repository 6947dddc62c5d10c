"""Peers: our SVRG-fp64, SVRG-fp32, HALP-8 and HALP-16 against every installed peer
(``halp_bench.peers``: scikit-learn, cyanure, tick, lightning, copt) on the same objective and data.

Problems: binary MNIST logistic regression (50000 x 784, lam = 1e-4, 8-bit data) and synthetic
least squares (PEER_LSQ). Everything is measured once per ``asv run`` in ``setup_cache`` (one
process, so the contenders share the machine's state), and the ``track_`` benchmarks read it:

* per-epoch time: ``TIMING_ROUNDS`` rounds; in each round every contender runs ``TIMING_EPOCHS``
  epochs, one contender after the other (interleaved), and its steady per-epoch time is
  ``peers.seconds_per_epoch`` of that run; the value is the median over rounds.
* time to target: one run of ``EPOCHS[problem]`` epochs per contender; the solver time at the first
  epoch with f - f* <= target (inf when not reached within the run).
* ratios ours / peer of both (lower is better; inf / inf is NaN).

Steps: step = STEP_FACTOR[problem] / L_max, lowered to ``peers.float32_exact_step`` (at most a
few percent lower: the largest step at which tick's float32 L2 prox applies exactly lam), for our
solvers and every peer that takes a step; scikit-learn sag/saga, cyanure and lbfgs pick their own
(docs/peers.md). A peer whose library
is not installed raises NotImplementedError in ``setup`` (asv records it as skipped).
The parameter lists below are append only.
"""

import functools
import math
import statistics

from . import common

PROBLEMS = ("mnist", "lsq")
OURS = ("svrg-fp64", "svrg-fp32", "halp-8", "halp-16")
OUR_SETTINGS = {"svrg-fp64": ("svrg", "fp64"), "svrg-fp32": ("svrg", "fp32"),
                "halp-8": ("halp", 8), "halp-16": ("halp", 16)}
PEERS = ("sklearn-sgd", "sklearn-sag", "sklearn-saga", "sklearn-lbfgs", "cyanure-svrg",
         "tick-svrg-fp64", "tick-svrg-fp32", "tick-saga-fp64", "tick-saga-fp32",
         "lightning-svrg", "lightning-saga", "copt-svrg")
CONTENDERS = OURS + PEERS
TARGETS = ("1e-04", "1e-08")   # strings so the parameter reads the same in every tool

MNIST_LAM = 1e-4
PEER_LSQ = dict(n=20000, d=256, lam=1e-3, noise=0.1, seed=0, cond=100.0)
STEP_FACTOR = {"mnist": 1.0, "lsq": 0.5}
HALP_MU = "auto"               # halp_core's automatic bit centering
EPOCHS = {"mnist": 100, "lsq": 60}   # MNIST: our SVRG-fp64 reaches 1e-8 at epoch 64 (seed 0)
TIMING_EPOCHS = 4
TIMING_ROUNDS = 3
if common.profile() == "quick":
    # The quick profile (./run bench's default) still measures every contender on both problems,
    # in one timing round and with MNIST cut to QUICK_MNIST_EPOCHS epochs: MNIST's runs are most
    # of this suite's time, and a target reached after them is recorded as not reached (inf).
    QUICK_MNIST_EPOCHS = 20
    EPOCHS = {**EPOCHS, "mnist": QUICK_MNIST_EPOCHS}
    TIMING_ROUNDS = 1
SEED = 0


def peers_api():
    """``halp_bench.peers`` (``halp_core.peers`` on commits before halp_bench; skips every
    benchmark on commits that have neither)."""
    return common.require(common.safe_import("halp_bench.peers")
                          or common.safe_import("halp_core.peers"), "halp_bench.peers")


@functools.lru_cache(maxsize=None)
def peer_problem(name):
    """The problem called ``name`` (8-bit data), with f* computed."""
    datasets = common.api().datasets
    if name == "mnist":
        prob = datasets.mnist(lam=MNIST_LAM, binary=True)
    else:
        kw = dict(PEER_LSQ)
        prob = datasets.synthetic_least_squares(kw.pop("n"), kw.pop("d"), **kw)
    prob.L_max, prob.f_star  # noqa: B018 (computed once, cached on the problem)
    return prob


def run_contender(prob, problem, contender, epochs):
    """History (halp_core.solve columns) of ``contender`` for ``epochs`` epochs, through
    ``halp_bench.contenders.run`` (on commits before it: ``solve`` or ``peers.solve_peer``)."""
    step = peers_api().float32_exact_step(STEP_FACTOR[problem] / prob.L_max, prob.lam)
    ours = OUR_SETTINGS.get(contender)
    options = dict(mu=HALP_MU) if ours is not None and ours[0] == "halp" else {}
    run = common.safe_import("halp_bench.contenders", "run")
    if run is not None:
        return run(prob, ours or contender, step=step, epochs=epochs, seed=SEED, **options).history
    if ours is not None:
        return common.api().solve(prob, ours[0], precision=ours[1], step=step, epochs=epochs,
                                  seed=SEED, **options).history
    return peers_api().solve_peer(prob, contender, step=step, epochs=epochs, seed=SEED).history


def measure(_self=None):
    """``setup_cache`` of every class here: {(problem, contender): {"epoch": s, target: s}} for
    the contenders that can run, and {"skipped": {(problem, contender): reason}}."""
    peers = peers_api()
    out, skipped = {}, {}
    for problem in PROBLEMS:
        prob = peer_problem(problem)
        status = peers.peer_status()
        runnable = []
        for name in CONTENDERS:
            if name in peers.PEERS and status[name] is not None:
                skipped[problem, name] = status[name]
            elif name in peers.PEERS and prob.kind not in peers.PEERS[name].kinds:
                skipped[problem, name] = f"{name} does not solve {prob.kind} problems"
            else:
                runnable.append(name)
        rounds = {name: [] for name in runnable}
        for _ in range(TIMING_ROUNDS):
            for name in runnable:
                hist = run_contender(prob, problem, name, TIMING_EPOCHS)
                rounds[name].append(peers.seconds_per_epoch(hist))
        for name in runnable:
            hist = run_contender(prob, problem, name, EPOCHS[problem])
            entry = {"epoch": statistics.median(rounds[name])}
            entry.update({t: peers.time_to_target(hist, float(t)) for t in TARGETS})
            out[problem, name] = entry
    out["skipped"] = skipped
    return out


def _value(cache, problem, contender, key):
    if (problem, contender) in cache["skipped"]:
        raise NotImplementedError(cache["skipped"][problem, contender])
    return cache[problem, contender][key]


def _ratio(ours, theirs):
    """ours / theirs; NaN when both are inf (neither reached the target)."""
    if math.isinf(ours) and math.isinf(theirs):
        return math.nan
    return ours / theirs


class _Suite:
    setup_cache = measure
    timeout = 7200  # setup_cache: every contender on both problems, about 15 min on a 2-core VM


class PeerEpoch(_Suite):
    """Steady per-epoch time of every contender (seconds)."""

    params = [list(PROBLEMS), list(CONTENDERS)]
    param_names = ["problem", "solver"]

    def setup(self, cache, problem, solver):
        _value(cache, problem, solver, "epoch")

    def track_seconds_per_epoch(self, cache, problem, solver):
        return _value(cache, problem, solver, "epoch")

    track_seconds_per_epoch.unit = "seconds"


class PeerTimeToTarget(_Suite):
    """Solver time to reach f - f* <= target (seconds; inf: not reached in EPOCHS[problem])."""

    params = [list(PROBLEMS), list(TARGETS), list(CONTENDERS)]
    param_names = ["problem", "target", "solver"]

    def setup(self, cache, problem, target, solver):
        _value(cache, problem, solver, target)

    def track_time_to_target(self, cache, problem, target, solver):
        return _value(cache, problem, solver, target)

    track_time_to_target.unit = "seconds"


class PeerRatio(_Suite):
    """Ours / peer: per-epoch time and time to target (lower is better)."""

    params = [list(PROBLEMS), list(OURS), list(PEERS)]
    param_names = ["problem", "ours", "peer"]

    def setup(self, cache, problem, ours, peer):
        _value(cache, problem, ours, "epoch")
        _value(cache, problem, peer, "epoch")

    def track_epoch_ratio(self, cache, problem, ours, peer):
        return _value(cache, problem, ours, "epoch") / _value(cache, problem, peer, "epoch")

    def track_time_to_1e4_ratio(self, cache, problem, ours, peer):
        return _ratio(_value(cache, problem, ours, TARGETS[0]), _value(cache, problem, peer, TARGETS[0]))

    def track_time_to_1e8_ratio(self, cache, problem, ours, peer):
        return _ratio(_value(cache, problem, ours, TARGETS[1]), _value(cache, problem, peer, TARGETS[1]))

    track_epoch_ratio.unit = "ratio"
    track_time_to_1e4_ratio.unit = "ratio"
    track_time_to_1e8_ratio.unit = "ratio"
