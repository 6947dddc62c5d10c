"""`./run report`: one self-contained HTML file of the first screen, the speedups and the regressions
for the newest commit of each machine, that a person opens without a server (plotly.js inline, no
network) and a CI job can attach as an artifact. `./run bench` writes it too.

    python -m dashboard.report [--results DIR ...] [--out FILE]

Reads the results directories as the dashboard does (`results.load_results`; default: the
repository's shipped `results/`) and shows the same tables and figures as the pages, from the same
functions: `data.overview`, `data.speedups`, `figures.speedups`, `data.convergence`,
`figures.convergence`, `gate`. The problems of the user's files (`./run bench --file`) get their
speedup table and figure ("Your problems") and a plot of their convergence.
"""

import argparse
import html
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from dashboard import gate, tables
from dashboard.data import convergence as convergence_data
from dashboard.data import overview
from dashboard.data import speedups as speedup_data
from dashboard.figures import convergence as convergence_figures
from dashboard.figures import speedups as speedup_figures
from dashboard.figures.style import default_series
from dashboard.benchmarks import WIDTH
from dashboard.results import latest, load_results, precision_label, run_order

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "report" / "index.html"
"""Where `./run report` writes by default (ignored by git, like asv's html/)."""
MAX_ROWS = 50
"""Most rows of a table in the report (largest first); the count above it is always complete."""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; }
.answers { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1em; }
.answer { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def inline_markdown(text):
    """HTML of one sentence of the answers' markdown: **bold** and `code`, everything else escaped."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def table_html(frame, limit=MAX_ROWS):
    """HTML of a table as the pages show it (`tables.readable`), at most `limit` rows."""
    note = f"<p class='meta'>The first {limit} of {len(frame)} rows.</p>" if len(frame) > limit else ""
    return note + tables.readable(frame.head(limit)).to_html(index=False, border=0, na_rep="")


def figure_html(fig):
    """A plotly figure as a <div> that uses the page's one inline copy of plotly.js."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def anchor(name):
    """An HTML id made of `name` (lower case, runs of other characters as one dash)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


SECTION_OF = {"speedups": "speedups", "convergence": "convergence", "history": "regressions"}
"""An answer's page -> the report section holding its detail."""


def first_screen(res, changes):
    """HTML of the three answers for each machine (`data.overview`), each linked to its section."""
    parts = []
    for machine in overview.machines(res.frame):
        found = [overview.speed(res.frame, machine), overview.convergence(res.frame, machine),
                 overview.regressions(changes, machine)]
        cells = "".join(f"<div class='answer'><strong>{html.escape(a.question)}</strong> "
                        f"{inline_markdown(a.sentence)} <a href='#{SECTION_OF[a.page]}-{anchor(machine)}'>"
                        "Detail</a></div>" for a in found)
        parts.append(f"<h3>{html.escape(machine)}</h3><p class='meta'>"
                     f"{html.escape(overview.describe(machine, res.machines))}</p><div class='answers'>{cells}</div>")
    return "".join(parts)


def speedups_section(res, machine):
    """HTML of `machine`'s speedups: the crossover map of HALP-8 over SVRG-fp32 and the table of
    every bit width's and format's speedup over its baseline."""
    frame = res.frame[res.frame["machine"] == machine]
    method, bits, baseline = overview.METHOD, overview.BITS, overview.BASELINE
    cross = speedup_data.crossover(frame, method, bits, baseline)
    out = [f"<h3 id='speedups-{anchor(machine)}'>Speedups on {html.escape(machine)}</h3>"]
    if not cross.empty:
        out.append(figure_html(speedup_figures.crossover_figure(cross, speedup_data.caches(res.machines))))
        ceiling = speedup_data.ceilings(frame, method, bits, baseline)
        if not ceiling.empty:
            out.append(figure_html(speedup_figures.ceiling_figure(ceiling)))
    table = pd.concat([speedup_data.ratio_speedups(frame, m, b).assign(method=m, baseline=b)
                       for m in speedup_data.BASELINE_SOLVERS.values() for b in ("fp32", "fp64")])
    yours = speedup_data.file_speedups(frame)
    if table.empty and yours.empty:
        out.append("<p>No speedup results.</p>")
    elif not table.empty:
        table = table.assign(bits=table["bits"].map(precision_label), speedup=table["speedup"].round(2))
        keep = ["method", "bits", "baseline", "size_mb", WIDTH, "speedup", "commit_short"]
        out.append("<p>Speedup = baseline epoch time / low-precision epoch time, measured in one process "
                   "(<code>track_speedup</code>); above 1 the low-precision solver is faster.</p>"
                   + table_html(table[keep], limit=len(table)))
    if not yours.empty:
        shown = speedup_data.file_speedup_table(yours)
        out.append(f"<h4 id='your-problems-{anchor(machine)}'>Your problems: "
                   f"{html.escape(', '.join(sorted(yours['problem'].astype(str).unique())))}</h4>"
                   "<p>The problems of your files (<code>./run bench --file</code>): the same speedup, both "
                   "solvers timed in one process on the file's problem, at the newest commit that measured "
                   "it.</p>" + figure_html(speedup_figures.file_speedup_figure(yours))
                   + table_html(shown.assign(speedup=shown["speedup"].round(2)), limit=len(shown)))
    return "".join(out)


def file_convergence_figure(frame, problem):
    """f − f* per epoch on the user's file problem `problem` at each machine × env's newest commit that
    measured it, for the series the Convergence page draws first (`data.convergence.DEFAULT_LABELS`);
    None when there are no such results."""
    rows = frame[frame["param_values"].map(lambda values: values.get("problem") == problem)]
    table = convergence_data.convergence(latest(rows), problem)
    if table.empty:
        return None
    table = table[table["label"].isin(default_series(run_order(table), convergence_data.DEFAULT_LABELS))]
    fig = convergence_figures.convergence_figure(table, "epoch")
    return fig.update_layout(title_text=f"{problem}: f − f* per epoch")


def convergence_section(res, machine):
    """HTML of `machine`'s final f - f* per problem for every solver and precision (`overview.final_subopt`)."""
    final = overview.final_subopt(res.frame, machine)
    out = f"<h3 id='convergence-{anchor(machine)}'>Convergence on {html.escape(machine)}</h3>"
    if final.empty:
        return out + "<p>No convergence results.</p>"
    wide = final.pivot_table(index=["solver", "precision"], columns="problem", values="subopt", aggfunc="first")
    wide = wide.map(lambda v: f"{v:.1e}").reset_index()
    mine = res.frame[res.frame["machine"] == machine]
    plots = []
    for problem in speedup_data.file_problems(mine):
        fig = file_convergence_figure(mine, problem)
        if fig is not None:
            plots.append(f"<h4 id='convergence-{anchor(machine)}-{anchor(problem)}'>Your problem {html.escape(problem)}: "
                         "f − f* per epoch</h4>" + figure_html(fig))
        times = convergence_data.time_to_target(latest(mine), problem)
        if not times.empty:
            plots.append(f"<h4>Your problem {html.escape(problem)}: time to accuracy</h4><p>Solver seconds to the "
                         "first epoch with f − f* at most the target (evaluation excluded), and the speedup over "
                         f"{' '.join(convergence_data.TIME_BASELINE)}'s time to the same target.</p>"
                         + table_html(convergence_data.time_to_target_text(times), limit=len(times)))
    return out + (f"<p>f − f* after epoch {int(final['epoch'].max())} (commit {final['commit_short'].iloc[0]}).</p>"
                  + table_html(wide, limit=len(wide)) + "".join(plots))


def regressions_section(res, changes, machine):
    """HTML of `machine`'s verdicts at its newest commit (regressions and improvements) and every
    regression of its history, largest first (`gate.regressions`)."""
    mine = changes[(changes["machine"] == machine) & (changes["verdict"] != gate.rule.NO_CHANGE)]
    past = gate.regressions(res.frame[res.frame["machine"] == machine])
    return (f"<h3 id='regressions-{anchor(machine)}'>Regressions on {html.escape(machine)}</h3>"
            f"<h4>Newest commit: {len(mine)} change(s) by the gate's rules</h4>" + table_html(mine)
            + f"<h4>Every regression in the history: {len(past)}</h4>" + table_html(past))


def render(res):
    """The report's HTML (a str) for `res` (a `results.Results`)."""
    changes = gate.newest_changes(res.frame, gate.ack.load(gate.ACK_FILE))
    machines = overview.machines(res.frame)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>halp-bench report</h1><p class='meta'>{len(res.frame):,} results from {res.files} files; "
            f"written {stamp}.</p>", "<h2>At a glance</h2>", first_screen(res, changes), "<h2>Speedups</h2>",
            *[speedups_section(res, m) for m in machines], "<h2>Convergence</h2>",
            *[convergence_section(res, m) for m in machines], "<h2>Regressions</h2>",
            *[regressions_section(res, changes, m) for m in machines]]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>halp-bench report</title>"
            f"<style>{STYLE}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body>{''.join(body)}</body></html>")


def write(dirs, out):
    """Read the results directories `dirs` and write the report to `out` (a path; its folder is
    made). Returns (path, bytes written, seconds taken, warnings while reading the results)."""
    start = time.perf_counter()
    res = load_results(dirs)
    if res.frame.empty:
        raise SystemExit(f"No benchmark results in {', '.join(map(str, dirs))}: nothing to report "
                         "(./run bench makes some).")
    text = render(res)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out, out.stat().st_size, time.perf_counter() - start, res.warnings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", action="append", default=None, metavar="DIR",
                        help="an asv results directory (repeatable; default: the shipped results/)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"the HTML file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    dirs = args.results or [str(ROOT / "results")]
    path, size, seconds, warnings = write(dirs, args.out)
    for message in warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(f"wrote {path}: {size / 2**20:.1f} MiB in {seconds:.1f} s")


if __name__ == "__main__":
    main()
