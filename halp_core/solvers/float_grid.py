"""The low-precision inner loop with the iterate stored in a float format (bf16, fp16, fp8;
docs/design.md sections 3 and 4): LP-SGD, LP-SVRG and HALP whose k holds the format's bit
patterns, the iterate w = center + s decode(k).

Per step i, as the fixed-point loop (halp_core.solvers.fixed_grid) in grid units:
c = l'(a_i + s_x s (x_i . k)) - r_i, then every coordinate's ``grids.step``,
k <- SR(k - (a lam k + (a c s_x / s) x_i + vg)), SR the format's stochastic rounding (unbiased,
saturating at the largest finite value) with the coordinate's 32 random bits
lane_hash(step_key(key, step0 + t), j). The target is formed in float32 (relative error 2^-24,
far below the format's 2^-(M+1)).
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from .. import bf16_lanes, grids, validate
from ..float_formats import data_value, is_top_half
from ..kernels import FAST, SAMPLE_A, SAMPLE_R, SAMPLE_Y, next_sample
from ..losses import dloss, softmax_minus_onehot
from ..random_bits import step_key


@njit(cache=True, inline="always")
def _step_scalars(alpha, lam, x_scale, s):
    """(float32 shrink alpha lam, the dot's scale s_x s, the data term's factor alpha s_x / s)
    of a float-format epoch."""
    return np.float32(alpha * lam), x_scale * s, alpha * x_scale / s


@njit(cache=True, fastmath=FAST, nogil=True)
def _row_dot(Xd, i, x_format, K, c, k_format):
    """x_i . k_c (float32): row i of the data Xd (fixed-point ints, or float-format patterns of
    x_format) against row c of the iterate K (patterns of k_format), both decoded on the fly."""
    dot = np.float32(0)
    for j in range(K.shape[1]):
        dot += data_value(Xd[i, j], x_format) * grids.value(K[c, j], k_format)
    return dot


def _step_row(Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key):
    """``_step_row_general``, or on a CPU with AVX512_BF16 for a bf16 iterate on bf16 data,
    ``bf16_lanes.row_step`` (the same step and random bits; vdpbf16ps for the dot). Numba only."""
    validate.numba_only("float_grid._step_row")


@overload(_step_row, inline="always")
def _step_row_impl(Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key):
    if (bf16_lanes.available() and Xd.dtype == K.dtype == types.uint16
            and is_top_half(x_format) and is_top_half(k_format)):
        return (lambda Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key:
                bf16_lanes.row_step(K, Xd, i, inext, vg, c, shrink, coef, key,
                                    k_format.max_pattern))
    return (lambda Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key:
            _step_row_general(Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key))


@njit(cache=True, fastmath=FAST, nogil=True)
def _step_row_general(Xd, i, inext, x_format, K, c, k_format, vg, shrink, coef, key):
    """One float-format step of row c of the iterate K (in place, grid units) on data row i,
    fused with the next step's dot: every coordinate's ``grids.step`` with gradient term
    coef x_ij, and x_inext . k_c taken on each new value while it is in registers, so a step
    reads k once. Xd (n, d) data as in ``_row_dot``; K (C, d) patterns of k_format; vg (C, d)
    float32; shrink, coef float32; key: the step key. Returns (the number of saturated
    coordinates, int64; x_inext . k_c after the step, float32)."""
    sat = np.float32(0)   # counted in float32, as in the fixed-point loop
    dot = np.float32(0)
    for j in range(K.shape[1]):
        q, qv, clamped = grids.step(grids.value(K[c, j], k_format), shrink,
                                    coef * data_value(Xd[i, j], x_format), vg[c, j], key, j,
                                    k_format)
        K[c, j] = q
        sat += np.float32(1) if clamped else np.float32(0)
        dot += data_value(Xd[inext, j], x_format) * qv
    return np.int64(sat), dot


@njit(cache=True, fastmath=FAST, nogil=True)
def lpf_epoch_linear(Xd, x_format, x_scale, S, k, k_format, s, vg, lam, alpha, idx, kind, key,
                     step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a linear model whose iterate is stored in a float
    format: k (d,) uint16/uint8 bit patterns of k_format (float_formats.params).

    Xd (n, d): fixed-point int8/int16 data or float-format patterns (x_format) with scale x_scale;
    S (n, 3) float64: the per-sample table (``kernels.sample_table``: y_i, a_i, r_i); vg (d,)
    float32 (a / s) v; idx (T,) int64; key: the seed key; step0: the global number of the first
    step. Returns the number of saturated coordinate updates.
    """
    T = idx.shape[0]
    if T == 0:
        return 0
    K = k.reshape(1, k.shape[0])
    VG = vg.reshape(1, vg.shape[0])
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    dot = _row_dot(Xd, idx[0], x_format, K, 0, k_format)
    saturated = 0
    for t in range(T):
        i = next_sample(idx, t, (Xd, S))
        c = (dloss(kind, S[i, SAMPLE_A] + dot_scale * np.float64(dot), S[i, SAMPLE_Y])
             - S[i, SAMPLE_R])
        sat, dot = _step_row(Xd, i, idx[min(t + 1, T - 1)], x_format, K, 0, k_format, VG,
                             shrink, np.float32(grid_coef * c), step_key(key, step0 + t))
        saturated += sat
    return saturated


@njit(cache=True, fastmath=FAST, nogil=True)
def lpf_epoch_multinomial(Xd, x_format, x_scale, labels, KT, k_format, s, A, R, VG, lam, alpha,
                          idx, key, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a multinomial model whose iterate K (d, C) is stored
    transposed, KT (C, d), as bit patterns of k_format; each class row steps as in
    lpf_epoch_linear with coefficient p_c - R[i, c] and the random bits of its own key
    step_key(key, (step0 + t) C + c). labels (n,) int64; A, R (n, C) float64; VG (d, C)
    float32. Returns the number of saturated coordinate updates."""
    T = idx.shape[0]
    C = KT.shape[0]
    if T == 0:
        return 0
    VGT = np.ascontiguousarray(VG.T)
    dots = np.empty(C, dtype=np.float32)
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    for c in range(C):
        dots[c] = _row_dot(Xd, idx[0], x_format, KT, c, k_format)
    saturated = 0
    for t in range(T):
        i = next_sample(idx, t, (Xd, labels, A, R))
        for c in range(C):
            scores[c] = A[i, c] + dot_scale * np.float64(dots[c])
        softmax_minus_onehot(scores, labels[i], p)
        inext = idx[min(t + 1, T - 1)]
        for c in range(C):
            sat, dots[c] = _step_row(Xd, i, inext, x_format, KT, c, k_format, VGT, shrink,
                                     np.float32(grid_coef * (p[c] - R[i, c])),
                                     step_key(key, (step0 + t) * C + c))
            saturated += sat
    return saturated
