"""Live solver runs for the Convergence page: small problems solved with `halp_core.solve` (no Streamlit)."""

from functools import lru_cache

import pandas as pd
from halp_core import SOLVERS, datasets, solve  # noqa: F401  (SOLVERS: for the page)

PROBLEMS = {
    "least squares, synthetic 500 × 20": lambda: datasets.synthetic_least_squares(
        500, 20, lam=1e-2, noise=0.1, seed=0),
    "logistic, synthetic 500 × 20": lambda: datasets.synthetic_logistic(500, 20, lam=1e-2, seed=0),
    "digits, multinomial 1797 × 64": lambda: datasets.digits(lam=1e-3),
}
"""Problem name -> factory; every problem carries an 8-bit copy of its data (halp_core's default)."""

FULL_PRECISION_SOLVERS = ("sgd", "svrg")


@lru_cache(maxsize=None)
def problem(name):
    """The problem called `name` in PROBLEMS, built once per process (its optimum is computed once)."""
    return PROBLEMS[name]()


def run(name, solver, precision, step, mu, epochs, seed=0, on_epoch=None):
    """Solve problem `name` with `solver` for `epochs` epochs; return its trajectory.

    precision: 'fp64' / 'fp32' for sgd and svrg, an int number of bits for the others; step:
    absolute step size α; mu: HALP's bit-centering constant (None or "auto": halp_core's
    automatic rule, the default; a number: fixed; ignored by other solvers);
    on_epoch(epoch, row): called after every epoch (progress display). Returns a DataFrame with
    columns epoch, passes, seconds (cumulative solver time), loss, subopt (f − f*), grad_norm, dist.
    """
    result = solve(problem(name), solver, precision=precision, step=step, epochs=epochs,
                   mu=mu if solver == "halp" else None, seed=seed, callback=on_epoch)
    return pd.DataFrame(result.history)
