"""The solvers (docs/design.md section 4), one module per family, each holding its class, its
Numba epoch kernels and its registry entries:

* ``full_precision``: SGD and SVRG in float64 / float32;
* ``low_precision``: LP-SGD and LP-SVRG, the iterate on a fixed low-precision grid;
* ``halp``: HALP, SVRG with bit centering;

beside what they share: ``base`` (the ``Solver`` class), ``full_gradient`` (the full-gradient
pass), ``fixed_grid`` and ``float_grid`` (the low-precision inner loop, HALP's included, on a
fixed-point grid or in a float format), ``divergence`` (the failure rules) and ``api``
(``check_precision``, ``make_solver``, ``solve``). Adding a solver is one module like these plus
its ``registry.register`` call (docs/contributing.md).
"""

from . import full_precision, low_precision, halp  # noqa: F401  (register, baselines first)
from .api import SOLVERS, check_precision, make_solver, solve
from .base import SAMPLING, Solver

__all__ = ["SAMPLING", "SOLVERS", "Solver", "check_precision", "make_solver", "solve"]
