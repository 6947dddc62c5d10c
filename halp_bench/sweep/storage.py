"""The on-disk format of a sweep (a contract with the dashboard's Sweeps page, docs/sweeps.md):

    DIR/spec.toml               a copy of the spec
    DIR/runs/<run_id>.parquet   one file per finished run, one row per history row (epoch 0..E)

Each part has the columns of COLUMNS (of the types SCHEMA gives) and the file-level metadata key
``halp.params``: the JSON list PARAMS (the sweep parameters; a spec may add others, stored as
columns too: a file problem's part adds FILE_PARAMS). A part is written atomically (a temporary
name, then a rename), so a part that exists is complete. `read_part` is the one reader of a part (this module's `load` and the
dashboard's Sweeps page read through it).
"""

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from halp_bench import files

PARAMS = ("problem", "n", "d", "lam", "noise", "cond", "solver", "precision", "step_factor", "mu",
          "data_bits", "seed", "epochs")
"""The sweep parameters: what identifies a run (with its problem's data drawn from them)."""
FILE_PARAMS = ("file_loss", "file_label", "file_scale", "file_format", "file_path", "file_abspath",
               "file_sha256")
"""The parameters a file problem's part adds after PARAMS (text): its loss, label column, scaling
and format ("" when not given), the file's path as the spec gives it and as an absolute path, and
its sha256 (hex) when the spec was checked, which the workers verified."""
FACTS = ("run_id", "kappa", "L_max", "diverged_epoch", "verdict", "machine", "version")
"""Per-run facts: run_id (hash of the parameters), kappa = L_max / mu_min (NaN when not computed),
L_max, diverged_epoch (-1 when healthy), verdict ("diverged", "no progress" or "" when healthy:
``runner.verdict``), machine (``cpu_description()``), version."""
HISTORY = ("epoch", "passes", "seconds", "loss", "subopt", "grad_norm", "dist", "saturations")
"""Per-epoch columns (seconds: cumulative solver time, s; saturations: that epoch's count)."""
COLUMNS = PARAMS + FACTS + HISTORY
METADATA = "halp.params"
"""The file-level Parquet metadata key that holds the JSON list PARAMS."""
TYPES = {**dict.fromkeys(("problem", "solver", "precision", "mu", "run_id", "verdict", "machine",
                          "version"),
                         pa.string()),
         **dict.fromkeys(("n", "d", "data_bits", "seed", "epochs", "diverged_epoch", "epoch",
                          "saturations"), pa.int64())}
SCHEMA = pa.schema([(name, TYPES.get(name, pa.float64())) for name in COLUMNS],
                   metadata={METADATA: json.dumps(PARAMS)})
"""The schema every part is written with (floats for the columns TYPES does not name)."""
TEXT_COLUMNS = tuple(f.name for f in SCHEMA if pa.types.is_string(f.type))
"""Columns of text."""
NUMBER_COLUMNS = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS)
"""Columns of numbers; another parameter a part names is read as numbers if stored as such, else
as text."""


class PartError(files.FileFormatError):
    """A part that cannot be read back: unreadable, not Parquet, a column missing or text where the
    format has numbers (the message names the file)."""


@dataclass
class Part:
    """One part read back: frame (one row per history row; PARAMS, the other parameters its
    metadata names, FACTS and HISTORY, text and number columns as TEXT_COLUMNS / NUMBER_COLUMNS
    say), params (the parameter names in order) and problems (messages naming the file about what
    was read around: metadata that does not list names)."""

    frame: pd.DataFrame
    params: list
    problems: list = field(default_factory=list)


class PartWarning(UserWarning):
    """A part of a sweep could not be read; it is left out."""


def part_path(out, run_id):
    """DIR/runs/<run_id>.parquet."""
    return Path(out) / "runs" / f"{run_id}.parquet"


def write_part(frame, path):
    """Write ``frame`` (the columns of COLUMNS, and of FILE_PARAMS for a file problem's run) to
    ``path`` atomically: to a temporary name in the same folder, then renamed over ``path``."""
    path = Path(path)
    schema = SCHEMA
    if FILE_PARAMS[0] in frame.columns:
        params = [*PARAMS, *FILE_PARAMS]
        fields = [*(SCHEMA.field(c) for c in PARAMS),
                  *(pa.field(c, pa.string()) for c in FILE_PARAMS),
                  *(SCHEMA.field(c) for c in (*FACTS, *HISTORY))]
        schema = pa.schema(fields, metadata={METADATA: json.dumps(params)})
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    pq.write_table(table, partial)
    os.replace(partial, path)


def _parts(out):
    """The part files of DIR/runs, sorted."""
    return sorted((Path(out) / "runs").glob("*.parquet"))


def _param_names(metadata, path):
    """(names, problem) of the sweep parameters a part's Parquet metadata lists, less any fact or
    history column (PARAMS when the key is absent or not a JSON list of names)."""
    raw = (metadata or {}).get(METADATA.encode())
    if raw is None:
        return list(PARAMS), None
    try:
        names = json.loads(raw)
    except (ValueError, RecursionError):
        names = None
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        return list(PARAMS), (f"{path}: metadata '{METADATA}' is not a JSON list of names; "
                              "using the default ones")
    return [n for n in names if n not in (*FACTS, *HISTORY)], None


def read_part(path):
    """The Part of the part file ``path``. Raises PartError (a FileFormatError) naming the file
    when it cannot be read (see ``halp_bench.files.read_bytes``) or parsed as Parquet, lacks a
    column, or holds values that are not numbers in a number column."""
    data = files.read_bytes(path)
    try:
        table = pq.read_table(pa.BufferReader(data))
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError, MemoryError) as exc:
        raise PartError(f"{path}: could not be read as Parquet: {exc}") from None
    names, problem = _param_names(table.schema.metadata, path)
    columns = list(dict.fromkeys([*PARAMS, *names, *FACTS, *HISTORY]))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PartError(f"{path}: lacks column(s) {', '.join(missing)}")
    frame = frame[columns].copy()
    for column in columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        if column in TEXT_COLUMNS or (column not in NUMBER_COLUMNS and not numeric):
            frame[column] = frame[column].astype(str)
            continue
        if numeric:
            continue
        try:
            numbers = pd.to_numeric(frame[column].astype(object), errors="coerce")
        except (TypeError, ValueError):  # lists, dicts: not even coercible
            numbers = None
        if numbers is None or numbers.isna().sum() > frame[column].isna().sum():
            raise PartError(f"{path}: column '{column}' does not hold numbers")
        frame[column] = numbers
    return Part(frame, names, [problem] if problem else [])


def _check_columns(names):
    """ValueError when ``names`` (a part's column names) lack a column of COLUMNS."""
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ValueError(f"missing columns {', '.join(missing)}")


def stored(out):
    """The run_ids with a part in DIR/runs (a set). A part whose Parquet footer cannot be read or
    that lacks a column is not counted, with a PartWarning naming it, so a resumed sweep runs it
    again (and the new part replaces it)."""
    have = set()
    for path in _parts(out):
        try:
            _check_columns(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 - any unreadable part is reported, not fatal
            warnings.warn(f"{path}: not a readable sweep part ({exc}); its run is run again",
                          PartWarning, stacklevel=2)
            continue
        have.add(path.stem)
    return have


def data_files(out):
    """{problem: {file_sha256, ...}} of the file problems' parts in DIR/runs (those with a
    file_sha256 column); parts that cannot be read are left out (``stored`` names them)."""
    found = {}
    for path in _parts(out):
        try:
            if "file_sha256" not in pq.read_schema(path).names:
                continue
            table = pq.read_table(path, columns=["problem", "file_sha256"]).to_pandas()
        except Exception:  # noqa: BLE001 - an unreadable part is reported by stored()
            continue
        for problem, sha256 in table.drop_duplicates().itertuples(index=False):
            found.setdefault(problem, set()).add(sha256)
    return found


def load(out):
    """Every part of the sweep in ``out`` as one DataFrame (COLUMNS, with FILE_PARAMS after
    PARAMS when a part has them: empty text for the other problems' runs; empty when there is no
    part). A part that `read_part` refuses is left out with a PartWarning naming it."""
    frames = []
    for path in _parts(out):
        try:
            part = read_part(path)
        except files.FileFormatError as exc:   # the message names the part
            warnings.warn(f"{exc}; left out", PartWarning, stacklevel=2)
            continue
        for problem in part.problems:
            warnings.warn(problem, PartWarning, stacklevel=2)
        frames.append(part.frame[[c for c in part.frame.columns
                                  if c in COLUMNS or c in FILE_PARAMS]])
    if not frames:
        return SCHEMA.empty_table().to_pandas()
    frame = pd.concat(frames, ignore_index=True)
    if FILE_PARAMS[0] not in frame.columns:
        return frame
    frame[list(FILE_PARAMS)] = frame[list(FILE_PARAMS)].fillna("")
    return frame[[*PARAMS, *FILE_PARAMS, *FACTS, *HISTORY]]


def _first(values, reached):
    """values at the first True of ``reached`` (NaN when none)."""
    hit = np.flatnonzero(reached)
    return float(values[hit[0]]) if hit.size else np.nan


def summary(frame, targets=(1e-4, 1e-8, 1e-10)):
    """One row per run of ``frame`` (as ``load`` returns): the parameters (FILE_PARAMS too when
    ``frame`` has them), run_id, kappa, final
    f - f* (``final_subopt``), epochs and data passes to reach f - f* <= t for each target t
    (``epochs_to_<t>``, ``passes_to_<t>``; NaN when not reached), total saturations,
    diverged_epoch and verdict ("diverged", "no progress" or ""); then the hardware-dependent seconds (solver time of the run, s) and machine,
    comparable only within one machine."""
    rows = []
    params = [*PARAMS, *(c for c in FILE_PARAMS if c in frame.columns)]
    for _, run in frame.sort_values(["run_id", "epoch"]).groupby("run_id", sort=False):
        first, last = run.iloc[0], run.iloc[-1]
        subopt = run["subopt"].to_numpy()
        row = {name: first[name] for name in (*params, "run_id", "kappa")}
        row["final_subopt"] = float(last["subopt"])
        for target in targets:
            row[f"epochs_to_{target:g}"] = _first(run["epoch"].to_numpy(), subopt <= target)
            row[f"passes_to_{target:g}"] = _first(run["passes"].to_numpy(), subopt <= target)
        row.update(saturations=int(run["saturations"].sum()),
                   diverged_epoch=int(first["diverged_epoch"]), verdict=first["verdict"],
                   seconds=float(last["seconds"]),
                   machine=first["machine"])
        rows.append(row)
    return pd.DataFrame(rows)
