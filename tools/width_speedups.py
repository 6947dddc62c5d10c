"""Speedups over row widths x sizes, as the speed suite measures them, written to a file that
``./run docs`` tabulates (one file per machine and commit, so that two commits measured on one
machine on one day can be set side by side).

    .venv/bin/python tools/width_speedups.py --out docs/width-speedups/<machine>-<commit>.json
    .venv/bin/python tools/width_speedups.py --formats \
        --out docs/format-speedups/<machine>-<commit>.json

For every size (MiB of float32 data) in SIZES and width d in WIDTHS (1 MiB at d = 1024 only: the
in-L2 case), and for each pair (low precision, baseline) of PAIRS, the value is
``bench_speedup.interleaved_ratio`` of the two solvers' epochs on the speed suite's problem
(``benchmarks.common.make_epoch_problem``: synthetic least squares, 8-bit data, step
0.25 / L_max, uniform sampling, seed 0; both built and warmed by ``common.build_solver``):
``bench_speedup.Speedup.track_speedup`` at those parameters, single thread. The file stores the
speedup, baseline time / low-precision time (1 / the ratio), with each contender's median epoch
time and the median of those epochs' full-gradient passes (``Solver.gradient_seconds``): the
parts docs/performance.md sets against the in-cache step of tools/step_cost.py for the bound per
width. Problems are built once per run and kept pickled in
a temporary folder.

With --formats, the float formats of FORMAT_PAIRS instead, as the speed suite measures them: at
FORMAT_SIZES and EPOCH_D, the data in the format and both contenders on that one copy (the
baseline reads its float32 conversion); the record names the path a bf16 step takes on this CPU
(``halp_core.bf16_lanes.path``). The commit recorded is that of the halp_core imported, the one
beside this file: an older commit is measured by copying this file and measurement_record.py into
a checkout of it and running them there.
"""

import datetime
import pathlib
import pickle
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import halp_core  # noqa: E402
from benchmarks import bench_speedup, common  # noqa: E402
from halp_bench import machine  # noqa: E402
from tools import measurement_record  # noqa: E402

SIZES = (1, 100, 400)
WIDTHS = common.WIDTHS
IN_CACHE_WIDTH = common.EPOCH_D
PAIRS = ((("halp", 8), ("svrg", "fp32")), (("lp-sgd", 8), ("sgd", "fp32")))
FORMAT_SIZES = (100, 400)
FORMAT_PAIRS = tuple(((method, fmt), (base, "fp32")) for fmt in ("bf16", "fp8-e4m3")
                     for method, base in (("halp", "svrg"), ("lp-sgd", "sgd")))


def label(pair):
    """'halp-8 / svrg-fp32'."""
    (low, low_p), (base, base_p) = pair
    return f"{low}-{low_p} / {base}-{base_p}"


def shapes(sizes=SIZES, widths=WIDTHS):
    """(size_mb, d) pairs measured: every width out of cache, IN_CACHE_WIDTH at 1 MiB."""
    return [(size, d) for size in sizes for d in (widths if size > 1 else (IN_CACHE_WIDTH,))]


def measure(size_mb, d, folder, budget_s=bench_speedup.BUDGET_S, data=common.EPOCH_DATA_BITS,
            pairs=PAIRS):
    """({label: {"speedup": baseline epoch / low-precision epoch, "epoch_s": [low, baseline]
    median epoch seconds, "full_gradient_s": [low, baseline] median seconds of the full-gradient
    passes of those epochs (``Solver.gradient_seconds``; None for a solver without one)}} of
    ``pairs`` at one shape, the data in ``data`` (bits or a format), the problem's rows n)."""
    path = pathlib.Path(folder) / f"problem-{size_mb}-{d}-{data}.pickle"
    if path.exists():
        prob = pickle.loads(path.read_bytes())
    else:
        prob = common.make_epoch_problem(size_mb, data, d)
        path.write_bytes(pickle.dumps(prob, protocol=pickle.HIGHEST_PROTOCOL))
    step = common.epoch_step(prob)
    out = {}
    for pair in pairs:
        low = common.build_solver(prob, *pair[0], step)
        base = common.build_solver(prob, *pair[1], step)
        warm = [len(s.gradient_seconds) for s in (low, base)]
        times = bench_speedup.interleaved_times(low.run_epoch, base.run_epoch, budget_s=budget_s)
        passes = [s.gradient_seconds[w:] for s, w in zip((low, base), warm)]
        out[label(pair)] = {"speedup": times[1] / times[0], "epoch_s": list(times),
                            "full_gradient_s": [float(np.median(t)) if t else None
                                                for t in passes]}
    return out, prob.n


def format_runs():
    """[(size_mb, d, data format, pairs)] that --formats measures."""
    return [(size, common.EPOCH_D, fmt, [p for p in FORMAT_PAIRS if p[0][1] == fmt])
            for fmt in dict.fromkeys(p[0][1] for p in FORMAT_PAIRS) for size in FORMAT_SIZES]


def main(argv=None):
    parser = measurement_record.parser(__doc__)
    parser.add_argument("--formats", action="store_true",
                        help="the float formats at EPOCH_D (FORMAT_PAIRS) instead of the widths")
    args = parser.parse_args(argv)
    runs = (format_runs() if args.formats else
            [(size, d, common.EPOCH_DATA_BITS, PAIRS) for size, d in shapes()])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size_mb, d, data, pairs in runs:
            found, n = measure(size_mb, d, folder, data=data, pairs=pairs)
            rows.append({"size_mb": size_mb, "d": d, "data": data, "n": n,
                         **{key: {k: v[key] for k, v in found.items()}
                            for key in ("speedup", "epoch_s", "full_gradient_s")}})
            print(f"{size_mb} MiB, d = {d}, {data} data: "
                  + ", ".join(f"{k} {v['speedup']:.2f}x" for k, v in found.items()),
                  file=sys.stderr)
    result = {"cpu": machine.cpu_description(), "commit": measurement_record.commit(halp_core),
              "date": datetime.date.today().isoformat(), "budget_s": bench_speedup.BUDGET_S,
              "command": "tools/width_speedups.py" + (" --formats" if args.formats else ""),
              "rows": rows}
    if args.formats:
        result["bf16_path"] = bf16_path()
    measurement_record.write(result, args.out)


def bf16_path():
    """The path a bf16 step takes here (``halp_core.bf16_lanes.path``); "general" on a commit
    from before the AVX512_BF16 path, where every CPU took the general loop."""
    if not (pathlib.Path(halp_core.__file__).parent / "bf16_lanes.py").exists():
        return "general"
    from halp_core import bf16_lanes

    return bf16_lanes.path()


if __name__ == "__main__":
    main()
