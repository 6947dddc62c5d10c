"""Regenerate every measured number that README.md and docs/*.md quote.

    python -m tools.docs_numbers           # rewrite the generated blocks in place
    python -m tools.docs_numbers --check   # change nothing; exit 1 and list the stale blocks
    ./run docs                             # the same as the first

Prose is written by hand; numbers live only between markers,

    <!-- generated: NAME -->
    ... (rewritten from BLOCKS[NAME]) ...
    <!-- end generated -->

and every block names the file or command its numbers come from. A name may appear in several
files (e.g. the same table in README.md and docs/performance.md). Sources:

* asv results shipped in ``results/`` (read through ``halp_bench.asv_results``: values in
  ``itertools.product(*params)`` order, null = failed, NaN = skipped), with the machine's description
  from ``results/<machine>/machine.json``;
* the reproduction sample in ``docs/reproduction/`` (CSVs, ``formats.csv`` included, and
  ``run.json``, written by ``python -m halp_bench.reproduce --quick --out docs/reproduction``);
* the loss-scaling measurement in ``docs/loss-scaling/`` (``runs.csv`` and ``run.json``, written
  by ``python -m halp_bench.mlp.scaling --out docs/loss-scaling``);
* the solvers themselves for the README's "paper's claim" tables (a few seconds; every HALP row
  passes mu explicitly). These *measured* blocks are compared within MEASURED_FACTOR (below) and
  rewritten only when a number moved further: solver output differs in the last bits between CPUs.
"""

import argparse
import math
import re
import sys
from pathlib import Path

from halp_bench import asv_results
from halp_bench.files import FileFormatError, read_csv, read_json, read_text

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
RESULTS = ROOT / "results"
REPRODUCTION = ROOT / "docs" / "reproduction"
MACHINE = "vm-znver4-avx512-vnni"
COMMIT = "5c321bec"     # the shipped asv results the docs quote (kernels, convergence, memory)
SUITE_RUN = (f".venv/bin/asv run --machine {MACHINE} -b '^bench_(kernels|convergence|memory)\\.' "
             f"{COMMIT}^!")
# docs/performance.md: the solvers at PERF_COMMIT (the step's prefetches, the popcount, the unsigned
# carry) against PERF_BEFORE (main before them, with the integer-lane step of f86b5711), both
# measured on one machine on one day: PERF_RUN at PERF_COMMIT (every precision), the fixed-point
# parameters alone at PERF_BEFORE
PERF_MACHINE = "vm-znver4-avx512-vnni"
PERF_COMMIT = "a149318d"
PERF_BEFORE = "923801e3"
# The same benchmarks on the same day at a commit between them (the fixed-point kernels but for one
# compare): how far the interleaved ratios move from run to run on this shared VM
PERF_REPEAT = "518620bb"
PERF_RUN = (f".venv/bin/asv run --machine {PERF_MACHINE} -b "
            "'^bench_(speedup|epoch|bandwidth|threads|kernels)\\.[^(]*\\(' "
            f"{PERF_COMMIT}^!")
# README's headline (speedup-range, speedup-widths): the speed suites at every row width, measured
# at HEADLINE_COMMIT with HEADLINE_RUN on HEADLINE_MACHINE
HEADLINE_MACHINE = "vm-znver4-avx512-vnni"
HEADLINE_COMMIT = "5c321bec"
HEADLINE_RUN = (f".venv/bin/asv run --machine {HEADLINE_MACHINE} -b "
                "'^bench_speedup\\.(Speedup|AllCoresSpeedup)\\.track_speedup\\(.*, (8|16), ' "
                f"{HEADLINE_COMMIT}^!")
# README's peers table: bench_peers in asv's environment, every peer installed there
PEERS_MACHINE = "vm-znver4-avx512-vnni"
PEERS_COMMIT = "02afcfc1"
PEERS_RUN = (f".venv/bin/asv run --machine {PEERS_MACHINE} -b '^bench_peers\\.' "
             f"{PEERS_COMMIT}^!")
# A measured block is current when every number is within this factor of the fresh one, or both
# are at most MEASURED_FLOOR (f - f* that small is float64 rounding of f* itself).
MEASURED_FACTOR = 3.0
MEASURED_FLOOR = 1e-20
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                   r"(?=<!-- end generated -->)", re.S)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
SIZES = (1, 10, 100, 400)                 # bench_epoch sizes, MiB of float32 data
ELEMENTS_PER_MB = 256 * 1024              # bench_epoch: n = 256 x size_mb rows of d = 1024
KERNEL_LENGTH = {"L1": 1024, "L2": 24576, "L3": 2 ** 20, "DRAM": 2 ** 25}   # bench_kernels


# ---- sources -----------------------------------------------------------------------------------

def result_file(commit=COMMIT, env="virtualenv", machine=MACHINE):
    """The shipped asv result file of ``commit`` in an environment whose name starts with env."""
    (path,) = (RESULTS / machine).glob(f"{commit}-{env}*.json")
    return path


def asv_values(path, benchmark):
    """{tuple of parameter values: result} of one benchmark in an asv result file, read by the
    format's one reader (``halp_bench.asv_results``): None failed, NaN skipped, +inf a
    target not reached. FileFormatError naming the file when it cannot be read or a value is
    invalid (a non-finite number other than a target not reached): the docs never quote one."""
    out = {}
    for key, m in asv_results.benchmark_values(path, benchmark).items():
        if m.status == asv_results.INVALID:
            raise FileFormatError(f"{path}: {benchmark}{key} holds {m.raw!r}, not a finite "
                                  "number: an invalid result")
        out[key] = None if m.status == asv_results.FAILED else m.value
    return out


def width_values(path, benchmark):
    """{(parameters..., d): result} of a bench_speedup or bench_epoch benchmark (its row width d
    is the last parameter): files measured before the width was a parameter read as d = EPOCH_D
    (benchmarks/common.py)."""
    import importlib

    from benchmarks.common import EPOCH_D

    module, cls, _ = benchmark.split(".")
    names = getattr(importlib.import_module(f"benchmarks.{module}"), cls).param_names
    params = asv_results.load_strict(path).benchmarks[benchmark].params
    values = asv_values(path, benchmark)
    return values if len(params) == len(names) else {(*k, EPOCH_D): v for k, v in values.items()}


def speed_values(path, benchmark):
    """{parameters without d: result} of a bench_speedup or bench_epoch benchmark at d = EPOCH_D,
    the width measured at every size (what the tables keyed by size show)."""
    from benchmarks.common import EPOCH_D

    return {k[:-1]: v for k, v in width_values(path, benchmark).items() if k[-1] == EPOCH_D}


def machine_label(machine=MACHINE):
    """'machine `vm-znver4-avx512-vnni` (AMD EPYC, 2 logical CPUs, znver4, ...)': the name and the
    cpu field of results/<machine>/machine.json (``halp_bench.machine.cpu_description()``'s form:
    model, CPU count, LLVM CPU, ISA, BLAS kernel type, or what of them was not recorded)."""
    found = asv_results.read_machine(RESULTS / machine)
    if found is None or "cpu" not in found[0]:
        raise FileFormatError(f"{RESULTS / machine / 'machine.json'}: no cpu field")
    return f"machine `{machine}` ({found[0]['cpu']})"


def source_line(path, command):
    """The italic line under a generated table that says where its numbers come from: the machine
    is the result file's folder, described by the cpu field the file itself recorded (machine.json
    holds the latest run's, and a folder's runs may differ in what they recorded, e.g. the BLAS
    kernels)."""
    cpu = asv_results.load(path).run.get("cpu")
    label = (f"machine `{path.parent.name}` ({cpu})" if cpu
             else machine_label(path.parent.name))
    return f"*Generated by `./run docs` from `{path.relative_to(ROOT)}` (`{command}`), {label}.*"


def perf_file(commit=PERF_COMMIT):
    """A shipped result file of docs/performance.md's runs."""
    return result_file(commit, machine=PERF_MACHINE)


def reproduction_run():
    """The reproduction sample's run record (docs/reproduction/run.json)."""
    return read_json(REPRODUCTION / "run.json")


def reproduction_csv(name):
    return read_csv(REPRODUCTION / name)


# ---- formatting --------------------------------------------------------------------------------

def seconds(value):
    """A duration with three significant digits in us, ms or s; 'not reached' for inf (a
    target not reached)."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "not reached"
    for scale, unit in ((1e-3, "us"), (1.0, "ms")):
        if value < scale:
            return f"{value / scale * 1e3:.3g} {unit}"
    return f"{value:.3g} s"


def ns_per_element(seconds_per_epoch, size_mb):
    """Nanoseconds per element of a bench_epoch epoch on the ``size_mb`` problem."""
    return seconds_per_epoch / (size_mb * ELEMENTS_PER_MB) * 1e9


def kernel_elements(level):
    """Elements one timed bench_kernels call processes at ``level`` (n x reps)."""
    n = KERNEL_LENGTH[level]
    return n * max(1, 2 ** 24 // n)


def table(header, rows):
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


# ---- blocks: the paper's claim, measured by running the solvers --------------------------------

LSQ_ROWS = (("SVRG fp64", "svrg", "fp64", {}),
            ("HALP 8 bits, mu = 0.61 (about the smallest Hessian eigenvalue)", "halp", 8,
             dict(mu=0.61)),
            ('HALP 8 bits, mu = "auto"', "halp", 8, dict(mu="auto")),
            ("HALP 16 bits, mu = 0.01 (= lam)", "halp", 16, dict(mu=0.01)),
            ('HALP 16 bits, mu = "auto"', "halp", 16, dict(mu="auto")),
            ("LP-SGD 8 bits", "lp-sgd", 8, {}),
            ("LP-SVRG 8 bits", "lp-svrg", 8, {}))
DIGITS_ROWS = (("SVRG fp64", "svrg", "fp64", {}),
               ("HALP 8 bits, mu = 1e-2", "halp", 8, dict(mu=1e-2)),
               ('HALP 8 bits, mu = "auto"', "halp", 8, dict(mu="auto")),
               ("LP-SGD 8 bits", "lp-sgd", 8, {}),
               ("LP-SVRG 8 bits", "lp-svrg", 8, {}))


def claim_table(prob, step, epochs, rows):
    """f - f* after ``epochs`` of solve(prob, ..., step=step, seed=0) for each row."""
    from halp_core import solve

    finals = [solve(prob, solver, precision=precision, step=step, epochs=epochs, seed=0, **kw)
              .history["subopt"].iloc[-1] for _, solver, precision, kw in rows]
    return table(("solver", f"f − f* after {epochs} epochs"),
                 [(name, f"{value:.1e}") for (name, *_), value in zip(rows, finals)])


def lsq_claim():
    import numpy as np

    from halp_core import datasets

    prob = datasets.synthetic_least_squares(1000, 50, lam=1e-2, noise=0.1, seed=0)
    hessian = prob.X.T @ prob.X / prob.n + prob.lam * np.eye(prob.d)
    kappa = prob.L_max / np.linalg.eigvalsh(hessian)[0]
    return [f"Synthetic least squares: `datasets.synthetic_least_squares(1000, 50, lam=1e-2, "
            f"noise=0.1, seed=0)` (8-bit data, kappa = L_max / mu_min = {kappa:.0f}), "
            "step 0.5 / L_max, seed 0, computed by `./run docs`:", "",
            *claim_table(prob, 0.5 / prob.L_max, 30, LSQ_ROWS)]


def digits_claim():
    from halp_core import datasets

    prob = datasets.digits(lam=1e-3)
    return ["Digits: `datasets.digits(lam=1e-3)` (multinomial, 8-bit data), step 1 / L_max, "
            "seed 0, computed by `./run docs`:", "",
            *claim_table(prob, 1.0 / prob.L_max, 50, DIGITS_ROWS)]


def class_mean_claim():
    """Multinomial HALP-8 on digits with and without the anchor's class mean removed each epoch
    (HalpSolver.remove_class_mean), median of five seeds."""
    import numpy as np

    from halp_core import datasets, make_solver

    prob = datasets.digits(lam=1e-3)
    epochs, seeds = 50, range(5)

    def final(seed, mu, remove):
        run = make_solver(prob, "halp", precision=8, step=1.0 / prob.L_max, seed=seed, mu=mu)
        run.remove_class_mean = remove
        for _ in range(epochs):
            run.run_epoch()
        return prob.suboptimality(run.w)

    rows = []
    for mu, text in (("auto", 'mu = "auto"'), (1e-2, "mu = 1e-2")):
        medians = [float(np.median([final(s, mu, remove) for s in seeds])) for remove in (False, True)]
        rows.append((f"HALP 8 bits, {text}", f"{medians[0]:.1e}", f"{medians[1]:.1e}"))
    return ["Digits: `datasets.digits(lam=1e-3)`, step 1 / L_max, median f − f* over seeds 0–4 after "
            f"{epochs} epochs, computed by `./run docs`:", "",
            *table(("solver", "class mean kept", "class mean removed each epoch (the default)"),
                   rows)]


FIXED_MU_CONDS = (1, 3, 10, 30, 100, 300)   # spectrum spans of synthetic_least_squares(cond=)
FIXED_MU_FACTORS = (1, 4, 16)               # mu = factor x mu_min
# f - f* that counts as converged: every run above stays 10x or more from it at epoch 30, where
# f - f* itself, mid-convergence, moves up to 7x between CPUs (the epoch it is reached does not)
FIXED_MU_TARGET = 1e-8


def fixed_mu():
    """HALP-8 with a fixed mu of 1, 4 and 16 times the problem's strong convexity mu_min (the
    smallest Hessian eigenvalue), and mu="auto", on least squares of growing condition: the
    first epoch f - f* <= FIXED_MU_TARGET, f - f* after 30 epochs if never, or "diverges" where
    solve warned."""
    import warnings

    import numpy as np

    from halp_core import datasets, solve

    epochs, rows = 30, []
    for cond in FIXED_MU_CONDS:
        prob = datasets.synthetic_least_squares(2500, 48, lam=3e-3, noise=0.2, seed=101, cond=cond)
        hessian = prob.X.T @ prob.X / prob.n + prob.lam * np.eye(prob.d)
        mu_min = float(np.linalg.eigvalsh(hessian)[0])
        kappa = prob.L_max / mu_min
        cells = []
        for mu in (*(f * mu_min for f in FIXED_MU_FACTORS), "auto"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = solve(prob, "halp", precision=8, step=0.5 / prob.L_max, epochs=epochs,
                            mu=mu, seed=0)
            sub = res.history["subopt"].to_numpy()
            reached = np.flatnonzero(sub <= FIXED_MU_TARGET)
            cells.append("diverges (warns)" if res.diverged else f"epoch {reached[0]}"
                         if reached.size else f"{sub[-1]:.0e} at {epochs}")
        rows.append((cond, f"{kappa:.0f}", f"{kappa * np.sqrt(prob.d):.0f}", *cells))
    return [f"HALP 8 bits on `datasets.synthetic_least_squares(2500, 48, lam=3e-3, noise=0.2, "
            f"seed=101, cond=c)`, step 0.5 / L_max, seed 0, {epochs} epochs: the first epoch "
            f"f − f* <= {FIXED_MU_TARGET:.0e} (kappa = L_max / mu_min, mu_min the smallest "
            "Hessian eigenvalue; the paper's rule of thumb asks 2^(b−1) − 1 = 127 ≳ kappa √d), "
            "computed by `./run docs`:", "",
            *table(("c", "kappa", "kappa √d", *(f"mu = {f} mu_min" if f > 1 else "mu = mu_min"
                                               for f in FIXED_MU_FACTORS), 'mu = "auto"'),
                   rows)]


# ---- blocks: the bit requirement (docs/bits/, written by python -m halp_bench.bits) ------------

BITS = ROOT / "docs" / "bits"


def bits_record():
    return read_json(BITS / "record.json")


def bits_agreement():
    from halp_core.bit_budget import CALIBRATION

    record = bits_record()
    lines = []
    names = {"mu_min": "μ = μ_min (the paper's bit centering)", "auto": 'μ = "auto"'}
    for setting, a in record["agreement"].items():
        lines.append(f"- {names.get(setting, setting)}: the prediction is within one bit of the "
                     f"measurement at {a['agree']} of {a['points']} grid points "
                     f"({a['share']:.0%}); it is more than one bit above it at {a['under']}, below "
                     f"it at {a['over']}; no width ≤ 16 sufficed at {a['none']}; median measured − "
                     f"predicted {a['median_difference']:+.0f} bits. The calibrated rule "
                     f"(c = 1/{1 / CALIBRATION:.0f}) is within one bit at {a['calibrated_agree']} of "
                     f"{a['points']} (in sample).")
    skipped = len(record["skipped"])
    lines += ["", f"*Generated by `./run docs` from `docs/bits/record.json` (written by "
              f"`{record['commands'][-1]}`; {skipped} grid point(s) left out because SVRG did not "
              f"reach {record['target']:g}).*"]
    return lines


def bits_table():
    import pandas as pd

    req = read_csv(BITS / "requirement.csv")
    rows = []
    for (kind, d, lam), part in sorted(req.groupby(["kind", "d", "lam"]),
                                       key=lambda item: (item[0][0], item[1]["kappa"].iloc[0])):
        first = part.iloc[0]
        by = part.set_index("mu")["measured"]
        cells = ["none" if m not in by or pd.isna(by[m]) else f"{by[m]:.0f}"
                 for m in ("mu_min", "auto")]
        rows.append([kind.replace("_", " "), f"{d}", f"{lam:g}", f"{first.kappa:.3g}",
                     f"{first.svrg_epochs:g}", f"{first.predicted}", f"{first.calibrated}",
                     *cells])
    return [*table(("problem", "d", "λ", "κ", "SVRG epochs to 1e-10", "predicted bits",
                    "calibrated", "measured, μ = μ_min", 'measured, μ = "auto"'), rows), "",
            "*Generated by `./run docs` from `docs/bits/requirement.csv` (medians over 5 seeds; "
            "\"none\": no width ≤ 16 reached 1e-10 within 2× SVRG's epochs).*"]


# ---- blocks: set-up ---------------------------------------------------------------------------

def setup_time():
    run = read_json(ROOT / "docs" / "setup-time.json")
    return [f"`{run['command']}` in a fresh clone of commit {run['commit']} took "
            f"{run['wall_seconds']:.0f} s of wall time on {run['machine']} "
            "(`docs/setup-time.json`, written by `python -m tools.measure_setup`; generated by "
            "`./run docs`)."]


# ---- blocks: the reproduction sample -----------------------------------------------------------

def reproduction_time():
    run = reproduction_run()
    return [f"`{run['command']} --out docs/reproduction` took {run['wall_seconds']:.0f} s of wall "
            f"time on {run['machine']} (`docs/reproduction/run.json`, written by that run; "
            "generated by `./run docs`)."]


def convex_finals(folder):
    """(median, 5%, 95%) final f − f* over seeds per (problem, label) of a reproduction folder's
    convex.csv, as three {(problem, label): value} dicts, and the frame."""
    from halp_bench.reproduce import convex_runs

    convex = read_csv(folder / "convex.csv")
    groups = convex_runs(convex).groupby(["problem", "label"], sort=False)["subopt"]
    return groups.median(), groups.quantile(0.05), groups.quantile(0.95), convex


def reproduction_convex():
    finals, _, _, convex = convex_finals(REPRODUCTION)
    problems = list(dict.fromkeys(convex["problem"]))
    epochs = convex.groupby("problem")["epoch"].max()
    header = ["solver"] + [f"{p}, {int(epochs[p])} epochs" for p in problems]
    rows = [[tag] + [f"{finals[(p, tag)]:.1e}" for p in problems]
            for tag in dict.fromkeys(convex["label"])]
    from halp_bench.reproduce import RULE, verdict_lines

    seeds = convex["seed"].nunique() if "seed" in convex else 1
    return [*table(header, rows), "", *verdict_lines(convex), "",
            f"*Generated by `./run docs` from `docs/reproduction/convex.csv` (final f − f*, median "
            f"over {seeds} seeds). Verdicts: {RULE}*"]


def reproduction_formats():
    """The float-format table of the reproduction sample (halp_bench.reproduce.format_table)."""
    from halp_bench.reproduce import FORMAT_NOTE, format_table

    convex = reproduction_csv("convex.csv")
    seeds = convex["seed"].nunique() if "seed" in convex else 1
    return [*format_table(convex, reproduction_csv("formats.csv")), "",
            f"*Generated by `./run docs` from `docs/reproduction/convex.csv` and "
            f"`docs/reproduction/formats.csv`: median final f − f* over {seeds} seeds, the verdict "
            f"of the rule above and, in brackets, how far f − f* fell over the last half of the "
            f"epochs; the fp64 rows hold SGD-fp64 and SVRG-fp64. {FORMAT_NOTE}*"]


FULL = ROOT / "docs" / "reproduction" / "full"
"""The full-size run's convex outputs (all 50000 MNIST rows)."""


def reproduction_full():
    from halp_bench.reproduce import RULE, verdict_lines

    run = read_json(FULL / "run.json")
    finals, low, high, convex = convex_finals(FULL)
    lines = [f"`{run['command']} --out docs/reproduction/full` ({run['wall_seconds'] / 60:.0f} min "
             f"of wall time on {run['machine']}; {convex['seed'].nunique()} seeds):", ""]
    rows = []
    problems = [p for p in dict.fromkeys(convex["problem"]) if p.startswith("mnist")]
    epochs = convex.groupby("problem")["epoch"].max()
    for tag in dict.fromkeys(convex["label"]):
        cells = [tag]
        for p in problems:
            cells.append(f"{finals[(p, tag)]:.2e} ({low[(p, tag)]:.1e}–{high[(p, tag)]:.1e})")
        rows.append(cells)
    lines += table(["solver"] + [f"{p}, {int(epochs[p])} epochs: median (5–95%)" for p in problems],
                   rows)
    lines += ["", *verdict_lines(convex[convex["problem"].isin(problems)]), "",
              f"*Generated by `./run docs` from `docs/reproduction/full/convex.csv`. Verdicts: "
              f"{RULE}*"]
    return lines


def reproduction_sweep():
    from halp_bench.reproduce import medians

    sweep = reproduction_csv("mu_sweep.csv")
    rows = []
    cols = None
    med = medians(sweep, ["problem", "mu"], ("kappa", "mu_factor", "epochs_to_tol", "saturations"),
                  unreached=("epochs_to_tol",))
    for name, part in med.groupby(level="problem", sort=False):
        part = part.droplevel("problem")
        if cols is None:
            cols = ["auto" if m == "auto" else f"{f:g}" for m, f in zip(part.index, part["mu_factor"])]
        cells = [f"{'—' if math.isnan(r.epochs_to_tol) else f'{r.epochs_to_tol:g}'} "
                 f"({r.saturations:.0f})" for r in part.itertuples()]
        rows.append([f"κ = {part['kappa'].iloc[0]:.0f}", *cells])
    return [*table(["μ / μ_min", *cols], rows), "",
            "*Generated by `./run docs` from `docs/reproduction/mu_sweep.csv`: median over seeds of "
            "the epochs to f − f* ≤ 1e-10 (— = most seeds did not reach it), median saturated "
            "updates in brackets.*"]


def reproduction_mlp():
    mlp = reproduction_csv("mlp.csv").groupby(["label", "seed"], sort=False).last()
    med = mlp.groupby(level="label", sort=False)[["train_loss", "val_accuracy"]].median()
    return [*table(("method", "final training loss", "final validation accuracy"),
                   [(tag, f"{r.train_loss:.4f}", f"{r.val_accuracy:.4f}")
                    for tag, r in med.iterrows()]), "",
            "*Generated by `./run docs` from `docs/reproduction/mlp.csv` (medians over seeds).*"]


# ---- blocks: loss scaling (docs/loss-scaling.md) ----------------------------------------------

LOSS_SCALING = ROOT / "docs" / "loss-scaling"


def loss_scaling_run():
    run = read_json(LOSS_SCALING / "run.json")
    size = run["size"]
    return [f"`{run['command']} --out docs/loss-scaling`: MNIST's first {size['rows']} training "
            f"rows, hidden width {size['hidden']}, step {size['step']:g}, λ = {size['lam']:g}, "
            f"{size['epochs']} epochs, seeds 0..{size['seeds'] - 1}; it took "
            f"{run['wall_seconds']:.0f} s of wall time on {run['machine']} "
            "(`docs/loss-scaling/run.json`, written by that run; generated by `./run docs`)."]


def loss_scaling_epochs():
    from halp_bench.mlp import scaling

    frame = read_csv(LOSS_SCALING / "runs.csv")
    return [*scaling.flushed_by_epoch(frame), "",
            "*Generated by `./run docs` from `docs/loss-scaling/runs.csv`: flushed entries over "
            "nonzero float32 entries of d2 and d1, each epoch, all seeds together.*"]


def loss_scaling():
    from halp_bench.mlp import scaling

    run = read_json(LOSS_SCALING / "run.json")
    frame = read_csv(LOSS_SCALING / "runs.csv")
    return [*scaling.table(frame), "",
            f"*Generated by `./run docs` from `docs/loss-scaling/runs.csv` (written by "
            f"`{run['command']}`): final training loss and validation accuracy after "
            f"{run['size']['epochs']} epochs, mean over {run['size']['seeds']} seeds (min–max); "
            "skipped steps, flushed entries (nonzero float32 gradient entries of d2 and d1 "
            "that rounded to zero) and their magnitude (sum of |v| over them / over all nonzero "
            "entries) over all epochs and seeds.*"]


# ---- blocks: asv results -----------------------------------------------------------------------

def run_label(solver, precision):
    """Display name of a solver run from the registry's label, e.g. "HALP-8", "SVRG-fp32"."""
    from halp_bench.reproduce import title

    return title(solver, precision)


# (method, bits, baseline precision) of bench_speedup; the baseline solver is the registry's
SPEEDUP_KEYS = (("halp", 8, "fp32"), ("halp", 8, "fp64"), ("halp", 16, "fp32"),
                ("lp-sgd", 8, "fp32"))
# (solver, precision) of bench_epoch in the order of the table
EPOCH_KEYS = (("svrg", "fp32"), ("svrg", "fp64"), ("halp", 8), ("halp", 16), ("lp-svrg", 8),
              ("sgd", "fp32"), ("sgd", "fp64"), ("lp-sgd", 8))


def speedup_pairs():
    """[(label, (method, bits, baseline precision))], e.g. ("HALP-8 / SVRG-fp32", ...)."""
    from halp_core import registry

    return [(f"{run_label(m, b)} / {run_label(registry.spec(m).baseline, p)}", (m, b, p))
            for m, b, p in SPEEDUP_KEYS]


def epoch_solvers():
    """[(label, (solver, precision))] of the epoch-time table, e.g. ("HALP-8", ("halp", 8))."""
    return [(run_label(*key), key) for key in EPOCH_KEYS]


def speedup():
    now, was = (speed_values(perf_file(c), "bench_speedup.Speedup.track_speedup")
                for c in (PERF_COMMIT, PERF_BEFORE))
    rows = [[f"{size} MiB"] + [f"{now[(*key, size)]:.2f} (was {was[(*key, size)]:.2f})"
                               for _, key in speedup_pairs()] for size in SIZES]
    return [*table(["size of float32 data", *(n for n, _ in speedup_pairs())], rows), "",
            f"*Ratios of interleaved epoch times, `bench_speedup.Speedup.track_speedup` (below 1: "
            f"low precision faster); \"was\": commit {PERF_BEFORE}.*",
            source_line(perf_file(), PERF_RUN)]


HEADLINE_KEYS = (("halp", 8, "fp32"), ("halp", 8, "fp64"))   # (method, bits, baseline precision)


def _shapes(keys):
    """'100 MiB at d = 128, 512; 400 MiB at d = 128' from (size_mb, d) pairs."""
    sizes = sorted({size for size, _ in keys})
    return "; ".join(f"{size} MiB at d = {', '.join(str(d) for s, d in sorted(keys) if s == size)}"
                     for size in sizes)


def range_lines(values):
    """The headline's lines from {(method, bits, baseline, size_mb, d): track_speedup}: for each of
    HEADLINE_KEYS the least and most speedup (1 / ratio) over every size and width measured, and
    where it is at least 1 (pays) and where below; failed or skipped values are left out, a ratio
    of inf (the low-precision epoch never finished) counts as not paying."""
    from halp_core import registry

    lines = []
    for method, bits, baseline in HEADLINE_KEYS:
        speed = {k[3:]: 1.0 / v for k, v in values.items()
                 if k[:3] == (method, bits, baseline) and v is not None and not math.isnan(v)}
        if not speed:
            continue
        low, high = min(speed, key=speed.get), max(speed, key=speed.get)
        pays = [k for k in speed if speed[k] >= 1]
        loses = [k for k in speed if speed[k] < 1]
        lines.append(
            f"- **{run_label(method, bits)} vs {run_label(registry.spec(method).baseline, baseline)}**"
            f": {speed[low]:.2f}x ({low[0]} MiB, d = {low[1]}) to {speed[high]:.2f}x ({high[0]} MiB, "
            f"d = {high[1]}); faster at {_shapes(pays) or 'no size and width measured'}; slower at "
            f"{_shapes(loses) or 'no size and width measured'}.")
    return lines


def speedup_range():
    """README's headline: the range of HALP-8's speedup over every size and row width measured."""
    path = result_file(HEADLINE_COMMIT, machine=HEADLINE_MACHINE)
    return [*range_lines(width_values(path, "bench_speedup.Speedup.track_speedup")), "",
            "*Speedup = baseline epoch time / HALP-8 epoch time, interleaved in one process "
            "(`bench_speedup.Speedup.track_speedup`), over every problem size and row width d in the "
            "result file.*", source_line(path, HEADLINE_RUN)]


def speedup_widths():
    """README's table of speedups (baseline time / low-precision time) at every row width d of the
    sizes measured at several widths, one thread, and HALP-8's on all cores."""
    path = result_file(HEADLINE_COMMIT, machine=HEADLINE_MACHINE)
    one = width_values(path, "bench_speedup.Speedup.track_speedup")
    every = width_values(path, "bench_speedup.AllCoresSpeedup.track_speedup")
    shapes = sorted({k[3:] for k in every})
    rows = [[name] + [_speed(one.get((*key, *shape))) for shape in shapes]
            for name, key in speedup_pairs()]
    rows += [[f"{name}, all cores"] + [_speed(every.get((*key, *shape))) for shape in shapes]
             for name, key in speedup_pairs() if (*key, *shapes[0]) in every]
    header = ["speedup"] + [f"{size} MiB, d = {d}" for size, d in shapes]
    return [*table(header, rows), "",
            "*Speedup = baseline epoch time / low-precision epoch time (above 1: low precision "
            "faster), the inverse of `bench_speedup.Speedup.track_speedup` (one thread) and "
            "`AllCoresSpeedup.track_speedup` (every core); the data are float32 rows of d features "
            "(n from the size).*", source_line(path, HEADLINE_RUN)]


def _speed(ratio):
    """'1.74x' from a track_speedup ratio (low-precision time / baseline time); 'n/a' when it was
    not measured (failed or skipped)."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    return f"{1.0 / ratio:.2f}x"


# Issue 13's targets: (label, benchmark, (method, bits, baseline), sizes, least speedup). A
# speedup is 1 / track_speedup; "out of cache" is 100 and 400 MiB (L3 is 32 MiB here).
TARGETS = (
    ("HALP-8 vs SVRG-fp32, out of cache", "Speedup", ("halp", 8, "fp32"), (100, 400), 2.5),
    ("HALP-8 vs SVRG-fp64, out of cache", "Speedup", ("halp", 8, "fp64"), (100, 400), 4.0),
    ("LP-SGD-8 vs SGD-fp32, out of cache", "Speedup", ("lp-sgd", 8, "fp32"), (100, 400), 2.0),
    ("HALP-16 vs SVRG-fp32, out of cache", "Speedup", ("halp", 16, "fp32"), (100, 400), 1.5),
    ("HALP-8 vs SVRG-fp32, in L2", "Speedup", ("halp", 8, "fp32"), (1,), 1.0),
    ("HALP-8 vs SVRG-fp32, all cores, out of cache", "AllCoresSpeedup", ("halp", 8, "fp32"),
     (100, 400), 3.0),
    ("LP-SGD-8 vs SGD-fp32, all cores, out of cache", "AllCoresSpeedup", ("lp-sgd", 8, "fp32"),
     (100, 400), 2.0),
)


def target_values(commit=PERF_COMMIT, targets=TARGETS):
    """[(label, {size: speedup}, goal)] of ``targets`` (TARGETS' form) at ``commit``."""
    out = []
    for label, bench, key, sizes, goal in targets:
        values = speed_values(perf_file(commit), f"bench_speedup.{bench}.track_speedup")
        out.append((label, {size: 1.0 / values[(*key, size)] for size in sizes}, goal))
    return out


def targets():
    before = {label: speed for label, speed, _ in target_values(PERF_BEFORE)}
    rows = []
    for label, speed, goal in target_values():
        cells = ", ".join(f"{s} MiB: {v:.2f}x (was {before[label][s]:.2f}x)"
                          for s, v in speed.items())
        rows.append([label, f"{goal:g}x", cells, "met" if min(speed.values()) >= goal
                     else "not met"])
    return [*table(("target", "goal", "speedup (1 / track_speedup)", "verdict"), rows), "",
            f"*A target is met when every size listed reaches it; \"was\": commit {PERF_BEFORE}, "
            f"the same benchmarks on the same machine.*", source_line(perf_file(), PERF_RUN)]


# The float formats' targets (issue: "HALP-bf16 and LP-SGD-bf16 epochs >= 1.5x faster than their
# float32 counterparts with bf16 data; fp8 >= 2x"): (method, format, least speedup) against the
# registry baseline in fp32, out of cache. At a format bench_speedup runs both contenders on one
# copy of the problem's data in that format (benchmarks/common.py, epoch_data_bits).
FORMAT_GOALS = (("halp", "bf16", 1.5), ("lp-sgd", "bf16", 1.5), ("halp", "fp8-e4m3", 2.0),
                ("halp", "fp8-e5m2", 2.0), ("lp-sgd", "fp8-e4m3", 2.0), ("lp-sgd", "fp8-e5m2", 2.0))
FORMAT_COMMIT = PERF_COMMIT
FORMAT_RUN = PERF_RUN


def format_target_rows():
    """FORMAT_GOALS in TARGETS' form, labelled from the registry (e.g. "HALP-bf16 vs SVRG-fp32,
    bf16 data, out of cache")."""
    from halp_core import registry

    return tuple((f"{run_label(m, f)} vs {run_label(registry.spec(m).baseline, 'fp32')}, {f} data, "
                  f"out of cache", "Speedup", (m, f, "fp32"), (100, 400), goal)
                 for m, f, goal in FORMAT_GOALS)


def format_targets():
    rows = []
    for label, speed, goal in target_values(FORMAT_COMMIT, format_target_rows()):
        cells = ", ".join(f"{s} MiB: {v:.2f}x" for s, v in speed.items())
        rows.append([label, f"{goal:g}x", cells, "met" if min(speed.values()) >= goal
                     else "not met"])
    return [*table(("target", "goal", "speedup (1 / track_speedup)", "verdict"), rows), "",
            "*At a float format both contenders read one copy of the problem's data in that "
            "format (the baseline its float32 conversion); a target is met when every size "
            "listed reaches it.*",
            source_line(perf_file(FORMAT_COMMIT), FORMAT_RUN)]


def epoch_times():
    now, was = (speed_values(perf_file(c), "bench_epoch.EpochTime.time_epoch")
                for c in (PERF_COMMIT, PERF_BEFORE))
    rows = []
    for name, key in epoch_solvers():
        cells = [name]
        for size in (1, 400):
            cells += [seconds(now[(*key, size)]), f"{ns_per_element(now[(*key, size)], size):.2f}"]
        rows.append(cells + [seconds(was[(*key, 400)])])
    return [*table(("solver", "1 MiB", "ns/element", "400 MiB", "ns/element",
                    f"400 MiB at {PERF_BEFORE}"), rows), "",
            source_line(perf_file(), PERF_RUN)]


def bandwidth():
    path = perf_file()
    read = asv_values(path, "bench_bandwidth.Read.track_read_gbps")
    gbps = asv_values(path, "bench_bandwidth.Bandwidth.track_epoch_gbps")
    frac = asv_values(path, "bench_bandwidth.Bandwidth.track_fraction_of_read")
    solvers = list(dict.fromkeys(s for s, _ in gbps))
    rows = [[f"{size} MiB", f"{read[(size,)]:.3g}"] +
            [f"{gbps[(s, size)]:.3g} ({frac[(s, size)]:.2f})" for s in solvers] for size in SIZES]
    return [*table(["size", "read kernel GB/s", *(f"{s} GB/s (fraction of read)" for s in solvers)],
                   rows), "", source_line(path, PERF_RUN)]


def threads():
    now, was = (asv_values(perf_file(c), "bench_threads.ThreadScaling.time_epoch")
                for c in (PERF_COMMIT, PERF_BEFORE))
    keys = [k[:2] for k in now if k[2] == 1 and not math.isnan(now[k] or math.nan)]
    counts = [t for t in (1, 2, 4, 8) if any(not math.isnan(now[(*k, t)] or math.nan)
                                           for k in keys)]
    rows = [[f"{s}-{p}"] + [f"{seconds(now[(s, p, t)])} (was {seconds(was[(s, p, t)])})"
                            for t in counts] for s, p in keys]
    return [*table(["solver", *(f"{t} thread{'s' * (t > 1)}" for t in counts)], rows), "",
            f"*Seconds per epoch at 100 MiB, `bench_threads.ThreadScaling.time_epoch`; \"was\": "
            f"commit {PERF_BEFORE}.*",
            source_line(perf_file(), PERF_RUN)]


def kernels():
    path = result_file()
    rows = []
    for bench, label in (("bench_kernels.Dot.time_dot", "dot {}"),
                         ("bench_kernels.Axpy.time_axpy", "axpy {}"),
                         ("bench_kernels.Quantize.time_quantize_nearest",
                          "quantize to {} bits, nearest"),
                         ("bench_kernels.Quantize.time_quantize_stochastic",
                          "quantize to {} bits, stochastic")):
        values = asv_values(path, bench)
        for first in dict.fromkeys(k[0] for k in values):
            per = [values[(first, level)] / kernel_elements(level) * 1e9 for level in KERNEL_LENGTH]
            if not all(math.isnan(v) for v in per):
                rows.append([label.format(first)] + [f"{v:.3f}" for v in per])
    return [*table(["kernel", *(f"{level} ns/element" for level in KERNEL_LENGTH)], rows), "",
            source_line(path, SUITE_RUN)]


def convergence():
    path = result_file()
    epochs = asv_values(path, "bench_convergence.Convergence.track_epochs_to_target")
    problems = list(dict.fromkeys(k[0] for k in epochs))
    pairs = [k[1:3] for k in epochs if k[0] == problems[0] and k[3] == "1e-10"
             and not math.isnan(epochs[k])]

    def cell(problem, pair):
        found = [epochs[(problem, *pair, t)] for t in ("1e-06", "1e-10")]
        return " / ".join("not reached" if e >= 1e6 else f"{e:.0f}" for e in found)

    return [*table(["solver", *problems], [[f"{s}-{p}"] + [cell(q, (s, p)) for q in problems]
                                            for s, p in pairs]), "",
            "*Epochs to f − f* ≤ 1e-6 / ≤ 1e-10 within 32 "
            "(`bench_convergence.Convergence.track_epochs_to_target`).*",
            source_line(path, SUITE_RUN)]


def peak_memory():
    path = result_file()
    peak = asv_values(path, "bench_memory.Memory.peakmem_solve")
    return [*table(["precision", "peak RSS"], [[p, f"{v / 1e9:.2f} GB"]
                                              for (p,), v in peak.items()]), "",
            source_line(path, SUITE_RUN)]


# Hot-loop instructions / elements per iteration (full-gradient dot, full-gradient accumulate,
# inner dot, inner update), counted from `tools/asm_probe.py --loops` with Numba's CPU name
# znver4 (AVX-512 with VNNI), at PERF_COMMIT (INSTRUCTIONS) and PERF_BEFORE (INSTRUCTIONS_BEFORE).
# Not measured by asv: recount them when the kernels change.
INSTRUCTIONS = {"SVRG-fp32": ((11, 64), (15, 64), (11, 64), (27, 64)),
                "SVRG-fp64": ((11, 32), (15, 32), (11, 32), (31, 32)),
                "HALP-8": ((15, 64), (19, 64), (19, 128), (63, 64)),
                "HALP-16": ((15, 64), (19, 64), (15, 128), (103, 64)),
                "SGD-fp32": (None, None, (11, 64), (27, 64)),
                "LP-SGD-8": (None, None, (19, 128), (63, 64))}
INSTRUCTIONS_BEFORE = {"SVRG-fp32": ((11, 64), (15, 64), (11, 64), (27, 64)),
                       "SVRG-fp64": ((11, 32), (15, 32), (11, 32), (31, 32)),
                       "HALP-8": ((15, 64), (19, 64), (19, 128), (70, 64)),
                       "HALP-16": ((15, 64), (19, 64), (15, 128), (112, 64)),
                       "SGD-fp32": (None, None, (11, 64), (27, 64)),
                       "LP-SGD-8": (None, None, (19, 128), (70, 64))}
DOT_INT8_INSTRUCTIONS = (19, 128)         # the int8 dot kernel's loop, same count
# The float-format kernels' hot loops at FORMAT_COMMIT (same probe and CPU), instructions /
# elements: full gradient (row decoding, dot, accumulate), inner step (row decoding, the iterate's
# decoding with the dot, the stochastic rounding of the row: epochs._decode_row, _decode_dot,
# _round_row).
FORMAT_INSTRUCTIONS = {
    "HALP-bf16": ((15, 64), (11, 64), (15, 64), (15, 64), (19, 64), (103, 64)),
    "HALP-fp8-e4m3": ((19, 16), (11, 64), (15, 64), (67, 64), (19, 8), (83, 32)),
    "LP-SGD-bf16": (None, None, None, (15, 64), (19, 64), (103, 64))}


def per_element(name, counts=INSTRUCTIONS):
    """Hot-loop instructions per element of the data matrix per epoch of solver ``name``."""
    return sum(a / b for a, b in filter(None, counts[name]))


def instructions():
    rows = [[name, *(f"{c[0]} / {c[1]}" if c else "" for c in counts),
             f"{per_element(name):.2f}", f"{per_element(name, INSTRUCTIONS_BEFORE):.2f}"]
            for name, counts in INSTRUCTIONS.items()]
    return [*table(("solver", "full-gradient dot", "full-gradient accumulate", "inner dot",
                    "inner update", "total", f"total at {PERF_BEFORE}"), rows), "",
            "*Generated by `./run docs` from `tools/docs_numbers.py`'s INSTRUCTIONS: the hot loops "
            f"of `tools/asm_probe.py --loops` at {PERF_COMMIT} and {PERF_BEFORE}, counted for "
            "Numba's CPU `znver4` (AVX-512 with VNNI).*"]


def format_instructions():
    rows = [[name, *(f"{c[0]} / {c[1]}" if c else "" for c in counts),
             f"{per_element(name, FORMAT_INSTRUCTIONS):.2f}"]
            for name, counts in FORMAT_INSTRUCTIONS.items()]
    return [*table(("solver", "full-gradient decoding", "full-gradient dot",
                    "full-gradient accumulate", "inner decoding", "inner decoding + dot",
                    "inner rounding", "total"), rows), "",
            "*Generated by `./run docs` from `tools/docs_numbers.py`'s FORMAT_INSTRUCTIONS: the hot "
            f"loops of `tools/asm_probe.py --loops` at {FORMAT_COMMIT}, counted for Numba's CPU "
            f"`znver4` (AVX-512 with VNNI); SVRG-fp32 totals {per_element('SVRG-fp32'):.2f}, "
            f"SGD-fp32 {per_element('SGD-fp32'):.2f} (the instructions table).*"]


def epoch_ns(commit=PERF_COMMIT):
    """{size: {(solver, precision): ns per element of an epoch}} at 1 and 400 MiB."""
    epoch = speed_values(perf_file(commit), "bench_epoch.EpochTime.time_epoch")
    return {size: {k[:2]: ns_per_element(v, size) for k, v in epoch.items() if k[2] == size}
            for size in (1, 400)}


def instruction_rate():
    """(the int8 dot's time in L3 in seconds, instructions per ns it reaches): the fastest
    instruction rate the suite measured, and each solver's least ns per element at that rate."""
    dot = asv_values(perf_file(), "bench_kernels.Dot.time_dot")[("int8", "L3")]
    rate = (DOT_INT8_INSTRUCTIONS[0] / DOT_INT8_INSTRUCTIONS[1] * kernel_elements("L3")
            / (dot * 1e9))
    return dot, rate, {name: per_element(name) / rate for name in INSTRUCTIONS}


def target_reasons():
    """Where each of issue 13's targets stands and why, with the figures of the tables."""
    speed = {label: (v, goal) for label, v, goal in target_values()}
    ns, ns_before = epoch_ns(), epoch_ns(PERF_BEFORE)
    best = instruction_rate()[2]

    def cells(label):
        values, goal = speed[label]
        met = "met" if min(values.values()) >= goal else "not met"
        return f"{met}: " + " and ".join(f"{v:.2f}x" for v in values.values()) + f", goal {goal:g}x"

    def part(name, i):
        return INSTRUCTIONS[name][i][0] / INSTRUCTIONS[name][i][1]

    halp = ("halp", 8)
    return [
        f"- **HALP-8 over SVRG-fp64** ({cells('HALP-8 vs SVRG-fp64, out of cache')}) and "
        f"**LP-SGD-8 over SGD-fp32** ({cells('LP-SGD-8 vs SGD-fp32, out of cache')}): this "
        "round's prefetches and shorter integer-lane step (below) took the sampled step off its "
        "memory stalls and cut its instructions; HALP-8's "
        f"400 MiB epoch went from {ns_before[400][halp]:.2f} to {ns[400][halp]:.2f} ns per "
        "element.",
        f"- **HALP-8 over SVRG-fp32, out of cache** ({cells('HALP-8 vs SVRG-fp32, out of cache')}):"
        f" HALP-8 runs at {ns[400][halp]:.2f} ns per element at 400 MiB, about its in-cache "
        "speed: it is instruction-bound (the bound below: at best "
        f"{ns[400][('svrg', 'fp32')] / best['HALP-8']:.1f}x at this machine's fastest measured "
        f"instruction rate). Of its {per_element('HALP-8'):.2f} hot-loop instructions per "
        f"element, the inner update takes {part('HALP-8', 3):.2f} and the anchor's full gradient "
        f"{part('HALP-8', 0) + part('HALP-8', 1):.2f}: a float32 pass over the int8 data "
        "(sign-extend, convert, FMA, twice per element) that does SVRG-fp32's work per element "
        "in more instructions. SVRG-fp32 streams its 4-byte rows at "
        f"{ns[400][('svrg', 'fp32')]:.2f} ns per element; at 100 MiB it keeps part of its data "
        "in the 32 MiB L3 between the interleaved epochs, so the ratio there is lower.",
        f"- **HALP-16 over SVRG-fp32** ({cells('HALP-16 vs SVRG-fp32, out of cache')}): its "
        "32-bit lanes hold 16 coordinates per register, as float32 does, and pay for a fresh hash "
        f"per two coordinates and the fixed-point terms: {part('HALP-16', 3):.2f} update "
        f"instructions per element against SVRG-fp32's {part('SVRG-fp32', 3):.2f}.",
        f"- **In L2** ({cells('HALP-8 vs SVRG-fp32, in L2')}) the float32 baselines still win: "
        f"HALP-8's 1 MiB epoch costs {ns[1][halp]:.2f} ns per element against "
        f"{ns[400][halp]:.2f} at 400 MiB, because the per-epoch work done in Python (sampling, "
        "bit centering with its secant rule for mu, the float32 full gradient's error check) is "
        "spread over only 256 steps; and in cache SVRG-fp32's update, at "
        f"{INSTRUCTIONS['SVRG-fp32'][3][0]} instructions per 64 coordinates, is cheaper than the "
        f"8-bit step's {INSTRUCTIONS['HALP-8'][3][0]}.",
        f"- **All cores** (HALP-8: {cells('HALP-8 vs SVRG-fp32, all cores, out of cache')}; "
        f"LP-SGD-8: {cells('LP-SGD-8 vs SGD-fp32, all cores, out of cache')}): Hogwild! threads "
        "for every solver. This VM has 2 vCPUs shared with other jobs; the threads table shows how "
        "noisy the second thread is (some solvers are slower on two threads than on one). The "
        "targets are stated for a many-core machine, where this project has not been measured.",
        "- **Run to run** these ratios move on this shared VM: the same benchmarks at "
        f"{PERF_REPEAT}, earlier the same day with the same kernels but for one compare, gave "
        + "; ".join(f"{label}: " + " and ".join(f"{v:.2f}x" for v in values.values())
                    for label, values, _ in target_values(PERF_REPEAT)) + ".",
        "", source_line(perf_file(), PERF_RUN)]


def bound():
    """The instruction bound: each solver's count at the fastest instruction rate the suite
    measured (the int8 dot in L3) against the measured epochs."""
    path = perf_file()
    read = asv_values(path, "bench_bandwidth.Read.track_read_gbps")[(400,)]
    ns = epoch_ns()
    dot, rate, best = instruction_rate()
    halp8 = best["HALP-8"]
    return [f"The fastest instruction rate the suite measured is the int8 dot in L3 "
            f"(`bench_kernels.Dot.time_dot('int8', 'L3')`, {seconds(dot)} per 2^24 elements at "
            f"{DOT_INT8_INSTRUCTIONS[0]} instructions per {DOT_INT8_INSTRUCTIONS[1]} elements): "
            f"{rate:.1f} instructions per ns. At that rate:", "",
            f"- **HALP-8** needs at least {halp8:.2f} ns per element, "
            f"{seconds(halp8 * 400 * ELEMENTS_PER_MB * 1e-9)} at 400 MiB (measured: "
            f"{ns[400][('halp', 8)]:.2f} ns):",
            f"  - vs SVRG-fp32: at best {ns[400][('svrg', 'fp32')] / halp8:.1f}x faster (goal "
            "2.5x);",
            f"  - vs SVRG-fp64: at best {ns[400][('svrg', 'fp64')] / halp8:.1f}x faster (goal 4x);",
            f"  - in L2 (1 MiB) vs SVRG-fp32: at best {ns[1][('svrg', 'fp32')] / halp8:.1f}x "
            "faster (goal: no slower).",
            f"- **LP-SGD-8** needs {best['LP-SGD-8']:.2f} ns per element: at best "
            f"{ns[400][('sgd', 'fp32')] / best['LP-SGD-8']:.1f}x faster than SGD-fp32 (goal 2x).",
            f"- **Bandwidth.** HALP-8 streams 2 bytes per element per epoch, so at most "
            f"{2 / halp8:.1f} GB/s, {2 / halp8 / read:.0%} of the {read:.3g} GB/s read kernel at "
            "400 MiB.",
            f"- **HALP-16** needs {best['HALP-16']:.2f} ns per element, which would allow "
            f"{ns[400][('svrg', 'fp32')] / best['HALP-16']:.1f}x over SVRG-fp32 (goal 1.5x); out "
            f"of cache it runs at {per_element('HALP-16') / ns[400][('halp', 16)]:.1f} "
            "instructions per ns.", "", source_line(path, PERF_RUN)]


PEER_PROBLEMS = {"mnist": "binary MNIST, lam = 1e-4", "lsq": "least squares 20000 x 256"}
OURS = ("svrg-fp64", "svrg-fp32", "halp-8", "halp-16")
PER_ITERATION = "sklearn-lbfgs"     # its "epoch" is one L-BFGS iteration: not in seconds per epoch


def peers():
    path = result_file(PEERS_COMMIT, machine=PEERS_MACHINE)
    epoch = asv_values(path, "bench_peers.PeerEpoch.track_seconds_per_epoch")
    reach = asv_values(path, "bench_peers.PeerTimeToTarget.track_time_to_target")
    rows, never = [], []
    for problem, title in PEER_PROBLEMS.items():
        measures = [("seconds per epoch", {s: v for (p, s), v in epoch.items()
                                           if p == problem and s != PER_ITERATION})]
        measures += [(f"time to f − f* ≤ {t}",
                      {s: v for (p, tt, s), v in reach.items() if p == problem and tt == t})
                     for t in dict.fromkeys(k[1] for k in reach)]
        for measure, values in measures:
            found = {s: v for s, v in values.items() if v is not None and math.isfinite(v)}
            ours = min((s for s in found if s in OURS), key=found.get)
            peer = min((s for s in found if s not in OURS), key=found.get)
            rows.append([title, measure, f"{ours} {seconds(found[ours])}",
                         f"{peer} {seconds(found[peer])}", f"{found[ours] / found[peer]:.2f}"])
            missed = [s for s, v in values.items() if v is not None and math.isinf(v)]
            if missed:
                never.append(f"{title}, {measure}: {', '.join(missed)}")
    return [*table(("problem", "measure", "ours (fastest)", "fastest peer", "ours / peer"), rows),
            "", "Not reached within the run's epochs: " + ("; ".join(never) or "none") + ". "
            f"{PER_ITERATION} is left out of seconds per epoch (its epoch is an iteration).", "",
            source_line(path, PEERS_RUN)]


def asv_run_times():
    rows = []
    for path in sorted((RESULTS / MACHINE).glob("*-*.json")):
        found = asv_results.load_strict(path)
        total = sum(b.duration or 0 for b in found.benchmarks.values())
        total += sum(v or 0 for v in found.durations.values())
        rows.append([found.commit[:8], found.env.split("-")[0],
                     ", ".join(sorted({b.split(".")[0] for b in found.benchmarks})),
                     f"{total / 60:.1f} min"])
    return [*table(("commit", "environment", "suites", "asv-recorded time"), rows), "",
            "*Generated by `./run docs`: the sum of asv's per-benchmark `duration` and "
            f"setup-cache times in each shipped result file (`results/{MACHINE}/*.json`; "
            f"environment build times not included), {machine_label()}.*"]


def gate_measurement():
    """The regression gate measured as a benchmark (docs/gate-measurement.json): false alarms and
    misses of the gate beside asv's factor rule on the same result files, and one run's time."""
    run = read_json(ROOT / "docs" / "gate-measurement.json")
    rows, caught = [], []
    for cond, s in run["summary"].items():
        n = s["runs"]
        if cond == "same":
            label = "same code (a comment changed)"
            cells = [f"{s[k]} of {n} runs flagged" for k in ("gate_any_flag", "asv_f1_1_any_flag", "asv_f1_5_any_flag")]
        else:
            label = f"{cond} nominal ({run['true_slowdown'][cond]:.2f}x measured)"
            cells = [f"caught {s[k + '_caught']}/{n}, control flagged {s[k + '_control_flagged']}"
                     for k in ("gate", "asv_f1_1", "asv_f1_5")]
            if s["gate_caught"] >= 0.9 * n:
                caught.append((run["true_slowdown"][cond], cond))
        rows.append([label, str(n), f"{s['median_ratio']:.2f}", *cells])
    smallest = (f"{min(caught)[1]} ({min(caught)[0]:.2f}x measured)" if caught
                else "none of the injected slowdowns")
    return [*table(("HEAD vs BASE", "runs", "median ratio (gate)", "gate (ours)", "asv -f 1.1",
                    "asv -f 1.5"), rows), "",
            f"Smallest injected slowdown the gate caught in at least 9 of 10 runs: {smallest}. One gate "
            f"run (build both commits, {run['rounds']} interleaved rounds each, judge) took "
            f"{run['gate_seconds_median']:.0f} s (median; longest {run['gate_seconds_max']:.0f} s); "
            f"the whole measurement {run['wall_minutes']:.0f} min, load average "
            f"{run['load_average_before'][0]:.2f} before and {run['load_average_after'][0]:.2f} after.", "",
            f"*Generated by `./run docs` from `docs/gate-measurement.json`, written by `{run['command']}` "
            f"at commit {run['commit'][:8]} on {run['date'][:10]}; machine `{run['machine']}` ({run['cpu']}). "
            f"Suite: `{run['suite']}`; the slowed kernel is float32's, int8 is the control.*"]


MEASURED = {"lsq-claim": lsq_claim, "digits-claim": digits_claim,
            "class-mean-claim": class_mean_claim, "fixed-mu": fixed_mu}
BLOCKS = {**MEASURED, "bits-agreement": bits_agreement, "bits-table": bits_table,
          "setup-time": setup_time, "reproduction-time": reproduction_time,
          "reproduction-convex": reproduction_convex, "reproduction-sweep": reproduction_sweep,
          "reproduction-mlp": reproduction_mlp, "reproduction-full": reproduction_full,
          "reproduction-formats": reproduction_formats,
          "speedup": speedup, "speedup-range": speedup_range, "speedup-widths": speedup_widths, "targets": targets, "target-reasons": target_reasons, "format-targets": format_targets,
          "format-instructions": format_instructions,
          "epoch-times": epoch_times,
          "bandwidth": bandwidth, "threads": threads, "kernels": kernels,
          "convergence": convergence, "instructions": instructions, "bound": bound,
          "peak-memory": peak_memory, "peers": peers, "asv-run-times": asv_run_times,
          "gate-measurement": gate_measurement, "loss-scaling": loss_scaling,
          "loss-scaling-run": loss_scaling_run, "loss-scaling-epochs": loss_scaling_epochs}


# ---- updating and checking ---------------------------------------------------------------------

def close_enough(old, new):
    """Whether a measured block's committed text ``old`` still holds for the fresh text ``new``:
    the same words, and each number within MEASURED_FACTOR (or both <= MEASURED_FLOOR)."""
    if NUMBER.sub("#", old) != NUMBER.sub("#", new):
        return False
    pairs = zip(map(float, NUMBER.findall(old)), map(float, NUMBER.findall(new)))
    return all(a == b or (a > 0 and b > 0 and max(a / b, b / a) <= MEASURED_FACTOR)
               or max(abs(a), abs(b)) <= MEASURED_FLOOR for a, b in pairs)


def refresh(names=None, files=DOC_FILES, write=False):
    """Regenerate the blocks named ``names`` (default: all) in ``files``; returns
    [(file, block name, committed body, fresh body)] for the stale ones, and rewrites them when
    ``write``. An unknown block name is an error."""
    cache, stale = {}, []
    for path in files:
        text = read_text(path)

        def fresh(match):
            name = match["name"]
            if name not in BLOCKS:
                raise KeyError(f"{path.name}: no generator for block {name!r}")
            if names is not None and name not in names:
                return match.group(0)
            if name not in cache:
                cache[name] = "\n".join(BLOCKS[name]()) + "\n"
            old, new = match["body"], cache[name]
            current = close_enough(old, new) if name in MEASURED else old == new
            if current:
                return match.group(0)
            stale.append((path, name, old, new))
            return match.group(1) + new

        updated = BLOCK.sub(fresh, text)
        if write and updated != text:
            path.write_text(updated)
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.docs_numbers",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a block is stale")
    parser.add_argument("--only", nargs="+", choices=sorted(BLOCKS), help="these blocks only")
    args = parser.parse_args(argv)
    stale = refresh(args.only, write=not args.check)
    for path, name, old, new in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path.relative_to(ROOT)} block {name}")
        if args.check:
            print("--- committed\n" + old + "+++ generated now\n" + new)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
