"""One run of a sweep, as a worker (or a serial loop) does it: build the problem (once per process,
cached), solve, and return the part with its verdict; the client stores it (``Part.store``), so
workers need not share its disk. Nothing large travels to a task: a :class:`spec.Run` is a few
numbers and names; a part (one row per epoch) travels back. A file problem's bytes are the
exception: the client sends them once per worker (``engine``), and each worker process writes
them to its own scratch folder, checks their sha256 and reads that copy with
``datasets.from_file``, so the workers need not see the client's data file either.
"""

import functools
import os
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import distributed
import numpy as np
import pandas as pd

from halp_core import datasets, solve
from halp_core.bit_budget import smallest_curvature

from ..machine import cpu_description
from . import storage
from .spec import KAPPA_MAX_D, PROBLEMS


@functools.lru_cache(maxsize=4)
def problem(name, params, data_bits, path=None):
    """The problem ``name`` (a spec.PROBLEMS name) with ``params`` (sorted (name, value) pairs)
    and data_bits, its data drawn with seed 0; or, with ``path`` (a data file on this machine,
    ``data_path``), the file problem titled ``name`` with a spec file problem's params, read by
    ``datasets.from_file``. Cached in this process (the last four)."""
    if path is not None:
        values = dict(params)
        return datasets.from_file(path, loss=values["loss"], lam=values["lam"],
                                  data_bits=data_bits, label=values["label"] or None,
                                  scale=values["scale"] or None, name=name,
                                  file_format=values["format"])
    kind = PROBLEMS[name]
    seeded = dict(seed=0) if kind.seeded else {}
    return kind.build(**dict(params), data_bits=data_bits, **seeded)


@functools.lru_cache(maxsize=4)
def mu_min(name, params, data_bits, path=None):
    """Smallest eigenvalue of the Hessian at w* (float64, ``halp_core.bit_budget``'s), for least
    squares and binary logistic problems with d <= KAPPA_MAX_D; NaN otherwise. Arguments as
    ``problem``'s."""
    prob = problem(name, params, data_bits, path)
    if prob.kind not in ("least_squares", "logistic") or prob.d > KAPPA_MAX_D:
        return np.nan
    return smallest_curvature(prob)[0]


@functools.lru_cache(maxsize=1)
def version():
    """halp-core's version plus the git commit of this checkout when there is one, marked dirty
    when the checkout has uncommitted changes (e.g. "0.1.0+g1a2b3c4", "0.1.0+g1a2b3c4-dirty")."""
    text = metadata.version("halp-core")
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7",
                                 "--exclude=*"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return text
    return f"{text}+g{commit.stdout.strip()}"


VERDICTS = ("diverged", "no progress")
"""The kinds of run the sweep reports beside the healthy ones (``verdict``); they are stored like
any other run."""


def verdict(result):
    """(kind, text) of a solved run (a ``halp_core.trajectory.Result``): ("diverged", its divergence
    warning) when it met the divergence rule, ("no progress", its warning) when it made no progress,
    ("", "") when healthy. The one place where the sweep classifies runs (kinds: VERDICTS)."""
    if result.diverged:
        return "diverged", result.divergence
    if result.no_progress:
        return "no progress", result.no_progress
    return "", ""


@dataclass(frozen=True)
class Part:
    """What one run returns to the client: its ``run_id``, its part (``frame``: a DataFrame with
    storage.COLUMNS, one row per history row) and its verdict (``kind`` in VERDICTS or "" when
    healthy, ``text`` the solver's warning)."""

    run_id: str
    frame: pd.DataFrame
    kind: str
    text: str

    def store(self, out):
        """Write the part to DIR/runs/<run_id>.parquet of ``out`` (atomically); returns the path."""
        path = storage.part_path(out, self.run_id)
        storage.write_part(self.frame, path)
        return path


COPIES = {}
"""(sha256, sent) -> the checked path of a data file in this process: its copy of the bytes sent
(sent True) or the client's own file (sent False)."""


@functools.cache
def temporary_folder():
    """A temporary folder of this process, removed at exit (a TemporaryDirectory)."""
    return tempfile.TemporaryDirectory(prefix="halp-sweep-")


def scratch_folder():
    """A folder for this process's copies of data files: the dask worker's own scratch folder
    (removed with the worker) inside a worker, else ``temporary_folder()``."""
    try:
        return Path(distributed.get_worker().local_directory)
    except ValueError:      # not in a dask worker
        return Path(temporary_folder().name)


def data_path(source, data=None):
    """The path on this machine of the data file ``source`` (a spec.DataFile) holding the bytes
    the spec was checked with. data: the file's bytes as the client sent them, written once per
    process to ``scratch_folder()``/<sha256>/<the file's name>; None: the file at
    source.abspath itself (a serial run on the client's machine). Raises
    ``datasets.DataFileError`` naming the file when the copy's or the file's sha256
    (``datasets.file_sha256``) is not source.sha256 (the file changed since the spec was
    checked, or the bytes were damaged on the way)."""
    key = (source.sha256, data is not None)
    if key in COPIES:
        return COPIES[key]
    if data is None:
        path = Path(source.abspath)
    else:
        path = scratch_folder() / source.sha256 / Path(source.abspath).name
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
    found = datasets.file_sha256(path)
    if found != source.sha256:
        what = "the bytes sent to this worker have" if data is not None else "it now has"
        raise datasets.DataFileError(f"{source.abspath}: {what} sha256 {found}, not the "
                                     f"{source.sha256} the spec was checked with; run the "
                                     f"sweep again")
    COPIES[key] = path
    return path


def execute(run, data=None):
    """Solve ``run`` (a spec.Run) and return its :class:`Part`. data: the bytes of a file
    problem's data file (``data_path``; None: read the client's file itself). Solver warnings
    (divergence, quantization) are silenced: the verdict and diverged_epoch record them. A file
    that cannot be read raises ``datasets.DataFileError`` naming the client's file; the reader's
    warnings name it too."""
    path = None if run.source is None else data_path(run.source, data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            prob = problem(run.problem, run.params, run.data_bits, path)
        except datasets.DataFileError as exc:   # name the client's file, not this worker's copy
            raise datasets.DataFileError(str(exc).replace(str(path), run.source.abspath)) from None
    for found in caught:   # the reader's warnings (densified, quantization) too
        text = str(found.message) if path is None else str(found.message).replace(str(path), run.source.abspath)
        warnings.warn_explicit(text, found.category, found.filename, found.lineno)
    lowest = mu_min(run.problem, run.params, run.data_bits, path)
    mu = run.mu
    if mu not in ("", "auto"):
        if run.mu_unit == "mu_min" and not np.isfinite(lowest):
            raise ValueError(f"{run.label}: mu_min is computed only for least squares and "
                             f"logistic problems with d <= {KAPPA_MAX_D}; this one has "
                             f"d = {prob.d}")
        mu = float(mu) * (lowest if run.mu_unit == "mu_min" else 1.0)
    precision = int(run.precision) if run.precision.isdigit() else run.precision  # bits or a name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = solve(prob, run.solver, precision=precision, step=run.step_factor / prob.L_max,
                       epochs=run.epochs, seed=run.seed, **({"mu": mu} if mu != "" else {}))
    frame = result.history.copy()
    frame["saturations"] = np.concatenate([[0], result.saturations])[:len(frame)]
    params = dict(run.params)
    columns = dict(
        problem=run.problem, n=prob.n, d=prob.d, lam=prob.lam,
        noise=params.get("noise", np.nan), cond=params.get("cond", np.nan), solver=run.solver,
        precision=run.precision, step_factor=run.step_factor,
        mu=mu if isinstance(mu, str) else repr(mu), data_bits=run.data_bits, seed=run.seed,
        epochs=run.epochs, run_id=run.run_id, kappa=prob.L_max / lowest, L_max=prob.L_max,
        diverged_epoch=-1 if result.diverged_epoch is None else result.diverged_epoch,
        machine=cpu_description(), version=version())
    if run.source is not None:
        columns.update(file_loss=params["loss"], file_label=params["label"],
                       file_scale=params["scale"], file_format=params["format"],
                       file_path=run.source.path,
                       file_abspath=run.source.abspath, file_sha256=run.source.sha256)
    kind, text = verdict(result)
    columns["verdict"] = kind
    frame = pd.concat([pd.DataFrame(columns, index=frame.index), frame], axis=1)
    return Part(run.run_id, frame, kind, text)
