"""Sweep specs: a TOML file naming problems, solvers and the values to sweep, checked in full
before any work starts, and expanded into the grid of runs (their product).

    epochs = 20                                   # every value below: one value, a list, or a
    seeds = {from = 0, to = 2, step = 1}          # range {from, to, step} / {from, to, times}
    step = [0.25, 0.5]                            # step = step_factor / L_max
    data_bits = 8
    mu = [{from = 0.5, to = 32, times = 2}, "auto"]   # halp only; numbers or "auto"
    mu_unit = "mu_min"                            # numbers in mu are multiples of mu_min

    [[problem]]
    name = "synthetic_least_squares"
    n = 1000
    d = 50
    lam = 1e-2
    noise = 0.1
    cond = [10, 100]

    [[solver]]
    name = "halp"
    precision = [8, 16]

    [[problem]]                                   # a problem read from a data file
    name = "file"
    path = "data/a9a.svm"                         # relative to the spec file's folder
    loss = "logistic"
    lam = [1e-4, 1e-3]

A problem's data are drawn once (seed 0) from its parameters; ``seed`` seeds the solver
(sampling, stochastic rounding). Lists inside a list are flattened, so ranges and single values
mix. See docs/sweeps.md.
"""

import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path

from halp_core import data_files, datasets, registry, validate
from halp_core.solvers import check_precision


class SpecError(ValueError):
    """A sweep spec that cannot run; the message names the file and the entry."""


@dataclass(frozen=True)
class ProblemKind:
    """A problem a spec may name: its builder (a ``halp_core.datasets`` constructor, called with
    its parameters, data_bits and, if ``seeded``, seed=0), its parameters (name -> kind of value,
    see ``_scalar``), their defaults (parameters without one are required) and its
    ``Problem.kind``."""

    build: object
    params: dict
    defaults: dict
    kind: str
    seeded: bool = True


PROBLEMS = {
    "synthetic_least_squares": ProblemKind(
        datasets.synthetic_least_squares,
        {"n": "int", "d": "int", "lam": "real0", "noise": "real0", "cond": "cond"},
        {"cond": 1.0}, "least_squares"),
    "synthetic_logistic": ProblemKind(
        datasets.synthetic_logistic,
        {"n": "int", "d": "int", "lam": "real0", "cond": "cond"}, {"cond": 1.0}, "logistic"),
    "digits": ProblemKind(datasets.digits, {"lam": "real0"}, {}, "multinomial", seeded=False),
    "mnist": ProblemKind(datasets.mnist, {"lam": "real0"}, {}, "multinomial", seeded=False),
}
"""Problems a spec may name (``halp_core.datasets`` constructors); and FILE."""

FILE = "file"
"""The spec name of a problem read from a data file (``halp_core.datasets.from_file``): its keys
are FILE_KEYS, and its runs' ``problem`` is its title."""
FILE_KEYS = ("path", "loss", "lam", "label", "scale", "format", "title")
LOSSES = tuple(data_files.PROBLEMS)
"""The losses a file problem may name (``Problem.kind``), as ``datasets.from_file`` reads them."""

KAPPA_MAX_D = 2000
"""kappa and mu_min are computed (float64 Hessian eigenvalues) for least squares and binary
logistic problems with d <= KAPPA_MAX_D features."""

INTEGRAL = {"int": (1, None), "bits": (2, 16), "seed": (0, None)}
"""Integer kinds of value and their (minimum, maximum)."""
MAX_RANGE = 10000
SWEEP_KEYS = {"step": "real", "mu": "mu", "epochs": "int", "data_bits": "bits", "seeds": "seed"}
DEFAULTS = {"mu": "auto", "data_bits": 8, "seeds": 0}
TOP_KEYS = ("problem", "solver", *SWEEP_KEYS, "mu_unit")
MU_UNITS = ("absolute", "mu_min")


@dataclass(frozen=True)
class DataFile:
    """A data file a spec names: ``path`` as the spec writes it, ``abspath`` (resolved from the
    spec file's folder) and ``sha256`` (hex, of its bytes when the spec was checked)."""

    path: str
    abspath: str
    sha256: str

    def read(self):
        """The file's bytes; SpecError naming the file when it cannot be read or its sha256 is
        no longer the one the spec was checked with."""
        try:
            data = Path(self.abspath).read_bytes()
        except OSError as exc:
            _fail(self.abspath, f"cannot be read ({exc.strerror or exc})")
        found = hashlib.sha256(data).hexdigest()
        if found != self.sha256:
            _fail(self.abspath, f"changed since the spec was checked (sha256 {self.sha256}, now "
                                f"{found}); run the sweep again")
        return data


@dataclass(frozen=True)
class Run:
    """One run of a sweep. problem: a PROBLEMS name, or a file problem's title; params: its
    parameters as sorted (name, value) pairs (a file problem's: file_sha256, format, label, lam,
    loss, scale; "" for label and scale when not given); solver: a registry name; precision:
    "fp64"/"fp32" or the bits as text; step_factor: step = step_factor / L_max; mu: "auto", a
    number as text, or "" (solvers without mu); mu_unit: "mu_min" when mu is a multiple of the
    problem's mu_min, else ""; data_bits: bits of the data copy; seed: the solver's seed; epochs:
    epochs to run; source: the :class:`DataFile` of a file problem (None for the others), not
    part of the run's identity (its content is, through file_sha256)."""

    problem: str
    params: tuple
    solver: str
    precision: str
    step_factor: float
    mu: str
    mu_unit: str
    data_bits: int
    seed: int
    epochs: int
    source: DataFile | None = field(default=None, compare=False)

    @property
    def run_id(self):
        """A short stable hash of every field but ``source`` (12 hex digits): a file problem's
        runs change their id when the file's content does, not when it moves."""
        fields = asdict(self)
        del fields["source"]
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def label(self):
        """The run in one line, for messages, e.g. "synthetic_least_squares(cond=1, d=10, ...)
        halp 8, step 1e+06, mu auto, data_bits 8, seed 0, 4 epochs"; a file problem's names its
        path and the start of its sha256: "a9a(data/a9a.svm, sha256 1a2b3c4d5e6f, format=svmlight,
        lam=0.0001, loss=logistic) halp 8, ..."."""
        params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in self.params if k != "file_sha256" and v != "")
        if self.source is not None:
            params = f"{self.source.path}, sha256 {self.source.sha256[:12]}, {params}"
        mu = f", mu {self.mu}{' x mu_min' if self.mu_unit else ''}" if self.mu else ""
        return (f"{self.problem}({params}) {self.solver} {self.precision}, step "
                f"{self.step_factor:g}{mu}, data_bits {self.data_bits}, seed {self.seed}, "
                f"{self.epochs} epochs")


@dataclass(frozen=True)
class Grid:
    """The runs of a spec (unique, in spec order) and how many combinations of the product were
    skipped: values the solver does not take (mu for solvers other than halp) or repeats."""

    runs: tuple
    skipped: int


def _fail(where, message):
    raise SpecError(f"{where}: {message}")


def _unknown_key(where, key, allowed):
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    _fail(where, f"unknown key {key!r}{hint}; allowed: {', '.join(allowed)}")


def _scalar(value, kind, where):
    """One value of an axis, checked against ``kind``: "int" (>= 1), "bits" (2..16), "seed"
    (>= 0), "real" (> 0), "real0" (>= 0), "cond" (>= 1), "mu" ("auto" or > 0), "precision" (a
    str, checked against the solver later, or bits)."""
    if (kind == "mu" and value == "auto") or (kind == "precision" and isinstance(value, str)):
        return value
    kind = "bits" if kind == "precision" else kind
    name = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[-1].rsplit(": ", 1)[-1]
    try:
        if kind in INTEGRAL:
            return validate.integer(value, name, *INTEGRAL[kind])
        minimum = {"real0": 0.0, "cond": 1.0}.get(kind)
        return validate.real(value, name, minimum=minimum, positive=minimum is None)
    except (TypeError, ValueError) as exc:
        _fail(where, str(exc) + (' or "auto"' if kind == "mu" else ""))


def _range(table, kind, where):
    """Expand a range table, both ends inclusive: {from, to, step} (arithmetic) or
    {from, to, times} (geometric, times > 1); real values rounded to 12 significant digits (so
    0.3 + 0.1 is 0.4)."""
    for key in table:
        if key not in ("from", "to", "step", "times"):
            _unknown_key(where, key, ("from", "to", "step", "times"))
    by_key = [key for key in ("step", "times") if key in table]
    if len(by_key) != 1 or "from" not in table or "to" not in table:
        _fail(where, "a range is {from, to, step} or {from, to, times}")
    by_key, by = by_key[0], table[by_key[0]]
    start, stop = (_scalar(table[key], kind, f"{where}.{key}") for key in ("from", "to"))
    if isinstance(start, str) or isinstance(stop, str):
        _fail(where, f"a range takes numbers, not {start if isinstance(start, str) else stop!r}")
    integral = kind in INTEGRAL or kind == "precision"
    if (isinstance(by, bool) or not isinstance(by, (int, float)) or by <= (by_key == "times")
            or (integral and by_key == "step" and not isinstance(by, int))):
        _fail(f"{where}.{by_key}", f"must be {'an int' if integral else 'a number'} > "
              f"{int(by_key == 'times')}, got {by!r}")
    values = []
    while len(values) <= MAX_RANGE:
        k = len(values)
        value = start + k * by if by_key == "step" else start * by ** k
        if value > stop * (1 + 1e-9):
            return [_scalar(round(v) if integral else float(f"{v:.12g}"), kind, where)
                    for v in values]
        values.append(value)
    _fail(where, f"more than {MAX_RANGE} values")


def axis(value, kind, where):
    """The values of one spec entry (a value, a list of values and ranges, or a range), checked;
    SpecError naming ``where`` when one is wrong or there are none."""
    items = value if isinstance(value, list) else [value]
    values = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if isinstance(item, dict):
            values += _range(item, kind, at)
        elif isinstance(item, list):
            values += axis(item, kind, at)
        else:
            values.append(_scalar(item, kind, at))
    if not values:
        _fail(where, "no values (an empty list or range)")
    return values


def _entries(spec, key, where):
    entries = spec.get(key)
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        _fail(where, f"needs at least one [[{key}]] table")
    return entries


def _problem_points(entry, where, folder, hashed):
    """[(name, params, source)] of one [[problem]] entry: the product of its parameters' values
    (source: the DataFile of a FILE entry, see ``_file_points``; None for the others)."""
    name = entry.get("name")
    if name == FILE:
        return _file_points(entry, f"{where} ({FILE})", folder, hashed)
    if name not in PROBLEMS:
        _fail(where, f"unknown problem {name!r}; choose one of {', '.join([*PROBLEMS, FILE])}")
    kind = PROBLEMS[name]
    where = f"{where} ({name})"
    for key in entry:
        if key != "name" and key not in kind.params:
            _unknown_key(where, key, tuple(kind.params))
    values = {}
    for key, typ in kind.params.items():
        if key not in entry and key not in kind.defaults:
            _fail(where, f"parameter {key!r} is missing")
        values[key] = axis(entry.get(key, kind.defaults.get(key)), typ, f"{where}.{key}")
    return [(name, tuple(sorted(zip(values, combo))), None)
            for combo in product(*values.values())]


def _data_file(path, folder, where, hashed):
    """The DataFile of ``path`` (a spec's text; relative to ``folder``, ``~`` expanded); SpecError
    naming ``where`` and the file when it does not exist, is not a regular file, is empty or
    cannot be read. ``hashed``: abspath -> sha256 of the files checked already."""
    if not isinstance(path, str) or not path.strip():
        _fail(where, f"must be a data file's path (text), got {path!r}")
    given = Path(path).expanduser()
    abspath = os.path.abspath(given if given.is_absolute() else Path(folder) / given)
    named = path if path == abspath else f"{path} ({abspath})"
    if abspath not in hashed:
        try:
            info = os.stat(abspath)
            if not stat.S_ISREG(info.st_mode):
                _fail(where, f"{named} is not a regular file")
            if info.st_size == 0:
                _fail(where, f"{named} is empty")
            hashed[abspath] = datasets.file_sha256(abspath)
        except OSError as exc:
            _fail(where, f"{named} cannot be read ({exc.strerror or exc})")
    return DataFile(path, abspath, hashed[abspath])


def _text(entry, key, where, options=None):
    """entry[key] (None when absent): a non-empty str, one of ``options`` when given."""
    value = entry.get(key)
    if value is None:
        return None
    if options is not None and value not in options:
        _fail(f"{where}.{key}", f"must be one of {', '.join(options)}; got {value!r}")
    if not isinstance(value, str) or not value.strip():
        _fail(f"{where}.{key}", f"must be a non-empty text, got {value!r}")
    return value


def _file_points(entry, where, folder, hashed):
    """[(title, params, source)] of a FILE entry, one per lam: params are file_sha256, format
    (given or told by the suffix), label, lam, loss and scale ("" for label and scale when not
    given). SpecError naming the entry for a missing or unreadable file, an unknown key, loss,
    format or scale, a format the suffix does not tell, a label missing for CSV/Parquet or given
    for svmlight/npz, a title that is a built-in problem's name."""
    for key in entry:
        if key != "name" and key not in FILE_KEYS:
            _unknown_key(where, key, FILE_KEYS)
    for key in ("path", "loss", "lam"):
        if key not in entry:
            _fail(where, f"{key!r} is missing")
    source = _data_file(entry["path"], folder, f"{where}.path", hashed)
    loss = _text(entry, "loss", where, LOSSES)
    file_format = _text(entry, "format", where, tuple(data_files.FORMATS))
    if file_format is None:
        try:
            file_format = data_files.format_of(Path(source.abspath))
        except data_files.DataFileError:
            _fail(f"{where}.path", f"the suffix {Path(source.abspath).suffix.lower()!r} of {source.path} "
                                   f"does not tell its format; add format = one of "
                                   f"{', '.join(data_files.FORMATS)}")
    label = _text(entry, "label", where)
    if file_format in data_files.LABELED_BY_COLUMN and label is None:
        _fail(where, f"'label' is missing: a {file_format} file's label column must be named")
    if file_format not in data_files.LABELED_BY_COLUMN and label is not None:
        _fail(f"{where}.label", f"a {file_format} file holds its labels itself; remove label")
    scale = _text(entry, "scale", where, data_files.SCALES)
    title = _text(entry, "title", where) or Path(source.path).stem
    if title in PROBLEMS or title == FILE:
        _fail(f"{where}.title" if "title" in entry else where,
              f"{title!r} is a built-in problem's name; give the file problem another title")
    fixed = (("file_sha256", source.sha256), ("format", file_format), ("label", label or ""),
             ("loss", loss), ("scale", scale or ""))
    return [(title, tuple(sorted((*fixed, ("lam", lam)))), source)
            for lam in axis(entry["lam"], "real0", f"{where}.lam")]


def _check_titles(points, where):
    """SpecError when one title names two different file problems (file content, format, label,
    loss or scale differ): the runs' ``problem`` would not tell them apart."""
    seen = {}
    for title, params, source in points:
        if source is None:
            continue
        data = {k: v for k, v in params if k != "lam"}
        if seen.setdefault(title, (data, source.path))[0] != data:
            _fail(where, f"the title {title!r} names two different file problems "
                         f"({seen[title][1]} and {source.path}); give each its own title")


def _solver_points(entry, where):
    """[(solver, precision text)] of one [[solver]] entry."""
    name = entry.get("name")
    if name not in registry.SPECS:
        _fail(where, f"unknown solver {name!r}; choose one of {', '.join(registry.SPECS)}")
    where = f"{where} ({name})"
    for key in entry:
        if key not in ("name", "precision"):
            _unknown_key(where, key, ("name", "precision"))
    if "precision" not in entry:
        _fail(where, "precision is missing")
    points = []
    for precision in axis(entry["precision"], "precision", f"{where}.precision"):
        try:
            check_precision(name, precision)
        except (TypeError, ValueError) as exc:
            _fail(f"{where}.precision", str(exc))
        points.append((name, str(precision)))
    return points


def read(path):
    """The text of the spec file ``path`` (UTF-8, a byte-order mark allowed); SpecError naming the
    file when it cannot be read or is not UTF-8 text."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        _fail(path, f"cannot be read ({exc.strerror or exc})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    f"save it as UTF-8")


def parse(text, source="spec"):
    """The :class:`Grid` of a spec given as TOML text; ``source``: the spec file's path (messages
    name it; a file problem's relative path is resolved from its folder). SpecError naming
    ``source`` and the offending entry for a TOML syntax error, an unknown key, problem,
    parameter, solver or precision, a value of the wrong type or range, an empty list, or a file
    problem's file that is missing or unreadable (``_file_points``). Each data file is read once
    here for its sha256."""
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail(source, f"not valid TOML ({exc})")
    for key in spec:
        if key not in TOP_KEYS:
            _unknown_key(source, key, TOP_KEYS)
    for key in ("step", "epochs"):
        if key not in spec:
            _fail(source, f"{key!r} is missing")
    folder, hashed = Path(source).parent, {}
    problems = [p for i, e in enumerate(_entries(spec, "problem", source))
                for p in _problem_points(e, f"{source}: problem[{i}]", folder, hashed)]
    _check_titles(problems, f"{source}: problem")
    solvers = [s for i, e in enumerate(_entries(spec, "solver", source))
               for s in _solver_points(e, f"{source}: solver[{i}]")]
    sweep = {key: axis(spec.get(key, DEFAULTS.get(key)), kind, f"{source}: {key}")
             for key, kind in SWEEP_KEYS.items()}
    mu_unit = spec.get("mu_unit", "absolute")
    if mu_unit not in MU_UNITS:
        _fail(f"{source}: mu_unit", f"must be one of {', '.join(MU_UNITS)}; got {mu_unit!r}")
    numeric_mu = any(m != "auto" for m in sweep["mu"])
    if mu_unit == "mu_min" and numeric_mu:
        for name, params, data in problems:   # a file's d is known once read: checked then
            values = dict(params)
            kind = values["loss"] if data else PROBLEMS[name].kind
            d = 0 if data else values.get("d", KAPPA_MAX_D + 1)
            if kind == "multinomial" or d > KAPPA_MAX_D:
                _fail(f"{source}: mu_unit",
                      f"mu_min is computed only for least squares and logistic problems with d <= "
                      f"{KAPPA_MAX_D}, not for {name} {values}")
    runs, total = {}, 0
    for (problem, params, data), (solver, precision) in product(problems, solvers):
        mus = sweep["mu"] if "mu" in registry.spec(solver).options else [""]
        combos = list(product(sweep["step"], mus, sweep["data_bits"], sweep["seeds"],
                              sweep["epochs"]))
        total += len(combos) // len(mus) * len(sweep["mu"])
        for step, mu, bits, seed, epochs in combos:
            unit = "mu_min" if mu_unit == "mu_min" and mu not in ("", "auto") else ""
            run = Run(problem, params, solver, precision, step, mu if mu in ("", "auto")
                      else repr(float(mu)), unit, bits, seed, epochs, data)
            runs.setdefault(run.run_id, run)
    return Grid(tuple(runs.values()), total - len(runs))
