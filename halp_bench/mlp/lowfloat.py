"""LP-SGD and HALP for the MLP with weights / offsets stored in a low-precision float format
(``mlp.train(..., precision="bf16" | "fp16" | "fp8-e4m3" | "fp8-e5m2")``).

The fixed-point versions' kernel (halp_bench.mlp.lp_epoch) with each layer's K_l holding bit
patterns of the format (uint16 / uint8, halp_core.float_formats) instead of b-bit integers:
W_l = C_l + s_l decode(K_l), and every store K <- SR(K - move) is rounded stochastically by
``float_formats.encode_stochastic_value`` (unbiased, saturating at the largest finite value, which is
counted as a saturation) with coordinate (j, c)'s 32 random bits
``random_bits.lane_hash(step key, first + j q + c)``, the counters of layer 2 following layer 1's
(halp_core.grids.step). LP-SGD starts from the initial weights rounded to nearest.
The grid top of the scales is ``bit_centering.grid_top(name)`` (the largest power of two of the
format, at most 2^15): LP-SGD's s_l = SCALE_RANGE max |W_l(0)| / top, HALP's
s_l = ||G~_l|| / (mu top); HALP keeps its float32 anchor C_l.
"""

import numpy as np

from halp_core import float_formats, random_bits

from . import LowPrecisionMethod


class LowFloat(LowPrecisionMethod):
    """LP-SGD / HALP state with float-format offsets (patterns of ``self.bits``, a format name);
    ``rounding`` = (seed key, float_formats.params(name)) for mlp.lp_epoch."""

    def _grid(self, weights, seed):
        name = self.bits
        self.K = [np.zeros(W.shape, dtype=float_formats.storage_dtype(name)) for W in weights]
        self.rounding = (random_bits.seed_key(seed), float_formats.params(name))
        if self.method != "halp":
            for K, W, s in zip(self.K, self.W, self.scales):
                K[...] = float_formats.encode(W / s, name)[0]
                W[...] = s * self._offset(K)

    def _offset(self, K):
        return float_formats.decode(K, self.bits).astype(np.float32)
