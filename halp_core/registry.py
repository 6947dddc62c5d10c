"""The one list of halp_core's solvers and of its low-precision number formats: what each solver
is called, which precisions it takes, which full-precision solver it is compared with, and how it
is built; what each float format is (``FormatSpec``: sign, exponent and mantissa bits).

Everything that names solvers reads it: input validation, ``make_solver`` / ``solve``, the asv
benchmarks, the reproduction and the dashboard. Adding a solver is one module with its class (a
``halp_core.solvers.Solver`` subclass with ``run_epoch()`` and ``w``) plus one
``register(SolverSpec(...))`` call naming that class; tests/halp_core/solvers/test_saga.py does
it with SAGA (tests/halp_core/solvers/saga.py: a Numba epoch kernel) and sees it solved,
validated, listed, benchmarked and shown.
"""

from dataclasses import dataclass, field

from . import validate

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


def _text(entry, kind, field_name):
    """The str field ``field_name`` of ``entry``: TypeError / ValueError unless non-empty text."""
    value = getattr(entry, field_name)
    where = f"{kind} {entry.name!r}: {field_name}"
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a str, got {value!r} ({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"{where} must not be empty")
    return value


def _name(entry, kind, taken):
    """``entry.name``: a non-empty str not among ``taken`` (the names registered so far)."""
    if not isinstance(entry.name, str) or not entry.name.strip():
        raise (ValueError if isinstance(entry.name, str) else TypeError)(
            f"a {kind}'s name must be a non-empty str, got {entry.name!r}")
    if entry.name in taken:
        raise ValueError(f"{kind} {entry.name!r} is registered already")
    return entry.name


def pattern_value(entry, pattern):
    """The value of the non-negative bit ``pattern`` in ``entry``'s layout (float; what
    ``halp_core.float_formats.decode`` computes): normal (1 + m 2^-M) 2^(e - B), subnormal
    m 2^(1 - B - M), with e and m the pattern's exponent and mantissa fields."""
    e, m = pattern >> entry.mantissa_bits, pattern & ((1 << entry.mantissa_bits) - 1)
    if e == 0:
        return m * 2.0 ** (1 - entry.bias - entry.mantissa_bits)
    return (1 + m / 2 ** entry.mantissa_bits) * 2.0 ** (e - entry.bias)


def register_format(entry):
    """Add ``entry`` (a FormatSpec) to FORMATS after checking every field; returns it.

    name: a new non-empty str, not a full precision ("fp64", "fp32"); label, reference: non-empty
    str; 1 + exponent_bits + mantissa_bits: 8 or 16, with 1..8 exponent bits; bias: 1..127 (float32
    holds every value); max_pattern: a positive pattern with the sign bit clear whose value is
    finite in float32; inf_pattern (or None) and nan_pattern: distinct patterns with the sign bit
    clear above max_pattern. TypeError / ValueError naming the entry and the field otherwise."""
    if not isinstance(entry, FormatSpec):
        raise TypeError(f"register_format takes a FormatSpec, got {type(entry).__name__}")
    name = _name(entry, "format", FORMATS)
    if name in FLOAT_PRECISIONS:
        raise ValueError(f"format {name!r}: the name is a full precision's "
                         f"({', '.join(FLOAT_PRECISIONS)})")
    for text in ("label", "reference"):
        _text(entry, "format", text)
    where = f"format {name!r}:"
    exponent = validate.integer(entry.exponent_bits, f"{where} exponent_bits", 1, 8)
    mantissa = validate.integer(entry.mantissa_bits, f"{where} mantissa_bits", 1, 22)
    if 1 + exponent + mantissa not in (8, 16):
        raise ValueError(f"{where} 1 + exponent + mantissa bits must be 8 or 16, got 1 + "
                         f"{exponent} + {mantissa}")
    bias = validate.integer(entry.bias, f"{where} bias (float32 holds every value)", 1, 127)
    if bias + mantissa > 149:
        raise ValueError(f"{where} bias + mantissa_bits must be <= 149 (the smallest subnormal "
                         f"a float32), got {bias} + {mantissa}")
    sign = 1 << (exponent + mantissa)
    largest = validate.integer(entry.max_pattern, f"{where} max_pattern", 1)
    if largest >= sign:
        raise ValueError(f"{where} max_pattern {largest:#x} has the sign bit set; it is the "
                         f"largest positive finite value's pattern (below {sign:#x})")
    if (largest >> mantissa) - bias > 127:
        raise ValueError(f"{where} max_pattern {largest:#x} decodes beyond float32's range "
                         f"({pattern_value(entry, largest):.3g}); its exponent field minus the "
                         f"bias must be <= 127")
    special = {"nan_pattern": entry.nan_pattern}
    if entry.inf_pattern is not None:
        special["inf_pattern"] = entry.inf_pattern
    for field_name, value in special.items():
        validate.integer(value, f"{where} {field_name}", largest + 1, sign - 1)
    if entry.inf_pattern is not None and entry.inf_pattern == entry.nan_pattern:
        raise ValueError(f"{where} inf_pattern and nan_pattern must differ, both "
                         f"{entry.nan_pattern:#x}")
    FORMATS[name] = entry
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
    solver: the class (a ``halp_core.solvers.Solver`` subclass) that ``make_solver`` builds as
    ``solver(problem, name, precision, step=..., sampling=..., seed=..., steps_per_epoch=...,
    threads=..., schedule=..., **options)``; its instances read this entry back as ``spec``, and
    its ``advice`` / ``may_clamp`` are the solver's part in the divergence rules.
    """

    name: str
    label: str
    family: str
    precisions: tuple
    baseline: str | None
    variance_reduced: bool
    options: tuple = ()
    solver: type = field(default=None, compare=False, repr=False)


OPTIONS = {"mu": "mu is halp's bit-centering constant",
           "scale": "scale is the fixed grid of lp-sgd / lp-svrg"}
"""The solver options ``make_solver`` passes on (SolverSpec.options names some of them) -> what
each is."""


SPECS = {}
"""name -> SolverSpec, in registration order."""


def register(spec):
    """Add ``spec`` (a SolverSpec) to SPECS after checking every field; returns it.

    name: a new non-empty str; label: non-empty str; family: "full" or "low"; precisions: a
    non-empty tuple of FLOAT_PRECISIONS for "full", LOW for "low"; baseline: None for "full", a
    registered "full" solver for "low"; variance_reduced: a bool; options: a tuple of OPTIONS'
    names; solver: a class with ``run_epoch``. TypeError / ValueError naming the solver and the
    field otherwise."""
    if not isinstance(spec, SolverSpec):
        raise TypeError(f"register takes a SolverSpec, got {type(spec).__name__}")
    name = _name(spec, "solver", SPECS)
    where = f"solver {name!r}:"
    _text(spec, "solver", "label")
    if spec.family not in ("full", "low"):
        raise ValueError(f"{where} family must be 'full' or 'low', got {spec.family!r}")
    if spec.family == "low" and spec.precisions != LOW:
        raise ValueError(f"{where} precisions of a low-precision solver must be registry.LOW "
                         f"(every fixed-point width and format), got {spec.precisions!r}")
    if spec.family == "full" and (not isinstance(spec.precisions, tuple) or not spec.precisions
                                  or not set(spec.precisions) <= set(FLOAT_PRECISIONS)):
        raise ValueError(f"{where} precisions of a full-precision solver must be a non-empty "
                         f"tuple of {FLOAT_PRECISIONS}, got {spec.precisions!r}")
    if spec.family == "full" and spec.baseline is not None:
        raise ValueError(f"{where} baseline must be None for a full-precision solver, got "
                         f"{spec.baseline!r}")
    if spec.family == "low" and (spec.baseline not in SPECS
                                 or SPECS[spec.baseline].family != "full"):
        raise ValueError(f"{where} baseline {spec.baseline!r} is not a registered "
                         f"full-precision solver ({', '.join(names('full'))})")
    if not isinstance(spec.variance_reduced, bool):
        raise TypeError(f"{where} variance_reduced must be a bool, got "
                        f"{spec.variance_reduced!r}")
    if not isinstance(spec.options, tuple) or not set(spec.options) <= set(OPTIONS):
        raise ValueError(f"{where} options must be a tuple of {tuple(OPTIONS)}, got "
                         f"{spec.options!r}")
    if not (isinstance(spec.solver, type) and callable(getattr(spec.solver, "run_epoch", None))):
        raise TypeError(f"{where} solver must be a Solver class (with run_epoch), got "
                        f"{spec.solver!r}")
    SPECS[name] = spec
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
