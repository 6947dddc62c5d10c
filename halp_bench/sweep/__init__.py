"""Sweeps: grids of solver runs from a TOML spec, run on dask.distributed, one Parquet part per run.

    python -m halp_bench.sweep sweeps/mu.toml --out sweeps-out/mu [--scheduler ADDRESS] [--workers N]

- ``spec``: parse and check a spec, expand its grid (``parse`` -> ``Grid`` of ``Run``);
- ``runner``: one run (problems built once per process), returned to the client with its verdict;
- ``engine``: the cluster (embedded LocalCluster or an existing scheduler), the client storing
  each part as its task completes, and the progress bar;
- ``storage``: the on-disk format, ``load`` and ``summary``.

The format and the spec are described in docs/sweeps.md.
"""

from .spec import Grid, Run, SpecError, parse
from .storage import COLUMNS, PARAMS, PartWarning, load, summary

__all__ = ["COLUMNS", "PARAMS", "Grid", "PartWarning", "Run", "SpecError", "load", "parse",
           "summary"]
