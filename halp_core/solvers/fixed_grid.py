"""The low-precision inner loop on a fixed-point grid: LP-SGD, LP-SVRG and HALP with b-bit
integer iterates (docs/design.md section 4). This is the HALP inner loop.

The iterate is w = center + s k with k a b-bit integer vector (int8 for b <= 8, int16 above).
Per step i, with x_i = s_x xq_i (xq_i the integer data row) and a_i = x_i^T center (cached):
    c = l'(a_i + s_x s (xq_i . k)) - r_i,
    k <- Q_s( k - m ),  m = a lam k + (a c s_x / s) xq_i + (a / s) v    (all in units of s)
where Q_s is stochastic rounding to the b-bit grid, saturating. The three solvers differ only in
center, r and v:
    LP-SGD:  center 0, r = 0, v = 0                  -> w <- Q(w - a grad f_i(w))
    LP-SVRG: center 0, r_i = l'(x_i^T w~), v = g~ - lam w~
    HALP:    center w~, r_i = l'(x_i^T w~), v = g~   -> z <- Q(z - a(grad f_i(w~+z) - grad f_i(w~) + g~))
HALP's bit centering (s = ||g~|| / (mu (2^(b-1) - 1)), k = 0 at each epoch start) happens in
its class (halp_core.solvers.halp); the center, r and v come from the full-gradient pass.

A step runs in integer lanes (halp_core.int_lanes: int8 iterates in 16-bit lanes, int16 iterates
in 32-bit lanes; the move in fixed point, dithered per step, fresh random bits per coordinate, an
arithmetic shift and a clamp). Where it cannot (int16 data under int8 iterates, or a step too
large for the lanes) it takes the float-lane update: each coordinate's ``grids.step`` in float32
grid units (scale-free, so float32 suffices for 16-bit iterates; per-step scalars are float64).
Step t has its own key step_key(seed key, step0 + t), and every coordinate its own random bits
under it: independent per coordinate and per step.
"""

import numpy as np
from numba import njit

from .. import grids, int_lanes
from ..kernels import FAST, SAMPLE_A, SAMPLE_R, SAMPLE_Y, next_sample, vector_dot
from ..losses import dloss, softmax_minus_onehot
from ..random_bits import step_key


@njit(cache=True, fastmath=FAST, nogil=True, inline="always")
def _float_lane_step(xq, k, coef, shrink, vg, key, bounds):
    """The float-lane update of iterate row k (int8/int16, (d,)) on data row xq: every
    coordinate's ``grids.step`` with gradient term coef xq_j, in float32 grid units. Returns the
    number of saturated coordinates."""
    F = np.float32
    # The storage range; the step's result is already inside it, but clamping the int32 again
    # lets LLVM store with saturating packs (vpackssdw / vpacksswb) instead of byte shuffles.
    lo_k, hi_k = np.int32(np.iinfo(k.dtype).min), np.int32(np.iinfo(k.dtype).max)
    sat = F(0)  # counted in float32: an integer counter here halves the loop's vector width
    for j in range(k.shape[0]):
        q, _, clamped = grids.step(F(k[j]), shrink, coef * F(xq[j]), vg[j], key, j, bounds)
        k[j] = min(max(q, lo_k), hi_k)
        sat += F(1) if clamped else F(0)
    return np.int64(sat)


@njit(cache=True, fastmath=FAST, nogil=True)
def lp_epoch_linear(Xq, x_scale, S, k, s, vg, lam, alpha, idx, kind, rounding, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a linear model, in place on the integer iterate k.

    Xq (n, d) int8/int16 data, x_scale its scale; S (n, 3) float64: the per-sample table
    (``kernels.sample_table``: label y_i, cached x_i^T center a_i and anchor derivative r_i);
    k (d,) int8/int16 iterate of scale s (w = center + s k); vg (d,) float32 vector (a / s) v in
    grid units; idx (T,) int64; rounding: a ``fixed_point.make_rounding`` tuple (seed key,
    bounds); step0: global number of the first step (step t's random bits come from its key
    step_key(seed key, step0 + t)). Returns the number of saturated coordinate updates.

    Each integer-lane step also returns the next sample's dot product x_next . k
    (``int_lanes.row_step``), so only the epoch's first dot is taken on its own.
    """
    T = idx.shape[0]
    if T == 0:
        return 0
    key, bounds = rounding
    shrink = alpha * lam
    dot_scale = x_scale * s
    grid_coef = alpha * x_scale / s
    lo_q, hi_q = np.int64(bounds[0]), np.int64(bounds[1])
    K = k.reshape((1, k.shape[0]))
    VGHI, VGLO, lanes = int_lanes.epoch_lanes(vg.reshape((1, vg.shape[0])), key, step0, k,
                                                Xq[0])
    saturated = 0
    i = next_sample(idx, 0, (Xq, S))
    dot = vector_dot(Xq[i], k)
    for t in range(T):
        inext = next_sample(idx, t + 1, (Xq, S)) if t + 1 < T else i
        c = (dloss(kind, S[i, SAMPLE_A] + dot_scale * np.float64(dot), S[i, SAMPLE_Y])
             - S[i, SAMPLE_R])
        key_t = step_key(key, step0 + t)
        lanes_ok, mult, cf, thr, thr2 = int_lanes.dithers(lanes, grid_coef * c, shrink, key_t)
        if lanes_ok:
            sat_t, dot = int_lanes.row_step(K, Xq, i, inext, VGHI, VGLO, 0, lanes, mult, cf, thr,
                                            thr2, key_t, lo_q, hi_q)
        else:
            sat_t = _float_lane_step(Xq[i], k, np.float32(grid_coef * c), np.float32(shrink), vg,
                                     key_t, bounds)
            dot = vector_dot(Xq[inext], k)
        saturated += sat_t
        i = inext
    return saturated


@njit(cache=True, fastmath=FAST, nogil=True)
def lp_epoch_multinomial(Xq, x_scale, labels, KT, s, A, R, VG, lam, alpha, idx, rounding, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a multinomial model, in place on KT (C, d) integers:
    the iterate K (d, C) transposed, so that each class's row steps like a linear model.

    As lp_epoch_linear with labels (n,) int64, A, R (n, C) float64 (cached center scores and
    anchor softmax - one-hot, R = 0 for LP-SGD) and VG (d, C) in grid units. Class c of step t is
    one integer-lane step (or float-lane update) under its own key
    step_key(seed key, (step0 + t) * C + c), which also returns the next sample's dot with the
    class's new row.
    """
    T = idx.shape[0]
    if T == 0:
        return 0
    key, bounds = rounding
    C, d = KT.shape
    shrink = alpha * lam
    dot_scale = x_scale * s
    grid_coef = alpha * x_scale / s
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    dots = np.empty(C, dtype=np.int64)
    VGT = np.ascontiguousarray(VG.T)
    VGHI, VGLO, lanes = int_lanes.epoch_lanes(VGT, key, step0, KT[0], Xq[0])
    lo_q, hi_q = np.int64(bounds[0]), np.int64(bounds[1])
    saturated = 0
    i = next_sample(idx, 0, (Xq, labels, A, R))
    for c in range(C):
        dots[c] = vector_dot(Xq[i], KT[c])
    for t in range(T):
        inext = next_sample(idx, t + 1, (Xq, labels, A, R)) if t + 1 < T else i
        for c in range(C):
            scores[c] = A[i, c] + dot_scale * np.float64(dots[c])
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            coef = grid_coef * (p[c] - R[i, c])
            key_tc = step_key(key, (step0 + t) * C + c)
            lanes_ok, mult, cf, thr, thr2 = int_lanes.dithers(lanes, coef, shrink, key_tc)
            if lanes_ok:
                sat_c, dots[c] = int_lanes.row_step(KT, Xq, i, inext, VGHI, VGLO, c, lanes, mult,
                                                    cf, thr, thr2, key_tc, lo_q, hi_q)
            else:
                sat_c = _float_lane_step(Xq[i], KT[c], np.float32(coef), np.float32(shrink),
                                         VGT[c], key_tc, bounds)
                dots[c] = vector_dot(Xq[inext], KT[c])
            saturated += sat_c
        i = inext
    return saturated
