"""Where the documents' numbers come from: the shipped asv results (every read of a result file
goes through ``load_results``), the machine files beside them, the instruction counts of
``tools/asm_probe.py`` and the folders of the other measurements under docs/."""

import importlib
from dataclasses import dataclass

from halp_bench import asv_results
from halp_bench.files import FileFormatError, read_json

from tools.docs_numbers.engine import ROOT

RESULTS = ROOT / "results"
REPRODUCTION = ROOT / "docs" / "reproduction"
"""The reproduction sample (python -m halp_bench.reproduce --quick --out docs/reproduction)."""
FULL = REPRODUCTION / "full"
"""The full-size run's convex outputs (all 50000 MNIST rows)."""
BITS = ROOT / "docs" / "bits"
"""The bit requirement (python -m halp_bench.bits)."""
LOSS_SCALING = ROOT / "docs" / "loss-scaling"
"""The loss-scaling measurement (python -m halp_bench.mlp.scaling --out docs/loss-scaling)."""
KERNEL_LOOPS = ROOT / "docs" / "kernel-loops"
"""Hot-loop instruction counts per commit (tools/asm_probe.py --loops --out)."""
STEP_COST = ROOT / "docs" / "step-cost"
"""ns per inner step over row widths, per machine and commit (tools/step_cost.py --out)."""
WIDTH_SPEEDUPS = ROOT / "docs" / "width-speedups"
"""Speedups over widths x sizes, per machine and commit (tools/width_speedups.py --out)."""
FORMAT_SPEEDUPS = ROOT / "docs" / "format-speedups"
"""The float formats' speedups, per machine and commit (tools/width_speedups.py --formats --out)."""
TIME_TO_ACCURACY = ROOT / "docs" / "time-to-accuracy"
"""Time to f - f* <= target, ours and the peers, per machine and commit
(tools/time_to_accuracy.py --out)."""


@dataclass(frozen=True)
class ResultFile:
    """What the documents quote of one asv result file.

    values: {benchmark: {tuple of parameter values: result}}, None failed, NaN skipped, +inf a
    target not reached; invalid: {benchmark: {parameter tuple: the value as stored}} of values the
    format calls invalid (a non-finite number other than a target not reached); param_count:
    {benchmark: number of parameters}; cpu: the cpu field the run recorded (None if it did not);
    commit: the commit's first 8 hex digits; env: asv's environment name; seconds: asv's
    per-benchmark durations and setup-cache times summed, in s."""

    values: dict
    invalid: dict
    param_count: dict
    cpu: object
    commit: str
    env: str
    seconds: float


def load_results(path):
    """The one door to asv result files in this tool: ``path`` read by the format's reader
    (``halp_bench.asv_results``) into a ResultFile. FileFormatError (ResultFileError) naming the
    file when it cannot be read."""
    found = asv_results.load_strict(path)
    values, invalid = {}, {}
    for name, bench in found.benchmarks.items():
        for combo, m in bench.measurements:
            key = tuple(asv_results.parse_param(r) for r in combo)
            if m.status == asv_results.INVALID:
                invalid.setdefault(name, {})[key] = m.raw
            values.setdefault(name, {})[key] = None if m.status == asv_results.FAILED else m.value
    seconds = sum(b.duration or 0 for b in found.benchmarks.values())
    return ResultFile(values, invalid,
                      {name: len(b.params) for name, b in found.benchmarks.items()},
                      found.run.get("cpu"), found.commit[:8], found.env,
                      seconds + sum(found.durations.values()))


def result_file(run):
    """The shipped result file of ``run`` (a pinned.AsvRun, or (machine, commit)) in its
    virtualenv environment."""
    machine, commit = (run.machine, run.commit) if hasattr(run, "machine") else run
    found = sorted((RESULTS / machine).glob(f"{commit}-virtualenv*.json"))
    if len(found) != 1:
        raise FileFormatError(f"{RESULTS / machine}: expected one virtualenv result file of "
                              f"{commit}, found {len(found)}")
    return found[0]


def machine_results(machine):
    """Every shipped result file of ``machine``, sorted by name."""
    return sorted((RESULTS / machine).glob("*-*.json"))


def asv_values(path, benchmark):
    """{tuple of parameter values: result} of one benchmark in an asv result file: None failed,
    NaN skipped, +inf a target not reached. FileFormatError naming the file when it has no such
    benchmark or a value is invalid: the docs never quote one."""
    results = load_results(path)
    if benchmark not in results.values:
        raise FileFormatError(f"{path}: no results of {benchmark}")
    for key, raw in results.invalid.get(benchmark, {}).items():
        raise FileFormatError(f"{path}: {benchmark}{key} holds {raw!r}, not a finite number: an "
                              "invalid result")
    return results.values[benchmark]


def width_values(path, benchmark):
    """{(parameters..., d): result} of a bench_speedup or bench_epoch benchmark (its row width d
    is the last parameter): files measured before the width was a parameter read as d = EPOCH_D
    (benchmarks/common.py)."""
    from benchmarks.common import EPOCH_D

    module, cls, _ = benchmark.split(".")
    names = getattr(importlib.import_module(f"benchmarks.{module}"), cls).param_names
    values = asv_values(path, benchmark)
    if load_results(path).param_count[benchmark] == len(names):
        return values
    return {(*k, EPOCH_D): v for k, v in values.items()}


def speed_values(path, benchmark):
    """{parameters without d: result} of a bench_speedup or bench_epoch benchmark at d = EPOCH_D,
    the width measured at every size (what the tables keyed by size show)."""
    from benchmarks.common import EPOCH_D

    return {k[:-1]: v for k, v in width_values(path, benchmark).items() if k[-1] == EPOCH_D}


def machine_label(machine):
    """'machine `vm-znver4-avx512-vnni` (AMD EPYC, 2 logical CPUs, znver4, ...)': the name and the
    cpu field of results/<machine>/machine.json (``halp_bench.machine.cpu_description()``'s form:
    model, CPU count, LLVM CPU, ISA, BLAS kernel type, or what of them was not recorded)."""
    found = asv_results.read_machine(RESULTS / machine)
    info = found[0] if found else {}
    if not info.get("cpu"):
        raise FileFormatError(f"{RESULTS / machine / 'machine.json'}: no cpu field")
    return f"machine `{machine}` ({info['cpu']})"


SOURCE_LINE = "*Generated by `./run docs` from `{path}` (`{command}`), {machine}.*"


def source_line(path, command):
    """The italic line under a generated table that says where its numbers come from: the machine
    is the result file's folder, described by the cpu field the file itself recorded (machine.json
    holds the latest run's, and a folder's runs may differ in what they recorded, e.g. the BLAS
    kernels)."""
    cpu = load_results(path).cpu
    label = f"machine `{path.parent.name}` ({cpu})" if cpu else machine_label(path.parent.name)
    return SOURCE_LINE.format(path=path.relative_to(ROOT), command=command, machine=label)


def kernel_loops(commit):
    """The hot loops ``tools/asm_probe.py --loops --out`` recorded at ``commit``
    (docs/kernel-loops/<commit>.json): {"commit", "llvm_cpu", "instruction_set", "cpu",
    "command", "loops": {kernel signature: {loop label: {"instructions", "opcodes"}}}}."""
    path = KERNEL_LOOPS / f"{commit}.json"
    record = read_json(path)
    if record.get("commit") != commit:
        raise FileFormatError(f"{path}: records commit {record.get('commit')!r}, not {commit}")
    return record


def measurement(folder, machine, commit):
    """The record a measuring tool (tools/step_cost.py, width_speedups.py, time_to_accuracy.py)
    wrote for ``machine`` at ``commit``: folder/<machine>-<commit>.json, which must say it
    measured that commit."""
    path = folder / f"{machine}-{commit}.json"
    record = read_json(path)
    if record.get("commit") != commit:
        raise FileFormatError(f"{path}: records commit {record.get('commit')!r}, not {commit}")
    if not record.get("cpu"):
        raise FileFormatError(f"{path}: no cpu field")
    return path, record


MEASUREMENT_LINE = ("*Generated by `./run docs` from {paths}, written by `{command} --out` on "
                    "machine `{machine}` ({cpu}) on {date}.*")


def measurement_line(machine, found):
    """The italic source line under a table made from measurement records ``found`` [(path,
    record)] of one machine and one tool."""
    paths = ", ".join(f"`{path.relative_to(ROOT)}`" for path, _ in found)
    cpu = " / ".join(dict.fromkeys(record["cpu"] for _, record in found))
    date = " and ".join(dict.fromkeys(record["date"] for _, record in found))
    return MEASUREMENT_LINE.format(paths=paths, command=found[0][1]["command"], machine=machine,
                                   cpu=cpu, date=date)
