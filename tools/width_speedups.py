"""Speedups over row widths x sizes, as the speed suite measures them, written to a file that
``./run docs`` tabulates (one file per machine and commit, so that two commits measured on one
machine on one day can be set side by side).

    .venv/bin/python tools/width_speedups.py --out docs/width-speedups/<machine>-<commit>.json

For every size (MiB of float32 data) in SIZES and width d in WIDTHS (1 MiB at d = 1024 only: the
in-L2 case), and for each pair (low precision, baseline) of PAIRS, the value is
``bench_speedup.interleaved_ratio`` of the two solvers' epochs on the speed suite's problem
(``benchmarks.common.make_epoch_problem``: synthetic least squares, 8-bit data, step
0.25 / L_max, uniform sampling, seed 0; both built and warmed by ``common.build_solver``):
``bench_speedup.Speedup.track_speedup`` at those parameters, single thread. The file stores the
speedup, baseline time / low-precision time (1 / the ratio). Problems are built once per run
and kept pickled in a temporary folder.
"""

import datetime
import pathlib
import pickle
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_speedup, common  # noqa: E402
from halp_bench import machine  # noqa: E402
from tools import measurement_record  # noqa: E402

SIZES = (1, 100, 400)
WIDTHS = common.WIDTHS
IN_CACHE_WIDTH = common.EPOCH_D
PAIRS = ((("halp", 8), ("svrg", "fp32")), (("lp-sgd", 8), ("sgd", "fp32")))


def label(pair):
    """'halp-8 / svrg-fp32'."""
    (low, low_p), (base, base_p) = pair
    return f"{low}-{low_p} / {base}-{base_p}"


def shapes(sizes=SIZES, widths=WIDTHS):
    """(size_mb, d) pairs measured: every width out of cache, IN_CACHE_WIDTH at 1 MiB."""
    return [(size, d) for size in sizes for d in (widths if size > 1 else (IN_CACHE_WIDTH,))]


def measure(size_mb, d, folder, budget_s=bench_speedup.BUDGET_S):
    """{label: speedup} at one shape."""
    path = pathlib.Path(folder) / f"problem-{size_mb}-{d}.pickle"
    if path.exists():
        prob = pickle.loads(path.read_bytes())
    else:
        prob = common.make_epoch_problem(size_mb, common.EPOCH_DATA_BITS, d)
        path.write_bytes(pickle.dumps(prob, protocol=pickle.HIGHEST_PROTOCOL))
    step = common.epoch_step(prob)
    out = {}
    for pair in PAIRS:
        low = common.build_solver(prob, *pair[0], step)
        base = common.build_solver(prob, *pair[1], step)
        out[label(pair)] = 1.0 / bench_speedup.interleaved_ratio(low.run_epoch, base.run_epoch,
                                                                 budget_s=budget_s)
    return out


def main(argv=None):
    args = measurement_record.parser(__doc__).parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size_mb, d in shapes():
            speedups = measure(size_mb, d, folder)
            rows.append({"size_mb": size_mb, "d": d, "speedup": speedups})
            print(f"{size_mb} MiB, d = {d}: " + ", ".join(f"{k} {v:.2f}x"
                                                         for k, v in speedups.items()),
                  file=sys.stderr)
    result = {"cpu": machine.cpu_description(), "commit": measurement_record.commit(),
              "date": datetime.date.today().isoformat(), "budget_s": bench_speedup.BUDGET_S,
              "command": "tools/width_speedups.py", "rows": rows}
    measurement_record.write(result, args.out)


if __name__ == "__main__":
    main()
