"""How the documents write numbers and names: durations, tables, solver labels, and the
benchmarks' sizes behind per-element figures."""

import math
import textwrap

SIZES = (1, 10, 100, 400)                 # bench_epoch sizes, MiB of float32 data
ELEMENTS_PER_MB = 256 * 1024              # bench_epoch: n = 256 x size_mb rows of d = 1024
KERNEL_LENGTH = {"L1": 1024, "L2": 24576, "L3": 2 ** 20, "DRAM": 2 ** 25}   # bench_kernels
# (method, bits, baseline precision) of bench_speedup; the baseline solver is the registry's
SPEEDUP_KEYS = (("halp", 8, "fp32"), ("halp", 8, "fp64"), ("halp", 16, "fp32"),
                ("lp-sgd", 8, "fp32"))


def seconds(value):
    """A duration given in s, with three significant digits in us, ms or s; 'not reached' for inf
    (a target not reached), '—' for None or NaN (failed or skipped)."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "not reached"
    for scale, unit in ((1e-3, "us"), (1.0, "ms")):
        if value < scale:
            return f"{value / scale * 1e3:.3g} {unit}"
    return f"{value:.3g} s"


def speed(ratio):
    """'1.74x' from a track_speedup ratio (low-precision time / baseline time); 'n/a' when it was
    not measured (failed or skipped)."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    return f"{1.0 / ratio:.2f}x"


def ns_per_element(seconds_per_epoch, size_mb):
    """Nanoseconds per element of a bench_epoch epoch (given in s) on the ``size_mb`` problem."""
    return seconds_per_epoch / (size_mb * ELEMENTS_PER_MB) * 1e9


def kernel_elements(level):
    """Elements one timed bench_kernels call processes at ``level`` (n x reps)."""
    n = KERNEL_LENGTH[level]
    return n * max(1, 2 ** 24 // n)


def prose(text, width=99):
    """Markdown prose as lines of at most ``width`` characters (the documents' prose wraps before
    column 100; a longer word stays whole): each line of ``text`` is a paragraph or a list item
    ("- ", its next lines indented by two spaces); blank lines stay."""
    lines = []
    for line in text.splitlines():
        indent = "  " if line.startswith("- ") else ""
        lines += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                               break_on_hyphens=False) or [""]
    return lines


def table(header, rows):
    """A markdown table: a list of lines, one per row after the header and its rule."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def run_label(solver, precision):
    """Display name of a solver run from the registry's label, e.g. "HALP-8", "SVRG-fp32"."""
    from halp_bench.reproduce import title

    return title(solver, precision)


def speedup_pairs():
    """[(label, (method, bits, baseline precision))] of SPEEDUP_KEYS, e.g.
    ("HALP-8 / SVRG-fp32", ("halp", 8, "fp32"))."""
    from halp_core import registry

    return [(f"{run_label(m, b)} / {run_label(registry.spec(m).baseline, p)}", (m, b, p))
            for m, b, p in SPEEDUP_KEYS]
