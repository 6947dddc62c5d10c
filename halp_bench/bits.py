"""HALP's bit requirement, predicted (``halp_core.bit_budget.bits_needed``) against measured (a
sweep over bits x conditioning x seeds with SVRG as the baseline, ``sweeps/bits-needed-*.toml``).

    python -m halp_bench.bits SWEEP_DIR [SWEEP_DIR ...] --out docs/bits

The rule that turns runs into a measured requirement (``requirement``), per grid point (one
problem: kind, n, d, lam, cond, noise; one step, data width and mu setting):

* SVRG's epochs: the median over seeds of the first epoch with f - f* <= TARGET (a seed that
  never gets there counts as infinitely many);
* HALP-b *passes* when the median over seeds of its epochs to TARGET is at most FACTOR x SVRG's
  (a seed that never gets there, or diverged, counts as infinitely many);
* the measured requirement is the smallest b of the sweep such that HALP-b and every wider b of
  the sweep pass (so one lucky width below a failing one does not count); "none" when even the
  widest (16) fails: no b <= 16 suffices. When the narrowest width of the sweep (4) passes, the
  requirement is "that or fewer".

A grid point where SVRG itself does not reach TARGET within the run has no measurement (it is
left out and counted). A point whose budget FACTOR x SVRG's epochs exceeds the epochs run is
flagged ``censored``: a HALP run that had not reached TARGET by its last epoch counts as failing
although it might have made the budget.

The prediction is ``halp_core.bit_budget.bits_for(kappa, d)`` with the run's kappa (L_max / mu_min,
mu_min the smallest Hessian eigenvalue at w*, computed by the sweep's worker with
``halp_core.bit_budget.smallest_curvature``) and d its number of weights. It agrees when
|measured - predicted| <= 1; a "none" agrees with a prediction of 16 bits or more (the sweep
cannot tell 17 from 20), and a measurement at the narrowest width with any prediction up to one
bit above it. The same comparison is made for ``calibrated`` (``bits_for`` with the constant
``halp_core.bit_budget.CALIBRATION``, read off this sweep: in sample). Outputs: ``requirement.csv`` (the table), ``runs.csv`` (one row per
run: the sweep summary it was computed from), ``record.json`` (commands, rule, machine, version,
agreement) and ``requirement.png`` (the figure).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from halp_core import fixed_point
from halp_core.bit_budget import CALIBRATION, RULE, bits_for

from . import sweep
from .machine import cpu_description

TARGET = 1e-10
FACTOR = 2.0
POINT = ("problem", "n", "d", "lam", "noise", "cond", "step_factor", "data_bits")
"""The columns that name one grid point (one problem and the run settings shared by its runs)."""
SETTINGS = {"mu_min": "μ = μ_min (the paper's bit centering)", "auto": "μ = \"auto\""}
"""HALP's mu settings the table distinguishes, with their labels."""
COLUMNS = ("problem", "d", "lam", "cond", "n", "kind", "mu", "kappa", "kappa_sqrt_d", "predicted",
           "measured", "difference", "agrees", "calibrated", "calibrated_agrees", "svrg_epochs",
           "budget", "epochs_run", "censored", "seeds")


def _epochs(values):
    """Median of epochs-to-target over seeds, a seed that never got there counting as inf."""
    return float(np.median(np.where(np.isnan(values), np.inf, values)))


def _setting(mu, mu_min):
    """'auto', 'mu_min' (mu equal to mu_min up to rounding) or 'mu=<value>'."""
    if mu == "auto":
        return "auto"
    value = float(mu)
    return "mu_min" if abs(value / mu_min - 1.0) < 1e-9 else f"mu={value:.4g}"


def _summary(frame, target):
    """The sweep summary of ``frame`` with the columns this analysis needs: kind, mu setting,
    weights and epochs to ``target`` (NaN for a run that diverged)."""
    runs = sweep.summary(frame, targets=(target,))
    lmax = frame.groupby("run_id")["L_max"].first()
    runs["mu_min"] = runs["run_id"].map(lmax) / runs["kappa"]
    runs["setting"] = [_setting(m, mm) if s == "halp" else "" for s, m, mm in
                       zip(runs["solver"], runs["mu"], runs["mu_min"])]
    runs["kind"] = runs["problem"].map({name: kind.kind for name, kind in
                                        sweep.spec.PROBLEMS.items()})
    reached = runs[f"epochs_to_{target:g}"].to_numpy(dtype=float)
    runs["reached_epoch"] = np.where(runs["diverged_epoch"].to_numpy() >= 0, np.nan, reached)
    return runs


def requirement(frame, target=TARGET, factor=FACTOR):
    """The predicted-vs-measured table of a sweep ``frame`` (``halp_bench.sweep.load``; several
    sweeps concatenated are fine): one row per grid point and HALP mu setting, with COLUMNS
    (module docstring for the rule). measured is a float (NaN: no b <= 16 suffices);
    difference = measured - predicted (NaN when none); agrees: the rule above. Also returns the
    per-run summary and the grid points without a measurement: (table, runs, skipped)."""
    target = float(target)
    runs = _summary(frame, target)
    rows, skipped = [], []
    for point, part in runs.groupby(list(POINT), sort=True, dropna=False):
        svrg = part[part["solver"] == "svrg"]
        halp = part[part["solver"] == "halp"]
        kappa = float(part["kappa"].iloc[0])
        if svrg.empty or halp.empty or not np.isfinite(kappa):
            skipped.append((dict(zip(POINT, point)), "no SVRG or HALP runs, or no kappa"))
            continue
        svrg_epochs = _epochs(svrg["reached_epoch"].to_numpy(dtype=float))
        if not np.isfinite(svrg_epochs):
            skipped.append((dict(zip(POINT, point)), f"SVRG did not reach {target:g}"))
            continue
        budget = factor * svrg_epochs
        epochs_run = int(part["epochs"].max())
        d = int(point[POINT.index("d")])
        weights = d   # least squares and binary logistic: one weight per feature
        predicted = bits_for(max(kappa, 1.0), weights)
        calibrated = bits_for(max(kappa, 1.0), weights, CALIBRATION)
        for setting, runs_of in halp.groupby("setting", sort=True):
            per_bits = runs_of.groupby(runs_of["precision"].astype(int))["reached_epoch"]
            passing = {b: _epochs(v.to_numpy(dtype=float)) <= budget for b, v in per_bits}
            widths = sorted(passing)
            measured = np.nan
            for b in reversed(widths):
                if not passing[b]:
                    break
                measured = float(b)
            def agrees(guess, measured=measured, narrowest=widths[0], widest=widths[-1]):
                if np.isnan(measured):
                    return guess >= widest
                if measured == narrowest:
                    return guess <= narrowest + 1
                return abs(measured - guess) <= 1
            rows.append(dict(
                problem=point[0], d=d, lam=float(point[POINT.index("lam")]),
                cond=float(point[POINT.index("cond")]), n=int(point[1]),
                kind=runs_of["kind"].iloc[0], mu=setting, kappa=kappa,
                kappa_sqrt_d=kappa * np.sqrt(weights), predicted=predicted, measured=measured,
                difference=measured - predicted, agrees=bool(agrees(predicted)),
                calibrated=calibrated, calibrated_agrees=bool(agrees(calibrated)),
                svrg_epochs=svrg_epochs,
                budget=budget, epochs_run=epochs_run, censored=bool(budget > epochs_run),
                seeds=int(runs_of["seed"].nunique())))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.sort_values(["mu", "kind", "kappa"], ignore_index=True), runs, skipped


def agreement(table):
    """{mu setting: dict(points, agree, share, none, over, under, median_difference,
    calibrated_agree)}: how often the prediction agrees (within one bit), how many points no
    b <= 16 suffices for, how many measured more than one bit above / below the prediction (and
    do not agree), the median of measured - predicted, and how often the calibrated rule
    agrees."""
    out = {}
    for setting, part in table.groupby("mu", sort=True):
        diff = part["difference"]
        off = ~part["agrees"]
        out[setting] = dict(points=int(len(part)), agree=int(part["agrees"].sum()),
                            share=float(part["agrees"].mean()),
                            none=int(part["measured"].isna().sum()),
                            over=int((off & (diff > 1)).sum()), under=int((off & (diff < -1)).sum()),
                            median_difference=float(diff.median()),
                            calibrated_agree=int(part["calibrated_agrees"].sum()))
    return out


def requirement_figure(table, path):
    """Measured against predicted bits (one marker per grid point; "none" drawn above the
    widest width), one panel per mu setting, the diagonal and its one-bit band; written as a
    PNG to ``path`` (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = sorted(table["mu"].unique())
    fig, axes = plt.subplots(1, len(settings), figsize=(5.2 * len(settings), 4.6), squeeze=False,
                             sharey=True)
    top = fixed_point.MAX_BITS + 1
    for ax, setting in zip(axes[0], settings):
        part = table[table["mu"] == setting]
        lo, hi = 2, max(top, int(table["predicted"].max())) + 1
        grid = np.arange(lo, hi + 1)
        ax.fill_between(grid, grid - 1, grid + 1, color="0.9", label="within one bit")
        ax.plot(grid, grid, color="0.5", lw=1)
        ax.plot(grid, grid - 5, color="0.5", lw=1, ls="--",
                label="5 bits below (≈ the calibrated rule)")
        for kind, marker in (("least_squares", "o"), ("logistic", "s")):
            sub = part[part["kind"] == kind]
            y = sub["measured"].fillna(top)
            sc = ax.scatter(sub["predicted"], y, c=np.log10(sub["kappa"]), marker=marker,
                            cmap="viridis", vmin=0.5, vmax=5.5, edgecolor="k", lw=0.5,
                            label=kind.replace("_", " "))
        ax.axhline(top - 0.5, color="0.3", ls=":", lw=1)
        ax.set_title(f"{SETTINGS.get(setting, setting)}\n{int(part['agrees'].sum())} of "
                     f"{len(part)} within one bit", fontsize=10)
        ax.set_xlabel("predicted bits (2^(b−1) − 1 ≥ κ√d)")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, top + 1)
    axes[0][0].set_ylabel(f"measured bits (top row: none ≤ {fixed_point.MAX_BITS})")
    axes[0][0].legend(loc="upper left", fontsize=8)
    fig.colorbar(sc, ax=axes[0].tolist(), label="log10 κ")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def write(folders, out, target=TARGET, factor=FACTOR):
    """Load the sweeps in ``folders``, write requirement.csv, runs.csv, record.json and
    requirement.png into ``out`` (created); returns the table."""
    frame = pd.concat([sweep.load(f) for f in folders], ignore_index=True)
    if frame.empty:
        raise ValueError(f"no sweep runs in {', '.join(map(str, folders))}")
    table, runs, skipped = requirement(frame, target, factor)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "requirement.csv", index=False, float_format="%.6g")
    keep = ["problem", "n", "d", "lam", "cond", "kind", "solver", "precision", "setting",
            "seed", "epochs", "kappa", "mu_min", "final_subopt", f"epochs_to_{target:g}",
            "diverged_epoch", "saturations"]
    runs[keep].to_csv(out / "runs.csv", index=False, float_format="%.6g")
    specs = [str(Path(f) / "spec.toml") for f in folders]
    record = dict(
        commands=[f"./run sweep {spec} --out {f}" for f, spec in
                  zip(folders, spec_sources(folders))]
        + [f"python -m halp_bench.bits {' '.join(map(str, folders))} --out {out}"],
        specs=specs, target=target, factor=factor, rule=RULE,
        measured_rule=("smallest b such that HALP-b and every wider b reach f - f* <= target "
                       "(median over seeds) within factor x SVRG's median epochs"),
        skipped=[dict(point, reason=reason) for point, reason in skipped],
        agreement=agreement(table), machine=cpu_description(),
        version=sorted(frame["version"].unique().tolist()))
    (out / "record.json").write_text(json.dumps(record, indent=1, default=float) + "\n")
    requirement_figure(table, out / "requirement.png")
    return table


def spec_sources(folders):
    """The sweeps/ spec each folder's spec.toml is a copy of, or the folder's own spec.toml."""
    here = Path(__file__).resolve().parents[1] / "sweeps"
    found = []
    for folder in folders:
        text = (Path(folder) / "spec.toml").read_bytes()   # compared, never decoded
        match = next((p for p in sorted(here.glob("*.toml")) if p.read_bytes() == text), None)
        found.append(f"sweeps/{match.name}" if match else str(Path(folder) / "spec.toml"))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.bits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweeps", nargs="+", help="sweep folders (./run sweep ... --out DIR)")
    parser.add_argument("--out", default="docs/bits", help="output folder")
    args = parser.parse_args(argv)
    table = write(args.sweeps, args.out)
    for setting, stats in agreement(table).items():
        print(f"{setting}: {stats['agree']} of {stats['points']} grid points within one bit; "
              f"no b <= {fixed_point.MAX_BITS} sufficed for {stats['none']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
