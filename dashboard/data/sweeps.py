"""Tables of the Sweeps page: the runs of a sweep folder written by COMMAND (`python -m
halp_bench.sweep SPEC --out DIR`) read back guarded, and what the page shows of them (plain pandas,
no Streamlit).

A sweep folder holds `spec.toml` (the sweep's spec) and `runs/<run_id>.parquet`, one file per run
and one row per history row (epoch 0..E), in the format `halp_bench.sweep.storage` declares and
reads (`storage.read_part`).
"""

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import locations
from halp_bench import files
from halp_bench.sweep import storage
from halp_bench.sweep.storage import FACTS, HISTORY, PARAMS

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "./run sweep sweeps/<spec>.toml --out DIR"
"""How to make a sweep folder (the page tells the user)."""
DEFAULT = ROOT / "sweeps-results"
"""The folder read when $HALP_SWEEPS is unset and it exists."""
SPEC = "spec.toml"
TARGETS = {"1e-4": 1e-4, "1e-8": 1e-8, "1e-10": 1e-10}
"""f − f* targets: label -> value."""
SEED = "seed"


def sweep_dir():
    """The sweep folder to read by default: $HALP_SWEEPS (empty counts as unset), else
    `sweeps-results/` at the repository root if it exists, else None."""
    value = os.environ.get("HALP_SWEEPS", "").strip()
    if value:
        return Path(value)
    return DEFAULT if DEFAULT.is_dir() else None


def sweep_folders(root):
    """The sweeps under ``root`` (a Path): [root] when it holds a spec.toml itself (or is not a
    folder: the loader names the problem), else its sub-folders that hold one, newest first
    (`./run sweep SPEC --out sweeps-results/NAME` keeps several side by side); [root] when none
    does."""
    root = Path(root)
    if (root / SPEC).exists() or not root.is_dir():
        return [root]
    found = []
    for sub in root.iterdir():
        try:
            if sub.is_dir() and (sub / SPEC).is_file():
                found.append((sub.stat().st_mtime, sub))
        except OSError:   # a folder that vanished or cannot be read is simply not offered
            continue
    return [sub for _, sub in sorted(found, key=lambda item: (-item[0], item[1].name))] or [root]


@dataclass
class Sweep:
    """One sweep folder: its spec text ("" when missing), every history row of its readable runs
    (columns PARAMS, FACTS, HISTORY and any other parameter its files name), the parameter names
    in order, and a list of readable problems (each naming its file)."""

    folder: Path
    spec: str = ""
    runs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*PARAMS, *FACTS, *HISTORY]))
    params: list = field(default_factory=lambda: list(PARAMS))
    problems: list = field(default_factory=list)


def _parts(folder):
    """Sorted run files of `folder` (its runs/*.parquet)."""
    try:
        return sorted((Path(folder) / "runs").glob("*.parquet"))
    except OSError:
        return []


def fingerprint(folder):
    """(name, size, mtime) of the spec and every run file: changes when a sweep writes a run."""
    stamp = []
    for path in [Path(folder) / SPEC, *_parts(folder)]:
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((path.name, info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def _part(path):
    """(history rows, parameter names, problems) of one run file (`storage.read_part`); rows are
    None when it is unusable."""
    try:
        part = storage.read_part(path)
    except files.FileFormatError as exc:
        return None, None, [str(exc)]
    return part.frame, part.params, part.problems


def load(folder):
    """The `Sweep` of `folder`; never raises: a missing folder or spec, an unreadable or non-Parquet
    run file, a file lacking columns or holding text where numbers belong, a run id found twice
    become problems naming the file, and the rest is read."""
    folder = Path(folder)
    sweep = Sweep(folder)
    if not folder.is_dir():
        sweep.problems.append(f"{folder} is not a folder")
        return sweep
    sweep.spec, problem = files.checked(files.read_text, folder / SPEC)
    sweep.spec = sweep.spec or ""
    if problem:
        sweep.problems.append(problem)
    frames, names, seen = [], [], set()
    for path in _parts(folder):
        frame, params, problems = _part(path)
        sweep.problems += problems
        if frame is None:
            continue
        ids = set(frame["run_id"].unique())
        if ids & seen:
            sweep.problems.append(f"{path}: run id(s) {', '.join(sorted(ids & seen))} already read; skipped")
            continue
        seen |= ids
        frames.append(frame)
        names += params
    if frames:
        sweep.runs = pd.concat(frames, ignore_index=True)
        sweep.params = list(dict.fromkeys(names))
        for param in set(sweep.params) - set(storage.NUMBER_COLUMNS):  # text in one file, numbers in another: all text
            column = sweep.runs[param]
            if not pd.api.types.is_numeric_dtype(column):
                sweep.runs[param] = column.where(column.isna(), column.astype(str))
    return sweep


def summary(runs, params):
    """One row per run: its parameters, run_id, kappa, L_max, machine, version, final f − f*
    (`final_subopt`, at its last epoch), `epochs_<t>` and `passes_<t>` to each target t of TARGETS
    (the first history row at or below it; NaN when not reached), total `saturations`, `diverged`
    (diverged_epoch ≥ 0) and `verdict` ("diverged", "no progress" or "": the sweep's verdict)."""
    runs = runs.sort_values(["run_id", "epoch"])
    table = runs.drop_duplicates("run_id").set_index("run_id")
    table = table[[*params, "kappa", "L_max", "machine", "version", "diverged_epoch", "verdict"]]
    table = table.assign(final_subopt=runs.drop_duplicates("run_id", keep="last").set_index("run_id")["subopt"])
    for name, target in TARGETS.items():
        hit = runs[runs["subopt"] <= target].drop_duplicates("run_id").set_index("run_id")
        table[f"epochs_{name}"] = hit["epoch"].reindex(table.index).astype("float64")
        table[f"passes_{name}"] = hit["passes"].reindex(table.index).astype("float64")
    table["saturations"] = runs.groupby("run_id")["saturations"].sum()
    table["diverged"] = table.pop("diverged_epoch") >= 0
    return table.reset_index()[[*params, "run_id", *table.columns.difference(params, sort=False)]]


def values(column):
    """Distinct values of a column, sorted (NaN last)."""
    present = sorted(column.dropna().unique())
    return present + [np.nan] if column.isna().any() else present


def varying(table, params):
    """The parameters of `params` holding more than one value in `table` (NaN counts as a value)."""
    return [p for p in params if table[p].nunique(dropna=False) > 1]


def label(value):
    """A parameter value as text: numbers in short form, NaN as 'none', the empty text as '—'."""
    if isinstance(value, float | np.floating):
        return "none" if np.isnan(value) else f"{value:g}"
    return str(value) if value != "" else "—"


def select(table, chosen):
    """Rows of `table` whose parameters hold the `chosen` values (parameter -> value; NaN matches NaN)."""
    keep = pd.Series(True, index=table.index)
    for param, value in chosen.items():
        keep &= table[param].isna() if pd.isna(value) else table[param] == value
    return table[keep]


def heatmap(summary_table, x, y, target):
    """Median over seeds of the epochs to `target` (a TARGETS label) per value of the two parameters
    `x` and `y` (summary_table: `summary` rows, the other parameters already fixed).

    Columns: x, y, epochs (the median, a run that did not reach the target counting as inf: inf when
    at least half of the runs did not), runs, reached (runs that did). A combination without runs
    has no row, so a missing cell stays distinct from one not reached."""
    epochs = summary_table[f"epochs_{target}"].fillna(np.inf)
    return (summary_table.assign(epochs=epochs, reached=np.isfinite(epochs))
            .groupby([x, y], dropna=False)
            .agg(epochs=("epochs", "median"), runs=("epochs", "size"), reached=("reached", "sum"))
            .reset_index())


def group_names(table, by):
    """The name of each row's group of the parameters `by` ('step_factor=0.1, mu=auto'; 'all runs'
    when `by` is empty), as a legend shows it: a Series aligned with `table`."""
    if not by:
        return pd.Series("all runs", index=table.index)
    return table[list(by)].apply(lambda row: ", ".join(f"{p}={label(v)}" for p, v in zip(by, row)), axis=1)


def bands(runs, by):
    """Per group of the parameters `by` and epoch: median, q05 and q95 of f − f* over the group's
    runs (seeds), and `runs` (how many). A non-finite f − f* (a diverged run) counts as +inf."""
    subopt = runs["subopt"].where(np.isfinite(runs["subopt"]), np.inf)
    grouped = runs.assign(subopt=subopt).groupby([*by, "epoch"], dropna=False)["subopt"]
    table = grouped.agg(median="median", runs="size")
    for name, q in (("q05", 0.05), ("q95", 0.95)):
        table[name] = grouped.quantile(q)
    table[["median", "q05", "q95"]] = table[["median", "q05", "q95"]].fillna(np.inf)  # inf − inf
    return table.reset_index()


def timings(runs):
    """Solver seconds per epoch by machine, solver and precision: median and max over runs of each
    run's last `seconds` divided by its last epoch, and how many runs (timings compare only within
    a machine)."""
    last = runs.sort_values("epoch").groupby("run_id").tail(1)
    last = last[last["epoch"] > 0].assign(per_epoch=lambda t: t["seconds"] / t["epoch"])
    return (last.groupby(["machine", "solver", "precision"])["per_epoch"]
            .agg(runs="size", median_s="median", max_s="max").reset_index())


# ---- HALP's bit requirement, predicted against measured (shipped: docs/bits/) ----------------

BITS_TABLE = ROOT / "docs" / "bits" / "requirement.csv"
"""The shipped predicted-vs-measured table (`python -m halp_bench.bits`; $HALP_BITS overrides)."""
BITS_COMMAND = "python -m halp_bench.bits SWEEP_DIR [SWEEP_DIR ...] --out docs/bits"
BITS_COLUMNS = ("kind", "d", "lam", "mu", "kappa", "predicted", "measured", "agrees")
BITS_NUMBERS = ("d", "lam", "kappa", "predicted", "measured")


def bits_file():
    """The bit-requirement table to read: $HALP_BITS (empty counts as unset), else the shipped one."""
    return locations.env_path("HALP_BITS", BITS_TABLE)


def load_bits(path):
    """(table, problems): the predicted-vs-measured table at `path` (None when unusable), and a list
    of readable problems naming the file. `measured` empty means no width of the sweep sufficed."""
    data, problem = files.checked(files.read_bytes, path)
    if problem:
        return None, [problem]
    try:
        table = pd.read_csv(io.BytesIO(data), index_col=False)
    except (ValueError, MemoryError) as exc:
        return None, [f"{path} could not be read as CSV: {exc}"]
    missing = [c for c in BITS_COLUMNS if c not in table.columns]
    if missing:
        return None, [f"{path} lacks the columns {', '.join(missing)}"]
    for column in BITS_NUMBERS:
        table[column] = pd.to_numeric(table[column], errors="coerce")
    table["agrees"] = table["agrees"].astype(str).str.lower() == "true"
    bad = table[["kappa", "predicted"]].isna().any(axis=1)
    problems = ([f"{path}: {int(bad.sum())} row(s) without a number in kappa or predicted; left out"]
                if bad.any() else [])
    table = table[~bad].reset_index(drop=True)
    return (table if not table.empty else None), problems


def bits_agreement(table):
    """One row per mu setting: grid points, how many the prediction got within one bit, and how
    many no width of the sweep sufficed for."""
    return (table.groupby("mu", sort=True)
            .agg(points=("agrees", "size"), within_one_bit=("agrees", "sum"),
                 none_sufficed=("measured", lambda m: int(m.isna().sum())))
            .reset_index())
