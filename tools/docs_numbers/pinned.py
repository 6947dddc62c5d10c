"""The shipped asv runs the documents quote, declared once: machine, commit and the command that
measured them (every generated table's source line names them)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class AsvRun:
    """``.venv/bin/asv run --machine MACHINE -b 'BENCHMARKS' COMMIT^!``: one shipped run."""

    machine: str
    commit: str        # 8 hex digits, as result files are named
    benchmarks: str    # asv's -b regular expression

    @property
    def command(self):
        """The asv command line that measured the run."""
        return f".venv/bin/asv run --machine {self.machine} -b '{self.benchmarks}' {self.commit}^!"


MACHINE = "vm-znver4-avx512-vnni"
"""The machine every quoted result was measured on (results/<MACHINE>/)."""

SUITE = AsvRun(MACHINE, "5c321bec", r"^bench_(kernels|convergence|memory)\.")
"""docs/benchmarks.md's kernels, convergence and memory tables."""

PERF = AsvRun(MACHINE, "a149318d", r"^bench_(speedup|epoch|bandwidth|threads|kernels)\.[^(]*\(")
"""docs/performance.md: the solvers at this commit (the step's prefetches, the popcount, the
unsigned carry) at every precision, against PERF_BEFORE; the float formats' targets too."""

PERF_BEFORE = "923801e3"
"""main before PERF's changes (with the integer-lane step of f86b5711): the fixed-point parameters
alone, measured on the same machine on the same day as PERF."""

BEFORE_INT_LANES = "8d96dcec"
"""main before the integer-lane step (e1a1f0f) and the float32 full gradient: the float-lane update
and the float64 full gradient that docs/performance.md compares PERF's hot loops with (its loops
in docs/kernel-loops/)."""

PERF_REPEAT = "518620bb"
"""The same benchmarks on the same day at a commit between the two (the fixed-point kernels but
for one compare): how far the interleaved ratios move from run to run on this shared VM."""

HEADLINE = AsvRun(MACHINE, "065218cd",
                  r"^bench_speedup\.(Speedup|AllCoresSpeedup)\.track_speedup\(.*, (8|16), ")
"""README's headline (speedup-range, speedup-widths): the speed suites at every row width, after
issue 26 (the 8-bit step's fixed cost, the prefetch split, HALP's mu floor and moved-anchor
pass)."""

PEERS = AsvRun(MACHINE, "02afcfc1", r"^bench_peers\.")
"""README's and docs/peers.md's peers table: bench_peers with every peer in asv's environment."""

SHAPES_BEFORE = "43f67ce3"
"""main before issue 26's step changes (the fused next-row dot, the masked last block, the
per-sample table, next_sample without reference counting): docs/performance.md's "before" of the
row-width speedups and the step costs, measured on MACHINE on the same day as SHAPES."""

SHAPES = "de871231"
"""The commit those tables measure after issue 26's changes (the step's, the prefetch split,
HALP's automatic mu with its noise floor and the moved-anchor pass; docs/step-cost/ and
docs/width-speedups/ hold its files), and the bound per width."""

SHAPES_REPEAT = "6d344a70"
"""The commit before SHAPES, measured the same day: the same kernels (SHAPES adds only the
timing of each epoch's full-gradient pass, ``Solver.gradient_seconds``), so its width speedups
show how far a run moves from the next on this shared machine."""

MOVED_BEFORE = "f2f9c1f9"
"""main before HALP's moved-anchor pass (full_gradient.moved_grad_linear): once converged, every
HALP epoch took a float64 pass over the int8 data; measured on MACHINE the same day as
MOVED."""

MOVED = "de871231"
"""The commit after it (SHAPES)."""

ACCURACY = "aad930aa"
"""The commit docs/performance.md's time-to-accuracy table measured (docs/time-to-accuracy/): after
the prefetch split (PREFETCH), so the float32 and float64 baselines run at their own speed; after
HALP's automatic mu took its rounding-noise floor (halp_core.bit_centering.noise_floor) and its
first epoch the floor at curvature L_max (bit_centering.initial_mu); and with HALP's moved-anchor
pass (MOVED)."""

FORMATS_BEFORE = "d8e343d6"
"""main before the fused float-format step and the AVX512_BF16 path: the "before" of
docs/performance.md's float-format speedups (docs/format-speedups/), measured on MACHINE the same
day as FORMATS."""

FORMATS = "ea73a0a2"
"""The commit those speedups measure after: bf16 on bf16 data on halp_core.bf16_lanes (this CPU
has AVX512_BF16), the general formats' steps as before, and the full gradient reading bf16 rows
in registers and a general format's rows decoded once."""

PREFETCH_BEFORE = "33069484"
"""main with every prefetched row sent to L1 whole: the "before" of docs/performance.md's
prefetch-split speedups, measured on MACHINE the same day as PREFETCH."""

PREFETCH = "ea73a0a2"
"""The commit after it: a row of more than kernels.L1_ROW_LINES lines sends its first
kernels.L1_HEAD_LINES lines to L1 and the rest to L2 (no value changes)."""
