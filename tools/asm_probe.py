"""Compile the solver kernels afresh (no cache, so their assembly can be read) for float32,
float64 and int8 data, and print, per kernel and signature, instruction statistics as JSON.

Run as a script by tests/halp_core/test_kernel_assembly.py with NUMBA_CACHE_DIR pointing at an empty folder.
With ``--loops`` it prints instead every vectorized loop body (a block that jumps back to itself
and uses ymm/zmm registers) with its instruction count; with ``--loops --out FILE`` it writes
them as JSON (``loop_record``), the counts docs/performance.md quotes
(``docs/kernel-loops/<commit>.json``, read by ``tools/docs_numbers/performance.py``):

    NUMBA_CACHE_DIR=$(mktemp -d) .venv/bin/python tools/asm_probe.py --loops
    NUMBA_CACHE_DIR=$(mktemp -d) .venv/bin/python tools/asm_probe.py --loops \
        --out docs/kernel-loops/$(git rev-parse --short=8 HEAD).json

An older commit's loops are recorded with that commit's ``halp_core`` first on the path (a folder
holding only a link to it, so that the rest comes from this checkout); the probe reads the kernels
of either layout (``kernel_layout``) and the record names the commit the kernels came from:

    git clone -q . /tmp/old && git -C /tmp/old checkout -q COMMIT
    mkdir /tmp/old-path && ln -s /tmp/old/halp_core /tmp/old-path/halp_core
    NUMBA_CACHE_DIR=$(mktemp -d) PYTHONPATH=/tmp/old-path:$PWD .venv/bin/python tools/asm_probe.py \
        --loops --out docs/kernel-loops/COMMIT.json
"""

import argparse
import importlib
import inspect
import json
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from halp_core import datasets, kernels, make_solver

EPOCHS_MODULE_KERNELS = ("_fp_epoch_linear", "_lp_epoch_linear", "_grad_rows_linear",
                         "_fp_epoch_multinomial", "_lp_epoch_multinomial", "_grad_rows_multinomial",
                         "_lpf_epoch_linear", "_lpf_epoch_multinomial")
"""The epoch kernels of commits before ``halp_core.solvers`` became a package, by the names they
had in their one module ``halp_core.epochs`` (the float-format ones from when they existed), and
the dot kernel's name there: how the records of those commits name them. No such module exists
since."""
EPOCHS_MODULE_DOT = "_dot"
ITERATES = {"w": "w", "W": "w", "WT": "w", "k": "k", "K": "k", "KT": "k"}
"""A kernel's iterate argument, by its parameter name, and the letter a record names it by."""


def kernel_layout():
    """(epoch kernels, the dot kernel, whether float-format kernels are among them) of the
    halp_core imported: the solver families' public kernels (``halp_core.solvers.*``), or, in a
    checkout from before that package (no ``halp_core.solvers.fixed_grid``, a ``halp_core.epochs``
    module), EPOCHS_MODULE_KERNELS."""
    try:
        from halp_core.solvers import fixed_grid, float_grid, full_gradient, full_precision
    except ImportError:
        if find_spec("halp_core.epochs") is None:
            raise
        epochs = importlib.import_module("halp_core.epochs")
        found = tuple(getattr(epochs, name) for name in EPOCHS_MODULE_KERNELS
                      if hasattr(epochs, name))
        return (found, getattr(kernels, EPOCHS_MODULE_DOT),
                hasattr(epochs, EPOCHS_MODULE_KERNELS[-1]))
    return ((full_precision.fp_epoch_linear, fixed_grid.lp_epoch_linear,
             full_gradient.grad_rows_linear, full_precision.fp_epoch_multinomial,
             fixed_grid.lp_epoch_multinomial, full_gradient.grad_rows_multinomial,
             float_grid.lpf_epoch_linear, float_grid.lpf_epoch_multinomial),
            kernels.dot_kernel, True)


def signature_name(kernel, sig):
    """'fp_epoch_linear(array(float32, 2d, C), w=array(float32, 1d, C))': a compiled signature
    ``sig`` of ``kernel`` named by its data (first argument) and its iterate (ITERATES)."""
    params = list(inspect.signature(kernel.py_func).parameters)
    at = next(i for i, p in enumerate(params) if p in ITERATES)
    return f"{kernel.py_func.__name__}({sig[0]}, {ITERATES[params[at]]}={sig[at]})"


def stats(asm):
    return {
        "ymm_or_zmm": len(re.findall(r"%[yz]mm\d+", asm)),
        "zmm": len(re.findall(r"%zmm\d+", asm)),
        "vpmaddwd": len(re.findall(r"\bvpmaddwd\b", asm)),
        "vnni": len(re.findall(r"\bvpdpbusds?\b|\bvpdpwssds?\b", asm)),
        "vcvtps2pd": len(re.findall(r"\bvcvtps2pd\b", asm)),
        "packed_float_ops": len(re.findall(r"\bv(?:fmadd|fnmadd|fmsub|fnmsub)\d+ps\b|\bv(?:add|mul|sub)ps\b", asm)),
        "vroundps": len(re.findall(r"\bvroundps\b", asm)),
        # integer-lane step (halp_core.int_lanes): 16-bit lanes for int8 iterates (word multiplies
        # and arithmetic shifts), 32-bit lanes for int16 ones (dword shifts)
        "word_lane_ops": len(re.findall(r"\bvpmullw\b|\bvpsraw\b", asm)),
        "dword_shifts": len(re.findall(r"\bvpsrad\b", asm)),
        # float formats (halp_core.float_formats): bit patterns in 32-bit lanes (halp_core.u32),
        # never 64-bit multiplies
        "dword_multiplies": len(re.findall(r"\bvpmulld\b", asm)),
        "qword_multiplies": len(re.findall(r"\bvpmullq\b", asm)),
        # bf16 on bf16 data with AVX512_BF16 (halp_core.bf16_lanes): the dot on vdpbf16ps
        "bf16_dots": len(re.findall(r"\bvdpbf16ps\b", asm)),
        "vector_loops": [len(body) for _, body in vector_loops(asm)],
        # epoch kernels prefetch the next step's data row (a loop) and its per-sample values
        "prefetches": len(re.findall(r"\bprefetch\w*\b", asm)),
    }


def vector_loops(asm):
    """[(label, instructions)] of every loop body in ``asm`` that is one basic block jumping back
    to its own label and uses ymm/zmm registers (LLVM's vectorized loops)."""
    lines = [line.strip() for line in asm.splitlines()]
    loops = []
    for start, line in enumerate(lines):
        label = re.match(r"^(\.LBB\d+_\d+):", line)
        if not label:
            continue
        body = []
        for inner in lines[start + 1:]:
            if re.match(r"^\.LBB\d+_\d+:", inner):
                break
            if inner and not inner.startswith((".", "#")):
                body.append(inner.split("#")[0].strip())
            if re.match(r"^j\w+\s+" + re.escape(label.group(1)) + r"$", body[-1] if body else ""):
                if any(re.search(r"%[yz]mm", b) for b in body):
                    loops.append((label.group(1), body))
                break
    return loops


def checkout_commit(package):
    """The 8-digit commit of the git checkout ``package`` (an imported package) was loaded from;
    RuntimeError when that checkout is not a git repository or its files differ from the commit
    (the counts would belong to no commit)."""
    folder = Path(package.__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit, changed = git("rev-parse", "--short=8", "HEAD"), git("status", "--porcelain", ".")
    except (OSError, subprocess.CalledProcessError) as err:
        raise RuntimeError(f"{folder}: not a git checkout, so its commit is unknown ({err})") from err
    if changed:
        raise RuntimeError(f"{folder} differs from commit {commit}:\n{changed}\ncommit first")
    return commit


def loop_record(asms, command):
    """The hot loops of ``asms`` ({kernel signature: assembly}) as one JSON-ready record: the
    commit and CPU they were compiled at and for, the command, and per kernel signature and loop
    label the instruction count and the opcodes in order (space-separated)."""
    import halp_core
    from halp_bench.machine import ISA_NAMES, cpu_description, instruction_set, llvm_cpu

    return {"commit": checkout_commit(halp_core), "llvm_cpu": llvm_cpu(),
            "instruction_set": ISA_NAMES[instruction_set()], "cpu": cpu_description(),
            "command": command,
            "loops": {name: {label: {"instructions": len(body),
                                     "opcodes": " ".join(b.split()[0] for b in body)}
                             for label, body in vector_loops(asm)}
                      for name, asm in asms.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", action="store_true",
                        help="every vectorized loop body with its instruction count")
    parser.add_argument("--out", type=Path,
                        help="with --loops: write the loops to this JSON file instead")
    args = parser.parse_args(argv)
    if args.out and not args.loops:
        parser.error("--out writes the loops: give --loops with it")
    lsq = datasets.synthetic_least_squares(200, 64, lam=1e-2, noise=0.1, seed=0)
    multi = datasets.digits(lam=1e-3)
    for prob in (lsq, multi):
        for solver, precision, kw in [("svrg", "fp32", {}), ("svrg", "fp64", {}),
                                      ("halp", 8, {"mu": 0.1}), ("halp", 16, {"mu": 0.1}),
                                      ("lp-sgd", 8, {"scale": 0.01})]:
            make_solver(prob, solver, precision=precision, step=1e-3, **kw).run_epoch()
    epoch_kernels, dot_kernel, formats = kernel_layout()
    if formats:
        for fmt in ("bf16", "fp8-e4m3"):   # a float-format iterate on data in the same format
            for prob in (datasets.synthetic_least_squares(200, 64, lam=1e-2, noise=0.1, seed=0,
                                                          data_bits=fmt),
                         datasets.digits(lam=1e-3, data_bits=fmt)):
                make_solver(prob, "halp", precision=fmt, step=1e-3).run_epoch()
    a8 = np.ones(64, dtype=np.int8)
    dot_kernel(a8, a8)
    dot_kernel(np.ones(64, np.float32), np.ones(64, np.float32))
    asms = {signature_name(kernel, sig): asm
            for kernel in epoch_kernels for sig, asm in kernel.inspect_asm().items()}
    for sig, asm in dot_kernel.inspect_asm().items():
        asms[f"dot({sig[0]})"] = asm
    if args.out:
        command = "tools/asm_probe.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(loop_record(asms, command), indent=1) + "\n")
        return
    if args.loops:
        for name, asm in asms.items():
            for label, body in vector_loops(asm):
                print(f"{name} {label}: {len(body)} instructions: "
                      + " ".join(b.split()[0] for b in body))
        return
    json.dump({name: stats(asm) for name, asm in asms.items()}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
