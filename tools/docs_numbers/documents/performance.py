"""docs/performance.md: issue 13's targets and where they stand, the epoch times, bandwidth,
threads, the hot loops' instructions (docs/kernel-loops/, written by ``tools/asm_probe.py``), what
changed in them (against PERF_BEFORE and BEFORE_INT_LANES) and the instruction bound they give."""

import math
from dataclasses import dataclass

from tools.docs_numbers import pinned
from tools.docs_numbers.engine import ROOT, Block
from tools.docs_numbers.formatting import (ELEMENTS_PER_MB, SIZES, kernel_elements,
                                           ns_per_element, prose, run_label, seconds,
                                           speedup_pairs, table)
from tools.docs_numbers.sources import (FORMAT_SPEEDUPS, KERNEL_LOOPS, STEP_COST,
                                        TIME_TO_ACCURACY, WIDTH_SPEEDUPS, asv_values, kernel_loops, measurement,
                                        measurement_line, result_file, source_line, speed_values)

# ---- the asv results: docs/performance.md's runs -----------------------------------------------

# Issue 13's targets: (label, benchmark, (method, bits, baseline), sizes, least speedup). A
# speedup is 1 / track_speedup; "out of cache" is 100 and 400 MiB (L3 is 32 MiB here).
TARGETS = (
    ("HALP-8 vs SVRG-fp32, out of cache", "Speedup", ("halp", 8, "fp32"), (100, 400), 2.5),
    ("HALP-8 vs SVRG-fp64, out of cache", "Speedup", ("halp", 8, "fp64"), (100, 400), 4.0),
    ("LP-SGD-8 vs SGD-fp32, out of cache", "Speedup", ("lp-sgd", 8, "fp32"), (100, 400), 2.0),
    ("HALP-16 vs SVRG-fp32, out of cache", "Speedup", ("halp", 16, "fp32"), (100, 400), 1.5),
    ("HALP-8 vs SVRG-fp32, in L2", "Speedup", ("halp", 8, "fp32"), (1,), 1.0),
    ("HALP-8 vs SVRG-fp32, all cores, out of cache", "AllCoresSpeedup", ("halp", 8, "fp32"),
     (100, 400), 3.0),
    ("LP-SGD-8 vs SGD-fp32, all cores, out of cache", "AllCoresSpeedup", ("lp-sgd", 8, "fp32"),
     (100, 400), 2.0),
)
# The float formats' targets (issue: "HALP-bf16 and LP-SGD-bf16 epochs >= 1.5x faster than their
# float32 counterparts with bf16 data; fp8 >= 2x"): (method, format, least speedup) against the
# registry baseline in fp32, out of cache. At a format bench_speedup runs both contenders on one
# copy of the problem's data in that format (benchmarks/common.py, epoch_data_bits).
FORMAT_GOALS = (("halp", "bf16", 1.5), ("lp-sgd", "bf16", 1.5), ("halp", "fp8-e4m3", 2.0),
                ("halp", "fp8-e5m2", 2.0), ("lp-sgd", "fp8-e4m3", 2.0), ("lp-sgd", "fp8-e5m2", 2.0))
# (solver, precision) of bench_epoch in the order of the table
EPOCH_KEYS = (("svrg", "fp32"), ("svrg", "fp64"), ("halp", 8), ("halp", 16), ("lp-svrg", 8),
              ("sgd", "fp32"), ("sgd", "fp64"), ("lp-sgd", 8))

SPEEDUP_NOTE = ("*Ratios of interleaved epoch times, `bench_speedup.Speedup.track_speedup` (below 1: "
                "low precision faster); \"was\": commit {before}.*")
TARGETS_NOTE = ("*A target is met when every size listed reaches it; \"was\": commit {before}, the "
                "same benchmarks on the same machine.*")
FORMAT_TARGETS_NOTE = ("*At a float format both contenders read one copy of the problem's data in "
                       "that format (the baseline its float32 conversion); a target is met when "
                       "every size listed reaches it.*")
THREADS_NOTE = ("*Seconds per epoch at 100 MiB, `bench_threads.ThreadScaling.time_epoch`; \"was\": "
                "commit {before}.*")


def perf_file(commit=pinned.PERF.commit):
    """A shipped result file of docs/performance.md's runs (PERF's machine)."""
    return result_file((pinned.PERF.machine, commit))


def verdict(speedups, goal):
    """'met' when every speedup reaches ``goal``, else 'not met'."""
    return "met" if min(speedups) >= goal else "not met"


def target_values(commit=pinned.PERF.commit, targets=TARGETS):
    """[(label, {size: speedup}, goal)] of ``targets`` (TARGETS' form) at ``commit``."""
    out = []
    for label, bench, key, sizes, goal in targets:
        values = speed_values(perf_file(commit), f"bench_speedup.{bench}.track_speedup")
        out.append((label, {size: 1.0 / values[(*key, size)] for size in sizes}, goal))
    return out


def format_target_rows():
    """FORMAT_GOALS in TARGETS' form, labelled from the registry (e.g. "HALP-bf16 vs SVRG-fp32,
    bf16 data, out of cache")."""
    from halp_core import registry

    return tuple((f"{run_label(m, f)} vs {run_label(registry.spec(m).baseline, 'fp32')}, {f} data, "
                  f"out of cache", "Speedup", (m, f, "fp32"), (100, 400), goal)
                 for m, f, goal in FORMAT_GOALS)


def epoch_ns(commit=pinned.PERF.commit):
    """{size: {(solver, precision): ns per element of an epoch}} at 1 and 400 MiB."""
    epoch = speed_values(perf_file(commit), "bench_epoch.EpochTime.time_epoch")
    return {size: {k[:2]: ns_per_element(v, size) for k, v in epoch.items() if k[2] == size}
            for size in (1, 400)}


def speedup():
    now, was = (speed_values(perf_file(c), "bench_speedup.Speedup.track_speedup")
                for c in (pinned.PERF.commit, pinned.PERF_BEFORE))
    rows = [[f"{size} MiB"] + [f"{now[(*key, size)]:.2f} (was {was[(*key, size)]:.2f})"
                               for _, key in speedup_pairs()] for size in SIZES]
    return [*table(["size of float32 data", *(n for n, _ in speedup_pairs())], rows), "",
            SPEEDUP_NOTE.format(before=pinned.PERF_BEFORE),
            source_line(perf_file(), pinned.PERF.command)]


def targets():
    before = {label: speed for label, speed, _ in target_values(pinned.PERF_BEFORE)}
    rows = []
    for label, speed, goal in target_values():
        cells = ", ".join(f"{s} MiB: {v:.2f}x (was {before[label][s]:.2f}x)"
                          for s, v in speed.items())
        rows.append([label, f"{goal:g}x", cells, verdict(speed.values(), goal)])
    return [*table(("target", "goal", "speedup (1 / track_speedup)", "verdict"), rows), "",
            TARGETS_NOTE.format(before=pinned.PERF_BEFORE),
            source_line(perf_file(), pinned.PERF.command)]


def format_targets():
    rows = []
    for label, speed, goal in target_values(targets=format_target_rows()):
        cells = ", ".join(f"{s} MiB: {v:.2f}x" for s, v in speed.items())
        rows.append([label, f"{goal:g}x", cells, verdict(speed.values(), goal)])
    return [*table(("target", "goal", "speedup (1 / track_speedup)", "verdict"), rows), "",
            FORMAT_TARGETS_NOTE, source_line(perf_file(), pinned.PERF.command)]


def epoch_times():
    now, was = (speed_values(perf_file(c), "bench_epoch.EpochTime.time_epoch")
                for c in (pinned.PERF.commit, pinned.PERF_BEFORE))
    rows = []
    for key in EPOCH_KEYS:
        cells = [run_label(*key)]
        for size in (1, 400):
            cells += [seconds(now[(*key, size)]), f"{ns_per_element(now[(*key, size)], size):.2f}"]
        rows.append(cells + [seconds(was[(*key, 400)])])
    return [*table(("solver", "1 MiB", "ns/element", "400 MiB", "ns/element",
                    f"400 MiB at {pinned.PERF_BEFORE}"), rows), "",
            source_line(perf_file(), pinned.PERF.command)]


def bandwidth():
    path = perf_file()
    read = asv_values(path, "bench_bandwidth.Read.track_read_gbps")
    gbps = asv_values(path, "bench_bandwidth.Bandwidth.track_epoch_gbps")
    frac = asv_values(path, "bench_bandwidth.Bandwidth.track_fraction_of_read")
    solvers = list(dict.fromkeys(s for s, _ in gbps))
    rows = [[f"{size} MiB", f"{read[(size,)]:.3g}"] +
            [f"{gbps[(s, size)]:.3g} ({frac[(s, size)]:.2f})" for s in solvers] for size in SIZES]
    return [*table(["size", "read kernel GB/s", *(f"{s} GB/s (fraction of read)" for s in solvers)],
                   rows), "", source_line(path, pinned.PERF.command)]


def threads():
    now, was = (asv_values(perf_file(c), "bench_threads.ThreadScaling.time_epoch")
                for c in (pinned.PERF.commit, pinned.PERF_BEFORE))
    keys = [k[:2] for k in now if k[2] == 1 and not math.isnan(now[k] or math.nan)]
    counts = [t for t in (1, 2, 4, 8) if any(not math.isnan(now[(*k, t)] or math.nan)
                                           for k in keys)]
    rows = [[f"{s}-{p}"] + [f"{seconds(now[(s, p, t)])} (was {seconds(was[(s, p, t)])})"
                            for t in counts] for s, p in keys]
    return [*table(["solver", *(f"{t} thread{'s' * (t > 1)}" for t in counts)], rows), "",
            THREADS_NOTE.format(before=pinned.PERF_BEFORE),
            source_line(perf_file(), pinned.PERF.command)]


# ---- the hot loops' instructions (docs/kernel-loops/<commit>.json) -----------------------------

@dataclass(frozen=True)
class HotLoop:
    """One part of an epoch's work: the ``position``-th vectorized loop (from 0, in the order
    ``tools/asm_probe.py --loops`` lists them) of the kernel signature ``kernel``, and the elements
    of the data matrix one iteration processes (its vector width times its unroll)."""

    kernel: str
    position: int
    elements: int


def _linear(kernel, data, iterate, iterate_type):
    """asm_probe's name of a linear kernel's signature."""
    return f"{kernel}(array({data}, 2d, C), {iterate}=array({iterate_type}, 1d, C))"


FP32, FP64 = _linear("_fp_epoch_linear", "float32", "w", "float32"), \
    _linear("_fp_epoch_linear", "float64", "w", "float64")
LP8, LP16 = _linear("_lp_epoch_linear", "int8", "k", "int8"), \
    _linear("_lp_epoch_linear", "int8", "k", "int16")
GRAD32, GRAD64, GRAD8 = (_linear("_grad_rows_linear", d, "w", w) for d, w in
                         (("float32", "float32"), ("float64", "float64"), ("int8", "float32")))
GRAD_BF16, GRAD_FP8 = (_linear("_grad_rows_linear", d, "w", "float32") for d in ("uint16", "uint8"))
LPF_BF16, LPF_FP8 = (_linear("_lpf_epoch_linear", d, "k", d) for d in ("uint16", "uint8"))
# Per solver (the linear kernels, bench_epoch's problem): full-gradient dot, full-gradient
# accumulate, inner dot, inner update; None where the solver has no full gradient.
HOT_LOOPS = {
    "SVRG-fp32": (HotLoop(GRAD32, 0, 64), HotLoop(GRAD32, 3, 64), HotLoop(FP32, 0, 64),
                  HotLoop(FP32, 2, 64)),
    "SVRG-fp64": (HotLoop(GRAD64, 0, 32), HotLoop(GRAD64, 4, 32), HotLoop(FP64, 0, 32),
                  HotLoop(FP64, 2, 32)),
    "HALP-8": (HotLoop(GRAD8, 0, 64), HotLoop(GRAD8, 4, 64), HotLoop(LP8, 3, 128),
               HotLoop(LP8, 0, 64)),
    "HALP-16": (HotLoop(GRAD8, 0, 64), HotLoop(GRAD8, 4, 64), HotLoop(LP16, 3, 128),
                HotLoop(LP16, 0, 64)),
    "SGD-fp32": (None, None, HotLoop(FP32, 0, 64), HotLoop(FP32, 2, 64)),
    "LP-SGD-8": (None, None, HotLoop(LP8, 3, 128), HotLoop(LP8, 0, 64))}
DOT_INT8 = HotLoop("dot(array(int8, 1d, C))", 0, 128)   # bench_kernels' int8 dot
# HALP-8 at pinned.BEFORE_INT_LANES, in HOT_LOOPS' form: the full gradient in float64 lanes and
# the update in float lanes.
GRAD8_FP64 = _linear("_grad_rows_linear", "int8", "w", "float64")
FLOAT_LANES = {"HALP-8": (HotLoop(GRAD8_FP64, 0, 32), HotLoop(GRAD8_FP64, 2, 32),
                          HotLoop(LP8, 2, 128), HotLoop(LP8, 0, 64))}
# The float-format kernels: full gradient (row decoding, dot, accumulate), inner step (row
# decoding, the iterate's decoding with the dot, the stochastic rounding of the row:
# _decode_row, _decode_dot, _round_row: halp_core.epochs then, halp_core.solvers.float_grid now).
FORMAT_HOT_LOOPS = {
    "HALP-bf16": (HotLoop(GRAD_BF16, 6, 64), HotLoop(GRAD_BF16, 0, 64), HotLoop(GRAD_BF16, 2, 64),
                  HotLoop(LPF_BF16, 0, 64), HotLoop(LPF_BF16, 2, 64), HotLoop(LPF_BF16, 4, 64)),
    "HALP-fp8-e4m3": (HotLoop(GRAD_FP8, 6, 16), HotLoop(GRAD_FP8, 0, 64), HotLoop(GRAD_FP8, 2, 64),
                      HotLoop(LPF_FP8, 1, 64), HotLoop(LPF_FP8, 2, 8), HotLoop(LPF_FP8, 3, 32)),
    "LP-SGD-bf16": (None, None, None, HotLoop(LPF_BF16, 0, 64), HotLoop(LPF_BF16, 2, 64),
                    HotLoop(LPF_BF16, 4, 64))}

INSTRUCTIONS_NOTE = ("*Generated by `./run docs` from `{files}`, written by `tools/asm_probe.py "
                     "--loops --out` at {commits}: the hot loops counted for Numba's CPU "
                     "`{llvm_cpu}` ({instruction_set}).*")
FORMAT_INSTRUCTIONS_NOTE = (INSTRUCTIONS_NOTE[:-2] + "; SVRG-fp32 totals {svrg_fp32:.2f}, SGD-fp32 "
                            "{sgd_fp32:.2f} (the instructions table).*")


def loop_counts(loops, commit=pinned.PERF.commit):
    """{solver: ((instructions, elements) or None per part)} of ``loops`` (HOT_LOOPS' form) in
    the loops recorded at ``commit``; KeyError naming the file, kernel and position when the
    record has no such loop (the kernels changed: choose the loops again)."""
    recorded = kernel_loops(commit)["loops"]

    def count(loop):
        found = list(recorded.get(loop.kernel, {}).values())
        if loop.position >= len(found):
            raise KeyError(f"{KERNEL_LOOPS / commit}.json: {loop.kernel} has no vectorized loop "
                           f"{loop.position} (it has {len(found)})")
        return found[loop.position]["instructions"], loop.elements

    return {name: tuple(count(p) if p else None for p in parts) for name, parts in loops.items()}


def per_element(counts):
    """Hot-loop instructions per element of the data matrix per epoch from one solver's
    ((instructions, elements) or None) parts."""
    return sum(a / b for a, b in filter(None, counts))


def instructions_note(commits, template=INSTRUCTIONS_NOTE, **numbers):
    """The source line of an instruction table: the data files of ``commits`` and the CPU they
    were counted for (the first's; ValueError when the files name different CPUs)."""
    records = [kernel_loops(c) for c in commits]
    targets = {(r["llvm_cpu"], r["instruction_set"]) for r in records}
    if len(targets) != 1:
        raise ValueError(f"{KERNEL_LOOPS}: {', '.join(commits)} were counted for different CPUs "
                         f"{sorted(targets)}: count them for one")
    files = "` and `".join(str((KERNEL_LOOPS / f"{c}.json").relative_to(ROOT)) for c in commits)
    return template.format(files=files, commits=" and ".join(commits), llvm_cpu=records[0]["llvm_cpu"],
                           instruction_set=records[0]["instruction_set"], **numbers)


def instructions():
    now, before = loop_counts(HOT_LOOPS), loop_counts(HOT_LOOPS, pinned.PERF_BEFORE)
    rows = [[name, *(f"{c[0]} / {c[1]}" if c else "" for c in counts),
             f"{per_element(counts):.2f}", f"{per_element(before[name]):.2f}"]
            for name, counts in now.items()]
    return [*table(("solver", "full-gradient dot", "full-gradient accumulate", "inner dot",
                    "inner update", "total", f"total at {pinned.PERF_BEFORE}"), rows), "",
            instructions_note((pinned.PERF.commit, pinned.PERF_BEFORE))]


def format_instructions():
    now, fp = loop_counts(FORMAT_HOT_LOOPS), loop_counts(HOT_LOOPS)
    rows = [[name, *(f"{c[0]} / {c[1]}" if c else "" for c in counts),
             f"{per_element(counts):.2f}"] for name, counts in now.items()]
    return [*table(("solver", "full-gradient decoding", "full-gradient dot",
                    "full-gradient accumulate", "inner decoding", "inner decoding + dot",
                    "inner rounding", "total"), rows), "",
            instructions_note((pinned.PERF.commit,), FORMAT_INSTRUCTIONS_NOTE,
                              svrg_fp32=per_element(fp["SVRG-fp32"]),
                              sgd_fp32=per_element(fp["SGD-fp32"]))]


# ---- the instruction bound and the targets' reasons --------------------------------------------

def instruction_rate():
    """(the int8 dot's time in L3 in s, the instructions per ns it reaches, {solver: least ns per
    element at that rate}): the fastest instruction rate the suite measured."""
    dot = asv_values(perf_file(), "bench_kernels.Dot.time_dot")[("int8", "L3")]
    (instr, elements), = loop_counts({"dot": (DOT_INT8,)})["dot"]
    rate = instr / elements * kernel_elements("L3") / (dot * 1e9)
    return dot, rate, {name: per_element(c) / rate for name, c in loop_counts(HOT_LOOPS).items()}


BOUND = """\
The fastest instruction rate the suite measured is the int8 dot in L3 (`bench_kernels.Dot.time_dot('int8', 'L3')`, {dot} per 2^24 elements at {dot_instructions} instructions per {dot_elements} elements): {rate:.1f} instructions per ns. At that rate:

- **HALP-8** needs at least {halp8:.2f} ns per element, {halp8_400} at 400 MiB (measured: {halp8_ns:.2f} ns):
  - vs SVRG-fp32: at best {vs_svrg32:.1f}x faster (goal 2.5x);
  - vs SVRG-fp64: at best {vs_svrg64:.1f}x faster (goal 4x);
  - in L2 (1 MiB) vs SVRG-fp32: at best {vs_svrg32_l2:.1f}x faster (goal: no slower).
- **LP-SGD-8** needs {lpsgd:.2f} ns per element: at best {vs_sgd32:.1f}x faster than SGD-fp32 (goal 2x).
- **Bandwidth.** HALP-8 streams 2 bytes per element per epoch, so at most {gbps:.1f} GB/s, {read_share:.0%} of the {read:.3g} GB/s read kernel at 400 MiB.
- **HALP-16** needs {halp16:.2f} ns per element, which would allow {halp16_vs_svrg32:.1f}x over SVRG-fp32 (goal 1.5x); out of cache it runs at {halp16_rate:.1f} instructions per ns.
"""


def bound():
    """The instruction bound: each solver's count at the fastest instruction rate the suite
    measured (the int8 dot in L3) against the measured epochs."""
    path = perf_file()
    read = asv_values(path, "bench_bandwidth.Read.track_read_gbps")[(400,)]
    ns = epoch_ns()
    dot, rate, best = instruction_rate()
    counts = loop_counts(HOT_LOOPS)
    (dot_instructions, dot_elements), = loop_counts({"dot": (DOT_INT8,)})["dot"]
    halp8 = best["HALP-8"]
    return [*BOUND.format(
        dot=seconds(dot), dot_instructions=dot_instructions, dot_elements=dot_elements, rate=rate,
        halp8=halp8, halp8_400=seconds(halp8 * 400 * ELEMENTS_PER_MB * 1e-9),
        halp8_ns=ns[400][("halp", 8)], vs_svrg32=ns[400][("svrg", "fp32")] / halp8,
        vs_svrg64=ns[400][("svrg", "fp64")] / halp8, vs_svrg32_l2=ns[1][("svrg", "fp32")] / halp8,
        lpsgd=best["LP-SGD-8"], vs_sgd32=ns[400][("sgd", "fp32")] / best["LP-SGD-8"],
        gbps=2 / halp8, read_share=2 / halp8 / read, read=read, halp16=best["HALP-16"],
        halp16_vs_svrg32=ns[400][("svrg", "fp32")] / best["HALP-16"],
        halp16_rate=per_element(counts["HALP-16"]) / ns[400][("halp", 16)],
    ).splitlines(), "", source_line(path, pinned.PERF.command)]


TARGET_REASONS = """\
- **HALP-8 over SVRG-fp64** ({halp8_fp64}) and **LP-SGD-8 over SGD-fp32** ({lpsgd8_sgd32}): this round's prefetches and shorter integer-lane step (below) took the sampled step off its memory stalls and cut its instructions; HALP-8's 400 MiB epoch went from {halp8_ns_before:.2f} to {halp8_ns:.2f} ns per element.
- **HALP-8 over SVRG-fp32, out of cache** ({halp8_fp32}): HALP-8 runs at {halp8_ns:.2f} ns per element at 400 MiB, about its in-cache speed: it is instruction-bound (the bound below: at best {halp8_best:.1f}x at this machine's fastest measured instruction rate). Of its {halp8_instructions:.2f} hot-loop instructions per element, the inner update takes {halp8_update:.2f} and the anchor's full gradient {halp8_anchor:.2f}: a float32 pass over the int8 data (sign-extend, convert, FMA, twice per element) that does SVRG-fp32's work per element in more instructions. SVRG-fp32 streams its 4-byte rows at {svrg32_ns:.2f} ns per element; at 100 MiB it keeps part of its data in the 32 MiB L3 between the interleaved epochs, so the ratio there is lower.
- **HALP-16 over SVRG-fp32** ({halp16_fp32}): its 32-bit lanes hold 16 coordinates per register, as float32 does, and pay for a fresh hash per two coordinates and the fixed-point terms: {halp16_update:.2f} update instructions per element against SVRG-fp32's {svrg32_update:.2f}.
- **In L2** ({halp8_l2}) the float32 baselines still win: HALP-8's 1 MiB epoch costs {halp8_ns_l2:.2f} ns per element against {halp8_ns:.2f} at 400 MiB, because the per-epoch work done in Python (sampling, bit centering with its secant rule for mu, the float32 full gradient's error check) is spread over only 256 steps; and in cache SVRG-fp32's update, at {svrg32_update_loop} instructions per 64 coordinates, is cheaper than the 8-bit step's {halp8_update_loop}.
- **All cores** (HALP-8: {halp8_all_cores}; LP-SGD-8: {lpsgd8_all_cores}): Hogwild! threads for every solver. This VM has 2 vCPUs shared with other jobs; the threads table shows how noisy the second thread is (some solvers are slower on two threads than on one). The targets are stated for a many-core machine, where this project has not been measured.
- **Run to run** these ratios move on this shared VM: the same benchmarks at {repeat}, earlier the same day with the same kernels but for one compare, gave {repeat_ratios}.
"""
REASON_CELLS = "{verdict}: {speedups}, goal {goal:g}x"


def speedups(values):
    """'1.65x and 1.74x' from {size: speedup}."""
    return " and ".join(f"{v:.2f}x" for v in values.values())


def target_reasons():
    """Where each of issue 13's targets stands and why, with the figures of the tables."""
    cells = {label: REASON_CELLS.format(verdict=verdict(v.values(), goal), speedups=speedups(v),
                                        goal=goal)
             for label, v, goal in target_values()}
    ns, ns_before = epoch_ns(), epoch_ns(pinned.PERF_BEFORE)
    best = instruction_rate()[2]
    counts = loop_counts(HOT_LOOPS)
    halp8, halp16, svrg32 = counts["HALP-8"], counts["HALP-16"], counts["SVRG-fp32"]
    return [*TARGET_REASONS.format(
        halp8_fp64=cells["HALP-8 vs SVRG-fp64, out of cache"],
        lpsgd8_sgd32=cells["LP-SGD-8 vs SGD-fp32, out of cache"],
        halp8_fp32=cells["HALP-8 vs SVRG-fp32, out of cache"],
        halp16_fp32=cells["HALP-16 vs SVRG-fp32, out of cache"],
        halp8_l2=cells["HALP-8 vs SVRG-fp32, in L2"],
        halp8_all_cores=cells["HALP-8 vs SVRG-fp32, all cores, out of cache"],
        lpsgd8_all_cores=cells["LP-SGD-8 vs SGD-fp32, all cores, out of cache"],
        halp8_ns_before=ns_before[400][("halp", 8)], halp8_ns=ns[400][("halp", 8)],
        halp8_ns_l2=ns[1][("halp", 8)], svrg32_ns=ns[400][("svrg", "fp32")],
        halp8_best=ns[400][("svrg", "fp32")] / best["HALP-8"],
        halp8_instructions=per_element(halp8), halp8_update=per_element(halp8[3:]),
        halp8_anchor=per_element(halp8[:2]), halp16_update=per_element(halp16[3:]),
        svrg32_update=per_element(svrg32[3:]), svrg32_update_loop=svrg32[3][0],
        halp8_update_loop=halp8[3][0], repeat=pinned.PERF_REPEAT,
        repeat_ratios="; ".join(f"{label}: {speedups(values)}"
                                for label, values, _ in target_values(pinned.PERF_REPEAT)),
    ).splitlines(), "", source_line(perf_file(), pinned.PERF.command)]


# ---- the hot loops' changes in words ------------------------------------------------------------

THIS_ROUND = """\
This round ({now} against {before}, both measured in the tables above):

- **The step's random loads are prefetched.** Each step reads, besides its data row, the sample's label and two cached anchor values (x_i^T w~ and the loss derivative there) from arrays of n float64 values; at 400 MiB they outgrow L2, and their loads sat on the step's critical path (the loss derivative waits for them). The epoch kernels now prefetch all four, one step ahead (`halp_core.kernels.next_sample`), for every solver. {gained}'s 400 MiB epoch gained most ({gained_before} to {gained_now}, epoch table); the float baselines' steps are long enough to hide these loads already.
- **The saturation count leaves the vector pipes.** The integer-lane step clamps with min/max and counts the lanes the clamp moved with one scalar popcount of the block's 64-lane mask, instead of a vector count reduced at the end, and takes the data term's low-half carry with one unsigned compare: {halp8} instructions per {elements} coordinates instead of {halp8_before} (int8 iterates), {halp16} instead of {halp16_before} (int16), with the same integers and counts (test_int_lanes).
- **HALP's secant rule for mu** no longer re-checks its arguments every epoch (the public `bit_centering.next_mu` still does): a small saving that shows only on small problems.
"""
UPDATE = """\
**The update.** SVRG-fp32 updates {svrg32_elements} coordinates with {svrg32} instructions (four FMA chains and the stores). The 8-bit step updates {halp8_elements} coordinates with {halp8}: the two sign-extensions, the three multiplies of the move (the shrink of k, the data term's high and low halves), the carries of the dithered terms, the hash (one 16-lane 32-bit hash per 64 coordinates), the shift, the min/max clamp with its popcount, and the store. Before the integer lanes (at {before}), the float-lane update took {float_lanes} for {float_lanes_elements} and read its random values from the biased table; the 16-bit lanes pay for fresh per-coordinate random bits and unbiased fixed-point terms with twice the lanes, {cost}.

**The full gradient** of the low-precision solvers runs in float32 lanes: its dot and accumulate loops take {gradient:.2f} instructions per element of the data, against SVRG-fp32's {svrg32_gradient:.2f}, and {gradient_before:.2f} in the float64 lanes at {before}.
"""


def more_or_fewer(now, before):
    """'not with more instructions' when ``now`` <= ``before``, else 'and with N more
    instructions' (instructions per loop iteration)."""
    return "not with more instructions" if now <= before else \
        f"and with {now - before} more instruction{'s' * (now - before > 1)}"


def this_round():
    """What changed between PERF_BEFORE and PERF: the prefetches (the epoch that gained most) and
    the shorter integer-lane update (its loops at both commits)."""
    now, was = (speed_values(perf_file(c), "bench_epoch.EpochTime.time_epoch")
                for c in (pinned.PERF.commit, pinned.PERF_BEFORE))
    gained = max(EPOCH_KEYS, key=lambda k: was[(*k, 400)] / now[(*k, 400)])
    counts, before = loop_counts(HOT_LOOPS), loop_counts(HOT_LOOPS, pinned.PERF_BEFORE)
    (halp8, elements), (halp16, _) = counts["HALP-8"][3], counts["HALP-16"][3]
    return [*prose(THIS_ROUND.format(
        now=pinned.PERF.commit, before=pinned.PERF_BEFORE, gained=run_label(*gained),
        gained_before=seconds(was[(*gained, 400)]), gained_now=seconds(now[(*gained, 400)]),
        halp8=halp8, elements=elements, halp8_before=before["HALP-8"][3][0],
        halp16=halp16, halp16_before=before["HALP-16"][3][0])), "",
        instructions_note((pinned.PERF.commit, pinned.PERF_BEFORE)),
        source_line(perf_file(), pinned.PERF.command)]


def update():
    """The update's and the full gradient's loops at PERF against SVRG-fp32's and against the
    float lanes before the integer-lane step (pinned.BEFORE_INT_LANES)."""
    counts = loop_counts(HOT_LOOPS)
    halp8, svrg32 = counts["HALP-8"], counts["SVRG-fp32"]
    float_lanes = loop_counts(FLOAT_LANES, pinned.BEFORE_INT_LANES)["HALP-8"]
    return [*prose(UPDATE.format(
        svrg32=svrg32[3][0], svrg32_elements=svrg32[3][1], halp8=halp8[3][0],
        halp8_elements=halp8[3][1], before=pinned.BEFORE_INT_LANES, float_lanes=float_lanes[3][0],
        float_lanes_elements=float_lanes[3][1], cost=more_or_fewer(halp8[3][0], float_lanes[3][0]),
        gradient=per_element(halp8[:2]), svrg32_gradient=per_element(svrg32[:2]),
        gradient_before=per_element(float_lanes[:2]))), "",
        instructions_note((pinned.PERF.commit, pinned.BEFORE_INT_LANES))]


# ---- issue 26: every problem shape (docs/width-speedups/, docs/step-cost/,
# docs/time-to-accuracy/, written by the tools of the same names) -------------------------------

# Issue 26's goals: {pair label (tools/width_speedups.py): {(size_mb, d): least speedup}}; 1 MiB
# is the in-L2 case (d = 1024 only).
WIDTH_GOALS = {
    "halp-8 / svrg-fp32": {(1, 1024): 1.0, **{(s, d): g for s in (100, 400)
                                              for d, g in ((128, 1.5), (512, 2.0), (1024, 2.5),
                                                           (4096, 2.5))}},
    "lp-sgd-8 / sgd-fp32": {(s, d): g for s in (100, 400)
                            for d, g in ((128, 1.5), (512, 2.0), (1024, 2.0), (4096, 2.0))},
}
PAIR_TITLES = {"halp-8 / svrg-fp32": "HALP-8 / SVRG-fp32", "lp-sgd-8 / sgd-fp32": "LP-SGD-8 / SGD-fp32"}
STEP_SOLVERS = {"sgd-fp32": "SGD-fp32", "svrg-fp32": "SVRG-fp32", "svrg-fp64": "SVRG-fp64",
                "lp-sgd-8": "LP-SGD-8", "halp-8": "HALP-8", "halp-16": "HALP-16"}
CONTENDER_TITLES = {"halp-8": "HALP-8", "halp-16": "HALP-16", "svrg-fp32": "SVRG-fp32",
                    "svrg-fp64": "SVRG-fp64"}
PROBLEM_TITLES = {"lsq-128": "least squares, d = 128", "lsq-1024": "least squares, d = 1024",
                  "mnist": "binary MNIST, d = 784"}


def _shape_records(folder):
    """[(path, record)] of SHAPES_BEFORE and SHAPES in ``folder`` on pinned.MACHINE."""
    return [measurement(folder, pinned.MACHINE, c) for c in (pinned.SHAPES_BEFORE, pinned.SHAPES)]


def _width_rows(before, now, repeat=None):
    """Table rows of speedups per (size, d): before → now (repeat), with issue 26's goals, met
    when every after-run reaches the goal. Arguments: {(size_mb, d): {pair label: speedup}}."""
    rows = []
    for (size, d), speedups in now.items():
        cells = []
        for pair in PAIR_TITLES:
            goal = WIDTH_GOALS[pair].get((size, d))
            after = [speedups[pair]] + ([repeat[size, d][pair]] if repeat else [])
            verdict = "" if goal is None else (f", goal {goal:g}x: "
                                               + ("met" if min(after) >= goal else "not met"))
            again = f" ({repeat[size, d][pair]:.2f}x)" if repeat else ""
            cells.append(f"{before[size, d][pair]:.2f}x → {speedups[pair]:.2f}x{again}{verdict}")
        rows.append([f"{size} MiB", str(d), *cells])
    return rows


def _speedups(record):
    return {(r["size_mb"], r["d"]): r["speedup"] for r in record["rows"]}


def width_speedups():
    """Speedups over widths x sizes before and after issue 26's step changes (and a repeat of
    the after-run), with its goals: met when both after-runs reach the goal."""
    found = _shape_records(WIDTH_SPEEDUPS) + [
        measurement(WIDTH_SPEEDUPS, pinned.MACHINE, pinned.SHAPES_REPEAT)]
    before, now, repeat = (_speedups(record) for _, record in found)
    header = ["size", "d", *(f"{t}: before → now (repeat)" for t in PAIR_TITLES.values())]
    return [*table(header, _width_rows(before, now, repeat)), "",
            f"*Speedup = baseline epoch time / low-precision epoch time, interleaved "
            f"(`bench_speedup.interleaved_ratio`), single thread; before: {pinned.SHAPES_BEFORE}, "
            f"now: {pinned.SHAPES}, repeat: {pinned.SHAPES_REPEAT} (the same step kernels, "
            f"measured the same day: how far a run moves on this shared machine); a goal is met "
            f"when both after-runs reach it.*", measurement_line(pinned.MACHINE, found)]


def _step_ns(record, label, d):
    """The in-cache ns per step of ``label`` ("halp-8") at width d in a tools/step_cost.py
    record."""
    return record["ns_per_step"][label][record["widths"].index(d)]


def width_bound():
    """The bound per width: each out-of-cache shape's measured epochs (the low-precision one split
    into its full gradient and the rest) against the least epoch its instructions allow, its
    full-gradient pass as measured plus n steps at the in-cache speed of tools/step_cost.py."""
    shapes, steps = (measurement(folder, pinned.MACHINE, pinned.SHAPES)
                     for folder in (WIDTH_SPEEDUPS, STEP_COST))
    rows = []
    for row in shapes[1]["rows"]:
        for pair, title in PAIR_TITLES.items():
            low_s, base_s = row["epoch_s"][pair]
            gradient = row["full_gradient_s"][pair][0] or 0.0
            least = gradient + row["n"] * _step_ns(steps[1], pair.split(" / ")[0], row["d"]) * 1e-9
            goal = WIDTH_GOALS[pair].get((row["size_mb"], row["d"]))
            rows.append([f"{row['size_mb']} MiB", str(row["d"]), title,
                         f"{row['speedup'][pair]:.2f}x", seconds(base_s),
                         f"{seconds(low_s)} ({seconds(gradient) if gradient else 'none'})",
                         seconds(least), f"{base_s / least:.2f}x",
                         "" if goal is None else f"{goal:g}x"])
    header = ["size", "d", "pair", "speedup", "baseline epoch", "low-precision epoch (its full "
              "gradient)", "least low-precision epoch", "bound", "goal"]
    return [*table(header, rows), "",
            "*Epochs: medians of the interleaved epochs and of their full-gradient passes "
            "(`Solver.gradient_seconds`: HALP's float32 pass, or its moved-anchor pass once "
            "converged). Least epoch = that full gradient plus n steps at the "
            "in-cache speed of the same width (`tools/step_cost.py`): an instruction-bound step "
            "is no faster out of cache. Bound = baseline epoch / least epoch, the speedup left if "
            "the low-precision steps lost every memory stall.*",
            measurement_line(pinned.MACHINE, [shapes]), measurement_line(pinned.MACHINE, [steps])]


def _two_runs(before, after, caption):
    """The width table of two commits' runs (before → after), issue 26's goals judged on the
    after-run, under ``caption`` (italic, the line before the source line)."""
    found = [measurement(WIDTH_SPEEDUPS, pinned.MACHINE, c) for c in (before, after)]
    old, new = (_speedups(record) for _, record in found)
    header = ["size", "d", *(f"{t}: before → after" for t in PAIR_TITLES.values())]
    return [*table(header, _width_rows(old, new)), "", f"*{caption}*",
            measurement_line(pinned.MACHINE, found)]


def prefetch_speedups():
    """The same speedups before and after the prefetch split (wide rows' tails to L2), with
    issue 26's goals judged on the after-run."""
    return _two_runs(pinned.PREFETCH_BEFORE, pinned.PREFETCH,
                     f"As above; before: {pinned.PREFETCH_BEFORE} (every prefetched row into L1), "
                     f"after: {pinned.PREFETCH} (a row of more than `kernels.L1_ROW_LINES` lines: "
                     f"its first `kernels.L1_HEAD_LINES` into L1, the rest into L2).")


def moved_speedups():
    """The same speedups before and after HALP's moved-anchor pass."""
    return _two_runs(pinned.MOVED_BEFORE, pinned.MOVED,
                     f"As above; before: {pinned.MOVED_BEFORE} (a converged HALP epoch takes a "
                     f"float64 pass over the int8 data), after: {pinned.MOVED} (the moved-anchor "
                     f"pass, `full_gradient.moved_grad_linear`). LP-SGD's kernels did not change: "
                     f"its column shows the run-to-run spread.")


# Issue 26's float-format goals: {pair label (tools/width_speedups.py): least speedup}, at 100
# and 400 MiB with the data in the format.
FORMAT_SPEEDUP_GOALS = {"halp-bf16 / svrg-fp32": 1.5, "lp-sgd-bf16 / sgd-fp32": 1.5,
                        "halp-fp8-e4m3 / svrg-fp32": 1.2, "lp-sgd-fp8-e4m3 / sgd-fp32": 1.2}


def format_speedups():
    """The float formats' speedups before and after the fused step and the AVX512_BF16 path, with
    the bf16 path each run took and issue 26's goals (met when every size reaches it)."""
    found = [measurement(FORMAT_SPEEDUPS, pinned.MACHINE, c)
             for c in (pinned.FORMATS_BEFORE, pinned.FORMATS)]
    (_, before), (_, now) = found
    speed = [{(row["size_mb"], label): v for row in record["rows"]
              for label, v in row["speedup"].items()} for record in (before, now)]
    sizes = sorted({size for size, _ in speed[1]})
    rows = []
    for label, goal in FORMAT_SPEEDUP_GOALS.items():
        cells = [f"{speed[0][size, label]:.2f}x → {speed[1][size, label]:.2f}x" for size in sizes]
        met = all(speed[1][size, label] >= goal for size in sizes)
        rows.append([label.replace(" / ", " vs "), *cells, f"{goal:g}x",
                     "met" if met else "not met"])
    header = ["pair, data in the format", *(f"{size} MiB: before → now" for size in sizes),
              "goal", "verdict"]
    return [*table(header, rows), "",
            f"*Speedup = baseline epoch time / low-precision epoch time at d = 1024, interleaved "
            f"(`bench_speedup.interleaved_ratio`), single thread, both contenders on one copy of "
            f"the data in the format. bf16 path: before ({pinned.FORMATS_BEFORE}) "
            f"{before['bf16_path']}, now ({pinned.FORMATS}) {now['bf16_path']}.*",
            measurement_line(pinned.MACHINE, found)]


def step_costs():
    """The fixed cost and the cost per coordinate of each solver's step, before and now, and
    the ns per step at every width now."""
    found = _shape_records(STEP_COST)
    before, now = (record for _, record in found)
    rows = [[title, f"{before['fixed_ns'][k]:.1f} → {now['fixed_ns'][k]:.1f}",
             f"{before['ns_per_coordinate'][k]:.3f} → {now['ns_per_coordinate'][k]:.3f}",
             *(f"{v:.1f}" for v in now["ns_per_step"][k])] for k, title in STEP_SOLVERS.items()]
    header = ["solver", "fixed ns per step (before → now)", "ns per coordinate (before → now)",
              *(f"d = {d}" for d in now["widths"])]
    fixed8, fixed32 = now["fixed_ns"]["halp-8"], now["fixed_ns"]["svrg-fp32"]
    return [*table(header, rows), "",
            f"*The last columns: ns per step now. The 8-bit step's fixed cost is {fixed8:.1f} ns "
            f"(HALP-8) against {fixed32:.1f} ns for SVRG-fp32's step: "
            f"{fixed8 / fixed32:.2f} times it. Before ({pinned.SHAPES_BEFORE}), the coordinates "
            f"past the last 64-coordinate block took a scalar loop with a hash each, so an 8-bit "
            f"step's cost was no line in d (d = 16 and 96 cost most): its fit's fixed part is "
            f"the cost of a narrow step and its slope is meaningless.*",
            measurement_line(pinned.MACHINE, found)]


def time_cell(entry, key):
    """A time-to-accuracy cell: the time, or why there is none ("failed", "not reached")."""
    value = entry[key]
    if value is not None:
        return seconds(value)
    return "failed" if entry.get("failure") else "not reached"


def time_to_accuracy():
    """Time to f - f* <= 1e-4 and 1e-8 of ours and the fastest peer on each problem."""
    path, record = measurement(TIME_TO_ACCURACY, pinned.MACHINE, pinned.ACCURACY)
    lines = []
    for name, runs in record["problems"].items():
        peers = {k: v for k, v in runs.items() if k not in CONTENDER_TITLES}

        def speed(entry):
            return (entry["1e-08"] is None, entry["1e-08"] or math.inf, entry["1e-04"] or math.inf)

        fastest_peer = min(peers, key=lambda k: speed(peers[k]))
        shown = {**{k: runs[k] for k in CONTENDER_TITLES if k in runs},
                 fastest_peer: peers[fastest_peer]}
        rows = [[CONTENDER_TITLES.get(k, f"{k} (fastest peer)"),
                 seconds(e["seconds_per_epoch"]), time_cell(e, "1e-04"), time_cell(e, "1e-08")]
                for k, e in shown.items()]
        ours = {k: runs[k]["1e-08"] for k in ("halp-8", "halp-16")
                if runs[k]["1e-08"] is not None}
        best = min(shown, key=lambda k: speed(shown[k]))
        sentence = f"Fastest to 1e-8: {CONTENDER_TITLES.get(best, best)}."
        if ours and peers[fastest_peer]["1e-08"] is not None:
            halp = min(ours, key=ours.get)
            sentence += (f" {CONTENDER_TITLES[halp]} reaches it "
                         f"{peers[fastest_peer]['1e-08'] / ours[halp]:.1f} times as fast as "
                         f"{fastest_peer}.")
        lines += [f"**{PROBLEM_TITLES[name]}** ({runs['halp-8']['epochs']} epochs at most):", "",
                  *table(["contender", "s per epoch", "to 1e-4", "to 1e-8"], rows), "",
                  sentence, ""]
    return [*lines, "*Solver time to f - f* <= target; \"failed\": the run met halp_core's "
                    "divergence or no-progress rule (its message is in the file).*",
            measurement_line(pinned.MACHINE, [(path, record)])]


BLOCKS = (Block("speedup", speedup), Block("targets", targets),
          Block("target-reasons", target_reasons), Block("format-targets", format_targets),
          Block("format-instructions", format_instructions), Block("epoch-times", epoch_times),
          Block("bandwidth", bandwidth), Block("threads", threads),
          Block("this-round", this_round), Block("instructions", instructions),
          Block("update", update), Block("bound", bound),
          Block("width-speedups", width_speedups), Block("step-costs", step_costs),
          Block("width-bound", width_bound),
          Block("format-speedups", format_speedups),
          Block("prefetch-speedups", prefetch_speedups),
          Block("moved-speedups", moved_speedups),
          Block("time-to-accuracy", time_to_accuracy))
