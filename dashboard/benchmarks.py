"""Every asv benchmark the dashboard reads, by its full asv name, and the parameter values it picks by.

The one place these names are written in the dashboard (plain Python, no Streamlit): pages,
tables and tests import them from here. tests/dashboard/test_dashboard_benchmarks.py checks them against
what asv discovers in benchmarks/, so renaming a benchmark there fails a test instead of emptying
a page. The dashboard never imports benchmarks/ itself.
"""

SPEEDUP = "bench_speedup.Speedup.track_speedup"
FILE_SPEEDUP = "bench_speedup.FileSpeedup.track_speedup"
EPOCH_TIME = "bench_epoch.EpochTime.time_epoch"
SUBOPT = "bench_convergence.Convergence.track_subopt"
SECONDS = "bench_convergence.Convergence.track_seconds"
EPOCHS_TO_TARGET = "bench_convergence.Convergence.track_epochs_to_target"
TIME_TO_TARGET = "bench_convergence.Convergence.track_time_to_target"
EPOCH_GBPS = "bench_bandwidth.Bandwidth.track_epoch_gbps"
FRACTION = "bench_bandwidth.Bandwidth.track_fraction_of_read"
READ_GBPS = "bench_bandwidth.Read.track_read_gbps"
THREAD_TIME = "bench_threads.ThreadScaling.time_epoch"
PEER_EPOCH = "bench_peers.PeerEpoch.track_seconds_per_epoch"
PEER_TO_TARGET = "bench_peers.PeerTimeToTarget.track_time_to_target"

PARAM_NAMES = {
    SPEEDUP: ["method", "bits", "baseline", "size_mb", "d"],
    FILE_SPEEDUP: ["problem", "method", "bits", "baseline"],
    EPOCH_TIME: ["solver", "precision", "size_mb", "d"],
    SUBOPT: ["problem", "solver", "precision", "epoch"],
    SECONDS: ["problem", "solver", "precision", "epoch"],
    EPOCHS_TO_TARGET: ["problem", "solver", "precision", "target"],
    TIME_TO_TARGET: ["problem", "solver", "precision", "target"],
    EPOCH_GBPS: ["solver", "size_mb"],
    FRACTION: ["solver", "size_mb"],
    READ_GBPS: ["size_mb"],
    THREAD_TIME: ["solver", "precision", "threads"],
    PEER_EPOCH: ["problem", "solver"],
    PEER_TO_TARGET: ["problem", "target", "solver"],
}
"""Benchmark name -> its asv `param_names` (lists, as asv reports them): every benchmark read above.
FILE_SPEEDUP (the user's file problems, `./run bench --file`) exists in the suite only where a file
is declared (HALP_BENCH_FILE); its `problem` values are the files' problem names, which the
convergence benchmarks' `problem` holds too, after the built-in ones."""

WIDTH = "d"
"""The row-width parameter of SPEEDUP and EPOCH_TIME (the widths measured are the values the result
files hold)."""
WIDTH_BEFORE_AXIS = 1024
"""The row width of SPEEDUP and EPOCH_TIME results measured before the width became a parameter."""
SPEEDUP_METHODS = ("halp", "lp-sgd")
"""`method` values of SPEEDUP: the low-precision solvers compared with their full-precision baseline."""
GOAL_SOLVER = "halp-8"
"""`solver` value of FRACTION that the project's bandwidth goal is about."""
PEER_OURS = ("svrg-fp64", "svrg-fp32", "halp-8", "halp-16")
"""`solver` values of PEER_EPOCH and PEER_TO_TARGET that are our solvers; every other one is a peer."""
PARAM_VALUES = {(SPEEDUP, "method"): SPEEDUP_METHODS, (FILE_SPEEDUP, "method"): SPEEDUP_METHODS,
                (FRACTION, "solver"): (GOAL_SOLVER,),
                (PEER_EPOCH, "solver"): PEER_OURS, (PEER_TO_TARGET, "solver"): PEER_OURS}
"""(benchmark, parameter name) -> the values of that parameter the dashboard selects by."""
SIZE_PRECISION = "fp32"
"""`size_mb` of SPEEDUP, EPOCH_TIME and the bench_bandwidth suites counts MiB (2**20 bytes) of the
problem's data in this precision: n = size_mb·2**20 / (bytes of one such value · d) rows."""
FIXED_POINT_DATA_BITS = 8
"""Bit width of the data SPEEDUP's runs at a fixed-point bit width read, at every `bits` (int8):
the low-precision solver reads it, its baseline the float32 / float64 conversion. At a float format
both read that format's data, the baseline again as its conversion."""
FRACTION_SOLVER = "{solver}-{precision}"
"""How FRACTION and EPOCH_GBPS name a solver at a precision: 'halp-8', 'svrg-fp32'."""
