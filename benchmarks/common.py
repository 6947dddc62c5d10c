"""Shared constants and seeded, cached data factories for the asv suites.

Rules (numpy's and scikit-learn's benchmark suites follow the same ones):
- Constants here are *append only*: changing one silently changes what an existing benchmark
  measures while its name stays, so results across commits stop being comparable. Add a new
  constant (and a new parameter value) instead.
- Every factory is deterministic (fixed seeds) and cached per process with ``lru_cache``; the
  suites call factories from ``setup`` / ``setup_cache`` only, never inside a timed call.
- ``halp_core`` is reached only through its public API (docs/api-contract.md), imported through
  :func:`safe_import` so that today's suite can still be pointed at older commits: whatever an
  old commit lacks makes the benchmarks that need it *skip* (NotImplementedError in setup).

Sizes are in MiB (2**20 bytes) of float32 data; the parameter is called ``size_mb``.
"""

import dataclasses
import functools
import importlib
import math
import os
import re

import numpy as np

# --------------------------------------------------------------------------------------------
# Access to halp_core
# --------------------------------------------------------------------------------------------


def safe_import(module, attr=None):
    """Import ``module`` (and ``attr`` from it), or return None if this commit lacks it."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return mod if attr is None else getattr(mod, attr, None)


def require(obj, what):
    """Return ``obj``; if it is None (missing in the measured commit), skip the benchmark."""
    if obj is None:
        raise NotImplementedError(f"{what} is not available in this commit of halp_core")
    return obj


def api():
    """The public halp_core API, as a namespace: datasets, solve, make_solver, kernels."""
    return _Api(
        datasets=require(safe_import("halp_core.datasets"), "halp_core.datasets"),
        solve=require(safe_import("halp_core", "solve"), "halp_core.solve"),
        make_solver=require(safe_import("halp_core", "make_solver"), "halp_core.make_solver"),
    )


class _Api:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def kernels():
    """``halp_core.kernels`` (dot, axpy, read_words)."""
    return require(safe_import("halp_core.kernels"), "halp_core.kernels")


def quantizers():
    """The module of the fixed-point quantizers (quantize_nearest, quantize_stochastic):
    ``halp_core.fixed_point``, or ``halp_core.kernels`` in commits where that one offered them."""
    fixed_point = safe_import("halp_core.fixed_point")
    if fixed_point is not None and hasattr(fixed_point, "quantize_nearest"):
        return fixed_point
    return kernels()


# --------------------------------------------------------------------------------------------
# Solvers and precisions
# --------------------------------------------------------------------------------------------

# The solvers of commits before halp_core.registry (and the first values of every solver parameter).
FULL_SOLVERS = ("sgd", "svrg")
LOW_SOLVERS = ("lp-sgd", "lp-svrg", "halp")
# The float formats halp_core.registry declared when they came (and the first format values of
# every precision parameter; commits before them skip every benchmark that takes one).
BUILTIN_FORMATS = ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2")
FLOAT_PRECISIONS = ("fp64", "fp32")
BITS = (16, 8, 4)


def registry():
    """``halp_core.registry`` of the measured commit, or None on commits before it."""
    return safe_import("halp_core.registry")


def registered_formats():
    """The float formats of the measured commit's registry (names, registration order); () on
    commits before them."""
    return tuple(getattr(registry(), "FORMATS", None) or ())


# Format parameter values: BUILTIN_FORMATS, then every other format of the measured commit's
# registry in registration order (appended, so existing values keep their names and positions).
FORMATS = BUILTIN_FORMATS + tuple(f for f in registered_formats() if f not in BUILTIN_FORMATS)
# Mixed on purpose (the dashboard relies on it): strings for float, int bits for fixed point, then
# the float formats' names (appended: the old values keep their positions).
PRECISIONS = ("fp64", "fp32", 16, 8, 4) + FORMATS


def registered_solvers():
    """Solver parameter values: FULL_SOLVERS + LOW_SOLVERS, then every other solver of the
    measured commit's registry in registration order (appended, so existing values keep their
    names and positions)."""
    builtin = FULL_SOLVERS + LOW_SOLVERS
    reg = registry()
    return builtin + (() if reg is None else tuple(n for n in reg.names() if n not in builtin))


SOLVERS = registered_solvers()


def check_combo(solver, precision):
    """Skip (NotImplementedError) a solver/precision pair the API does not define: the registry
    entry's precisions (before the registry: sgd/svrg in fp64/fp32, the others in int bits)."""
    reg = registry()
    if reg is not None and solver in reg.SPECS:
        known = (reg.precisions(solver) if hasattr(reg, "precisions")   # float formats too
                 else reg.SPECS[solver].precisions)
        defined = precision in known
    else:
        defined = ((solver in FULL_SOLVERS and precision in FLOAT_PRECISIONS)
                   or (solver in LOW_SOLVERS and isinstance(precision, int)))
    if not defined:
        raise NotImplementedError(f"{solver} has no {precision!r} variant")


def baselines():
    """{low-precision solver: the full-precision solver it is compared with}, from the registry
    entries' ``baseline`` (before the registry: svrg for halp and lp-svrg, sgd for lp-sgd)."""
    reg = registry()
    if reg is None:
        return {"lp-sgd": "sgd", "lp-svrg": "svrg", "halp": "svrg"}
    return {name: reg.spec(name).baseline for name in reg.names("low")}


def memory_solver(precision):
    """The solver measured at a precision when only the precision is a parameter: SVRG in
    floating point, HALP in fixed point and in a float format (the paper's comparison)."""
    return "svrg" if precision in FLOAT_PRECISIONS else "halp"


# --------------------------------------------------------------------------------------------
# Epoch-time, speedup and memory data: synthetic least squares of a given size
# --------------------------------------------------------------------------------------------

EPOCH_D = 1024                 # features at every size; n = size_mb * 2**20 / (4 * d) rows
EPOCH_LAM = 1e-3               # L2 strength
EPOCH_NOISE = 0.1
EPOCH_SEED = 0
EPOCH_STEP_FACTOR = 0.25       # step = EPOCH_STEP_FACTOR / L_max for every solver
EPOCH_SAMPLING = "uniform"
SIZES_MB = (1, 10, 100, 400)
MEMORY_SIZE_MB = 400           # peakmem_solve runs at the largest size
EPOCH_DATA_BITS = 8            # data of the fixed-point and full-precision runs (int8)
# The row-width axis of the speed suites (bench_epoch, bench_speedup): every width at these sizes
# (out of cache), EPOCH_D alone at the others. The float formats are measured at EPOCH_D only
# (their problems would add a pickle per width, size and format to the shared cache).
WIDTHS = (128, 512, 1024, 4096)
WIDTH_SIZES_MB = (100, 400)

# Profiles (HALP_BENCH_PROFILE; ./run bench exports "quick" unless told otherwise, a plain asv run
# is "full"). The quick profile measures the QUICK_SIZES_MB sizes of the epoch-time, speedup and
# bandwidth grids, every width included, in the QUICK_PRECISIONS of the epoch-time and speedup
# grids, with QUICK_BUDGET_S of interleaving per speedup; everything else there (400 MiB, and with
# it bench_memory; 4 and 16 bits, the float formats) is recorded as skipped.
PROFILES = ("quick", "full")
QUICK_SIZES_MB = (1, 100)
QUICK_PRECISIONS = ("fp64", "fp32", 8)
QUICK_BUDGET_S = 1.0


def profile():
    """The measuring profile, "quick" or "full" (HALP_BENCH_PROFILE, default "full")."""
    name = os.environ.get("HALP_BENCH_PROFILE", "full")
    if name not in PROFILES:
        raise ValueError(f"HALP_BENCH_PROFILE must be one of {PROFILES}, not {name!r}")
    return name


def profile_sizes():
    """The problem sizes (MiB) the current profile measures."""
    return QUICK_SIZES_MB if profile() == "quick" else SIZES_MB


def epoch_shapes():
    """[(size_mb, d)] of the epoch problems the current profile measures: every size at EPOCH_D,
    and every width of WIDTHS at the WIDTH_SIZES_MB sizes."""
    return [(size_mb, d) for size_mb in profile_sizes()
            for d in (WIDTHS if size_mb in WIDTH_SIZES_MB else (EPOCH_D,))]


def check_shape(size_mb, d=None, precision=None):
    """Skip (NotImplementedError) a size and width (None: EPOCH_D) the current profile does not
    measure, a precision outside QUICK_PRECISIONS in the quick profile (None: any), and a float
    format at any width but EPOCH_D."""
    d = EPOCH_D if d is None else d
    if (size_mb, d) not in epoch_shapes():
        raise NotImplementedError(f"{size_mb} MiB at d = {d} is not measured in the "
                                  f"{profile()} profile")
    if precision is not None:
        check_profile_precision(precision)
    if precision in FORMATS and d != EPOCH_D:
        raise NotImplementedError(f"float formats are measured at d = {EPOCH_D} only")


def check_profile_precision(precision):
    """Skip (NotImplementedError) a precision outside QUICK_PRECISIONS in the quick profile."""
    if profile() == "quick" and precision not in QUICK_PRECISIONS:
        raise NotImplementedError(f"{precision!r} is not measured in the quick profile")


def profile_data_bits():
    """The data precisions the speed suites' problems are built in, in the current profile:
    EPOCH_DATA_BITS (int8), plus in the full profile each float format of the measured commit
    (the quick profile measures no float format)."""
    formats = [name for name in FORMATS if name in registered_formats()]
    return (EPOCH_DATA_BITS, *(formats if profile() == "full" else ()))


def epoch_rows(size_mb, d=None):
    """Rows of the epoch problem with ``size_mb`` MiB of float32 data of width ``d`` (None:
    EPOCH_D)."""
    d = EPOCH_D if d is None else d
    return size_mb * 2**20 // (4 * d)


def epoch_data_bits(precision):
    """The data precision of the epoch problem a run at ``precision`` reads, and its baseline
    with it (one data copy per comparison): a float format's own data (bf16 data for "bf16", fp8
    data for the fp8 formats), EPOCH_DATA_BITS (int8) for fixed point and fp32 / fp64."""
    return precision if precision in FORMATS else EPOCH_DATA_BITS


def make_epoch_problem(size_mb, data_bits=EPOCH_DATA_BITS, d=None):
    """Synthetic least squares, ``epoch_rows(size_mb, d)`` x ``d`` (None: EPOCH_D), with its data in
    ``data_bits`` (8: int8; a format name: that format), its reference optimum and L_max already
    computed (lp-sgd / lp-svrg size their grid from w*)."""
    d = EPOCH_D if d is None else d
    prob = api().datasets.synthetic_least_squares(
        epoch_rows(size_mb, d), d, lam=EPOCH_LAM, noise=EPOCH_NOISE, seed=EPOCH_SEED,
        **({} if data_bits == EPOCH_DATA_BITS else {"data_bits": data_bits}))
    prob.L_max, prob.w_star, prob.f_star  # noqa: B018 (computed once, cached on the problem)
    return prob


def pickle_problems(builders):
    """Build and pickle each problem of ``builders`` ({key: (file stem, function of no arguments
    that returns the problem)}) into the current folder (asv's cache folder, removed when its last
    benchmark is done), one at a time; {key: absolute path}."""
    import pickle

    paths = {}
    for key, (stem, build) in builders.items():
        path = os.path.abspath(f"{stem}.pickle")
        with open(path, "wb") as f:
            pickle.dump(build(), f, protocol=pickle.HIGHEST_PROTOCOL)
        paths[key] = path
    return paths


def _pickle_problems(keys):
    """Build and pickle the epoch problem of each (size_mb, d, data_bits) in ``keys``
    (``pickle_problems``); {key: absolute path}."""
    return pickle_problems({
        (size_mb, d, data_bits): (f"epoch-problem-{size_mb}mb-d{d}-{data_bits}",
                                  functools.partial(make_epoch_problem, size_mb, data_bits, d))
        for size_mb, d, data_bits in keys})


def epoch_problem_files(_self=None):
    """``setup_cache`` of Bandwidth and ThreadScaling: the int8 problem of each size the profile
    measures, at EPOCH_D.

    Building the 400 MiB problem takes ~15 s (random data, a d x d rotation, quantization, the
    closed-form optimum; at d = 4096 the rotation alone takes longer); unpickling it takes well
    under a second. So each problem is built once per ``asv run`` and pickled into asv's cache
    folder, and each benchmark process loads only the one it measures. Returns
    {(size_mb, d, data_bits): absolute path}."""
    return _pickle_problems([(size_mb, EPOCH_D, EPOCH_DATA_BITS) for size_mb in profile_sizes()])


def format_problem_files(_self=None):
    """``setup_cache`` of the suites that take a float format and a width (EpochTime, Speedup,
    Memory): the int8 problem of every shape the profile measures (``epoch_shapes``: each size
    at EPOCH_D, each width at WIDTH_SIZES_MB), plus each size at EPOCH_D with its data in each
    float format of the measured commit; keys (size_mb, d, data_bits), pickled as above. About
    2.3 bytes per float32 byte each (the float64 data and the narrow copy): in the full profile
    the 400 MiB problems at four widths and five data precisions make most of it."""
    keys = [(size_mb, d, EPOCH_DATA_BITS) for size_mb, d in epoch_shapes()]
    if profile() == "full":   # the quick profile measures no float format
        keys += [(size_mb, EPOCH_D, name) for name in FORMATS if name in registered_formats()
                 for size_mb in profile_sizes()]
    return _pickle_problems(keys)


def unchecked_kernel(module, name):
    """The Numba kernel that the checked function ``name`` of ``module`` (the measured commit's
    halp_core.kernels) calls without checks: ``<name>_kernel``, or in commits from before the
    kernels had public names ``_<name>``, or in commits from before the split ``<name>`` itself."""
    for candidate in (f"{name}_kernel", "_" + name, name):
        if hasattr(module, candidate):
            return getattr(module, candidate)
    raise AttributeError(f"{module.__name__} has no kernel {name}")


LOADED = {}
"""The one pickled problem this process keeps: {key: Problem} (keys of ``epoch_problem_files``,
``format_problem_files`` and ``file_problem_files``)."""


def load_problem(paths, key, missing):
    """The problem pickled at ``paths[key]`` (``pickle_problems``), cached per process (a process
    measures one problem, so only one is kept); NotImplementedError(``missing``), i.e. skipped,
    when ``paths`` has no such key."""
    if key not in LOADED:
        import pickle

        if key not in paths:
            raise NotImplementedError(missing)
        LOADED.clear()
        with open(paths[key], "rb") as f:
            LOADED[key] = pickle.load(f)
    return LOADED[key]


def load_epoch_problem(paths, size_mb, precision=None, d=None):
    """The problem of ``size_mb`` and width ``d`` (None: EPOCH_D) from the pickles of ``epoch_problem_files`` or
    ``format_problem_files``, with the data a run at ``precision`` reads (``epoch_data_bits``:
    int8 for None, bit widths and fp32 / fp64, the format's own for a float format). Cached per
    process (a process measures one problem, so only one is kept); NotImplementedError (skipped)
    when the measured commit or the profile has no such problem."""
    key = (size_mb, EPOCH_D if d is None else d, epoch_data_bits(precision))
    return load_problem(paths, key, f"no problem of {size_mb} MiB, d = {d} with {key[2]!r} data "
                                    "in this commit of halp_core or this profile")


def epoch_step(prob):
    return EPOCH_STEP_FACTOR / prob.L_max


def build_solver(prob, solver, precision, step, seed=0, threads=1):
    """A warmed solver: constructed (validation, allocation, compilation) and run for one
    epoch, so nothing but epoch work is left for a timed call. threads > 1 on a commit whose
    make_solver has no threads option skips the benchmark (NotImplementedError)."""
    options = {} if threads == 1 else {"threads": threads}
    try:
        s = api().make_solver(prob, solver, precision=precision, step=step,
                              sampling=EPOCH_SAMPLING, seed=seed, **options)
    except TypeError as err:
        if options:
            raise NotImplementedError(str(err)) from err
        raise
    s.run_epoch()
    return s


# --------------------------------------------------------------------------------------------
# Convergence problems
# --------------------------------------------------------------------------------------------

CONV_EPOCHS = (1, 2, 4, 8, 16, 32)
CONV_MAX_EPOCH = 32
CONV_TARGETS = ("1e-06", "1e-10", "1e-04")   # strings so the parameter reads the same in every tool
NEVER = 1e6                          # epochs_to_target when the target is never reached
CONV_SEED = 0
CONV_SAMPLING = "uniform"
# Problem definitions (name -> (constructor, kwargs)) and step factors k in step = k / L_max.
CONV_SPECS = {
    "lsq": ("synthetic_least_squares",
            dict(n=4096, d=32, lam=5e-2, noise=0.1, seed=CONV_SEED, cond=1000.0)),
    "logistic": ("synthetic_logistic", dict(n=4096, d=32, lam=1e-1, seed=CONV_SEED)),
    "digits": ("digits", dict(lam=1e-2)),
}
CONV_STEP_FACTOR = {"lsq": 0.5, "logistic": 0.5, "digits": 0.5}


# --------------------------------------------------------------------------------------------
# The user's file problem
# --------------------------------------------------------------------------------------------

# A problem read from the user's file (halp_core.datasets.from_file), declared by environment
# variables that `./run bench --file PATH --loss L [--lam X] [--name N] [--label C] [--scale S]`
# sets. With a file, the convergence suite measures its problem too (CONV_PROBLEMS, appended) and
# bench_speedup.FileSpeedup its speedups; without one, FILE_PROBLEMS is empty and neither adds a
# result. A bad setting raises ValueError naming the variable when the suite is imported (asv's
# discovery), before anything is measured.
FILE_VARIABLES = {"path": "HALP_BENCH_FILE", "loss": "HALP_BENCH_FILE_LOSS",
                  "lam": "HALP_BENCH_FILE_LAM", "name": "HALP_BENCH_FILE_NAME",
                  "label": "HALP_BENCH_FILE_LABEL", "scale": "HALP_BENCH_FILE_SCALE"}
FILE_DEFAULT_LAM = 1e-4
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FILE_STEP_FACTOR = 0.5     # convergence: step = FILE_STEP_FACTOR / L_max, as CONV_STEP_FACTOR's
FILE_TIMEOUT_S = 3600      # asv timeout of the suites that measure a file (its size is the user's)


@dataclasses.dataclass(frozen=True)
class FileSetting:
    """The user's file problem as the FILE_VARIABLES declare it (``file_setting``).

    path: absolute path of the file; loss: a problem kind of halp_core ("least_squares",
    "logistic", "multinomial"); lam: L2 strength (> 0); name: the problem's name, its ``problem``
    parameter value (default: the file's stem); label: the label column of a CSV / Parquet file,
    or None; scale: None or one of ``halp_core.data_files.SCALES`` (column-wise)."""

    path: str
    loss: str
    lam: float
    name: str
    label: str | None = None
    scale: str | None = None


def file_reader():
    """``halp_core.data_files`` of the measured commit (the reader of users' files: its PROBLEMS,
    the losses a file problem can have, and SCALES, its column scalings); None on commits
    without it."""
    return safe_import("halp_core.data_files")


def problem_kinds():
    """The losses a file problem can have (``halp_core.data_files.PROBLEMS``' names); () on commits
    that cannot read files."""
    reader = file_reader()
    return tuple(reader.PROBLEMS) if reader is not None else ()


def file_setting(environ=None):
    """The user's file problem declared in ``environ`` (default: os.environ), as a FileSetting, or
    None when HALP_BENCH_FILE is unset or empty. ValueError naming the variable for a bad setting:
    a path that is relative or names no file, a missing or unknown loss, a lam that is not a
    number > 0, a name that is not a plain word or is taken by a built-in convergence problem
    (CONV_SPECS), a scale not in ``halp_core.data_files.SCALES``, or another HALP_BENCH_FILE_* variable set without
    HALP_BENCH_FILE."""
    environ = os.environ if environ is None else environ
    given = {key: environ.get(var, "").strip() or None for key, var in FILE_VARIABLES.items()}
    if given["path"] is None:
        stray = [FILE_VARIABLES[key] for key, value in given.items() if value is not None]
        if stray:
            raise ValueError(f"{', '.join(stray)} set without HALP_BENCH_FILE: name the file "
                             "(./run bench --file PATH) or unset them")
        return None
    path = given["path"]
    if not os.path.isabs(path):
        raise ValueError(f"HALP_BENCH_FILE must be an absolute path (asv runs the benchmarks in "
                         f"a folder of its own), not {path!r}; ./run bench --file makes it one")
    if not os.path.isfile(path):
        raise ValueError(f"HALP_BENCH_FILE: no file at {path}")
    kinds = problem_kinds()
    if given["loss"] is None:
        raise ValueError(f"HALP_BENCH_FILE_LOSS must be set with HALP_BENCH_FILE: one of "
                         f"{', '.join(kinds)}")
    if kinds and given["loss"] not in kinds:
        raise ValueError(f"HALP_BENCH_FILE_LOSS must be one of {', '.join(kinds)}, not "
                         f"{given['loss']!r}")
    text = given["lam"] or repr(FILE_DEFAULT_LAM)
    try:
        lam = float(text)
    except ValueError:
        lam = math.nan
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError(f"HALP_BENCH_FILE_LAM must be a number > 0 (the L2 strength), not {text!r}")
    name = given["name"] or os.path.splitext(os.path.basename(path))[0]
    which = "HALP_BENCH_FILE_NAME" if given["name"] else "HALP_BENCH_FILE_NAME (default: the file's stem)"
    if not FILE_NAME.fullmatch(name):
        raise ValueError(f"{which} must be a letter or digit followed by letters, digits, '.', "
                         f"'_' or '-', not {name!r}")
    if name in CONV_SPECS:
        raise ValueError(f"{which} is {name!r}, the name of a built-in convergence problem: "
                         "choose another")
    scales = file_reader().SCALES if file_reader() is not None else ()
    if given["scale"] is not None and given["scale"] not in scales:
        raise ValueError(f"HALP_BENCH_FILE_SCALE must be one of {', '.join(scales)}, not "
                         f"{given['scale']!r}")
    return FileSetting(path=path, loss=given["loss"], lam=lam, name=name, label=given["label"],
                       scale=given["scale"])


FILE_SETTING = file_setting()
FILE_PROBLEMS = () if FILE_SETTING is None else (FILE_SETTING.name,)
"""The ``problem`` parameter values of the user's file problems: its name, or () without a file."""


def file_problem(name, data_bits=EPOCH_DATA_BITS):
    """The user's file problem ``name`` (one of FILE_PROBLEMS), read by the measured commit's
    ``halp_core.datasets.from_file`` with its data in ``data_bits`` (8: int8; a float format's
    name: that format), its L_max, w* and f* computed (from_file caches the optimum on disk by the
    file's checksum). NotImplementedError (skipped) on commits without from_file."""
    if name not in FILE_PROBLEMS:
        raise ValueError(f"no file problem named {name!r}; HALP_BENCH_FILE declares "
                         f"{list(FILE_PROBLEMS)}")
    from_file = require(getattr(api().datasets, "from_file", None),
                        "halp_core.datasets.from_file")
    setting = FILE_SETTING
    prob = from_file(setting.path, loss=setting.loss, lam=setting.lam, data_bits=data_bits,
                     label=setting.label, scale=setting.scale, name=setting.name)
    prob.L_max, prob.w_star, prob.f_star  # noqa: B018 (computed once, cached on the problem)
    return prob


def file_problem_files(_self=None):
    """``setup_cache`` of FileSpeedup: each file problem with the data of each precision the
    profile measures (``profile_data_bits``), pickled (``pickle_problems``); keys
    (name, data_bits). The file is read once per data precision, not once per benchmark."""
    return pickle_problems({
        (name, bits): (f"file-problem-{name}-{bits}", functools.partial(file_problem, name, bits))
        for name in FILE_PROBLEMS for bits in profile_data_bits()})


def load_file_problem(paths, name, precision):
    """The file problem ``name`` from the pickles of ``file_problem_files`` with the data a run at
    ``precision`` reads (``epoch_data_bits``), as ``load_epoch_problem`` does for the epoch
    problems; NotImplementedError (skipped) when the profile built no such problem."""
    key = (name, epoch_data_bits(precision))
    return load_problem(paths, key, f"no problem of {name!r} with {key[1]!r} data in this profile")


# --------------------------------------------------------------------------------------------
# The convergence suite's problems: the built-in ones (CONV_SPECS), then the user's file's
# --------------------------------------------------------------------------------------------

CONV_PROBLEMS = ("lsq", "logistic", "digits") + FILE_PROBLEMS


@functools.lru_cache(maxsize=None)
def conv_problem(name):
    """The convergence problem ``name`` of CONV_PROBLEMS, with 8-bit data."""
    if name in FILE_PROBLEMS:
        return file_problem(name)
    ctor, kwargs = CONV_SPECS[name]
    kwargs = dict(kwargs)
    if ctor == "digits":
        return api().datasets.digits(**kwargs)
    n, d = kwargs.pop("n"), kwargs.pop("d")
    return getattr(api().datasets, ctor)(n, d, **kwargs)


def conv_mu(name, solver, problem):
    """HALP's mu in the convergence suite on problem ``name`` (built: ``problem``): its lam, fixed, on the
    suite's own problems (their series stay comparable across commits); None, the library's
    default (mu = "auto"), on a user's file problem, as a user would run it (a fixed mu = lam
    diverges at 8 bits on data as ill-conditioned as binary MNIST at lam = 1e-4). None for every
    other solver."""
    if solver != "halp" or name in FILE_PROBLEMS:
        return None
    return problem.lam


def conv_step(name):
    """The step of every solver on convergence problem ``name``: k / L_max (k: CONV_STEP_FACTOR,
    FILE_STEP_FACTOR for a file problem)."""
    factor = FILE_STEP_FACTOR if name in FILE_PROBLEMS else CONV_STEP_FACTOR[name]
    return factor / conv_problem(name).L_max


# --------------------------------------------------------------------------------------------
# Kernel inputs
# --------------------------------------------------------------------------------------------

# Vector length per memory level. This machine (lscpu): L1d 32 KiB and L2 512 KiB per core,
# L3 32 MiB shared. One n per level for every dtype, chosen so that the kernel's working set
# (two vectors, or a float64 input plus its int8/int16 output) lies in that level for every
# dtype, from int8 (1 B/element) to float64 (8 B/element):
#   L1    1024 elements:      2 KiB .. 16 KiB
#   L2   24576 elements:     48 KiB .. 384 KiB
#   L3   2**20 elements:      2 MiB .. 16 MiB
#   DRAM 2**25 elements:     64 MiB .. 512 MiB
KERNEL_LEVELS = ("L1", "L2", "L3", "DRAM")
KERNEL_N = {"L1": 1024, "L2": 24576, "L3": 2**20, "DRAM": 2**25}
# A Python-level call of a Numba kernel costs ~0.2-0.5 us of dispatch, more than an L1-sized
# kernel itself. So each timed call runs the kernel ``reps`` times inside compiled code, about
# 2**24 elements in all (one pass at DRAM size). time / (n * reps) = seconds per element.
KERNEL_WORK = 2**24
KERNEL_DTYPES = ("int8", "int16", "float32", "float64")
KERNEL_SEED = 1234


def kernel_reps(level):
    return max(1, KERNEL_WORK // KERNEL_N[level])


ALIGN = 64   # bytes: one cache line, one AVX-512 vector


def aligned(values):
    """A copy of 1-D ``values`` whose data start on an ALIGN-byte boundary. NumPy's allocations
    are only 16-byte aligned, so the vectors' alignment (and with it the speed of a vectorized
    kernel) would otherwise change from one benchmark process to the next."""
    values = np.asarray(values)
    raw = np.empty(values.nbytes + ALIGN, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGN
    out = raw[offset:offset + values.nbytes].view(values.dtype)
    out[...] = values
    return out


@functools.lru_cache(maxsize=2)
def kernel_vectors(dtype, level):
    """Two vectors of ``KERNEL_N[level]`` elements of ``dtype``: integers uniform over the
    dtype's range (int8) or over +-2**10 (int16); floats uniform in [-1, 1)."""
    n = KERNEL_N[level]
    rng = np.random.default_rng([KERNEL_SEED, KERNEL_DTYPES.index(dtype), n])
    if dtype == "int8":
        a = rng.integers(-128, 128, n, dtype=np.int8)
        b = rng.integers(-128, 128, n, dtype=np.int8)
    elif dtype == "int16":
        a = rng.integers(-1024, 1024, n, dtype=np.int16)
        b = rng.integers(-1024, 1024, n, dtype=np.int16)
    else:
        a = rng.uniform(-1.0, 1.0, n).astype(dtype)
        b = rng.uniform(-1.0, 1.0, n).astype(dtype)
    return aligned(a), aligned(b)


QUANT_BITS = (16, 8, 4)


@functools.lru_cache(maxsize=1)
def quantize_input(level):
    """float64 input of ``KERNEL_N[level]`` elements, standard normal."""
    rng = np.random.default_rng([KERNEL_SEED, 99, KERNEL_N[level]])
    return aligned(rng.standard_normal(KERNEL_N[level]))


def quantize_scale(bits):
    """Scale that maps +-3 (three standard deviations) to the edge of the b-bit range, so a
    small fraction of the entries saturates, as in real use."""
    return 3.0 / (2 ** (bits - 1) - 1)
