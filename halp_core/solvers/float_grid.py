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
from numba import njit

from .. import grids
from ..float_formats import data_value
from ..kernels import FAST, SAMPLE_A, SAMPLE_R, SAMPLE_Y, next_sample
from ..losses import dloss, softmax_minus_onehot
from ..random_bits import step_key


@njit(cache=True, inline="always")
def _step_scalars(alpha, lam, x_scale, s):
    """(float32 shrink alpha lam, the dot's scale s_x s, the data term's factor alpha s_x / s)
    of a float-format epoch."""
    return np.float32(alpha * lam), x_scale * s, alpha * x_scale / s


@njit(cache=True, fastmath=FAST, nogil=True)
def _decode_row(X, i, x_format, out):
    """out (d,) float32 = row i of the data X (fixed-point ints, or float-format patterns of
    x_format, decoded)."""
    for j in range(out.shape[0]):
        out[j] = data_value(X[i, j], x_format)


@njit(cache=True, fastmath=FAST, nogil=True)
def _decode_dot(k, k_format, x, kd):
    """kd (d,) float32 = the float-format iterate row k decoded; returns x . kd (float32)."""
    dot = np.float32(0)
    for j in range(k.shape[0]):
        kj = grids.value(k[j], k_format)
        kd[j] = kj
        dot += x[j] * kj
    return dot


@njit(cache=True, fastmath=FAST, nogil=True)
def _round_row(k, k_format, kd, x, vg, shrink, coef, key):
    """One float-format step of an iterate row in grid units: every coordinate's
    ``grids.step`` with gradient term coef x_j. kd, x, vg (d,) float32; shrink, coef float32.
    Returns the number of saturated coordinates."""
    sat = np.float32(0)   # counted in float32, as in the fixed-point loop
    for j in range(k.shape[0]):
        q, _, clamped = grids.step(kd[j], shrink, coef * x[j], vg[j], key, j, k_format)
        k[j] = q
        sat += np.float32(1) if clamped else np.float32(0)
    return np.int64(sat)


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
    d = k.shape[0]
    x = np.empty(d, dtype=np.float32)    # the sampled row, decoded
    kd = np.empty(d, dtype=np.float32)   # the iterate, decoded once per step
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    saturated = 0
    for t in range(idx.shape[0]):
        i = next_sample(idx, t, (Xd, S))
        _decode_row(Xd, i, x_format, x)
        dot = _decode_dot(k, k_format, x, kd)
        c = (dloss(kind, S[i, SAMPLE_A] + dot_scale * np.float64(dot), S[i, SAMPLE_Y])
             - S[i, SAMPLE_R])
        saturated += _round_row(k, k_format, kd, x, vg, shrink, np.float32(grid_coef * c),
                                step_key(key, step0 + t))
    return saturated


@njit(cache=True, fastmath=FAST, nogil=True)
def lpf_epoch_multinomial(Xd, x_format, x_scale, labels, KT, k_format, s, A, R, VG, lam, alpha,
                          idx, key, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a multinomial model whose iterate K (d, C) is stored
    transposed, KT (C, d), as bit patterns of k_format; each class row steps as in
    lpf_epoch_linear with coefficient p_c - R[i, c] and the random bits of its own key
    step_key(key, (step0 + t) C + c). labels (n,) int64; A, R (n, C) float64; VG (d, C)
    float32. Returns the number of saturated coordinate updates."""
    C, d = KT.shape
    x = np.empty(d, dtype=np.float32)
    KD = np.empty((C, d), dtype=np.float32)
    VGT = np.ascontiguousarray(VG.T)
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    saturated = 0
    for t in range(idx.shape[0]):
        i = next_sample(idx, t, (Xd, labels, A, R))
        _decode_row(Xd, i, x_format, x)
        for c in range(C):
            scores[c] = A[i, c] + dot_scale * np.float64(_decode_dot(KT[c], k_format, x, KD[c]))
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            saturated += _round_row(KT[c], k_format, KD[c], x, VGT[c], shrink,
                                    np.float32(grid_coef * (p[c] - R[i, c])),
                                    step_key(key, (step0 + t) * C + c))
    return saturated
