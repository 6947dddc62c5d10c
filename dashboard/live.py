"""Live solver runs for the Convergence and Peers pages: small problems solved now with
`halp_core.solve` and the installed peers (plain Python, no Streamlit).

This module holds the dashboard's one import of `halp_bench.peers`; it raises ImportError where
halp_bench is not importable (the pages then show their results without the live panels).
"""

from functools import lru_cache

import pandas as pd
from halp_bench import peers
from halp_core import datasets, registry, solve

from dashboard.benchmarks import PEER_OURS
from dashboard.figures.style import MAX_SERIES, default_series

PROBLEMS = {
    "least squares, synthetic 500 × 20": lambda: datasets.synthetic_least_squares(
        500, 20, lam=1e-2, noise=0.1, seed=0),
    "logistic, synthetic 500 × 20": lambda: datasets.synthetic_logistic(500, 20, lam=1e-2, seed=0),
    "digits, multinomial 1797 × 64": lambda: datasets.digits(lam=1e-3),
}
"""Convergence page: problem name -> factory; every problem carries an 8-bit copy of its data
(halp_core's default)."""

PEER_PROBLEMS = {
    "logistic, synthetic 2000 × 50": lambda: datasets.synthetic_logistic(2000, 50, lam=1e-2, seed=0),
    "least squares, synthetic 2000 × 50": lambda: datasets.synthetic_least_squares(
        2000, 50, lam=1e-2, noise=0.1, seed=0, cond=100.0),
}
"""Peers page: problem name -> factory."""
DEFAULT_PEERS = ("sklearn-saga", "cyanure-svrg", "tick-svrg-fp64", "lightning-svrg", "copt-svrg", "sklearn-lbfgs")
"""Peers the Peers page's live panel runs before a person chooses others: one per library, in order
of preference."""

SOLVERS = registry.names()
"""Every registered solver, in registration order."""
FULL_PRECISION_SOLVERS = registry.names("full")
"""Solvers that take 'fp64' / 'fp32'; the others take a number of bits or a float format."""
LOW_PRECISIONS = (4, 6, 8, 12, 16, *registry.FORMATS)
"""Precisions the live panel offers the low-precision solvers: bit widths, then halp_core's float
formats ('bf16', 'fp16', 'fp8-e4m3', 'fp8-e5m2')."""


def takes_mu(solver):
    """Whether `solver` takes HALP's bit-centering constant mu (an option in the registry)."""
    return "mu" in registry.spec(solver).options


@lru_cache(maxsize=None)
def problem(name):
    """The problem called `name` in PROBLEMS, built once per process (its optimum is computed once)."""
    return PROBLEMS[name]()


def run(name, solver, precision, step, mu, epochs, seed=0, on_epoch=None):
    """Solve problem `name` with `solver` for `epochs` epochs; return its trajectory.

    precision: 'fp64' / 'fp32' for sgd and svrg, an int number of bits or a float format name
    ('bf16', ...) for the others; step:
    absolute step size α; mu: HALP's bit-centering constant (None or "auto": halp_core's
    automatic rule, the default; a number: fixed; ignored by other solvers);
    on_epoch(epoch, row): called after every epoch (progress display). Returns a DataFrame with
    columns epoch, passes, seconds (cumulative solver time), loss, subopt (f − f*), grad_norm, dist.
    """
    result = solve(problem(name), solver, precision=precision, step=step, epochs=epochs,
                   mu=mu if takes_mu(solver) else None, seed=seed, callback=on_epoch)
    return pd.DataFrame(result.history)


def peer_status():
    """Peer name -> None when it can run here, else the reason it cannot (e.g. not installed)."""
    return peers.peer_status()


def available_peers(kind):
    """Names of the installed peers that solve problems of `kind` ('logistic' / 'least_squares')."""
    return peers.available_peers(kind)


def default_peers(kind):
    """The installed peers of `kind` the live panel runs by default: DEFAULT_PEERS, as many as fit
    beside our PEER_OURS contenders in one panel of at most MAX_SERIES lines (a list of names)."""
    return default_series(available_peers(kind), DEFAULT_PEERS, MAX_SERIES - len(PEER_OURS))


def _contender(name):
    """(solver, precision) of one of our bench_peers contenders: 'svrg-fp64' -> ('svrg', 'fp64'),
    'halp-8' -> ('halp', 8)."""
    solver, precision = name.rsplit("-", 1)
    return registry.spec(solver).name, int(precision) if precision.isdigit() else precision


def trajectories(name, step_factor, epochs, peers_to_run, seed=0):
    """Live trajectories on PEER_PROBLEMS[`name`] at step α = `step_factor` / L_max: our contenders
    of bench_peers (SVRG fp64 / fp32, HALP 8 / 16 with mu='auto') and the peers named in
    `peers_to_run`, stacked with a `solver` and `side` column (the columns of halp_core.solve's
    history otherwise)."""
    prob = PEER_PROBLEMS[name]()
    step = step_factor / prob.L_max
    runs = []
    for label in PEER_OURS:
        solver, precision = _contender(label)
        mu = "auto" if takes_mu(solver) else None
        hist = solve(prob, solver, precision=precision, step=step, epochs=epochs, mu=mu, seed=seed).history
        runs.append(hist.assign(solver=label, side="ours"))
    for peer in peers_to_run:
        hist = peers.solve_peer(prob, peer, step=step, epochs=epochs, seed=seed).history
        runs.append(hist.assign(solver=peer, side="peer"))
    return pd.concat(runs, ignore_index=True)
