"""Tables of the Reproduction page: the outputs of COMMAND (`python -m halp_bench.reproduce`) and
of NETS_COMMAND (`python -m halp_bench.nets`) read back from a folder (plain Python, no Streamlit).

A reproduction folder holds `summary.md`, `convex.csv`, `mu_sweep.csv` and `mlp.csv`, and where the
networks were run `nets.csv`, `nets.md` and `nets_run.json` (and HTML figures, which the dashboard
does not need: `dashboard.figures.reproduction` rebuilds them from the CSVs with the same
functions). The repository ships a small sample made with `--quick` in `docs/reproduction/`.
"""

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard import locations
from halp_bench import files

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"convex": "convex.csv", "sweep": "mu_sweep.csv", "mlp": "mlp.csv", "nets": "nets.csv"}
REQUIRED = {"convex": ("problem", "label", "epoch", "seconds", "subopt", "grad_norm"),
            "sweep": ("problem", "mu", "mu_factor", "epochs_to_tol", "saturations"),
            "mlp": ("label", "epoch", "train_loss", "val_accuracy"),
            "nets": ("network", "method", "precision", "label", "seed", "epoch", "seconds", "val_loss",
                     "val_accuracy", "failure")}
NUMERIC = {"convex": ("epoch", "seconds", "subopt", "grad_norm"),
           "sweep": ("mu_factor", "epochs_to_tol", "saturations"),
           "mlp": ("epoch", "train_loss", "val_accuracy"),
           "nets": ("seed", "epoch", "seconds", "val_loss", "val_accuracy")}
"""Required columns that must hold numbers (empty cells allowed: e.g. a tolerance never reached)."""
SUMMARY = "summary.md"
COMMAND = "python -m halp_bench.reproduce"
"""The command that writes a reproduction folder (the page shows it)."""
NETS_SUMMARY = "nets.md"
NETS_RUN = "nets_run.json"
NETS_COMMAND = "python -m halp_bench.nets"
"""The command that trains the networks into a reproduction folder: nets.csv (TABLES["nets"]),
NETS_SUMMARY and NETS_RUN. A folder without nets.csv is one where it did not run (no problem);
with it, a missing NETS_SUMMARY or NETS_RUN is one."""
RUN_FIELDS = {"command": str, "wall_seconds": (int, float), "machine": str}
"""The fields of NETS_RUN the page shows, and their JSON types."""
DEFAULT_LABELS = ("sgd-fp64", "sgd-fp32", "svrg-fp64", "lp-sgd-8", "lp-svrg-8", "halp-8", "halp-16", "halp-bf16",
                  "lp-sgd-bf16", "halp-fp8-e4m3")
"""Run labels (the CSVs' `label`) the convex and MLP figures draw before a person chooses others: those
present, at most `figures.style.MAX_SERIES` of them, in this order of preference (the networks'
figures draw their runs in file order)."""


def shipped_dir():
    """The committed sample: $HALP_REPRODUCTION if set, else docs/reproduction/."""
    return locations.env_path("HALP_REPRODUCTION", ROOT / "docs" / "reproduction")


@dataclass
class Reproduction:
    """One folder's outputs: DataFrames (None when the file is missing or unusable), the summary
    texts ("" when missing), whether the networks ran here (`nets_ran`: nets.csv is there, usable or
    not), their run record (NETS_RUN: the RUN_FIELDS it holds, {} when missing) and a list of
    readable problems (missing or unreadable files)."""

    folder: Path
    convex: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    mlp: pd.DataFrame | None = None
    nets: pd.DataFrame | None = None
    summary: str = ""
    nets_summary: str = ""
    nets_ran: bool = False
    nets_run: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def empty(self):
        return (all(getattr(self, name) is None for name in TABLES) and not self.summary
                and not self.nets_summary)


def fingerprint(folder):
    """(name, size, mtime) of the folder's output files: changes when a run rewrites them."""
    folder = Path(folder)
    stamp = []
    for name in (*TABLES.values(), SUMMARY, NETS_SUMMARY, NETS_RUN):
        try:
            st = (folder / name).stat()
        except OSError:
            continue
        stamp.append((name, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def _table(path, attr):
    """(DataFrame, problems) of one CSV: None when it is unusable; rows whose numeric columns hold
    text are dropped, each such column reported (file, column, count, first bad value)."""
    data, problem = files.checked(files.read_bytes, path)
    if problem:
        return None, [problem]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # rows longer than the header
            table = pd.read_csv(io.BytesIO(data), index_col=False)
    except (ValueError, MemoryError, pd.errors.ParserWarning) as exc:  # parser errors, empty, not UTF-8
        return None, [f"{path} could not be read as CSV: {exc}"]
    missing = [c for c in REQUIRED[attr] if c not in table.columns]
    if missing:
        return None, [f"{path} lacks the columns {', '.join(missing)}"]
    problems, bad_rows = [], pd.Series(False, index=table.index)
    for col in NUMERIC[attr]:
        numbers = pd.to_numeric(table[col], errors="coerce")
        bad = numbers.isna() & table[col].notna()
        if bad.any():
            first = bad.idxmax()
            problems.append(f"{path}: column {col!r} holds {int(bad.sum())} value(s) that are not numbers "
                            f"(e.g. {table.at[first, col]!r} in data row {first + 1}); those rows are left out")
            bad_rows |= bad
        table[col] = numbers
    table = table[~bad_rows].reset_index(drop=True)
    for col in set(REQUIRED[attr]) - set(NUMERIC[attr]):   # an empty cell is empty text
        table[col] = table[col].fillna("").astype(str)
    if table.empty:
        return None, problems + [f"{path} has no usable rows"]
    return table, problems


def final_table(convex):
    """Median over seeds of each run's final f − f* (its last epoch) from a convex.csv table: one
    row per solver label in file order (fixed-point and float-format rows side by side), a
    ``precision`` column ("fp64", "8", "bf16", ...; "" when the file has none) and one column per
    problem (NaN where a label did not run on it)."""
    seeded = convex if "seed" in convex.columns else convex.assign(seed=0)
    last = (seeded.sort_values("epoch", kind="stable")
            .groupby(["problem", "label", "seed"], sort=False).tail(1))
    table = last.groupby(["label", "problem"], sort=False)["subopt"].median().unstack("problem")
    table = table.reindex(index=list(dict.fromkeys(convex["label"])),
                          columns=list(dict.fromkeys(convex["problem"])))
    precision = (convex.drop_duplicates("label").set_index("label")["precision"].astype(str)
                 if "precision" in convex.columns else pd.Series("", index=table.index))
    table.insert(0, "precision", precision.reindex(table.index).fillna(""))
    return table.rename_axis("solver").reset_index()


def _missing(path):
    """Whether nothing is at `path` (a dangling symlink is something: it is reported unreadable)."""
    return not path.exists() and not path.is_symlink()


def _absent(path, problems, needed):
    """`_missing(path)`; when it is and `needed`, its absence is appended to `problems`."""
    if _missing(path) and needed:
        problems.append(f"{path.name} is missing")
    return _missing(path)


def _text(path, problems, needed=True):
    """The text of the file `path` ("" when missing or unreadable); problems appended to `problems`:
    its absence when `needed`, why it cannot be read, or that it is not UTF-8 (then it is returned
    with the undecodable bytes replaced)."""
    if _absent(path, problems, needed):
        return ""
    data, problem = files.checked(files.read_bytes, path)
    if problem:
        problems.append(problem)
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); shown with "
                        "the undecodable bytes replaced")
        return data.decode("utf-8", errors="replace")


def _run_record(path, problems, needed=True):
    """The RUN_FIELDS of the JSON object in `path` that hold their type ({} when missing or
    unreadable); problems appended to `problems`: its absence when `needed`, why it cannot be read,
    each field missing or of the wrong type."""
    if _absent(path, problems, needed):
        return {}
    record, problem = files.checked(files.read_json, path)
    if problem:
        problems.append(problem)
        return {}
    if not isinstance(record, dict):
        problems.append(f"{path}: not a JSON object (a {type(record).__name__})")
        return {}
    kept = {key: record[key] for key, kind in RUN_FIELDS.items()
            if isinstance(record.get(key), kind) and not isinstance(record.get(key), bool)}
    lacking = [key for key in RUN_FIELDS if key not in kept]
    if lacking:
        problems.append(f"{path}: lacks {', '.join(lacking)} (or holds the wrong type)")
    return kept


def run_sentence(run):
    """One sentence on how the networks were run, from a NETS_RUN record (`Reproduction.nets_run`):
    its command, wall time (s) and machine, each left out when the record lacks it."""
    command = f"`{run['command']}`" if "command" in run else "The run"
    wall = f" took {run['wall_seconds']:,.0f} s" if "wall_seconds" in run else " ran"
    machine = f" on {run['machine']}" if "machine" in run else ""
    return f"{command}{wall}{machine}."


@dataclass
class Network:
    """One network's part of the deep-learning section: `name` ('cnn'), `title` ('LeNet-5 on
    Fashion-MNIST'), its nets.csv rows (`histories`), `accuracy` (a row per run label: final
    validation accuracy, median and 5–95% over seeds, seconds per epoch, failed runs, as text),
    `verdicts` (a row per precision where HALP and LP-SGD both ran) and `failed` (one line per
    failed run: its divergence message and seed)."""

    name: str
    title: str
    histories: pd.DataFrame
    accuracy: pd.DataFrame
    verdicts: pd.DataFrame
    failed: list


def _number(value, spec):
    """`value` formatted by `spec` ('.4f'), or '—' when it is NaN."""
    return "—" if value != value else format(value, spec)


def _accuracy_table(part):
    """Rows of experiment.table (one network) as the page shows them: run, precision, final
    validation accuracy (median; 5–95% over seeds), seconds per epoch, failed runs (text)."""
    return pd.DataFrame({
        "run": part["label"], "precision": part["precision"],
        "final validation accuracy, median": [_number(v, ".4f") for v in part["median"]],
        "5–95% over seeds": [f"{_number(lo, '.4f')}–{_number(hi, '.4f')}"
                             for lo, hi in zip(part["low"], part["high"])],
        "seconds per epoch": [_number(v, ".2f") for v in part["epoch_seconds"]],
        "failed runs": [f"{f} of {n}" for f, n in zip(part["failed"], part["seeds"])]}).reset_index(drop=True)


def _verdict_table(part):
    """Rows of experiment.verdicts (one network) as the page shows them (text)."""
    return pd.DataFrame({
        "precision": part["precision"],
        "HALP, median": [_number(v, ".4f") for v in part["halp"]],
        "LP-SGD, median": [_number(v, ".4f") for v in part["lp_sgd"]],
        "gap (HALP − LP-SGD)": [_number(v, "+.4f") for v in part["gap"]],
        "spread (5–95%)": [_number(v, ".4f") for v in part["spread"]],
        "verdict": part["verdict"]}).reset_index(drop=True)


def networks(nets):
    """The deep-learning section of a nets.csv table (`Reproduction.nets`): (rule, [Network, ...]),
    the verdict rule in words and one Network per network of the file (those of
    halp_bench.nets.experiment.NETWORKS first, in its order). The numbers are experiment.table's,
    .verdicts' and .finals' (the ones nets.md holds).

    Imports halp_bench.nets.experiment (its networks' Numba kernels): ImportError where that is not
    importable."""
    from halp_bench.nets import experiment  # noqa: PLC0415 (the page runs without it: see above)

    table, runs = experiment.table(nets), experiment.failed_runs(nets)
    verdicts = experiment.verdicts(nets)
    if verdicts.empty:   # no precision where both ran: a frame without columns
        verdicts = pd.DataFrame(columns=["network", "precision", "halp", "lp_sgd", "gap", "spread", "verdict"])
    present = set(nets["network"])
    names = dict.fromkeys([n for n in experiment.NETWORKS if n in present] + list(nets["network"]))
    out = []
    for name in names:
        bad = runs[runs["network"] == name]
        out.append(Network(name=name, title=experiment.TITLES.get(name, name),
                           histories=nets[nets["network"] == name],
                           accuracy=_accuracy_table(table[table["network"] == name]),
                           verdicts=_verdict_table(verdicts[verdicts["network"] == name]),
                           failed=[f"{row.failure} (seed {row.seed})" for row in bad.itertuples()]))
    return experiment.RULE, out


def load(folder):
    """Read a reproduction folder into a :class:`Reproduction`; never raises on a missing,
    unreadable or malformed file (each is listed in ``problems``, naming the file)."""
    folder = Path(folder)
    rep = Reproduction(folder=folder)
    if not folder.is_dir():
        rep.problems.append(f"{folder} is not a folder")
        return rep
    for attr, name in TABLES.items():
        path = folder / name
        if _absent(path, rep.problems, needed=attr != "nets"):   # the networks: a command of their own
            continue
        table, problems = _table(path, attr)
        rep.problems += problems
        setattr(rep, attr, table)
    rep.summary = _text(folder / SUMMARY, rep.problems)
    rep.nets_ran = not _missing(folder / TABLES["nets"])
    rep.nets_summary = _text(folder / NETS_SUMMARY, rep.problems, needed=rep.nets_ran)
    rep.nets_run = _run_record(folder / NETS_RUN, rep.problems, needed=rep.nets_ran)
    return rep
