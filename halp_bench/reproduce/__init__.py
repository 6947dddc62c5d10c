"""Reproduce the HALP paper's experiments as one command, with CSV trajectories, interactive plotly
HTML figures and a markdown summary of the measured numbers.

    python -m halp_bench.reproduce [--quick] [--out DIR] [--mnist-path FILE]

Experiments (every solver of one problem solves the same 8-bit data, so f* is common):

* ``lsq``: synthetic least squares (1000 x 50, lam 1e-2), step 0.5 / L_max;
  ``mnist``: multinomial logistic regression on MNIST (50000 x 784, 10 classes, lam 1e-3),
  step 1 / L_max. Solvers: SGD and SVRG (fp64), LP-SGD, LP-SVRG and HALP (mu="auto") at 8 and 16
  bits. -> ``convex.csv``, ``convex_<problem>.html``.
* mu sweep: 8-bit HALP with fixed mu = mu_min x 2^j (mu_min the smallest Hessian eigenvalue) and
  mu="auto" on two least-squares problems of different conditioning: epochs to f - f* <= 1e-10 and
  saturated updates. -> ``mu_sweep.csv``, ``mu_sweep.html``.
* MLP: a one-hidden-layer perceptron on MNIST (halp_bench.mlp), SGD-fp32, LP-SGD-8 and HALP-8:
  training loss and validation accuracy per epoch. -> ``mlp.csv``, ``mlp.html``.
* ``summary.md``: the numbers above and what they show; ``run.json``: the command, its wall time
  and the machine it ran on (CPU model, logical CPUs, vector instruction set).

``--quick`` (for CI, a few minutes) uses the first QUICK_MNIST_ROWS (convex, 30 epochs) and
QUICK_MLP_ROWS (MLP) MNIST training rows.
Reference optima of MNIST problems take minutes of L-BFGS; they are cached in
``datasets.data_dir() / "reference"``, keyed by a hash of the problem's data and lam.
HTML figures load plotly.js from a ``plotly.min.js`` written beside them (no network needed).
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from halp_core import datasets, registry
from halp_core.problems import Multinomial

from .. import contenders, mlp
from ..machine import cpu_description
from .figures import convex_figure, mlp_figure, mu_sweep_figure, write_html

__all__ = ["Settings", "convex_figure", "main", "mlp_figure", "mu_sweep_figure", "reproduce",
           "summary", "write_html"]

TOL = 1e-10
TRACK_FACTOR = 2.0   # HALP-b "tracks SVRG": final f - f* <= TRACK_FACTOR x SVRG's, or both <= TOL
QUICK_MNIST_ROWS = 2000
QUICK_MLP_ROWS = 10000
CONVEX_BITS = (8, 16)
CONVEX_SOLVERS = (tuple((name, "fp64") for name in registry.names("full"))
                  + tuple((name, bits) for name in registry.names("low") for bits in CONVEX_BITS))
"""(solver, precision) of the convex experiments: every registered solver, full precision in fp64,
low precision at CONVEX_BITS bits."""
MLP_METHODS = tuple((method, f"{method}-{'fp32' if registry.spec(method).family == 'full' else 8}")
                    for method in mlp.METHODS)
"""(method, label) of the MLP runs: float32 for full precision, 8 bits otherwise."""
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

    @classmethod
    def quick(cls):
        return cls(mnist_rows=QUICK_MNIST_ROWS, mnist_epochs=30, mlp_rows=QUICK_MLP_ROWS)


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


# ---- problems --------------------------------------------------------------------------------

def _reference_optimum(problem):
    """Compute ``problem.w_star`` up front, with a progress line (large problems keep it on disk:
    see Problem.w_star)."""
    start = time.perf_counter()
    _progress(f"[{problem.name}] reference optimum (cached on disk for large problems)...")
    problem.w_star  # noqa: B018
    _progress(f"[{problem.name}] reference optimum ready in {time.perf_counter() - start:.0f} s")


def mnist_problems(settings, path=None):
    """(convex problem, MLP problem) on MNIST with lam 1e-3; the first ``mnist_rows`` /
    ``mlp_rows`` training rows (all when None). Both carry X_val, y_val."""
    full = datasets.mnist(lam=1e-3, path=path)

    def rows(n):
        if n is None:
            return full
        prob = Multinomial(full.X[:n], full.labels[:n], full.lam, n_classes=10,
                           name=f"mnist-{n}")
        prob.X_val, prob.y_val = full.X_val, full.y_val
        return prob

    return rows(settings.mnist_rows), rows(settings.mlp_rows)


# ---- experiments -----------------------------------------------------------------------------

def run_convex(name, problem, step, epochs):
    """Every solver of CONVEX_SOLVERS on ``problem``; one tidy frame (history columns plus problem,
    solver, precision, label, saturations, mu)."""
    _reference_optimum(problem)
    frames = []
    for solver, precision in CONVEX_SOLVERS:
        tag = label(solver, precision)
        kwargs = dict(mu="auto") if "mu" in registry.spec(solver).options else {}

        def show(epoch, row, tag=tag):
            if epoch % max(1, epochs // 5) == 0 or epoch == epochs:
                _progress(f"[{name}] {tag:11s} epoch {epoch:3d}/{epochs}: "
                          f"f - f* = {row['subopt']:.3e}  ({row['seconds']:.2f} s)")

        res = contenders.run(problem, (solver, precision), step=step, epochs=epochs, seed=0,
                             callback=show, **kwargs)
        hist = res.history.assign(problem=name, solver=solver, precision=str(precision),
                                  label=tag, saturations=np.r_[0, res.saturations])
        frames.append(hist)
    return pd.concat(frames, ignore_index=True)


def epochs_to(subopt, tol=TOL):
    """First epoch (index of ``subopt``) with f - f* <= tol, or None."""
    hit = np.nonzero(np.asarray(subopt) <= tol)[0]
    return int(hit[0]) if hit.size else None


def run_mu_sweep(epochs):
    """8-bit HALP on SWEEP_PROBLEMS with mu = f * mu_min for f in SWEEP_FACTORS, and mu="auto"."""
    rows = []
    for name, kw in SWEEP_PROBLEMS:
        prob = datasets.synthetic_least_squares(1000, 50, noise=0.1, **kw)
        hessian = prob.X.T @ prob.X / prob.n + prob.lam * np.eye(prob.d)
        mu_min = float(np.linalg.eigvalsh(hessian)[0])
        for factor in (*SWEEP_FACTORS, "auto"):
            mu = "auto" if factor == "auto" else factor * mu_min
            res = contenders.run(prob, ("halp", 8), step=0.5 / prob.L_max, epochs=epochs, seed=0,
                                 mu=mu)
            sub = res.history.subopt.to_numpy()
            rows.append(dict(problem=name, kappa=prob.L_max / mu_min, mu_min=mu_min,
                             mu=str(factor if factor == "auto" else f"{mu:.4g}"),
                             mu_factor=np.nan if factor == "auto" else factor,
                             epochs_to_tol=epochs_to(sub), final_subopt=sub[-1],
                             saturations=int(res.saturations.sum())))
            _progress(f"[mu sweep] {name} mu={rows[-1]['mu']}: epochs to {TOL:g} = "
                      f"{rows[-1]['epochs_to_tol']}, saturated updates {rows[-1]['saturations']}")
    return pd.DataFrame(rows)


def run_mlp(problem, settings):
    """The MLP with each of MLP_METHODS; one frame (mlp.HISTORY_COLUMNS plus method, label)."""
    frames = []
    for method, tag in MLP_METHODS:
        def show(epoch, row, tag=tag):
            _progress(f"[mlp] {tag:9s} epoch {epoch}/{settings.mlp_epochs}: train loss "
                      f"{row['train_loss']:.4f}, val accuracy {row['val_accuracy']:.4f}"
                      f"  ({row['seconds']:.1f} s)")

        res = mlp.train(problem, method, hidden=settings.mlp_hidden, epochs=settings.mlp_epochs,
                        step=settings.mlp_step, bits=8, mu=settings.mlp_mu, seed=0, callback=show)
        frames.append(res.history.assign(method=method, label=tag))
    return pd.concat(frames, ignore_index=True)


# ---- summary ---------------------------------------------------------------------------------

def _final(frame, problem, tag, column="subopt"):
    part = frame[(frame["problem"] == problem) & (frame["label"] == tag)]
    return float(part[column].iloc[-1])


def _stall_factor(frame, problem, tag):
    """How much f - f* fell over the second half of the epochs (mid / last)."""
    sub = frame[(frame["problem"] == problem) & (frame["label"] == tag)]["subopt"].to_numpy()
    return float(sub[len(sub) // 2] / sub[-1])


def command(settings):
    """The command line that runs ``settings`` (without --out)."""
    return f"python -m halp_bench.reproduce{' --quick' if settings.mnist_rows else ''}"


def summary(convex, sweep, mlp_frame, settings, run):
    """The markdown summary: tables of final numbers and the verdicts they support.

    convex, sweep, mlp_frame: the frames of run_convex (all problems), run_mu_sweep and run_mlp;
    run: the run record (see run_record). The verdicts follow one rule (``tracks``), stated in the
    summary; "fell over the last half" is f - f* at the middle epoch over f - f* at the last (about
    1 for a stalled solver).
    """
    lines = ["# HALP reproduction: measured results", "",
             f"Produced by `{run['command']}` in {seconds_text(run['wall_seconds'])} s of wall time "
             f"on {run['machine']}. Every number below is read from the CSV files beside this "
             "summary (one run, seed 0).", "",
             f"Rule for the verdicts: HALP-b *tracks SVRG* on a problem when its final f − f* is at "
             f"most {TRACK_FACTOR:g}× SVRG-fp64's, or when both are at most {TOL:g}.", ""]
    for problem in dict.fromkeys(convex["problem"]):
        part = convex[convex["problem"] == problem]
        epochs = int(part["epoch"].max())
        lines += [f"## {problem}: f − f* after {epochs} epochs", "",
                  "| solver | f − f* | ‖∇f‖ | f − f* fell over the last half | saturated updates "
                  "| solver seconds |", "| --- | --- | --- | --- | --- | --- |"]
        for tag in dict.fromkeys(part["label"]):
            part_run = part[part["label"] == tag]
            lines.append(f"| {tag} | {_final(convex, problem, tag):.2e} | "
                         f"{_final(convex, problem, tag, 'grad_norm'):.2e} | "
                         f"{_stall_factor(convex, problem, tag):.3g}× | "
                         f"{int(part_run['saturations'].sum())} | "
                         f"{seconds_text(part_run['seconds'].iloc[-1])} |")
        lines.append("")
        svrg = _final(convex, problem, "svrg-fp64")
        for bits in (8, 16):
            halp = _final(convex, problem, f"halp-{bits}")
            lp = {t: _final(convex, problem, f"{t}-{bits}") for t in ("lp-sgd", "lp-svrg")}
            stall = {t: _stall_factor(convex, problem, f"{t}-{bits}") for t in lp}
            verdict = "tracks SVRG" if tracks(halp, svrg) else "does NOT track SVRG"
            lines.append(
                f"- **{bits} bits**: HALP-{bits} {verdict}: f − f* = {halp:.2e} (it fell "
                f"{_stall_factor(convex, problem, f'halp-{bits}'):.3g}× over the last half of the "
                f"epochs) against SVRG's {svrg:.2e}, while LP-SGD-{bits} ends at "
                f"{lp['lp-sgd']:.2e} (it fell "
                f"{stall['lp-sgd']:.3g}× over the last half of the epochs) and LP-SVRG-{bits} at "
                f"{lp['lp-svrg']:.2e} ({stall['lp-svrg']:.3g}×).")
        lines.append("")
    lines += ["## μ robustness (HALP-8, least squares)", "",
              "| problem | κ | μ | μ / μ_min | epochs to 1e-10 | final f − f* | saturated updates |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in sweep.itertuples():
        factor = "auto" if row.mu == "auto" else f"{row.mu_factor:g}"
        reached = "—" if pd.isna(row.epochs_to_tol) else int(row.epochs_to_tol)
        lines.append(f"| {row.problem} | {row.kappa:.0f} | {row.mu} | {factor} | {reached} | "
                     f"{row.final_subopt:.1e} | {row.saturations} |")
    lines.append("")
    for name, part in sweep.groupby("problem", sort=False):
        fixed = part[(part["mu"] != "auto") & part["epochs_to_tol"].notna()]
        auto = part.loc[part["mu"] == "auto", "epochs_to_tol"].iloc[0]
        if fixed.empty:
            lines.append(f"- {name}: no fixed μ of the sweep reached 1e-10.")
            continue
        best = fixed.loc[fixed["epochs_to_tol"].idxmin()]
        auto_text = "did not reach 1e-10" if pd.isna(auto) else (
            f"needed {int(auto)} epochs ({auto / best.epochs_to_tol:.2f}× the best)")
        lines.append(f"- {name}: best fixed μ = {best.mu} ({best.mu_factor:g} μ_min) needed "
                     f"{int(best.epochs_to_tol)} epochs; μ = \"auto\" {auto_text}.")
    lines += ["", f"## MLP on MNIST (hidden {settings.mlp_hidden}, step {settings.mlp_step}, "
              f"HALP μ = {settings.mlp_mu})", "",
              "| method | final training loss | final validation accuracy | best validation "
              "accuracy | saturated updates | training seconds |", "| --- | --- | --- | --- | --- | --- |"]
    for tag, part in mlp_frame.groupby("label", sort=False):
        lines.append(f"| {tag} | {part['train_loss'].iloc[-1]:.4f} | "
                     f"{part['val_accuracy'].iloc[-1]:.4f} | {part['val_accuracy'].max():.4f} | "
                     f"{int(part['saturations'].sum())} | "
                     f"{seconds_text(part['seconds'].iloc[-1])} |")
    final = mlp_frame.groupby("label", sort=False)["val_accuracy"].last()
    relation = ">=" if final["halp-8"] >= final["lp-sgd-8"] else "<"
    lines += ["", f"- HALP-8's final validation accuracy {final['halp-8']:.4f} {relation} "
              f"LP-SGD-8's {final['lp-sgd-8']:.4f} (SGD-fp32: {final['sgd-fp32']:.4f}).", ""]
    return "\n".join(lines)


# ---- command line ----------------------------------------------------------------------------

def reproduce(out, settings, mnist_path=None):
    """Run every experiment and write the outputs into ``out`` (created); returns the summary."""
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lsq = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0)
    frames = [run_convex("lsq", lsq, 0.5 / lsq.L_max, settings.lsq_epochs)]
    mnist_convex, mnist_mlp = mnist_problems(settings, mnist_path)
    frames.append(run_convex("mnist", mnist_convex, 1.0 / mnist_convex.L_max,
                             settings.mnist_epochs))
    convex = pd.concat(frames, ignore_index=True)
    convex.to_csv(out / "convex.csv", index=False)
    sweep = run_mu_sweep(settings.sweep_epochs)
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
    text = summary(convex, sweep, mlp_frame, settings, run)
    (out / "summary.md").write_text(text)
    _progress(f"wrote {out}/summary.md, run.json, convex.csv, mu_sweep.csv, mlp.csv and the HTML "
              f"figures in {seconds_text(run['wall_seconds'])} s")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="CI size: the first rows of MNIST only")
    parser.add_argument("--out", default="results-reproduction", help="output folder")
    parser.add_argument("--mnist-path", default=None, help="a local mnist.pkl.gz")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    print(reproduce(args.out, settings, args.mnist_path))
