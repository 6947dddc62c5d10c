"""Tables of the Reproduction page: the outputs of COMMAND (`python -m halp_bench.reproduce`) read
back from a folder (plain Python, no Streamlit).

A reproduction folder holds `summary.md`, `convex.csv`, `mu_sweep.csv` and `mlp.csv` (and HTML
figures, which the dashboard does not need: `dashboard.figures.reproduction` rebuilds them from the
CSVs with the same functions).
The repository ships a small sample made with `--quick` in `docs/reproduction/`.
"""

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard import locations
from halp_bench import files

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"convex": "convex.csv", "sweep": "mu_sweep.csv", "mlp": "mlp.csv"}
REQUIRED = {"convex": ("problem", "label", "epoch", "seconds", "subopt", "grad_norm"),
            "sweep": ("problem", "mu", "mu_factor", "epochs_to_tol", "saturations"),
            "mlp": ("label", "epoch", "train_loss", "val_accuracy")}
NUMERIC = {"convex": ("epoch", "seconds", "subopt", "grad_norm"),
           "sweep": ("mu_factor", "epochs_to_tol", "saturations"),
           "mlp": ("epoch", "train_loss", "val_accuracy")}
"""Required columns that must hold numbers (empty cells allowed: e.g. a tolerance never reached)."""
SUMMARY = "summary.md"
COMMAND = "python -m halp_bench.reproduce"
"""The command that writes a reproduction folder (the page shows it)."""
DEFAULT_LABELS = ("sgd-fp64", "sgd-fp32", "svrg-fp64", "lp-sgd-8", "lp-svrg-8", "halp-8", "halp-16", "halp-bf16",
                  "lp-sgd-bf16", "halp-fp8-e4m3")
"""Run labels (the CSVs' `label`) the figures draw before a person chooses others: those present, at
most `figures.style.MAX_SERIES` of them, in this order of preference."""


def shipped_dir():
    """The committed sample: $HALP_REPRODUCTION if set, else docs/reproduction/."""
    return locations.env_path("HALP_REPRODUCTION", ROOT / "docs" / "reproduction")


@dataclass
class Reproduction:
    """One folder's outputs: DataFrames (None when the file is missing), the summary text ("" when
    missing) and a list of readable problems (missing or unreadable files)."""

    folder: Path
    convex: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    mlp: pd.DataFrame | None = None
    summary: str = ""
    problems: list = field(default_factory=list)

    @property
    def empty(self):
        return all(getattr(self, name) is None for name in TABLES) and not self.summary


def fingerprint(folder):
    """(name, size, mtime) of the folder's output files: changes when a run rewrites them."""
    folder = Path(folder)
    stamp = []
    for name in (*TABLES.values(), SUMMARY):
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
    for col in set(REQUIRED[attr]) - set(NUMERIC[attr]):
        table[col] = table[col].astype(str)
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
        if not path.exists() and not path.is_symlink():
            rep.problems.append(f"{name} is missing")
            continue
        table, problems = _table(path, attr)
        rep.problems += problems
        setattr(rep, attr, table)
    path = folder / SUMMARY
    if not path.exists() and not path.is_symlink():
        rep.problems.append(f"{SUMMARY} is missing")
        return rep
    data, problem = files.checked(files.read_bytes, path)
    if problem:
        rep.problems.append(problem)
        return rep
    try:
        rep.summary = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        rep.problems.append(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); shown with "
                            "the undecodable bytes replaced")
        rep.summary = data.decode("utf-8", errors="replace")
    return rep
