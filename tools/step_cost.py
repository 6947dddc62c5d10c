"""The cost of one inner step of each solver, in cache, as a fixed part and a part per coordinate:
measured the same way on every machine, and recorded with the CPU it ran on.

    .venv/bin/python tools/step_cost.py --out docs/step-cost/<machine>-<commit>.json

For every width d of WIDTHS, a synthetic least-squares problem of about 1 MiB of float32 data,
at least MIN_ROWS rows (so the data, the iterate and the per-sample arrays stay in cache: memory
plays no part; from d = 1024 the float32 copy outgrows 1 MiB, the 8-bit one only past 4096), is solved by
each solver of SOLVERS for epochs of STEPS_PER_EPOCH inner steps, single thread, uniform sampling,
step 0.25 / L_max (the speed suite's problem and step, ``benchmarks.common``). ns per step is the
median over ROUNDS epochs of (epoch time) / STEPS_PER_EPOCH; the solvers alternate inside each round
so that the machine's noise hits them alike. With STEPS_PER_EPOCH = 100 n, an SVRG-type epoch's
full gradient adds about 1% to a step. The fixed cost and the cost per coordinate are the
intercept and the slope of the least-squares line of ns per step against d over the narrow
widths FIT_WIDTHS (``fit``): the fixed part is the step's latency chain and per-step scalar work
(sampling, the loss derivative, keys, dithers, reductions), which no width amortizes. The file
records the CPU (LLVM's name for it, the ISA Numba compiles for, OpenBLAS's kernels), the commit
and the date; ``./run docs`` tabulates the files in docs/step-cost/ in docs/performance.md.
"""

import datetime
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from halp_bench import machine  # noqa: E402
from tools import measurement_record  # noqa: E402

WIDTHS = (16, 64, 96, 128, 256, 512, 784, 1024, 4096)
"""Row widths: narrow rows, widths that are and are not multiples of the 64-coordinate block,
MNIST's 784, and every width of the speed suite's row-width axis (``common.WIDTHS``: the in-cache
step at those widths is the bound of tools/width_speedups.py's out-of-cache epochs)."""
SOLVERS = (("sgd", "fp32"), ("svrg", "fp32"), ("svrg", "fp64"), ("lp-sgd", 8), ("halp", 8),
           ("halp", 16))
"""(solver, precision) pairs measured."""
CACHE_BYTES = 2**20
"""float32 data per problem (n = max(MIN_ROWS, CACHE_BYTES / (4 d)))."""
MIN_ROWS = 256
FIT_WIDTHS = (16, 64, 96, 128, 256)
"""The widths the line is fitted on: narrow rows, where the fixed part is most of a step and the
iterate and a row stay in L1 (wider rows add cache effects that bend the line)."""
STEPS_PER_EPOCH_FACTOR = 100
ROUNDS = 7


def solver_name(solver, precision):
    """The solver's label, as the speed suite writes it ("halp-8", "svrg-fp32")."""
    return f"{solver}-{precision}"


def rows(d):
    """Rows of the in-cache problem of width d."""
    return max(MIN_ROWS, CACHE_BYTES // (4 * d))


def measure(d, solvers=SOLVERS, rounds=ROUNDS):
    """{label: median ns per inner step} of each solver at width d (see the module docstring)."""
    hc = common.api()
    prob = hc.datasets.synthetic_least_squares(rows(d), d, lam=common.EPOCH_LAM,
                                               noise=common.EPOCH_NOISE, seed=common.EPOCH_SEED)
    steps = STEPS_PER_EPOCH_FACTOR * prob.n
    built = {}
    for solver, precision in solvers:
        s = hc.make_solver(prob, solver, precision=precision, step=common.epoch_step(prob),
                           sampling=common.EPOCH_SAMPLING, seed=0, steps_per_epoch=steps)
        s.run_epoch()   # compiled and warm
        built[solver_name(solver, precision)] = s
    times = {name: [] for name in built}
    for r in range(rounds):
        order = list(built.items())
        for name, s in (order if r % 2 == 0 else order[::-1]):
            t0 = time.perf_counter()
            s.run_epoch()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) / steps * 1e9 for name, t in times.items()}


def fit(widths, ns):
    """(fixed ns per step, ns per coordinate): the least-squares line of ns against d over the
    widths of FIT_WIDTHS among ``widths``."""
    pairs = [(d, v) for d, v in zip(widths, ns) if d in FIT_WIDTHS]
    slope, intercept = np.polyfit(*np.asarray(pairs, float).T, 1)
    return float(intercept), float(slope)


def run(widths=WIDTHS, solvers=SOLVERS, rounds=ROUNDS, progress=print):
    """The whole measurement as the file's dictionary."""
    table = {}
    for d in widths:
        table[d] = measure(d, solvers, rounds)
        progress(f"d = {d}: " + ", ".join(f"{k} {v:.1f} ns" for k, v in table[d].items()))
    names = list(table[widths[0]])
    fits = {name: fit(widths, [table[d][name] for d in widths]) for name in names}
    return {
        "cpu": machine.cpu_description(),
        "commit": measurement_record.commit(),
        "date": datetime.date.today().isoformat(),
        "widths": list(widths),
        "rows": {str(d): rows(d) for d in widths},
        "steps_per_epoch_factor": STEPS_PER_EPOCH_FACTOR,
        "rounds": rounds,
        "ns_per_step": {name: [table[d][name] for d in widths] for name in names},
        "fit_widths": [d for d in widths if d in FIT_WIDTHS],
        "fixed_ns": {name: fits[name][0] for name in names},
        "ns_per_coordinate": {name: fits[name][1] for name in names},
        "command": "tools/step_cost.py",
    }


def main(argv=None):
    parser = measurement_record.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    measurement_record.write(run(rounds=args.rounds,
                                 progress=lambda line: print(line, file=sys.stderr)), args.out)


if __name__ == "__main__":
    main()
