"""halp_core: full- and low-precision solvers (SGD, SVRG, LP-SGD, LP-SVRG, HALP) compiled with
Numba, on least squares, binary and multinomial logistic regression.

    from halp_core import datasets, solve, SOLVERS
    prob = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0)
    res = solve(prob, "halp", precision=8, step=1e-3, epochs=20, seed=0)
    res.history   # epoch, passes, seconds, loss, subopt, grad_norm, dist
"""

from . import numba_cache

numba_cache.configure()  # before any kernel module is imported

from . import (  # noqa: E402
    bit_budget, datasets, fixed_point, kernels, problems, registry, schedules, trajectory)
from .bit_budget import BitBudget, bits_needed  # noqa: E402
from .datasets import CacheWarning  # noqa: E402
from .problems import (  # noqa: E402
    BinaryLogistic, LeastSquares, Multinomial, Problem, Quantization, QuantizationWarning)
from .schedules import SCHEDULES, make_schedule  # noqa: E402
from .solvers import SAMPLING, SOLVERS, make_solver, solve  # noqa: E402
from .trajectory import Result  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "SAMPLING", "SCHEDULES", "SOLVERS", "BinaryLogistic", "BitBudget", "CacheWarning",
    "LeastSquares", "Multinomial", "Problem", "Quantization", "QuantizationWarning", "Result",
    "bit_budget", "bits_needed", "datasets", "fixed_point", "kernels", "make_schedule",
    "make_solver", "problems", "registry", "schedules", "solve", "trajectory",
]
