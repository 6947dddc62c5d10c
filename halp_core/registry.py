"""The one list of halp_core's solvers and of its low-precision number formats: what each solver
is called, which precisions it takes, which full-precision solver it is compared with, and how it
is built; what each float format is (``FormatSpec``: sign, exponent and mantissa bits).

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
"""Fixed-point precisions of the low-precision solvers: b bits, 2 <= b <= 16."""


@dataclass(frozen=True)
class FormatSpec:
    """One low-precision float format (docs/design.md section 3): a sign bit, ``exponent_bits``
    exponent bits of bias ``bias`` and ``mantissa_bits`` stored mantissa bits, with subnormals.

    name: what users pass as ``precision`` (e.g. "bf16"); label: its display name;
    max_pattern: the bit pattern (sign bit clear) of the largest finite value; inf_pattern: that of
    +inf, or None when the format has no infinity (fp8-e4m3: the "fn" variant, whose only
    non-finite patterns are NaN); nan_pattern: the NaN the kernels write; reference: the name of
    the same format in ml_dtypes (tests check our bit patterns against it).
    Everything else (storage dtype, largest value, kernel constants) is derived from these by
    ``halp_core.float_formats``.
    """

    name: str
    label: str
    exponent_bits: int
    mantissa_bits: int
    bias: int
    max_pattern: int
    inf_pattern: int | None
    nan_pattern: int
    reference: str


FORMATS = {}
"""name -> FormatSpec of the float formats, in registration order."""


def register_format(entry):
    """Add ``entry`` (a FormatSpec of 8 or 16 bits, 1 to 8 exponent bits, bias at most 127 so
    that every value is a float32) to FORMATS; a name can be registered once. Returns it."""
    if not isinstance(entry, FormatSpec):
        raise TypeError(f"register_format takes a FormatSpec, got {type(entry).__name__}")
    if entry.name in FORMATS:
        raise ValueError(f"format {entry.name!r} is registered already")
    width = 1 + entry.exponent_bits + entry.mantissa_bits
    if width not in (8, 16) or not 1 <= entry.exponent_bits <= 8 or entry.mantissa_bits < 1:
        raise ValueError(f"format {entry.name!r}: 1 + exponent + mantissa bits must be 8 or 16 "
                         f"with 1..8 exponent bits, got {entry.exponent_bits} + "
                         f"{entry.mantissa_bits}")
    if not 1 <= entry.bias <= 127 or entry.bias + entry.mantissa_bits > 149:
        raise ValueError(f"format {entry.name!r}: bias must be 1..127 (float32 holds every "
                         f"value), got {entry.bias}")
    FORMATS[entry.name] = entry
    return entry


def format_spec(name):
    """The FormatSpec called ``name``; ValueError naming the registered ones otherwise."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}") from None


for _format in (
        FormatSpec("bf16", "bfloat16", 8, 7, 127, 0x7F7F, 0x7F80, 0x7FC0, "bfloat16"),
        FormatSpec("fp16", "IEEE half", 5, 10, 15, 0x7BFF, 0x7C00, 0x7E00, "float16"),
        FormatSpec("fp8-e4m3", "FP8 E4M3", 4, 3, 7, 0x7E, None, 0x7F, "float8_e4m3fn"),
        FormatSpec("fp8-e5m2", "FP8 E5M2", 5, 2, 15, 0x7B, 0x7C, 0x7E, "float8_e5m2")):
    register_format(_format)


LOW = "low"
"""SolverSpec.precisions of a low-precision solver: BITS and every registered format."""


def low_precisions():
    """Every precision a low-precision solver takes: the fixed-point widths BITS (ints) and the
    names of the registered float formats."""
    return BITS + tuple(FORMATS)


@dataclass(frozen=True)
class SolverSpec:
    """One solver.

    name: what users pass to ``solve`` (e.g. "halp"); label: its display name ("HALP");
    family: "full" (float iterate) or "low" (fixed-point or float-format iterate); precisions:
    the precision values it accepts, FLOAT_PRECISIONS or LOW (every ``low_precisions()``:
    fixed-point widths and the formats registered so far; read them with ``precisions(name)``);
    baseline: the name of the full-precision solver
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


def precisions(name):
    """The precisions the solver ``name`` accepts (tuple): FLOAT_PRECISIONS, or for a
    low-precision solver ``low_precisions()`` (formats registered later included)."""
    entry = spec(name)
    return low_precisions() if entry.precisions == LOW else tuple(entry.precisions)


def names(family=None):
    """Registered solver names (tuple), all or those of ``family`` ("full" / "low")."""
    return tuple(n for n, s in SPECS.items() if family is None or s.family == family)
