"""Measure the regression gate itself: false alarms, misses and the time one gate run takes, with
asv's own factor rule judged on the same result files; writes docs/gate-measurement.json.

    .venv/bin/python -m tools.measure_gate [--same 20] [--slow 10] [--factors 1.2 1.5 2.0]
                                           [--rounds 4] [--out docs/gate-measurement.json]

A scratch clone of this repository's HEAD (in a temporary folder; nothing here is changed) gets
commits on top of HEAD (C0):

* C1: a comment appended to halp_core/kernels.py (the same code: any flag is a false alarm);
* S_f for each factor f: `kernels._float_dot` also sums the first (f - 1) x n products a second
  time, so the float dot does f times the work (the slowdown switch lives only in these scratch
  commits, never in the shipped code). The true slowdown is timed here, in one process, on the
  benchmark's float32 L2 vectors (both kernels compiled from source the same way).

Each gate run is `python -m halp_bench.compare C0 X --repo CLONE` on the quick suite QUICK
(`Dot.time_dot` float32 and int8 at L2: float32 calls the slowed kernel, int8 does not and is a
control); runs cycle through the conditions (C1, S_1.2, S_1.5, S_2.0, C1, ...) so the machine's
drift reaches all of them. On the result files of each run, asv's own decision of
`asv continuous -f 1.1` and `-f 1.5` (asv.commands.compare.Compare.print_table, which those
commands call) is taken too. The clone shares this repository's asv environments (.asv).
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUICK = r"bench_kernels\.Dot\.time_dot\('(float32|int8)', 'L2'\)"
SLOWED = "dtype=float32, level=L2"
CONTROL = "dtype=int8, level=L2"
BENCH = "bench_kernels.Dot.time_dot"
KERNELS = Path("halp_core") / "kernels.py"
ORIGINAL = """    s = a.dtype.type(0)
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s
"""
SLOW = """    s = a.dtype.type(0)
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    t = a.dtype.type(0)
    for j in range(int(a.shape[0] * {extra!r})):
        t += a[j] * b[j]
    return s + t * a.dtype.type(1e-30)
"""
"""The slowed body of `_float_dot`: (f - 1) x n extra products; t enters the result, so the
compiler cannot drop the second loop."""


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit_file(repo, rel, text, message, parent):
    """A commit on `parent` whose only change is `rel` rewritten to `text`; returns its hash."""
    git(repo, "checkout", "-q", "--detach", parent)
    (repo / rel).write_text(text)
    git(repo, "commit", "-q", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def scratch_repo(tmp, factors, share_envs=True):
    """Clone of HEAD with C1 and S_f commits; returns (clone, {condition: commit}, C0).
    share_envs: the clone uses this repository's asv environments (.asv) instead of building its own."""
    clone = Path(tmp) / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    git(clone, "config", "user.email", "gate@example.invalid")
    git(clone, "config", "user.name", "gate measurement")
    if share_envs and (ROOT / ".asv").is_dir():
        os.symlink(ROOT / ".asv", clone / ".asv")
    c0 = git(clone, "rev-parse", "HEAD")
    source = (clone / KERNELS).read_text()
    if source.count(ORIGINAL) != 1:
        raise SystemExit(f"{KERNELS}: the body of _float_dot is not the one this tool slows down")
    out = {"same": commit_file(clone, KERNELS, source + "# identical code, another commit\n",
                               "same code (comment)", c0)}
    for f in factors:
        out[f"{f:g}x"] = commit_file(clone, KERNELS, source.replace(ORIGINAL, SLOW.format(extra=f - 1)),
                                     f"_float_dot does {f:g}x the work", c0)
    git(clone, "checkout", "-q", "--detach", c0)
    return clone, out, c0


def true_slowdown(factor, rounds=15):
    """Median over `rounds` interleaved pairs of (slowed / original) time of a float32 L2 dot loop
    (the benchmark's vectors and repetitions), both compiled here from source."""
    from numba import njit

    from benchmarks import common
    from halp_core.kernels import FAST

    def compile_dot(body):
        ns = {"np": np}
        exec("def dot(a, b):\n" + body, ns)
        kernel = njit(fastmath=FAST)(ns["dot"])

        @njit
        def loop(a, b, reps):
            acc = 0.0
            for _ in range(reps):
                acc += kernel(a, b)
            return acc
        return loop

    a, b = common.kernel_vectors("float32", "L2")
    reps = common.kernel_reps("L2")
    base, slow = compile_dot(ORIGINAL), compile_dot(SLOW.format(extra=factor - 1))
    base(a, b, 1), slow(a, b, 1)

    def best(loop):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            loop(a, b, reps)
            times.append(time.perf_counter() - t)
        return min(times)
    ratios = []
    for i in range(rounds):
        pair = (best(base), best(slow)) if i % 2 == 0 else tuple(reversed((best(slow), best(base))))
        ratios.append(pair[1] / pair[0])
    return float(np.median(ratios))


def asv_factor_flags(out, machine, base, head, factor):
    """{params key: True when asv's `continuous -f factor` marks it '+' (worse)} on the gate run's
    result files, from asv's own Compare.print_table (the code asv continuous calls)."""
    from asv.commands.compare import Compare
    from asv.config import Config

    conf = Config.load(str(out / "asv" / "asv.conf.json"))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        Compare.print_table(conf, base, head, factor=factor, split=False, machine=machine,
                            only_changed=False, sort="default")
    flags = {}
    for line in buf.getvalue().splitlines():
        cells = [c.strip() for c in line.split("|")]
        m = re.fullmatch(re.escape(BENCH) + r"\('(\w+)', '(\w+)'\)", cells[5]) if len(cells) > 5 else None
        key = m and f"dtype={m.group(1)}, level={m.group(2)}"
        if key in (SLOWED, CONTROL):
            flags[key] = cells[1] == "+"
    return flags


def gate_run(clone, base, head, out, machine, rounds):
    """One gate run (a subprocess, as a user runs it); returns its record."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "halp_bench.compare", base, head, "--repo", str(clone),
                           "--out", str(out), "--machine", machine, "--rounds", str(rounds),
                           "--bench", QUICK], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode == 2 or not (out / "report.json").exists():
        raise SystemExit(f"gate run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    rows = json.loads((out / "report.json").read_text())["rows"]
    gate = {r["params"]: {k: r[k] for k in ("verdict", "ratio", "low", "high", "threshold")} for r in rows}
    return dict(exit_code=proc.returncode, seconds=round(seconds, 1), load_average=round(load, 2), gate=gate,
                asv_f1_1=asv_factor_flags(out, machine, base, head, 1.1),
                asv_f1_5=asv_factor_flags(out, machine, base, head, 1.5))


def summarize(runs, conditions):
    """Per condition: runs, gate flags (any regression verdict / the slowed benchmark caught /
    control flagged), and the same for asv -f 1.1 and -f 1.5."""
    out = {}
    for cond in conditions:
        mine = [r for r in runs if r["condition"] == cond]
        row = {"runs": len(mine)}
        row["gate_any_flag"] = sum(any(g["verdict"] == "regression" for g in r["gate"].values()) for r in mine)
        row["gate_caught"] = sum(r["gate"][SLOWED]["verdict"] == "regression" for r in mine)
        row["gate_control_flagged"] = sum(r["gate"][CONTROL]["verdict"] == "regression" for r in mine)
        for key in ("asv_f1_1", "asv_f1_5"):
            row[f"{key}_any_flag"] = sum(any(r[key].values()) for r in mine)
            row[f"{key}_caught"] = sum(r[key].get(SLOWED, False) for r in mine)
            row[f"{key}_control_flagged"] = sum(r[key].get(CONTROL, False) for r in mine)
        row["median_ratio"] = round(float(np.median([r["gate"][SLOWED]["ratio"] for r in mine])), 3)
        out[cond] = row
    return out


def main(argv=None):
    from halp_bench.compare import rule, run
    from halp_bench.machine import cpu_description, instruction_set, machine_name

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--same", type=int, default=20, help="gate runs of a commit against the same code")
    p.add_argument("--slow", type=int, default=10, help="gate runs per slowdown factor")
    p.add_argument("--factors", type=float, nargs="+", default=[1.2, 1.5, 2.0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--machine", default=None, help="asv machine (default: as ./run compare names it)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "gate-measurement.json")
    p.add_argument("--keep", type=Path, default=None,
                   help="copy every run's reports and asv result files to KEEP/run<i>-<condition> "
                        "(to judge other rules on the same files later)")
    args = p.parse_args(argv)
    machine = args.machine or machine_name()
    run.check_machine(machine)
    started = time.time()
    load_before = os.getloadavg()
    true = {f"{f:g}x": round(true_slowdown(f), 3) for f in args.factors}
    print("true slowdowns:", true, flush=True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        clone, commits, c0 = scratch_repo(tmp, args.factors)
        order = []
        for i in range(max(args.same, args.slow * 2)):
            if i < args.same:
                order.append("same")
            if i % 2 == 0 and i // 2 < args.slow:
                order += [f"{f:g}x" for f in args.factors]
        for i, cond in enumerate(order):
            rec = gate_run(clone, c0, commits[cond], Path(tmp) / f"run{i}", machine, args.rounds)
            runs.append({"condition": cond, **rec})
            if args.keep:
                shutil.copytree(Path(tmp) / f"run{i}", args.keep / f"run{i}-{cond}")
            print(f"[{i + 1}/{len(order)}] {cond}: exit {rec['exit_code']} "
                  f"{rec['gate'][SLOWED]['ratio']:.3f} {rec['gate'][SLOWED]['verdict']} / "
                  f"{rec['gate'][CONTROL]['verdict']}; asv -f1.1 {rec['asv_f1_1']} -f1.5 {rec['asv_f1_5']}; "
                  f"{rec['seconds']} s", flush=True)
    conditions = ["same"] + [f"{f:g}x" for f in args.factors]
    seconds = [r["seconds"] for r in runs]
    record = dict(
        command=(f".venv/bin/python -m tools.measure_gate --same {args.same} --slow {args.slow} --factors "
                 + " ".join(f"{f:g}" for f in args.factors) + f" --rounds {args.rounds}"),
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), commit=git(ROOT, "rev-parse", "HEAD"),
        machine=machine, cpu=cpu_description(), isa=instruction_set(),
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        suite=QUICK, slowed=SLOWED, control=CONTROL, rounds=args.rounds, rule=rule.RULE_TEXT,
        true_slowdown=true, gate_seconds_median=round(float(np.median(seconds)), 1),
        gate_seconds_max=round(max(seconds), 1), wall_minutes=round((time.time() - started) / 60, 1),
        summary=summarize(runs, conditions), runs=runs)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["summary"], indent=1))


if __name__ == "__main__":
    main()
