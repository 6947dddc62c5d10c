"""Time to accuracy, what a user gets: the solver time each contender takes to reach
f - f* <= TARGET on problems of three row widths, ours against every installed peer.

    .venv/bin/python tools/time_to_accuracy.py --out docs/time-to-accuracy/<machine>-<commit>.json

Problems (PROBLEMS): synthetic least squares at d = 128 and d = 1024 (N_ROWS rows, condition
number 100, lam 1e-3, 8-bit data) and binary MNIST logistic regression (784 features, lam 1e-4),
the peers suite's (``benchmarks.bench_peers``). Contenders: HALP-8, HALP-16 (mu "auto"), SVRG-fp32,
SVRG-fp64 and every peer of ``halp_bench.peers`` installed for the problem's loss, each run once
for EPOCHS[problem] epochs, one after the other, single thread, seed 0, through
``halp_bench.contenders.run``; the step is bench_peers' (STEP_FACTOR / L_max, lowered to where
tick's float32 prox is exact) for every contender that takes one. The time is the contender's own
solver time at its first epoch with f - f* <= target (``peers.time_to_target``; None when not
reached), and "failure" the run's divergence or no-progress message (``halp_core.Result``), None
for a healthy run. The file records the CPU, the commit and the date; ``./run docs`` tabulates every file
in docs/time-to-accuracy/ in docs/performance.md.
"""

import datetime
import math
import pathlib
import sys
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_peers, common  # noqa: E402
from halp_bench import contenders, machine, peers  # noqa: E402
from tools import measurement_record  # noqa: E402

TARGETS = (1e-4, 1e-8)
N_ROWS = 20000
PROBLEMS = ("lsq-128", "lsq-1024", "mnist")
EPOCHS = {"lsq-128": 60, "lsq-1024": 60, "mnist": 100}
OURS = {"halp-8": ("halp", 8), "halp-16": ("halp", 16), "svrg-fp32": ("svrg", "fp32"),
        "svrg-fp64": ("svrg", "fp64")}


def problem(name):
    """The problem called ``name`` (PROBLEMS), f* computed."""
    if name == "mnist":
        return bench_peers.peer_problem("mnist")
    d = int(name.split("-")[1])
    settings = {k: v for k, v in bench_peers.PEER_LSQ.items() if k not in ("n", "d")}
    prob = common.api().datasets.synthetic_least_squares(N_ROWS, d, **settings)
    prob.L_max, prob.f_star  # noqa: B018 (computed once, cached on the problem)
    return prob


def contenders_for(prob):
    """{label: contender} for ``contenders.run``: ours, then every peer installed for the
    problem's loss."""
    status = peers.peer_status()
    found = dict(OURS)
    found.update({name: name for name, spec in peers.PEERS.items()
                  if status[name] is None and prob.kind in spec.kinds})
    return found


def measure(name, progress=print):
    """{label: {"epochs": run length, "seconds_per_epoch": s, "1e-04": s or None, ...}}."""
    prob = problem(name)
    factor = bench_peers.STEP_FACTOR["mnist" if name == "mnist" else "lsq"]
    step = peers.float32_exact_step(factor / prob.L_max, prob.lam)
    out = {}
    for label, contender in contenders_for(prob).items():
        options = {"mu": "auto"} if label.startswith("halp") else {}
        with warnings.catch_warnings():   # a failed run is recorded in the file, not printed
            warnings.simplefilter("ignore", RuntimeWarning)
            result = contenders.run(prob, contender, step=step, epochs=EPOCHS[name], seed=0,
                                    **options)
        history = result.history
        times = {f"{t:.0e}": peers.time_to_target(history, t) for t in TARGETS}
        out[label] = {"epochs": EPOCHS[name],
                      "seconds_per_epoch": peers.seconds_per_epoch(history),
                      "failure": getattr(result, "divergence", "") or
                      getattr(result, "no_progress", "") or None,
                      **{k: (None if math.isinf(v) else v) for k, v in times.items()}}
        progress(f"{name} {label}: " + ", ".join(f"{k} {v}" for k, v in times.items()))
    return out


def main(argv=None):
    parser = measurement_record.parser(__doc__)
    parser.add_argument("--problem", action="append", choices=PROBLEMS,
                        help="only these problems (repeatable; default: all)")
    args = parser.parse_args(argv)
    result = {"cpu": machine.cpu_description(), "commit": measurement_record.commit(),
              "date": datetime.date.today().isoformat(), "n_rows": N_ROWS,
              "command": "tools/time_to_accuracy.py",
              "problems": {name: measure(name, lambda line: print(line, file=sys.stderr))
                           for name in (args.problem or PROBLEMS)}}
    measurement_record.write(result, args.out)


if __name__ == "__main__":
    main()
