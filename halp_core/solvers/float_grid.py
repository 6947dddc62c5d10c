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


# Two ways through a step. A top-half format (bf16) decodes with a shift, so its step decodes in
# registers and takes the next dot on each new value (``_step_fused``, or ``bf16_lanes.row_step``
# on a CPU with AVX512_BF16): one pass over k. A general format's decoding is dear (re-biasing,
# subnormals, specials), so its step decodes each data row once into a buffer of two rows (the
# current sample's and the next one's) and each iterate row once into KD, then rounds from those
# (``_round_row``, then ``_decode_row`` and ``_decode_dot`` for the next step): three passes, a
# value decoded once.


@njit(cache=True, fastmath=FAST, nogil=True)
def _decode_row(X, i, x_format, XB, r):
    """XB[r] (float32) = row i of the data X (fixed-point ints, or float-format patterns of
    x_format, decoded)."""
    for j in range(XB.shape[1]):
        XB[r, j] = data_value(X[i, j], x_format)


@njit(cache=True, fastmath=FAST, nogil=True)
def _decode_dot(K, c, k_format, XB, r, KD):
    """KD[c] (float32) = row c of the float-format iterate K decoded; returns XB[r] . KD[c]
    (float32)."""
    dot = np.float32(0)
    for j in range(K.shape[1]):
        kj = grids.value(K[c, j], k_format)
        KD[c, j] = kj
        dot += XB[r, j] * kj
    return dot


@njit(cache=True, fastmath=FAST, nogil=True)
def _fused_dot(Xd, i, x_format, K, c, k_format):
    """x_i . k_c (float32), both decoded on the fly (the first dot of an epoch of fused steps)."""
    dot = np.float32(0)
    for j in range(K.shape[1]):
        dot += data_value(Xd[i, j], x_format) * grids.value(K[c, j], k_format)
    return dot


@njit(cache=True, fastmath=FAST, nogil=True)
def _round_row(K, c, k_format, KD, XB, r, VG, shrink, coef, key):
    """One step of row c of the iterate K from its decoded values KD[c] and the decoded data row
    XB[r]: every coordinate's ``grids.step`` with gradient term coef XB[r, j]. Returns the number
    of saturated coordinates."""
    sat = np.float32(0)   # counted in float32, as in the fixed-point loop
    for j in range(K.shape[1]):
        q, _, clamped = grids.step(KD[c, j], shrink, coef * XB[r, j], VG[c, j], key, j, k_format)
        K[c, j] = q
        sat += np.float32(1) if clamped else np.float32(0)
    return np.int64(sat)


@njit(cache=True, fastmath=FAST, nogil=True)
def _step_fused(Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key):
    """One step of row c of K on data row i, fused with the next step's dot: every coordinate's
    ``grids.step`` with gradient term coef x_ij, and x_inext . k_c taken on each new value while
    it is in registers. Returns (saturated coordinates, int64; x_inext . k_c, float32)."""
    sat = np.float32(0)
    dot = np.float32(0)
    for j in range(K.shape[1]):
        q, qv, clamped = grids.step(grids.value(K[c, j], k_format), shrink,
                                    coef * data_value(Xd[i, j], x_format), VG[c, j], key, j,
                                    k_format)
        K[c, j] = q
        sat += np.float32(1) if clamped else np.float32(0)
        dot += data_value(Xd[inext, j], x_format) * qv
    return np.int64(sat), dot


def _first_dot(Xd, i, x_format, K, c, k_format, XB, KD):
    """x_i . k_c (float32) before an epoch's first step; a general format also decodes row i
    into XB[0] and k_c into KD[c]. Numba only."""
    validate.numba_only("float_grid._first_dot")


@overload(_first_dot, inline="always")
def _first_dot_impl(Xd, i, x_format, K, c, k_format, XB, KD):
    if is_top_half(k_format):
        return (lambda Xd, i, x_format, K, c, k_format, XB, KD:
                _fused_dot(Xd, i, x_format, K, c, k_format))

    def buffered(Xd, i, x_format, K, c, k_format, XB, KD):
        if c == 0:
            _decode_row(Xd, i, x_format, XB, 0)
        return _decode_dot(K, c, k_format, XB, 0, KD)
    return buffered


def _step_row(Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key, XB, t, KD):
    """Step t's update of row c of the iterate K (float-format patterns of k_format, in place,
    grid units) on data row i, and the next step's dot: returns (the number of saturated
    coordinates, int64; X[inext] . K[c] after the step, float32). Xd (n, d): fixed-point ints or
    float-format patterns of x_format; VG (C, d) float32 (a / s) v; shrink = a lam and coef
    (float32): the factors of k and of x in grid units; key: the step key. XB (2, d), KD (C, d)
    float32: a general format's decoded rows (XB[t % 2] holds row i; class 0 decodes row inext
    into the other), unused by a top-half one. Numba only: ``bf16_lanes.row_step`` for bf16 on
    bf16 data on a CPU with AVX512_BF16, else ``_step_fused`` or the buffered passes (see
    above)."""
    validate.numba_only("float_grid._step_row")


@overload(_step_row, inline="always")
def _step_row_impl(Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key, XB, t, KD):
    if (bf16_lanes.available() and Xd.dtype == K.dtype == types.uint16
            and is_top_half(x_format) and is_top_half(k_format)):
        return (lambda Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key, XB, t, KD:
                bf16_lanes.row_step(K, Xd, i, inext, VG, c, shrink, coef, key,
                                    k_format.max_pattern))
    if is_top_half(k_format):
        return (lambda Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key, XB, t, KD:
                _step_fused(Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key))

    def buffered(Xd, i, inext, x_format, K, c, k_format, VG, shrink, coef, key, XB, t, KD):
        r = t % 2
        sat = _round_row(K, c, k_format, KD, XB, r, VG, shrink, coef, key)
        if c == 0:
            _decode_row(Xd, inext, x_format, XB, 1 - r)
        return sat, _decode_dot(K, c, k_format, XB, 1 - r, KD)
    return buffered


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
    T, d = idx.shape[0], k.shape[0]
    if T == 0:
        return 0
    K, VG = k.reshape(1, d), vg.reshape(1, d)
    XB, KD = np.empty((2, d), dtype=np.float32), np.empty((1, d), dtype=np.float32)
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    dot = _first_dot(Xd, idx[0], x_format, K, 0, k_format, XB, KD)
    saturated = 0
    for t in range(T):
        i = next_sample(idx, t, (Xd, S))
        c = (dloss(kind, S[i, SAMPLE_A] + dot_scale * np.float64(dot), S[i, SAMPLE_Y])
             - S[i, SAMPLE_R])
        sat, dot = _step_row(Xd, i, idx[min(t + 1, T - 1)], x_format, K, 0, k_format, VG,
                             shrink, np.float32(grid_coef * c), step_key(key, step0 + t), XB, t,
                             KD)
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
    C, d = KT.shape
    if T == 0:
        return 0
    VGT = np.ascontiguousarray(VG.T)
    XB, KD = np.empty((2, d), dtype=np.float32), np.empty((C, d), dtype=np.float32)
    dots = np.empty(C, dtype=np.float32)
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    for c in range(C):
        dots[c] = _first_dot(Xd, idx[0], x_format, KT, c, k_format, XB, KD)
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
                                     step_key(key, (step0 + t) * C + c), XB, t, KD)
            saturated += sat
    return saturated
