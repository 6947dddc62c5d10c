"""python -m halp_bench.nets [--quick] [--study] [--out DIR] [--seeds N] [--workers N]
                            [--scheduler ADDRESS]

Train LeNet-5 on Fashion-MNIST and the LSTM tagger on the Brown corpus with every method of
halp_bench.nets.train.RUNS (SGD-fp32; LP-SGD and HALP at 8 bits, in bf16 and in fp8-e4m3;
LP-SVRG-8), several seeds each, on dask.distributed; write into the reproduction folder DIR:
nets.csv (every run's history), nets.md (tables and verdicts), nets_run.json (command, wall time,
machine) and nets_<network>.html (figures). Failed runs are listed in nets.md and on stderr, and
make the command exit with status 1. --study runs experiment.STUDY instead (HALP-8 against more
bits, a fixed mu, a shorter T, no warm epoch and other steps, beside LP-SGD-8) into nets_study.csv / .md / _run.json.
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from ..machine import cpu_description
from ..reproduce.figures import network_figure, write_html
from ..sweep import engine
from . import experiment

FILES = {"histories": "nets.csv", "summary": "nets.md", "run": "nets_run.json"}
"""The files a run writes into its folder (and nets_<network>.html per network); --study writes
nets_study.csv, nets_study.md and nets_study_run.json."""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.nets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="both networks on a subset (the tests' profile; default: full)")
    parser.add_argument("--study", action="store_true",
                        help="run the study of HALP-8's bits, mu, T and step instead")
    parser.add_argument("--network", choices=experiment.NETWORKS, default=None,
                        help="run one network only (default: both)")
    parser.add_argument("--only", action="append", default=None, metavar="LABEL",
                        help="run only the runs of this label (e.g. halp-8; with --study a "
                             "variant's label such as 'halp-8, mu 0.1'); repeat for more")
    parser.add_argument("--out", default="results-reproduction", help="output folder")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per run (default 5)")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per CPU)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running dask scheduler (default: a local cluster)")
    args = parser.parse_args(argv)
    profile = experiment.PROFILES["quick" if args.quick else "full"]
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error("--seeds must be >= 1")
        profile = dataclasses.replace(profile, seeds=args.seeds)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    grid = experiment.selected(experiment.study_runs if args.study else experiment.runs,
                               args.network, args.only)
    if not grid(profile):
        parser.error(f"no run has the label(s) {args.only} (the labels: "
                     f"{sorted({r.name for r in grid.__wrapped__(profile)})})")
    with engine.client(args.scheduler, args.workers) as client:
        frame = experiment.run_all(profile, client=client,
                                   progress=lambda m: print(m, file=sys.stderr, flush=True),
                                   grid=grid)
    command = " ".join(["python -m halp_bench.nets"] + (["--quick"] if args.quick else [])
                       + (["--study"] if args.study else [])
                       + ([f"--network {args.network}"] if args.network else [])
                       + [f"--only '{o}'" for o in args.only or ()]
                       + ([f"--seeds {args.seeds}"] if args.seeds is not None else []))
    run = dict(command=command, wall_seconds=round(time.perf_counter() - start, 1),
               machine=cpu_description(), profile=experiment.profile_settings(profile))
    files = {k: v.replace("nets", "nets_study") if args.study else v for k, v in FILES.items()}
    frame.to_csv(out / files["histories"], index=False)
    (out / files["run"]).write_text(json.dumps(run, indent=1) + "\n")
    if args.study:
        text = experiment.study_summary(frame, profile, run)
        (out / files["summary"]).write_text(text)
        print(text)
        return _failures(frame)
    for network in experiment.NETWORKS:
        part = frame[frame["network"] == network]
        write_html(network_figure(part, experiment.TITLES[network]), out / f"nets_{network}.html")
    text = experiment.summary(frame, profile, run)
    (out / files["summary"]).write_text(text)
    print(text)
    return _failures(frame)


def _failures(frame):
    """Print every failed run of ``frame`` on stderr; the exit status (1 if any)."""
    failed = experiment.failed_runs(frame)
    for row in failed.itertuples():
        print(f"FAILED: {row.failure} (seed {row.seed})", file=sys.stderr)
    return 1 if len(failed) else 0


if __name__ == "__main__":
    sys.exit(main())
