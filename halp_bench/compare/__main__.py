"""Regression gate: measure two commits with asv, rounds interleaved, and judge every benchmark.

    ./run compare BASE HEAD [--bench REGEX ...] [--rounds N] [--out DIR]
    .venv/bin/python -m halp_bench.compare BASE HEAD ...   (the asv machine must be registered:
                                                            ./run compare does it)

Writes DIR/report.md (a pull-request comment), DIR/report.json and DIR/asv.log, with asv's own
result files under DIR/asv/results (never the repository's results/), prints the table, and exits
0 (no regression beyond its threshold), 1 (a significant regression) or 2 (a benchmark failed,
or the gate could not run). See docs/benchmarks.md, "Regression gate".
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from halp_bench import asv_results
from halp_bench.compare import acknowledged, history, judge, report, run
from halp_bench.machine import machine_name

DEFAULT_OUT = Path("compare-results")
"""Default output folder (ignored by git); the dashboard's History page reads its report.json."""
DEFAULT_ROUNDS = 4


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="./run compare", description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="the commit to compare against (hash, branch, tag, HEAD~1, ...)")
    p.add_argument("head", help="the commit to judge")
    p.add_argument("--bench", "-b", action="append", default=[], metavar="REGEX",
                   help="only benchmarks matching (asv's --bench; repeatable; default: all)")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help=f"asv rounds per commit, alternating the commits (default {DEFAULT_ROUNDS})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)")
    p.add_argument("--machine", default=None, help="asv machine name (default: <host>-<LLVM CPU>-<ISA>, as ./run bench)")
    p.add_argument("--repo", type=Path, default=Path("."), help="repository root (default: .)")
    p.add_argument("--history", type=Path, default=None,
                   help="asv results folder with earlier results for thresholds (default: REPO/results)")
    p.add_argument("--no-run", action="store_true",
                   help="judge the result files already in OUT/asv/results (no asv run)")
    return p.parse_args(argv)


def gate(args):
    """Run (unless --no-run) and judge; returns (rows, info, exit code)."""
    repo = args.repo.resolve()
    base, head = run.resolve(repo, args.base), run.resolve(repo, args.head)
    machine = args.machine or machine_name()
    work = args.out / "asv"
    started = time.time()
    if not args.no_run:
        run.check_machine(machine)
        if work.exists():
            shutil.rmtree(work)
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "asv.log", "w") as log:
            run.run_asv(repo, base, head, work, machine, args.rounds, args.bench, log=log)
    results = work / "results"
    benchmarks = asv_results.benchmark_info(results)
    names = {k: v.get("param_names", []) for k, v in benchmarks.items()}
    base_file = asv_results.commit_file(results, machine, base)
    head_file = asv_results.commit_file(results, machine, head)
    env = head_file.stem.split("-", 1)[1]
    b, h = asv_results.read(base_file, names), asv_results.read(head_file, names)
    units = {k: v.get("unit", "") for k, v in benchmarks.items()}
    earlier = history.earlier_values(args.history or repo / "results", machine, env, names, exclude=(head,),
                                      before=run.commit_time_ms(repo, head))
    keys = {(bench, params, m.version) for (bench, params), m in h.items()}
    rows = judge.judge(b, h, units, history.thresholds(keys, earlier),
                       acknowledged.load(repo / acknowledged.ACK_FILE), run.commits_between(repo, base, head))
    info = {"base": base, "head": head, "machine": machine, "env": env, "rounds": args.rounds,
            "bench": args.bench, "seconds": round(time.time() - started, 1),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return rows, info, judge.exit_code(rows)


def main(argv=None):
    args = parse_args(argv)
    try:
        rows, info, code = gate(args)
    except (run.GateError, asv_results.ResultFileError, ValueError, OSError) as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return judge.EXIT_FAILED
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(report.markdown(rows, info, code))
    (args.out / "report.json").write_text(report.to_json(rows, info, code))
    print(report.text_table(rows))
    print(f"\n{report.summary(rows, code)}; exit code {code}. Reports: {args.out / 'report.md'}, "
          f"{args.out / 'report.json'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
