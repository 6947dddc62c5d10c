"""Outputs of `python -m halp_core.reproduce` read back from a folder (plain Python, no Streamlit).

A reproduction folder holds `summary.md`, `convex.csv`, `mu_sweep.csv` and `mlp.csv` (and HTML
figures, which the dashboard does not need: it rebuilds them from the CSVs with the same functions).
The repository ships a small sample made with `--quick` in `docs/reproduction/`.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"convex": "convex.csv", "sweep": "mu_sweep.csv", "mlp": "mlp.csv"}
REQUIRED = {"convex": ("problem", "label", "epoch", "seconds", "subopt", "grad_norm"),
            "sweep": ("problem", "mu", "mu_factor", "epochs_to_tol", "saturations"),
            "mlp": ("label", "epoch", "train_loss", "val_accuracy")}
SUMMARY = "summary.md"


def shipped_dir():
    """The committed sample: $HALP_REPRODUCTION if set, else docs/reproduction/."""
    return Path(os.environ.get("HALP_REPRODUCTION", ROOT / "docs" / "reproduction"))


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
        path = folder / name
        if path.is_file():
            st = path.stat()
            stamp.append((name, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def load(folder):
    """Read a reproduction folder into a :class:`Reproduction`; never raises for missing or
    malformed files (they are listed in ``problems``)."""
    folder = Path(folder)
    rep = Reproduction(folder=folder)
    if not folder.is_dir():
        rep.problems.append(f"{folder} is not a folder")
        return rep
    for attr, name in TABLES.items():
        path = folder / name
        if not path.is_file():
            rep.problems.append(f"{name} is missing")
            continue
        try:
            table = pd.read_csv(path)
        except (ValueError, OSError) as exc:
            rep.problems.append(f"{name} could not be read: {exc}")
            continue
        missing = [c for c in REQUIRED[attr] if c not in table.columns]
        if missing:
            rep.problems.append(f"{name} lacks the columns {', '.join(missing)}")
        else:
            setattr(rep, attr, table)
    path = folder / SUMMARY
    if path.is_file():
        rep.summary = path.read_text()
    else:
        rep.problems.append(f"{SUMMARY} is missing")
    return rep
