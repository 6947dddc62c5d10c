"""One run of a sweep, as a worker (or a serial loop) does it: build the problem (once per process,
cached), solve, and return the part with its verdict; the client stores it (``Part.store``), so
workers need not share its disk. Nothing large travels to a task: a :class:`spec.Run` is a few
numbers and names; a part (one row per epoch) travels back.
"""

import functools
import subprocess
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from halp_core import solve
from halp_core.bit_budget import smallest_curvature

from ..machine import cpu_description
from . import storage
from .spec import KAPPA_MAX_D, PROBLEMS


@functools.lru_cache(maxsize=4)
def problem(name, params, data_bits):
    """The problem ``name`` (a spec.PROBLEMS name) with ``params`` (sorted (name, value) pairs)
    and data_bits, its data drawn with seed 0; cached in this process (the last four)."""
    kind = PROBLEMS[name]
    seeded = dict(seed=0) if kind.seeded else {}
    return kind.build(**dict(params), data_bits=data_bits, **seeded)


@functools.lru_cache(maxsize=4)
def mu_min(name, params, data_bits):
    """Smallest eigenvalue of the Hessian at w* (float64, ``halp_core.bit_budget``'s), for least
    squares and binary logistic problems with d <= KAPPA_MAX_D; NaN otherwise."""
    prob = problem(name, params, data_bits)
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


def execute(run):
    """Solve ``run`` (a spec.Run) and return its :class:`Part`. Solver warnings (divergence,
    quantization) are silenced: the verdict and diverged_epoch record them."""
    prob = problem(run.problem, run.params, run.data_bits)
    lowest = mu_min(run.problem, run.params, run.data_bits)
    mu = run.mu
    if mu not in ("", "auto"):
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
    kind, text = verdict(result)
    columns["verdict"] = kind
    frame = pd.concat([pd.DataFrame(columns, index=frame.index), frame], axis=1)
    return Part(run.run_id, frame, kind, text)
