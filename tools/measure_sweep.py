"""Measure the sweep engine: throughput of a LocalCluster against a serial loop, and the
scheduler's overhead per run, on runs of about a second each; writes docs/sweep-throughput.json.

    .venv/bin/python -m tools.measure_sweep [--workers 2] [--runs 16] [--out docs/sweep-throughput.json]

Both sides run the same runs (8-bit HALP on least squares, one seed each) through
``runner.execute``, each part then stored as the sweep's client does, after a warm-up run (Numba
compilation, the problem's build) in every process, so only the runs are timed; the serial loop's BLAS runs on one thread, as the workers'
does (a multithreaded BLAS on busy shared cores is many times slower). speedup = serial seconds / sweep seconds (wall clock);
overhead per run = (workers x sweep seconds - sum of the tasks' compute time) / runs, the time a
worker was not running a task, and overhead_fraction = that / the mean task time. load_average_before is the 1-minute load average
when it began: the machine's other tenants share its cores.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from distributed import get_task_stream
from threadpoolctl import threadpool_limits

from halp_bench.machine import cpu_description
from halp_bench.sweep import engine, parse, runner

SPEC = """
epochs = 250
seeds = {{from = 0, to = {last}, step = 1}}
step = 0.5
[[problem]]
name = "synthetic_least_squares"
n = 20000
d = 50
lam = 1e-3
noise = 0.1
cond = 10
[[solver]]
name = "halp"
precision = 8
"""


def measure(workers, count):
    """The measurement as a dict (seconds: wall clock, s)."""
    load = os.getloadavg()[0]
    runs = parse(SPEC.format(last=count), "measure").runs
    warm, runs = runs[0], runs[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("serial", "sweep", "warm"):
            (Path(tmp) / name / "runs").mkdir(parents=True)
        with threadpool_limits(1):      # as in the workers (distributed sets OMP_NUM_THREADS=1)
            runner.execute(warm)
            start = time.perf_counter()
            for run in runs:
                runner.execute(run).store(Path(tmp) / "serial")
            serial = time.perf_counter() - start
        with engine.client(workers=workers) as client:
            client.run(runner.execute, warm)
            with get_task_stream(client) as stream:
                start = time.perf_counter()
                outcome = engine.run_grid(client, runs, Path(tmp) / "sweep", progress=False)
                sweep = time.perf_counter() - start
    assert len(outcome.ran) == count and not outcome.failed
    busy = sum(part["stop"] - part["start"] for task in stream.data
               for part in task["startstops"] if part["action"] == "compute")
    overhead = (workers * sweep - busy) / count
    return dict(
        command=f".venv/bin/python -m tools.measure_sweep --workers {workers} --runs {count}",
        machine=cpu_description(), version=runner.version(), workers=workers, runs=count,
        load_average_before=round(load, 2),
        serial_seconds=round(serial, 3), serial_seconds_per_run=round(serial / count, 3),
        sweep_seconds=round(sweep, 3), speedup=round(serial / sweep, 3),
        task_seconds_mean=round(busy / count, 3), overhead_seconds_per_run=round(overhead, 4),
        overhead_fraction=round(overhead / (busy / count), 4))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--out", default="docs/sweep-throughput.json")
    args = parser.parse_args(argv)
    figures = measure(args.workers, args.runs)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
