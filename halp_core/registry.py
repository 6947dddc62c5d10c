"""The one list of halp_core's solvers: what each is called, which precisions it takes, which
full-precision solver it is compared with, and how it is built.

Everything that names solvers reads it: input validation, ``make_solver`` / ``solve``, the asv
benchmarks, the reproduction and the dashboard. Adding a solver is one module with its class (a
``halp_core.solvers.Solver`` subclass with ``run_epoch()`` and ``w``) plus one
``register(SolverSpec(...))`` call; tests/halp_core/test_registry.py does it with a toy solver
(tests/halp_core/toy_solver.py) and sees it solved, listed and benchmarked.
"""

from dataclasses import dataclass, field

FLOAT_PRECISIONS = ("fp64", "fp32")
"""Precisions of the full-precision solvers: float64 and float32 data, iterate and arithmetic."""
BITS = tuple(range(2, 17))
"""Precisions of the low-precision (fixed-point) solvers: b bits, 2 <= b <= 16."""


@dataclass(frozen=True)
class SolverSpec:
    """One solver.

    name: what users pass to ``solve`` (e.g. "halp"); label: its display name ("HALP");
    family: "full" (float iterate) or "low" (fixed-point iterate); precisions: the precision
    values it accepts (FLOAT_PRECISIONS or BITS); baseline: the name of the full-precision solver
    its speed and convergence are compared with (None for full-precision solvers);
    variance_reduced: whether an epoch also takes a full gradient (2 data passes per epoch);
    options: the extra keyword arguments of ``make_solver`` it takes (e.g. ("mu",));
    build: ``build(problem, precision, step, sampling, seed, steps_per_epoch, threads, **options)``
    returning a solver object with ``run_epoch()``, ``w``, ``saturations``, ... (set when the
    module that defines the solver registers it).
    """

    name: str
    label: str
    family: str
    precisions: tuple
    baseline: str | None
    variance_reduced: bool
    options: tuple = ()
    build: object = field(default=None, compare=False, repr=False)


SPECS = {}
"""name -> SolverSpec, in registration order."""


def register(spec):
    """Add ``spec`` (a SolverSpec) to SPECS; a name can be registered once. Returns spec."""
    if not isinstance(spec, SolverSpec):
        raise TypeError(f"register takes a SolverSpec, got {type(spec).__name__}")
    if spec.name in SPECS:
        raise ValueError(f"solver {spec.name!r} is registered already")
    if spec.family not in ("full", "low"):
        raise ValueError(f"family must be 'full' or 'low', got {spec.family!r}")
    if spec.baseline is not None and spec.baseline not in SPECS:
        raise ValueError(f"baseline {spec.baseline!r} of {spec.name!r} is not registered")
    SPECS[spec.name] = spec
    return spec


def unregister(name):
    """Remove the solver ``name`` from SPECS (for tests that register a solver of their own; a
    built-in solver is named by the benchmarks and the reproduction: never remove one).
    ValueError for an unknown name or one that is another solver's baseline."""
    entry = spec(name)
    users = [s.name for s in SPECS.values() if s.baseline == entry.name]
    if users:
        raise ValueError(f"{name!r} is the baseline of {', '.join(users)}")
    del SPECS[name]


def spec(name):
    """The SolverSpec called ``name``; ValueError naming the registered ones otherwise."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SPECS)}") from None


def names(family=None):
    """Registered solver names (tuple), all or those of ``family`` ("full" / "low")."""
    return tuple(n for n, s in SPECS.items() if family is None or s.family == family)
