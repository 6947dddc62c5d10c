"""halp_core: full- and low-precision solvers (SGD, SVRG, LP-SGD, LP-SVRG, HALP) compiled with
Numba, on least squares, binary and multinomial logistic regression.

    from halp_core import datasets, solve, SOLVERS
    prob = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0)
    res = solve(prob, "halp", precision=8, step=1e-3, epochs=20, seed=0)
    res.history   # epoch, passes, seconds, loss, subopt, grad_norm, dist
"""

from . import datasets, fixed_point, kernels, problems
from .problems import BinaryLogistic, LeastSquares, Multinomial, Problem
from .solvers import SAMPLING, SOLVERS, Result, make_solver, solve

__version__ = "0.1.0"

__all__ = [
    "SAMPLING", "SOLVERS", "BinaryLogistic", "LeastSquares", "Multinomial", "Problem", "Result",
    "datasets", "fixed_point", "kernels", "make_solver", "problems", "solve",
]
