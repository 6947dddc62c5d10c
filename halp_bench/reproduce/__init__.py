"""Reproduce the HALP paper's experiments as one command, with CSV trajectories, interactive plotly
HTML figures and a markdown summary of the measured numbers.

    python -m halp_bench.reproduce [--quick | --tiny] [--out DIR] [--mnist-path FILE] [--seeds N]

Experiments (every solver of one problem solves the same 8-bit data, so f* is common), each run
with ``Settings.seeds`` seeds (0..N-1: sampling and rounding; the data are fixed):

* ``lsq``: synthetic least squares (1000 x 50, lam 1e-2), step 0.5 / L_max;
  ``mnist``: multinomial logistic regression on MNIST (50000 x 784, 10 classes, lam 1e-3),
  ``mnist-binary``: binary logistic regression on MNIST (digits 5-9 against 0-4, lam 1e-3), both
  step 1 / L_max. Solvers: SGD and SVRG (fp64), LP-SGD and LP-SVRG at CONVEX_BITS, HALP
  (mu="auto") at HALP_BITS (fixed point), and FORMAT_SOLVERS (LP-SGD, HALP) in every float format
  of ``registry.FORMATS`` (bf16, fp16, fp8-e4m3, fp8-e5m2), all on the problem's one 8-bit data
  copy. -> ``convex.csv``, ``convex_<problem>.html``; per problem and format, what rounding w* to
  the format costs (``format_floors``) -> ``formats.csv``.
* mu sweep: 8-bit HALP with fixed mu = mu_min x 2^j (mu_min the smallest Hessian eigenvalue) and
  mu="auto" on two least-squares problems of different conditioning: epochs to f - f* <= 1e-10 and
  saturated updates. -> ``mu_sweep.csv``, ``mu_sweep.html``.
* MLP: a one-hidden-layer perceptron on MNIST (halp_bench.mlp), SGD-fp32, LP-SGD-8 and HALP-8:
  training loss and validation accuracy per epoch. -> ``mlp.csv``, ``mlp.html``.
* ``summary.md``: the numbers above and what they show; ``run.json``: the command, its wall time
  and the machine it ran on (CPU model, logical CPUs, vector instruction set).

Seeds, not anecdotes: every CSV has a ``seed`` column; every figure draws the median over seeds
with a 5-95% band (``band``), every table and verdict of the summary reads medians over seeds
(``medians``), and one rule (``verdict``: tracks SVRG, stalls, or does not track) decides every
verdict.

``--quick`` (for CI, a few minutes) uses the first QUICK_MNIST_ROWS (convex, 30 epochs) and
QUICK_MLP_ROWS (MLP) MNIST training rows; ``Settings.tiny()`` is the test suite's size.
Reference optima of MNIST problems take minutes of L-BFGS; they are cached in
``datasets.data_dir() / "reference"``, keyed by a hash of the problem's data and lam.
HTML figures load plotly.js from a ``plotly.min.js`` written beside them (no network needed).
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from halp_core import datasets, float_formats, make_solver, registry
from halp_core.bit_budget import smallest_curvature
from halp_core.problems import BinaryLogistic, Multinomial

from .. import contenders, mlp
from ..machine import cpu_description
from .figures import band, convex_figure, mlp_figure, mu_sweep_figure, write_html

__all__ = ["Settings", "band", "convex_figure", "format_floors", "format_table", "main", "medians",
           "mlp_figure", "mu_sweep_figure", "reproduce", "summary", "verdict", "verdict_lines",
           "write_html"]

TOL = 1e-10
TRACK_FACTOR = 2.0   # HALP-b "tracks SVRG": final f - f* <= TRACK_FACTOR x SVRG's, or both <= TOL
QUICK_MNIST_ROWS = 2000
QUICK_MLP_ROWS = 10000
CONVEX_BITS = (8, 16)
HALP_BITS = (8, 10, 12, 16)
MNIST_LAM = 1e-3
FORMAT_SOLVERS = ("lp-sgd", "halp")
"""Low-precision solvers the convex experiments also run in every float format of
``registry.FORMATS`` (bf16, fp16, fp8-e4m3, fp8-e5m2), on the same 8-bit data as every other row."""
STALL_FACTOR = 2.0   # a run that does not track SVRG "stalls" when f - f* fell less than this
CONVEX_SOLVERS = (tuple((name, "fp64") for name in registry.names("full"))
                  + tuple((name, bits) for name in registry.names("low")
                          for bits in (HALP_BITS if name == "halp" else CONVEX_BITS))
                  + tuple((name, fmt) for name in FORMAT_SOLVERS for fmt in registry.FORMATS))
"""(solver, precision) of the convex experiments: every registered solver, full precision in fp64,
HALP at HALP_BITS bits and the other low-precision solvers at CONVEX_BITS bits (fixed point), then
FORMAT_SOLVERS in every float format."""
MLP_FORMATS = tuple(registry.FORMATS)
"""Float formats (names of ``registry.FORMATS``) of the MLP's low-precision methods (weights or
HALP offsets stored in the format, ``mlp.train(..., precision=name)``), beside 8 bits."""
MLP_METHODS = tuple((method, precision) for method in mlp.METHODS
                    for precision in (("fp32",) if registry.spec(method).family == "full"
                                      else (8, *MLP_FORMATS)))
"""(method, precision) of the MLP runs: float32 for full precision, 8 bits (and MLP_FORMATS)
otherwise; each run is labelled ``label(method, precision)``, e.g. "halp-8"."""
SWEEP_FACTORS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
# (name, synthetic_least_squares keyword arguments) of the mu sweep
SWEEP_PROBLEMS = (("lsq-kappa140", dict(lam=1e-2, seed=0, cond=1.0)),
                  ("lsq-kappa2450", dict(lam=1e-3, seed=1, cond=100.0)))


@dataclass
class Settings:
    """Sizes of one reproduction run (defaults: the full run; ``quick()``: the CI run)."""

    lsq_epochs: int = 30
    mnist_rows: int | None = None      # None: all 50000 training rows
    mnist_epochs: int = 15
    sweep_epochs: int = 60
    mlp_rows: int | None = None
    mlp_epochs: int = 8
    mlp_hidden: int = 64
    mlp_step: float = 0.02
    mlp_mu: float = 3.0
    seeds: int = 5

    @classmethod
    def quick(cls):
        return cls(mnist_rows=QUICK_MNIST_ROWS, mnist_epochs=30, mlp_rows=QUICK_MLP_ROWS)

    @classmethod
    def tiny(cls):
        """The test suite's size: seconds per experiment, three seeds."""
        return cls(mnist_rows=500, mnist_epochs=10, sweep_epochs=60, mlp_rows=2000, mlp_epochs=3,
                   seeds=3)


SIZES = {"--quick": Settings.quick, "--tiny": Settings.tiny}
"""Command-line flags of the smaller sizes (the default is the full run)."""


def label(solver, precision):
    """Display name of a solver run, e.g. 'halp-8', 'svrg-fp64'."""
    return f"{solver}-{precision}"


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def seconds_text(seconds):
    """A time in seconds with three significant digits (0.000123, 1.5, 250), never 0.00 for a
    nonzero time."""
    return f"{seconds:.3g}"


def tracks(halp, svrg, factor=TRACK_FACTOR, floor=TOL):
    """The summary's rule: HALP tracks SVRG when its final f - f* is at most ``factor`` times
    SVRG's, or when both are at most ``floor``."""
    return halp <= factor * svrg or max(halp, svrg) <= floor


VERDICTS = ("tracks SVRG", "stalls", "does NOT track SVRG")


def verdict(subopt, stall, svrg):
    """The verdict on one low-precision run (medians over seeds), one of VERDICTS: "tracks SVRG"
    when ``tracks(subopt, svrg)``; otherwise "stalls" when its f - f* fell less than STALL_FACTOR
    times over the last half of the epochs (``stall``: f - f* at the middle epoch over the last),
    else "does NOT track SVRG" (still falling, slower than SVRG)."""
    if tracks(subopt, svrg):
        return VERDICTS[0]
    return VERDICTS[1] if stall < STALL_FACTOR else VERDICTS[2]


def title(solver, precision):
    """Display name of a solver run from the registry's label, e.g. 'HALP-8', 'LP-SGD-bf16'."""
    return f"{registry.spec(solver).label}-{precision}"


RULE = (f"a low-precision run *tracks SVRG* on a problem when its median final f − f* is at most "
        f"{TRACK_FACTOR:g}× SVRG-fp64's, or when both are at most {TOL:g}; otherwise it *stalls* "
        f"when its median f − f* fell less than {STALL_FACTOR:g}× over the last half of the "
        "epochs, and else it *does NOT track SVRG* (still falling, more slowly).")
"""The verdict rule (``verdict``) in words, as the summary and docs state it."""


# ---- problems --------------------------------------------------------------------------------

def _reference_optimum(problem):
    """Compute ``problem.w_star`` up front, with a progress line (large problems keep it on disk:
    see Problem.w_star)."""
    start = time.perf_counter()
    _progress(f"[{problem.name}] reference optimum (cached on disk for large problems)...")
    problem.w_star  # noqa: B018
    _progress(f"[{problem.name}] reference optimum ready in {time.perf_counter() - start:.0f} s")


def mnist_problems(settings, path=None):
    """(convex problem, MLP problem, binary convex problem) on MNIST with lam MNIST_LAM; the first
    ``mnist_rows`` / ``mlp_rows`` training rows (all when None). All carry X_val, y_val."""
    full = datasets.mnist(lam=MNIST_LAM, path=path)

    def rows(n, binary=False):
        if n is None and not binary:
            return full
        n = full.n if n is None else n
        if binary:
            prob = BinaryLogistic(full.X[:n], np.where(full.labels[:n] >= 5, 1.0, -1.0),
                                  full.lam, name=f"mnist-binary-{n}")
            prob.X_val, prob.y_val = full.X_val, np.where(full.y_val >= 5, 1.0, -1.0)
            return prob
        prob = Multinomial(full.X[:n], full.labels[:n], full.lam, n_classes=10,
                           name=f"mnist-{n}")
        prob.X_val, prob.y_val = full.X_val, full.y_val
        return prob

    return rows(settings.mnist_rows), rows(settings.mlp_rows), rows(settings.mnist_rows, True)


# ---- experiments -----------------------------------------------------------------------------

def run_convex(name, problem, step, epochs, seeds=1):
    """Every solver of CONVEX_SOLVERS on ``problem`` with seeds 0..seeds-1; one tidy frame
    (history columns plus problem, solver, precision, label, seed, saturations)."""
    _reference_optimum(problem)
    frames = []
    for seed in range(seeds):
        for solver, precision in CONVEX_SOLVERS:
            tag = label(solver, precision)
            kwargs = dict(mu="auto") if "mu" in registry.spec(solver).options else {}

            def show(epoch, row, tag=tag, seed=seed):
                if epoch % max(1, epochs // 5) == 0 or epoch == epochs:
                    _progress(f"[{name} seed {seed}] {tag:15s} epoch {epoch:3d}/{epochs}: "
                              f"f - f* = {row['subopt']:.3e}  ({row['seconds']:.2f} s)")

            res = contenders.run(problem, (solver, precision), step=step, epochs=epochs,
                                 seed=seed, callback=show, **kwargs)
            frames.append(res.history.assign(problem=name, solver=solver,
                                             precision=str(precision), label=tag, seed=seed,
                                             saturations=np.r_[0, res.saturations]))
    return pd.concat(frames, ignore_index=True)


def format_floors(name, problem, step):
    """What holding w* in each float format costs LP-SGD: one row per format of registry.FORMATS
    with problem (``name``), format, mantissa_bits M, relative_precision 2^-(M+1) (half the gap
    between neighbouring normal values, relative to their size), scale (LP-SGD's default scale s
    of that format on ``problem``, step ``step``), rel_error ||w - w*|| / ||w*|| and
    floor_subopt f(w) - f* of w = s k, k = w* / s rounded to the nearest value of the format
    (coordinate-wise): about the lowest f - f* an iterate stored in that format can reach."""
    rows = []
    w_star = problem.w_star
    for fmt, entry in registry.FORMATS.items():
        scale = make_solver(problem, "lp-sgd", precision=fmt, step=step).scale
        patterns, _ = float_formats.encode(w_star / scale, fmt)
        w = scale * float_formats.decode(patterns, fmt)
        rows.append(dict(problem=name, format=fmt, mantissa_bits=entry.mantissa_bits,
                         relative_precision=2.0 ** -(entry.mantissa_bits + 1), scale=scale,
                         rel_error=float(np.linalg.norm(w - w_star) / np.linalg.norm(w_star)),
                         floor_subopt=float(problem.suboptimality(w))))
    return pd.DataFrame(rows)


def epochs_to(subopt, tol=TOL):
    """First epoch (index of ``subopt``) with f - f* <= tol, or None."""
    hit = np.nonzero(np.asarray(subopt) <= tol)[0]
    return int(hit[0]) if hit.size else None


def run_mu_sweep(epochs, seeds=1):
    """8-bit HALP on SWEEP_PROBLEMS with mu = f * mu_min for f in SWEEP_FACTORS, and mu="auto",
    seeds 0..seeds-1; one row per run."""
    rows = []
    for name, kw in SWEEP_PROBLEMS:
        prob = datasets.synthetic_least_squares(1000, 50, noise=0.1, **kw)
        mu_min = smallest_curvature(prob)[0]
        for factor in (*SWEEP_FACTORS, "auto"):
            mu = "auto" if factor == "auto" else factor * mu_min
            for seed in range(seeds):
                res = contenders.run(prob, ("halp", 8), step=0.5 / prob.L_max, epochs=epochs,
                                     seed=seed, mu=mu)
                sub = res.history.subopt.to_numpy()
                rows.append(dict(problem=name, kappa=prob.L_max / mu_min, mu_min=mu_min,
                                 mu=str(factor if factor == "auto" else f"{mu:.4g}"),
                                 mu_factor=np.nan if factor == "auto" else factor, seed=seed,
                                 epochs_to_tol=epochs_to(sub), final_subopt=sub[-1],
                                 saturations=int(res.saturations.sum())))
            _progress(f"[mu sweep] {name} mu={rows[-1]['mu']}: epochs to {TOL:g} = "
                      f"{[r['epochs_to_tol'] for r in rows[-seeds:]]} (seeds 0..{seeds - 1})")
    return pd.DataFrame(rows)


def run_mlp(problem, settings):
    """The MLP with each of MLP_METHODS and seeds 0..settings.seeds-1; one frame
    (mlp.HISTORY_COLUMNS plus method, label, seed)."""
    frames = []
    for seed in range(settings.seeds):
        for method, precision in MLP_METHODS:
            tag = label(method, precision)
            def show(epoch, row, tag=tag, seed=seed):
                _progress(f"[mlp seed {seed}] {tag:9s} epoch {epoch}/{settings.mlp_epochs}: "
                          f"train loss {row['train_loss']:.4f}, val accuracy "
                          f"{row['val_accuracy']:.4f}  ({row['seconds']:.1f} s)")

            res = mlp.train(problem, method, hidden=settings.mlp_hidden,
                            epochs=settings.mlp_epochs, step=settings.mlp_step,
                            bits=8 if precision == "fp32" else precision,
                            mu=settings.mlp_mu, seed=seed, callback=show)
            frames.append(res.history.assign(method=method, label=tag, seed=seed))
    return pd.concat(frames, ignore_index=True)


# ---- summary ---------------------------------------------------------------------------------

def _seeded(frame):
    """``frame`` with a ``seed`` column (a folder written before seeds were recorded: seed 0)."""
    return frame if "seed" in frame.columns else frame.assign(seed=0)


def medians(frame, keys, columns, unreached=()):
    """Median over seeds of per-run ``columns`` of ``frame`` (one row per run and seed), grouped
    by ``keys`` (a list of column names); a DataFrame indexed by keys, with ``seeds`` (how many).
    Columns in ``unreached`` (e.g. epochs to a tolerance) count a NaN (not reached) as infinitely
    many, and a median that is infinite comes back as NaN (not reached by most seeds)."""
    frame = _seeded(frame).copy()
    for column in unreached:
        frame[column] = frame[column].astype(float).fillna(np.inf)
    out = frame.groupby(keys, sort=False)[list(columns)].median()
    out = out.replace(np.inf, np.nan)
    out["seeds"] = frame.groupby(keys, sort=False)["seed"].nunique()
    return out


def convex_runs(convex):
    """One row per convex run (problem, label, seed): final subopt and grad_norm, ``stall``
    (f - f* at the middle epoch over f - f* at the last: about 1 for a stalled solver), total
    saturations and the solver seconds of the run."""
    rows = []
    for (problem, tag, seed), part in _seeded(convex).groupby(["problem", "label", "seed"],
                                                              sort=False):
        sub = part["subopt"].to_numpy()
        rows.append(dict(problem=problem, label=tag, seed=seed, subopt=float(sub[-1]),
                         grad_norm=float(part["grad_norm"].iloc[-1]),
                         stall=float(sub[len(sub) // 2] / sub[-1]),
                         saturations=float(part["saturations"].sum()),
                         seconds=float(part["seconds"].iloc[-1])))
    return pd.DataFrame(rows)


def command(settings):
    """The command line that runs ``settings`` (without --out)."""
    size, default = next(((f" {flag}", make()) for flag, make in SIZES.items()
                          if replace(make(), seeds=settings.seeds) == settings), ("", Settings()))
    seeds = "" if settings.seeds == default.seeds else f" --seeds {settings.seeds}"
    return f"python -m halp_bench.reproduce{size}{seeds}"


def summary(convex, sweep, mlp_frame, settings, run, formats=None):
    """The markdown summary: tables of medians over seeds and the verdicts they support.

    convex, sweep, mlp_frame: the frames of run_convex (all problems), run_mu_sweep and run_mlp;
    run: the run record (see run_record); formats: the frame of format_floors (all problems), or
    None (no floors in the float-format section). Every number is a median over the seeds
    (``medians``); every verdict follows one rule (``verdict``) applied to those medians, stated in
    the summary; "fell over the last half" is f - f* at the middle epoch over f - f* at the last
    (about 1 for a stalled solver), a median over seeds too.
    """
    seeds = int(_seeded(convex)["seed"].nunique())
    lines = ["# HALP reproduction: measured results", "",
             f"Produced by `{run['command']}` in {seconds_text(run['wall_seconds'])} s of wall time "
             f"on {run['machine']}. Every number below is read from the CSV files beside this "
             f"summary and is the median over {seeds} seed(s) (0..{seeds - 1}: sampling and "
             "rounding; the data are fixed); the figures draw the median with a 5–95% band.", "",
             f"Rule for the verdicts, applied to the medians: {RULE}", "",
             "Every solver of one problem reads the same 8-bit copy of its data (fixed-point and "
             "float-format rows alike), so every row of a problem solves the same f*. Float-format "
             f"rows ({', '.join(registry.FORMATS)}) store the iterate (LP-SGD) or the offset from "
             "the anchor (HALP, re-centred every epoch) as that format's bit patterns, rounded "
             "stochastically.", ""]
    finals = medians(convex_runs(convex), ["problem", "label"],
                     ("subopt", "grad_norm", "stall", "saturations", "seconds"))
    for problem in dict.fromkeys(convex["problem"]):
        part = convex[convex["problem"] == problem]
        epochs = int(part["epoch"].max())
        rows = finals.loc[problem]
        lines += [f"## {problem}: f − f* after {epochs} epochs (median of {int(rows['seeds'].min())} "
                  "seeds)", "",
                  "| solver | f − f* | ‖∇f‖ | f − f* fell over the last half | saturated updates "
                  "| solver seconds |", "| --- | --- | --- | --- | --- | --- |"]
        for tag, row in rows.iterrows():
            lines.append(f"| {tag} | {row.subopt:.2e} | {row.grad_norm:.2e} | {row.stall:.3g}× | "
                         f"{row.saturations:.0f} | {seconds_text(row.seconds)} |")
        lines.append("")
        svrg = rows.loc["svrg-fp64", "subopt"]
        for bits in HALP_BITS:
            halp = rows.loc[f"halp-{bits}"]
            said = verdict(halp.subopt, halp.stall, svrg)
            text = (f"- **{bits} bits**: HALP-{bits} {said}: f − f* = {halp.subopt:.2e} (it "
                    f"fell {halp.stall:.3g}× over the last half of the epochs) against SVRG's "
                    f"{svrg:.2e}")
            lp = [t for t in ("lp-sgd", "lp-svrg") if f"{t}-{bits}" in rows.index]
            if lp:
                text += ", while " + " and ".join(
                    f"{t.upper()}-{bits} ends at {rows.loc[f'{t}-{bits}', 'subopt']:.2e} "
                    f"({rows.loc[f'{t}-{bits}', 'stall']:.3g}×)" for t in lp)
            lines.append(text + ".")
        lines.append("")
    lines += _format_section(convex, formats)
    table = medians(sweep, ["problem", "mu"], ("kappa", "mu_factor", "epochs_to_tol",
                                               "final_subopt", "saturations"),
                    unreached=("epochs_to_tol",))
    lines += [f"## μ robustness (HALP-8, least squares, median of {int(table['seeds'].min())} "
              "seeds)", "",
              "| problem | κ | μ | μ / μ_min | epochs to 1e-10 | final f − f* | saturated updates |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for (name, mu), row in table.iterrows():
        factor = "auto" if mu == "auto" else f"{row.mu_factor:g}"
        reached = "—" if pd.isna(row.epochs_to_tol) else f"{row.epochs_to_tol:g}"
        lines.append(f"| {name} | {row.kappa:.0f} | {mu} | {factor} | {reached} | "
                     f"{row.final_subopt:.1e} | {row.saturations:.0f} |")
    lines.append("")
    for name, part in table.groupby(level="problem", sort=False):
        part = part.droplevel("problem")
        fixed = part[(part.index != "auto") & part["epochs_to_tol"].notna()]
        auto = part.loc["auto", "epochs_to_tol"]
        if fixed.empty:
            lines.append(f"- {name}: no fixed μ of the sweep reached 1e-10 (median over seeds).")
            continue
        best = fixed["epochs_to_tol"].idxmin()
        best_epochs = fixed.loc[best, "epochs_to_tol"]
        auto_text = "did not reach 1e-10" if pd.isna(auto) else (
            f"needed {auto:g} epochs ({auto / best_epochs:.2f}× the best)")
        lines.append(f"- {name}: best fixed μ = {best} ({fixed.loc[best, 'mu_factor']:g} μ_min) "
                     f"needed {best_epochs:g} epochs; μ = \"auto\" {auto_text}.")
    mlp_runs = _seeded(mlp_frame).groupby(["label", "seed"], sort=False).agg(
        train_loss=("train_loss", "last"), val_accuracy=("val_accuracy", "last"),
        best_accuracy=("val_accuracy", "max"), saturations=("saturations", "sum"),
        seconds=("seconds", "last")).reset_index()
    mlp_table = medians(mlp_runs, ["label"], ("train_loss", "val_accuracy", "best_accuracy",
                                              "saturations", "seconds"))
    lines += ["", f"## MLP on MNIST (hidden {settings.mlp_hidden}, step {settings.mlp_step}, "
              f"HALP μ = {settings.mlp_mu}; median of {int(mlp_table['seeds'].min())} seeds)", "",
              "| method | final training loss | final validation accuracy | best validation "
              "accuracy | saturated updates | training seconds |", "| --- | --- | --- | --- | --- | --- |"]
    for tag, row in mlp_table.iterrows():
        lines.append(f"| {tag} | {row.train_loss:.4f} | {row.val_accuracy:.4f} | "
                     f"{row.best_accuracy:.4f} | {row.saturations:.0f} | "
                     f"{seconds_text(row.seconds)} |")
    final = mlp_table["val_accuracy"]
    relation = ">=" if final["halp-8"] >= final["lp-sgd-8"] else "<"
    lines += ["", f"- HALP-8's median final validation accuracy {final['halp-8']:.4f} {relation} "
              f"LP-SGD-8's {final['lp-sgd-8']:.4f} (SGD-fp32: {final['sgd-fp32']:.4f}).", ""]
    return "\n".join(lines)


FORMAT_NOTE = ("*Floor*: f − f* of w* rounded to the nearest value LP-SGD's iterate can hold in "
               "the format (its default scale), about the lowest f − f* an iterate stored in the "
               "format can reach; HALP's iterate is a float64 anchor plus the stored offset, "
               "re-centred every epoch, so its offset needs only relative precision and has no such "
               "floor.")
"""What the floor column of ``format_table`` is, in words."""


def _format_section(convex, formats):
    """The summary's float-format section: ``format_table`` and ``verdict_lines``."""
    table = format_table(convex, formats)
    if not table:
        return []
    return ["## Float formats: where they converge and where they stall", "",
            "Median final f − f* over the seeds with the verdict of the rule above and, in "
            "brackets, how far f − f* fell over the last half of the epochs; the fp64 rows hold "
            "SGD-fp64 and SVRG-fp64 (no verdict). M: the format's stored mantissa bits. "
            + FORMAT_NOTE, "", *table, "", *verdict_lines(convex), ""]


def format_table(convex, formats=None):
    """Markdown lines of the float-format table: per problem, a fp64 row (SGD-fp64 and SVRG-fp64,
    the baselines of FORMAT_SOLVERS) and one row per float format that ran, with its relative
    precision 2^-(M+1), its floor (``formats``: format_floors frames, or None: "—") and each of
    FORMAT_SOLVERS' median final f − f* over seeds with its ``verdict`` and how far f − f* fell
    over the last half ("tracks SVRG: 1.2e-24 (1e+12×)"). [] when no float-format run is in
    ``convex`` (a convex.csv frame)."""
    present = [fmt for fmt in registry.FORMATS
               if any(label(s, fmt) in set(convex["label"]) for s in FORMAT_SOLVERS)]
    if not present:
        return []
    finals = medians(convex_runs(convex), ["problem", "label"], ("subopt", "stall"))
    floors = (formats.set_index(["problem", "format"])["floor_subopt"] if formats is not None
              else pd.Series(dtype=float))
    baselines = [registry.spec(s).baseline for s in FORMAT_SOLVERS]
    rows = []
    for problem in dict.fromkeys(convex["problem"]):
        svrg = finals.loc[(problem, "svrg-fp64"), "subopt"]
        ref = [finals.loc[(problem, label(b, "fp64"))] for b in baselines]
        rows.append([problem, "fp64", f"2^-53 = {2.0 ** -53:.1e}", "—",
                     *(f"{r.subopt:.2e} ({r.stall:.3g}×)" for r in ref)])
        for fmt in present:
            m = registry.format_spec(fmt).mantissa_bits
            cells = [problem, fmt, f"2^-{m + 1} = {2.0 ** -(m + 1):.1e}",
                     f"{floors[(problem, fmt)]:.1e}" if (problem, fmt) in floors.index else "—"]
            for solver in FORMAT_SOLVERS:
                key = (problem, label(solver, fmt))
                row = finals.loc[key] if key in finals.index else None
                cells.append("—" if row is None else f"{verdict(row.subopt, row.stall, svrg)}: "
                             f"{row.subopt:.2e} ({row.stall:.3g}×)")
            rows.append(cells)
    return _markdown_table(["problem", "format", "relative precision 2^-(M+1)", "floor",
                            *(registry.spec(s).label for s in FORMAT_SOLVERS)], rows)


def _markdown_table(header, rows):
    """Lines of a markdown table with ``header`` (list of str) and ``rows`` (lists of str)."""
    return ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |",
            *("| " + " | ".join(row) + " |" for row in rows)]


def verdict_lines(convex):
    """One markdown line per problem of ``convex`` (a convex.csv frame, with its problem, label,
    solver, epoch, subopt and seed columns): which low-precision runs track SVRG, stall or do not
    track it, by ``verdict`` on the medians over seeds."""
    finals = medians(convex_runs(convex), ["problem", "label"], ("subopt", "stall"))
    solvers = convex.drop_duplicates("label").set_index("label")["solver"]
    lines = []
    for problem in dict.fromkeys(convex["problem"]):
        rows = finals.loc[problem]
        svrg = rows.loc["svrg-fp64", "subopt"]
        said = {}
        for tag, row in rows.iterrows():
            solver = solvers[tag]
            if registry.spec(solver).family != "low":
                continue
            precision = tag[len(solver) + 1:]
            said.setdefault(verdict(row.subopt, row.stall, svrg), []).append(
                title(solver, precision))
        lines.append(f"- {problem}: " + "; ".join(f"{v}: {', '.join(said[v])}"
                                                  for v in VERDICTS if v in said) + ".")
    return lines


# ---- command line ----------------------------------------------------------------------------

def reproduce(out, settings, mnist_path=None):
    """Run every experiment and write the outputs into ``out`` (created); returns the summary."""
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lsq = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0)
    mnist_convex, mnist_mlp, mnist_binary = mnist_problems(settings, mnist_path)
    frames, floors = [], []
    for name, prob, step, epochs in (
            ("lsq", lsq, 0.5 / lsq.L_max, settings.lsq_epochs),
            ("mnist", mnist_convex, 1.0 / mnist_convex.L_max, settings.mnist_epochs),
            ("mnist-binary", mnist_binary, 1.0 / mnist_binary.L_max, settings.mnist_epochs)):
        frames.append(run_convex(name, prob, step, epochs, settings.seeds))
        floors.append(format_floors(name, prob, step))
    convex = pd.concat(frames, ignore_index=True)
    convex.to_csv(out / "convex.csv", index=False)
    formats = pd.concat(floors, ignore_index=True)
    formats.to_csv(out / "formats.csv", index=False)
    sweep = run_mu_sweep(settings.sweep_epochs, settings.seeds)
    sweep.to_csv(out / "mu_sweep.csv", index=False)
    mlp_frame = run_mlp(mnist_mlp, settings)
    mlp_frame.to_csv(out / "mlp.csv", index=False)
    for problem in dict.fromkeys(convex["problem"]):
        write_html(convex_figure(convex, problem), out / f"convex_{problem}.html")
    write_html(mu_sweep_figure(sweep), out / "mu_sweep.html")
    write_html(mlp_figure(mlp_frame), out / "mlp.html")
    run = dict(command=command(settings), wall_seconds=round(time.perf_counter() - start, 1),
               machine=cpu_description())
    (out / "run.json").write_text(json.dumps(run, indent=1) + "\n")
    text = summary(convex, sweep, mlp_frame, settings, run, formats)
    (out / "summary.md").write_text(text)
    _progress(f"wrote {out}/summary.md, run.json, convex.csv, formats.csv, mu_sweep.csv, mlp.csv "
              f"and the HTML "
              f"figures in {seconds_text(run['wall_seconds'])} s")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="CI size: the first rows of MNIST only")
    size.add_argument("--tiny", action="store_true",
                      help="the test suite's size (seconds per experiment, 3 seeds)")
    parser.add_argument("--out", default="results-reproduction", help="output folder")
    parser.add_argument("--mnist-path", default=None, help="a local mnist.pkl.gz")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"seeds per run (default {Settings.seeds}, --tiny 3; figures and "
                             "verdicts use the median over them)")
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be >= 1")
    settings = Settings.quick() if args.quick else Settings.tiny() if args.tiny else Settings()
    if args.seeds is not None:
        settings.seeds = args.seeds
    print(reproduce(args.out, settings, args.mnist_path))
