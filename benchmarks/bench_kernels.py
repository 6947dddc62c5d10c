"""Kernel micro-benchmarks: dot, axpy and the two quantizers of ``halp_core.kernels``, per dtype
(or bit width) at vector lengths whose working set sits in L1, L2, L3 or DRAM (see
``common.KERNEL_N``).

Each timed call runs the kernel ``common.kernel_reps(level)`` times inside one compiled loop
(about 2**24 elements in all), so Python's dispatch cost does not swamp L1-sized kernels:
seconds per element = time / (KERNEL_N[level] * kernel_reps(level)). The loops below are
compiled without Numba's disk cache on purpose: a cached caller would keep an old copy of an
inlined kernel when only ``halp_core`` changes between the commits being compared.
"""

import numpy as np
from numba import njit

from . import common
from .common import KERNEL_DTYPES, KERNEL_LEVELS, QUANT_BITS

_LOOPS = {}


def _loops():
    """Compile-on-demand repeat loops around the halp_core kernels (one set per process)."""
    if not _LOOPS:
        k, q = common.kernels(), common.quantizers()
        # The unchecked Numba kernels behind the checked functions (common.unchecked_kernel).
        dot, axpy = (common.unchecked_kernel(k, name) for name in ("dot", "axpy"))
        qn, qs = (common.unchecked_kernel(q, name)
                  for name in ("quantize_nearest", "quantize_stochastic"))

        @njit
        def dot_reps(a, b, reps):
            acc = 0.0
            for _ in range(reps):
                acc += dot(a, b)
            return acc

        @njit
        def axpy_reps(alpha, x, y, reps):
            for _ in range(reps):
                axpy(alpha, x, y)

        @njit
        def qn_reps(x, scale, bits, out, reps):
            sat = 0
            for _ in range(reps):
                sat += qn(x, scale, bits, out)
            return sat

        @njit
        def qs_reps(x, scale, bits, out, seed, reps):
            sat = 0
            for r in range(reps):
                sat += qs(x, scale, bits, out, seed ^ np.uint64(r))
            return sat

        _LOOPS.update(dot=dot_reps, axpy=axpy_reps, qn=qn_reps, qs=qs_reps)
    return _LOOPS


class Dot:
    """``kernels.dot(a, b)``: int8/int16 exact (int64 result), float32/float64 in their dtype."""

    params = [list(KERNEL_DTYPES), list(KERNEL_LEVELS)]
    param_names = ["dtype", "level"]
    timeout = 120
    repeat = (6, 20, 2.5)  # per round: at least 6, at most 20 samples, ~2.5 s

    def setup(self, dtype, level):
        self.a, self.b = common.kernel_vectors(dtype, level)
        self.reps = common.kernel_reps(level)
        self.loop = _loops()["dot"]
        self.loop(self.a, self.b, 1)  # compile for this dtype

    def time_dot(self, dtype, level):
        self.loop(self.a, self.b, self.reps)


class Axpy:
    """``kernels.axpy(alpha, x, y)``: y += alpha * x in place. The API defines it for float32
    and float64 only; the integer dtypes are skipped (the fixed-point update is measured by
    the quantizers and by the solvers' epochs)."""

    params = [list(KERNEL_DTYPES), list(KERNEL_LEVELS)]
    param_names = ["dtype", "level"]
    timeout = 120
    repeat = (6, 20, 2.5)  # per round: at least 6, at most 20 samples, ~2.5 s
    ALPHA = 1e-7  # small, so y stays bounded however often the benchmark runs

    def setup(self, dtype, level):
        if dtype not in ("float32", "float64"):
            raise NotImplementedError("kernels.axpy is defined for float32/float64 only")
        x, y = common.kernel_vectors(dtype, level)
        self.x, self.y = x, common.aligned(y)
        self.reps = common.kernel_reps(level)
        self.loop = _loops()["axpy"]
        self.loop(self.ALPHA, self.x, self.y, 1)

    def time_axpy(self, dtype, level):
        self.loop(self.ALPHA, self.x, self.y, self.reps)


class Quantize:
    """``fixed_point.quantize_nearest`` / ``quantize_stochastic``: float64 input to b-bit fixed point
    (int8 storage for 4 and 8 bits, int16 for 16), saturating; the scale maps +-3 standard
    deviations to the range's edge. Stochastic rounding uses a new seed on every repetition."""

    params = [list(QUANT_BITS), list(KERNEL_LEVELS)]
    param_names = ["bits", "level"]
    timeout = 120
    repeat = (6, 20, 2.5)

    def setup(self, bits, level):
        self.x = common.quantize_input(level)
        storage = np.int8 if bits <= 8 else np.int16
        self.out = common.aligned(np.empty(self.x.shape, dtype=storage))
        self.scale = common.quantize_scale(bits)
        self.reps = common.kernel_reps(level)
        loops = _loops()
        self.qn, self.qs = loops["qn"], loops["qs"]
        self.qn(self.x, self.scale, bits, self.out, 1)
        self.qs(self.x, self.scale, bits, self.out, np.uint64(1), 1)

    def time_quantize_nearest(self, bits, level):
        self.qn(self.x, self.scale, bits, self.out, self.reps)

    def time_quantize_stochastic(self, bits, level):
        self.qs(self.x, self.scale, bits, self.out, np.uint64(1), self.reps)
