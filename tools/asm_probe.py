"""Compile the solver kernels afresh (no cache, so their assembly can be read) for float32,
float64 and int8 data, and print, per kernel and signature, instruction statistics as JSON.

Run as a script by tests/halp_core/test_kernel_assembly.py with NUMBA_CACHE_DIR pointing at an empty folder.
With ``--loops`` it prints instead every vectorized loop body (a block that jumps back to itself
and uses ymm/zmm registers) with its instruction count, the figures docs/performance.md quotes:

    NUMBA_CACHE_DIR=$(mktemp -d) .venv/bin/python tools/asm_probe.py --loops
"""

import json
import re
import sys

import numpy as np

from halp_core import datasets, epochs, kernels, make_solver


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


def main():
    lsq = datasets.synthetic_least_squares(200, 64, lam=1e-2, noise=0.1, seed=0)
    multi = datasets.digits(lam=1e-3)
    for prob in (lsq, multi):
        for solver, precision, kw in [("svrg", "fp32", {}), ("svrg", "fp64", {}),
                                      ("halp", 8, {"mu": 0.1}), ("halp", 16, {"mu": 0.1}),
                                      ("lp-sgd", 8, {"scale": 0.01})]:
            make_solver(prob, solver, precision=precision, step=1e-3, **kw).run_epoch()
    for fmt in ("bf16", "fp8-e4m3"):   # a float-format iterate on data in the same format
        for prob in (datasets.synthetic_least_squares(200, 64, lam=1e-2, noise=0.1, seed=0,
                                                      data_bits=fmt),
                     datasets.digits(lam=1e-3, data_bits=fmt)):
            make_solver(prob, "halp", precision=fmt, step=1e-3).run_epoch()
    a8 = np.ones(64, dtype=np.int8)
    kernels._dot(a8, a8)
    kernels._dot(np.ones(64, np.float32), np.ones(64, np.float32))
    asms = {}
    for name in ("_fp_epoch_linear", "_lp_epoch_linear", "_grad_rows_linear",
                 "_fp_epoch_multinomial", "_lp_epoch_multinomial", "_grad_rows_multinomial",
                 "_lpf_epoch_linear", "_lpf_epoch_multinomial"):
        kernel = getattr(epochs, name)
        for sig, asm in kernel.inspect_asm().items():
            # the iterate: w (float kernels' third argument, the gradient's fourth) or k
            iterate = ("w", sig[2]) if name.startswith("_fp_") else (
                ("k", sig[3]) if name.startswith("_lp_") else
                ("k", sig[4]) if name.startswith("_lpf_") else ("w", sig[4]))
            asms[f"{name}({sig[0]}, {iterate[0]}={iterate[1]})"] = asm
    for sig, asm in kernels._dot.inspect_asm().items():
        asms[f"dot({sig[0]})"] = asm
    if "--loops" in sys.argv[1:]:
        for name, asm in asms.items():
            for label, body in vector_loops(asm):
                print(f"{name} {label}: {len(body)} instructions: "
                      + " ".join(b.split()[0] for b in body))
        return
    json.dump({name: stats(asm) for name, asm in asms.items()}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
