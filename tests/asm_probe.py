"""Compile the solver kernels afresh (no cache, so their assembly can be read) for float32,
float64 and int8 data, and print, per kernel and signature, instruction statistics as JSON.

Run as a script by tests/test_kernel_assembly.py with NUMBA_CACHE_DIR pointing at an empty folder.
"""

import json
import re
import sys

import numpy as np

from halp_core import datasets, epochs, kernels, make_solver


def stats(asm):
    return {
        "ymm_or_zmm": len(re.findall(r"%[yz]mm\d+", asm)),
        "vpmaddwd": len(re.findall(r"\bvpmaddwd\b", asm)),
        "vnni": len(re.findall(r"\bvpdpbusds?\b|\bvpdpwssds?\b", asm)),
        "vcvtps2pd": len(re.findall(r"\bvcvtps2pd\b", asm)),
        "packed_float_ops": len(re.findall(r"\bv(?:fmadd|fnmadd|fmsub|fnmsub)\d+ps\b|\bv(?:add|mul|sub)ps\b", asm)),
        "vroundps": len(re.findall(r"\bvroundps\b", asm)),
    }


def main():
    lsq = datasets.synthetic_least_squares(200, 64, lam=1e-2, noise=0.1, seed=0)
    multi = datasets.digits(lam=1e-3)
    for prob in (lsq, multi):
        for solver, precision, kw in [("svrg", "fp32", {}), ("svrg", "fp64", {}),
                                      ("halp", 8, {"mu": 0.1}), ("lp-sgd", 8, {"scale": 0.01})]:
            make_solver(prob, solver, precision=precision, step=1e-3, **kw).run_epoch()
    a8 = np.ones(64, dtype=np.int8)
    kernels.dot(a8, a8)
    kernels.dot(np.ones(64, np.float32), np.ones(64, np.float32))
    out = {}
    for name in ("fp_epoch_linear", "lp_epoch_linear", "grad_rows_linear", "fp_epoch_multinomial",
                 "lp_epoch_multinomial", "grad_rows_multinomial"):
        kernel = getattr(epochs, name)
        for sig, asm in kernel.inspect_asm().items():
            out[f"{name}({sig[0]}, w={sig[3] if 'grad_rows' in name else sig[2]})"] = stats(asm)
    for sig, asm in kernels.dot.inspect_asm().items():
        out[f"dot({sig[0]})"] = stats(asm)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
