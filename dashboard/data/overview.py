"""Tables and answers of the Overview page, from the tidy frame of `results.load_results` (plain
pandas, no Streamlit).

The first screen's three answers, one sentence each with its number, for the newest results of each
machine: how much faster b-bit training is here (`speed`), whether it still converges
(`convergence`), and whether the last commit made anything slower (`regressions`). The Overview
page and `./run report` both show them from here. Below them: what was measured where, what
failed, and the headline speedup against the row width.
"""

import math
from dataclasses import dataclass

import pandas as pd
from halp_bench.reproduce import TOL, TRACK_FACTOR, title, tracks
from halp_core import registry

from dashboard.benchmarks import SUBOPT, WIDTH
from dashboard.data.speedups import ratio_speedups, speedup_range
from dashboard.results import (STATUSES, latest, machine_descriptions, mixed_key, mixed_order, param_table,
                               short_env)

METHOD = "halp"
"""The headline's low-precision solver (a `method` of track_speedup)."""
BITS = 8
"""The headline's bit width."""
METHOD_LABEL = registry.spec(METHOD).label
BASELINE_LABEL = registry.spec(registry.spec(METHOD).baseline).label
"""Display names of the headline's solver and of its full-precision baseline ('HALP', 'SVRG')."""
BASELINE = "fp32"
"""The speed answer's baseline precision: HALP-8 against SVRG in float32 (the paper's claim)."""
REFERENCE = ("svrg", "fp64")
"""The convergence answer's reference run: SVRG in float64."""
CONTRAST = ("lp-sgd", 8)
"""The low-precision run the convergence answer names beside HALP (the paper's point: it stalls)."""


def status_counts(frame):
    """Number of results per machine, env and status (`results.STATUSES`: ok / failed / skipped /
    invalid), one row per machine × env."""
    counts = frame.pivot_table(index=["machine", "env"], columns="status", values="value",
                               aggfunc="size", fill_value=0)
    for status in STATUSES:
        if status not in counts:
            counts[status] = 0
    return counts[list(STATUSES)].reset_index()


def failures(frame):
    """Failed results at each machine × env's newest commit: machine, env, commit_short, benchmark, params."""
    rows = latest(frame)
    rows = rows[rows["status"] == "failed"]
    return rows[["machine", "env", "commit_short", "benchmark", "params"]].reset_index(drop=True)


def headline(frame, bits=BITS):
    """HALP-`bits` speedup over SVRG-fp32 and SVRG-fp64 at every problem size and row width measured,
    per machine × env (newest commit), from track_speedup (the within-process ratio).

    Columns: machine, env, commit_short, baseline ('SVRG fp32' / 'SVRG fp64'), size_mb, d, speedup,
    speedup_low, speedup_high; sorted by machine, env, baseline, size and width.
    """
    parts = []
    for baseline in ("fp32", "fp64"):
        table = ratio_speedups(frame, METHOD, baseline)
        table = table[table["bits"] == bits].assign(baseline=f"{BASELINE_LABEL} {baseline}")
        parts.append(table.drop(columns=["bits", "measure"]))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["machine", "env", "baseline", "size_mb", WIDTH], key=mixed_order).reset_index(drop=True)


@dataclass
class Answer:
    """One answer of the first screen: `question` (a few words), `sentence` (markdown, with the
    number), `value` (that number: a speedup in x, an f - f*, a count; NaN when there are no
    results) and `page` (url path of the dashboard page with the detail, see `dashboard.pages`)."""

    question: str
    sentence: str
    value: float
    page: str


def machines(frame):
    """Machines of `frame`, the one measured most recently first."""
    newest = frame.groupby("machine")["order"].max().sort_values(ascending=False)
    return newest.index.tolist()


def describe(machine, machine_table):
    """'vm-znver4-avx512-vnni (AMD EPYC, 2 logical CPUs, znver4, ...)': the machine with its CPU
    from `Results.machines`, as the first screen names it."""
    cpu = machine_descriptions(machine_table).get(machine)
    return f"{machine} ({cpu})" if cpu else machine


def speed(frame, machine, method=METHOD, bits=BITS, baseline=BASELINE):
    """How much faster b-bit training is on `machine`: the range of `track_speedup`'s
    within-process speedup of `method`-`bits` over its registry baseline in `baseline` across
    every problem size and row width measured (`data.speedups.speedup_range`, newest commit that
    measured them), and in how many of those shapes it pays (speedup >= 1). The range, not the
    best case. value: the least speedup."""
    label = f"{title(method, bits)} over {registry.spec(registry.spec(method).baseline).label}-{baseline}"
    found = speedup_range(frame[frame["machine"] == machine], method, bits, baseline)
    if found.empty:
        return Answer("How much faster?", f"No `track_speedup` results of {label} on {machine}.",
                      math.nan, "speedups")
    sentences = []
    for row in found.itertuples():
        where = f" ({short_env(row.env)})" if len(found) > 1 else ""
        sentences.append(
            f"{label}{where}: **{row.least:.2f}x to {row.most:.2f}x** across the {row.shapes} problem shapes "
            f"measured ({row.least_size_mb} MiB at d = {row.least_d} to {row.most_size_mb} MiB at "
            f"d = {row.most_d}); it pays (≥ 1x) in {row.paying} of {row.shapes} (commit {row.commit_short}).")
    return Answer("How much faster?", " ".join(sentences), float(found["least"].min()), "speedups")


def final_subopt(frame, machine):
    """f - f* at the last epoch measured of every problem × solver × precision of `track_subopt`
    at `machine`'s newest commit. Columns: problem, solver, precision, epoch, subopt,
    commit_short. Empty when there are none."""
    rows = latest(frame[(frame["machine"] == machine) & (frame["benchmark"] == SUBOPT)
                        & (frame["status"] == "ok")])
    rows = param_table(rows)
    cols = ["problem", "solver", "precision", "epoch", "subopt", "commit_short"]
    if rows.empty or not {"problem", "solver", "precision", "epoch"} <= set(rows):
        return pd.DataFrame(columns=cols)
    rows = rows.assign(epoch=pd.to_numeric(rows["epoch"], errors="coerce")).dropna(subset=["epoch"])
    rows = rows[rows["epoch"] == rows.groupby("problem")["epoch"].transform("max")]
    return rows.rename(columns={"value": "subopt"})[cols].reset_index(drop=True)


def _listing(labels):
    return ", ".join(labels[:-1]) + (" and " if len(labels) > 1 else "") + labels[-1] if labels else "none"


def convergence(frame, machine, method=METHOD):
    """Whether b-bit training still converges on `machine`: which bit widths and float formats of
    `method` track REFERENCE (SVRG-fp64) on every problem of `track_subopt`, by the reproduction's
    rule (`halp_bench.reproduce.tracks`: final f - f* at most TRACK_FACTOR x SVRG's, or both at most
    TOL), and to what f - f* (the largest over the problems); which do not, and where CONTRAST
    (LP-SGD-8) ends, for contrast. value: the largest final f - f* of the runs that track."""
    final = final_subopt(frame, machine)
    ref = final[(final["solver"] == REFERENCE[0]) & (final["precision"] == REFERENCE[1])]
    if final.empty or ref.empty:
        return Answer("Does it still converge?", f"No `track_subopt` results with {title(*REFERENCE)} on "
                      f"{machine}.", math.nan, "convergence")
    svrg = dict(zip(ref["problem"], ref["subopt"]))
    runs = final[(final["solver"] == method) & final["problem"].isin(svrg)]
    runs = runs.assign(ok=[tracks(max(s, 0.0), max(svrg[p], 0.0)) for p, s in zip(runs["problem"], runs["subopt"])])
    by = runs.groupby("precision", sort=False).agg(ok=("ok", "all"), worst=("subopt", "max"))
    by = by.loc[sorted(by.index, key=mixed_key)]
    good, bad = by[by["ok"]], by[~by["ok"]]
    problems = sorted(svrg)
    epoch = int(final["epoch"].max())
    names = [title(method, p) for p in good.index]
    verb = "tracks" if len(names) == 1 else "track"
    parts = [f"{_listing(names)} {verb} {title(*REFERENCE)} on all {len(problems)} problems "
             f"({', '.join(problems)}), to f − f* ≤ **{good['worst'].max():.1e}** after {epoch} epochs"
             if len(good) else f"no precision of {registry.spec(method).label} tracks {title(*REFERENCE)}"]
    for precision in bad.index:
        part = runs[(runs["precision"] == precision) & ~runs["ok"]].sort_values("problem")
        parts.append(f"{title(method, precision)} does not on {', '.join(part['problem'])} "
                     f"(f − f* {part['subopt'].max():.1e})")
    contrast = final[(final["solver"] == CONTRAST[0]) & final["precision"].map(
        lambda p: mixed_key(p) == mixed_key(CONTRAST[1]))]
    if len(contrast):
        parts.append(f"{title(*CONTRAST)} stops at f − f* = {contrast['subopt'].max():.1e}")
    rule = (f"convergence suite: HALP with fixed μ = λ on its own problems, the library's default μ on a "
            f"file's; tracking: final f − f* at most {TRACK_FACTOR:g}× SVRG's, or both at most {TOL:g}")
    return Answer("Does it still converge?", "; ".join(parts) + f" ({rule}).",
                  float(good["worst"].max()) if len(good) else math.nan, "convergence")


def _commits(changes):
    """'commit X against Y' for the most common (head, base) pair of `changes`, with how many
    other results changed between other commits."""
    pairs = changes.groupby(["head_commit", "base_commit"]).size().sort_values(ascending=False)
    (head, base), count = pairs.index[0], int(pairs.iloc[0])
    rest = len(changes) - count
    return f"commit {head} against {base}" + (f"; {rest} at other commits" if rest else "")


def regressions(changes, machine, regression="regression", improvement="improvement"):
    """Whether the last commit made anything slower on `machine`, from `changes` (each series'
    newest change, `dashboard.gate.newest_changes`: columns machine, base_commit, head_commit,
    benchmark, params, ratio, verdict): the count of regressions by the gate's rules among them,
    the largest named, and the commits compared. value: the count."""
    mine = changes[changes["machine"] == machine]
    question = "Did the last commit make anything slower?"
    if mine.empty:
        return Answer(question, f"Nothing measured twice on {machine}: nothing to compare yet.", math.nan,
                      "history")
    worse = mine[mine["verdict"] == regression].sort_values("ratio", ascending=False)
    better = int((mine["verdict"] == improvement).sum())
    judged = (f"the newest change of each of the {len(mine):,} results measured at least twice "
              f"({_commits(mine)}), judged by the gate's rules; {better} improved")
    if worse.empty:
        return Answer(question, f"**No regression** in {judged}.", 0.0, "history")
    top = worse.iloc[0]
    sentence = (f"**{len(worse)} regression{'s' * (len(worse) != 1)}** in {judged}. The largest: "
                f"`{top['benchmark'].rsplit('.', 1)[-1]}` ({top['params']}) at {top['ratio']:.3g}x, "
                f"commit {top['head_commit']} against {top['base_commit']}.")
    return Answer(question, sentence, float(len(worse)), "history")
