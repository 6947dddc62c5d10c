"""Numba kernels of one solver epoch, and of the full-gradient pass (docs/design.md section 4).

Two families, each for linear models (w of shape (d,); least squares and binary logistic) and
for multinomial models (W of shape (d, C)):

* ``fp_epoch_*``: full precision (float32 or float64, the dtype of X and w).
  Per step i: c = l'(x_i^T w) - r_i, and w <- w - (a lam w + a c x_i + a v) (a lam is rounded to
  the dtype itself: 1 - a lam in float32 would move lam by up to 2**-24 / (a lam), 13% at
  a lam = 2e-7).
  SGD: r = 0, v = 0. SVRG: r_i = l'(x_i^T w~) cached by the full-gradient pass, v = g~ - lam w~,
  which is exactly w <- w - a (grad f_i(w) - grad f_i(w~) + g~).

* ``lp_epoch_*``: low precision. The iterate is w = center + s k with k a b-bit integer vector.
  Per step i, with x_i = s_x xq_i (xq_i the integer data row) and a_i = x_i^T center (cached):
      c = l'(a_i + s_x s (xq_i . k)) - r_i,
      k <- Q_s( k - m ),  m = a lam k + (a c s_x / s) xq_i + (a / s) v    (all in units of s)
  where Q_s is stochastic rounding to the b-bit grid, saturating. The three LP solvers differ
  only in center, r and v:
      LP-SGD:  center 0, r = 0, v = 0                  -> w <- Q(w - a grad f_i(w))
      LP-SVRG: center 0, r_i = l'(x_i^T w~), v = g~ - lam w~
      HALP:    center w~, r_i = l'(x_i^T w~), v = g~   -> z <- Q(z - a(grad f_i(w~+z) - grad f_i(w~) + g~))
  HALP's bit centering (s = ||g~|| / (mu (2^(b-1) - 1)), k = 0 at each epoch start) happens in
  the caller; see halp_core.solvers.

Both step in integer lanes (halp_core.int_lanes: int8 iterates in 16-bit lanes, int16 iterates in
32-bit lanes; the move in fixed point, dithered per step, fresh random bits per coordinate, an
arithmetic shift and a clamp; multinomial models one class row of K^T at a time). Otherwise (int16
data under int8 iterates, or a step too large for the lanes) the per-coordinate arithmetic is in the compute dtype of vg (float32 for every width), scale-free
because it is in grid units; per-step scalars are float64. That float-lane stochastic rounding is
``fixed_point._round_offset``: k + floor(u - m), whose float error is relative to the small move m,
not to |k| (so float32 suffices for 16-bit iterates). Every step t has its own key
_step_key(seed key, step0 + t), and every coordinate its own random bits under it
(fixed_point._lane_hash): independent per coordinate and per step.
"""


import threading

import numba
import numpy as np
from numba import config, njit, prange, set_num_threads

from .fixed_point import (_epoch_key as epoch_key, _lane_hash as lane_hash,
                          _lane_uniform as lane_uniform, _round_offset as round_offset,
                          _step_key as step_key)
from .float_formats import (NO_FORMAT, _data_row as data_row, _data_value as data_value,
                            _decode as decode, _encode_stochastic as encode_stochastic)
from .int_lanes import _lane_step as lane_step, _vg_lanes as vg_lanes
from .kernels import FAST, _prefetch_row as prefetch_row, _vector_dot as vector_dot
from .losses import _dloss as dloss, _softmax_minus_onehot as softmax_minus_onehot


# ---- full-gradient pass (shared by SVRG, LP-SVRG and HALP) ------------------------------------
#
# The pass is split into ``blocks`` contiguous row ranges, each summed into its own accumulator
# row by a serial kernel (``grad_rows_*``); the blocks run on ``blocks`` threads (numba prange)
# and are then added in block order, so the result depends on the block count only, never on
# thread timing. One block (the default) is the plain single-threaded pass.

FLUSH_ROWS = 256


@njit(cache=True, fastmath=FAST)
def _grad_rows_linear(X, x_scale, x_format, y, w, kind, lo, hi, a_out, r_out, acc):
    """Rows lo..hi-1 of a linear model's full gradient: a_out[i] = x_i^T w,
    r_out[i] = l'(a_i, y_i) (float64, (n,)) and acc += sum_i r_i X[i] (unscaled, (d,)).

    X (n, d) float32/float64/int8/int16, or uint16/uint8 patterns of the float format x_format
    (decoded a row at a time), with scale x_scale (x_i = x_scale * X[i]); y (n,) float64;
    w (d,) float; acc (d,) float, the dtype of the gradient. The dot products and the row sums
    run in w's dtype (float32 w: 16 int8 or float32 columns per AVX-512 vector), the sums added
    into acc every FLUSH_ROWS rows, so float32 rounding accumulates over at most that many rows.
    """
    d = X.shape[1]
    G = w.dtype.type
    part = np.zeros(d, dtype=w.dtype)   # rows summed in w's dtype, FLUSH_ROWS at a time
    decoded = np.empty(d, dtype=w.dtype)
    for i in range(lo, hi):
        xi = data_row(X, i, x_format, decoded)
        a = x_scale * np.float64(vector_dot(xi, w))
        r = dloss(kind, a, y[i])
        a_out[i] = a
        r_out[i] = r
        rc = G(r)
        for j in range(d):
            part[j] += rc * G(xi[j])
        if (i - lo + 1) % FLUSH_ROWS == 0 or i == hi - 1:
            for j in range(d):
                acc[j] += part[j]
                part[j] = 0


@njit(cache=True, fastmath=FAST)
def _grad_rows_multinomial(X, x_scale, x_format, labels, WT, lo, hi, a_out, r_out, accT):
    """Rows lo..hi-1 of multinomial logistic regression's full gradient: a_out[i] = scores,
    r_out[i] = softmax(a_i) - e_{y_i} (in r_out's dtype) and accT += r_i X[i] per class
    ((C, d), the gradient transposed).

    X (n, d) float/int or float-format patterns (x_format) with scale x_scale; labels (n,)
    int64; WT (C, d) float, the weights
    transposed, so that each class is one vectorized dot and one axpy over d; a_out, r_out (n, C).
    Rows are summed in WT's dtype and added into accT every FLUSH_ROWS rows (as the linear pass).
    """
    C, d = WT.shape
    G = WT.dtype.type
    a_scale = a_out.dtype.type(x_scale)
    part = np.zeros((C, d), dtype=WT.dtype)
    decoded = np.empty(d, dtype=WT.dtype)
    for i in range(lo, hi):
        xi = data_row(X, i, x_format, decoded)
        for c in range(C):
            a_out[i, c] = a_scale * vector_dot(xi, WT[c])
        softmax_minus_onehot(a_out[i], labels[i], r_out[i])
        for c in range(C):
            rc = G(r_out[i, c])
            for j in range(d):
                part[c, j] += rc * G(xi[j])
        if (i - lo + 1) % FLUSH_ROWS == 0 or i == hi - 1:
            for c in range(C):
                for j in range(d):
                    accT[c, j] += part[c, j]
                    part[c, j] = 0


@njit(cache=True, parallel=True)
def _grad_blocks_linear(X, x_scale, x_format, y, w, kind, a_out, r_out, acc):
    n, blocks = X.shape[0], acc.shape[0]
    for b in prange(blocks):
        _grad_rows_linear(X, x_scale, x_format, y, w, kind, b * n // blocks, (b + 1) * n // blocks,
                         a_out, r_out, acc[b])


@njit(cache=True, parallel=True)
def _grad_blocks_multinomial(X, x_scale, x_format, labels, WT, a_out, r_out, accT):
    n, blocks = X.shape[0], accT.shape[0]
    for b in prange(blocks):
        _grad_rows_multinomial(X, x_scale, x_format, labels, WT, b * n // blocks, (b + 1) * n // blocks,
                              a_out, r_out, accT[b])


@njit(cache=True, fastmath=FAST)
def _finish_grad(acc, factor, lam, w, g_out):
    """g_out = factor * (sum of acc over its first axis, in order) + lam * w, in g_out's dtype."""
    G = g_out.dtype.type
    f, lam_g = G(factor), G(lam)
    g = g_out.reshape(-1)
    ww = w.reshape(-1)
    total = acc.reshape(acc.shape[0], -1)
    for j in range(g.shape[0]):
        s = total[0, j]
        for b in range(1, total.shape[0]):
            s += total[b, j]
        g[j] = f * s + lam_g * G(ww[j])


THREADSAFE_LAYERS = ("tbb", "omp")
"""Numba threading layers that take parallel launches from several Python threads at once."""
_LAUNCH_LOCK = threading.Lock()


def _launch(kernel, *args):
    """Run the parallel=True ``kernel`` on ``args``. Numba's workqueue threading layer (what Numba
    uses where neither TBB nor OpenMP is installed, or NUMBA_THREADING_LAYER=workqueue) is not
    thread-safe: two launches from different Python threads at once abort the process. So
    launches hold one lock unless the active layer is known to be one of THREADSAFE_LAYERS (the
    layer is known after the first launch); threaded solves from several Python threads then
    take turns in the full-gradient pass under workqueue and run side by side otherwise."""
    try:
        safe = numba.threading_layer() in THREADSAFE_LAYERS
    except ValueError:   # no parallel launch yet: the layer is not chosen
        safe = False
    if safe:
        return kernel(*args)
    with _LAUNCH_LOCK:
        return kernel(*args)


def _check_blocks(blocks):
    if not 1 <= blocks <= config.NUMBA_NUM_THREADS:
        raise ValueError(f"blocks must be between 1 and {config.NUMBA_NUM_THREADS} "
                         f"(NUMBA_NUM_THREADS), got {blocks}")


def _full_grad_linear(X, x_scale, y, w, lam, kind, a_out, r_out, g_out, blocks=1,
                      x_format=NO_FORMAT):
    """Full gradient of a linear model, caching per-sample margins and loss derivatives.

    X (n, d) float32/float64/int8/int16 with scale x_scale (x_i = x_scale * X[i]), or the bit
    patterns of a float format (x_format: its float_formats.FormatParams); y (n,) float64;
    w (d,) float. Writes a_out[i] = x_i^T w, r_out[i] = l'(a_i, y_i) (float64, (n,)) and
    g_out = (1/n) sum_i r_i x_i + lam w (dtype of g_out, (d,)). blocks: row blocks summed
    separately, one thread each (see the section comment).
    """
    _check_blocks(blocks)
    n, d = X.shape
    acc = np.zeros((blocks, d), dtype=g_out.dtype)
    if blocks == 1:
        _grad_rows_linear(X, x_scale, x_format, y, w, kind, 0, n, a_out, r_out, acc[0])
    else:
        set_num_threads(blocks)
        _launch(_grad_blocks_linear, X, x_scale, x_format, y, w, kind, a_out, r_out, acc)
    _finish_grad(acc, x_scale / n, lam, w, g_out)


def _full_grad_multinomial(X, x_scale, labels, W, lam, a_out, r_out, g_out, blocks=1,
                           x_format=NO_FORMAT):
    """Full gradient of multinomial logistic regression, caching per-sample scores and
    softmax(a_i) - e_{y_i}.

    X (n, d) float/int (or float-format patterns, x_format) with scale x_scale; labels (n,)
    int64; W (d, C) float. Writes
    a_out (n, C) = scores, r_out (n, C) = softmax - one-hot (computed in r_out's dtype), g_out
    (d, C). blocks: as in _full_grad_linear.
    """
    _check_blocks(blocks)
    n = X.shape[0]
    WT = np.ascontiguousarray(W.T)
    accT = np.zeros((blocks,) + WT.shape, dtype=g_out.dtype)
    if blocks == 1:
        _grad_rows_multinomial(X, x_scale, x_format, labels, WT, 0, n, a_out, r_out, accT[0])
    else:
        set_num_threads(blocks)
        _launch(_grad_blocks_multinomial, X, x_scale, x_format, labels, WT, a_out, r_out, accT)
    _finish_grad(np.ascontiguousarray(accT.transpose(0, 2, 1)), x_scale / n, lam, W, g_out)


@njit(cache=True, inline="always")
def _prefetch_step(i, X, u, v, w):
    """Prefetch what the step on sample i reads at random: row i of the data X and of the
    per-sample arrays u, v, w (labels, cached anchor values; 1-D or 2-D, C-contiguous). Issued
    one step ahead: the scalar loads of u, v, w sit on the step's critical path (the loss
    derivative), and arrays of n float64 values outgrow L2: left to stall, they took about a
    fifth of a HALP-8 epoch at 400 MiB (docs/performance.md, "What changed")."""
    prefetch_row(X, i)
    prefetch_row(u, i)
    prefetch_row(v, i)
    prefetch_row(w, i)


# ---- full precision: SGD and SVRG ---------------------------------------------------------------

@njit(cache=True, fastmath=FAST, nogil=True)
def _fp_epoch_linear(X, y, w, r, v, lam, alpha, idx, kind):
    """One SGD/SVRG epoch on a linear model, in place on w.

    X (n, d) and w, v (d,) of one float dtype; y, r (n,) float64; idx (T,) int64 sample order.
    """
    F = w.dtype.type
    shrink = F(alpha * lam)
    av = F(alpha)
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], X, y, r, r)
        c = dloss(kind, np.float64(vector_dot(X[i], w)), y[i]) - r[i]
        coef = F(alpha * c)
        for j in range(w.shape[0]):
            w[j] -= shrink * w[j] + coef * X[i, j] + av * v[j]


@njit(cache=True, fastmath=FAST, nogil=True)
def _fp_epoch_multinomial(X, labels, W, R, V, lam, alpha, idx):
    """One SGD/SVRG epoch on a multinomial model, in place on W (d, C).

    X (n, d), W, V (d, C) and R (n, C) of one float dtype; labels (n,) int64; R: anchor
    softmax - one-hot for SVRG, zeros for SGD; idx (T,) int64.
    """
    F = W.dtype.type
    d, C = W.shape
    shrink = F(alpha * lam)
    av = F(alpha)
    scores = np.empty(C, dtype=W.dtype)
    p = np.empty(C, dtype=W.dtype)
    coef = np.empty(C, dtype=W.dtype)
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], X, labels, R, R)
        scores[:] = 0
        for j in range(d):
            x = X[i, j]
            for c in range(C):
                scores[c] += x * W[j, c]
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            coef[c] = av * (p[c] - R[i, c])
        for j in range(d):
            x = X[i, j]
            for c in range(C):
                W[j, c] -= shrink * W[j, c] + coef[c] * x + av * V[j, c]


# ---- low precision: LP-SGD, LP-SVRG, HALP ------------------------------------------------------

@njit(cache=True, fastmath=FAST, nogil=True)
def _lp_epoch_linear(Xq, x_scale, y, k, s, a, r, vg, lam, alpha, idx, kind, rounding, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a linear model, in place on the integer iterate k.

    Xq (n, d) int8/int16 data, x_scale its scale; y (n,) float64; k (d,) int8/int16 iterate of
    scale s (w = center + s k); a, r (n,) float64: cached x_i^T center and anchor derivatives;
    vg (d,) compute-dtype vector (a / s) v in grid units; idx (T,) int64; rounding: a
    ``fixed_point.make_rounding`` tuple (seed key, bounds); step0: global number of the first step
    (step t's random bits come from its key _step_key(seed key, step0 + t)). Returns the number
    of saturated coordinate updates.

    The HALP inner loop: halp_core.int_lanes' integer-lane step (int8 iterates on int8 data in
    16-bit lanes, int16 iterates in 32-bit lanes); the float-lane update below serves int16 data
    under int8 iterates and steps too large for the lanes.
    """
    F = vg.dtype.type
    key, bounds = rounding
    shrink = alpha * lam
    shrink_f = F(shrink)
    dot_scale = x_scale * s
    grid_coef = alpha * x_scale / s
    d = k.shape[0]
    # The storage range; q is already inside it, but clamping the int32 again lets LLVM store
    # with saturating packs (vpackssdw / vpacksswb) instead of byte shuffles.
    lo_k, hi_k = np.int32(np.iinfo(k.dtype).min), np.int32(np.iinfo(k.dtype).max)
    lo_q, hi_q = np.int64(bounds[0]), np.int64(bounds[1])
    vghi, vglo, vgd_max = vg_lanes(vg, epoch_key(key, step0), k, Xq[0])
    saturated = 0
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], Xq, y, a, r)
        c = dloss(kind, a[i] + dot_scale * np.float64(vector_dot(Xq[i], k)), y[i]) - r[i]
        key_t = step_key(key, step0 + t)
        sat_t = lane_step(Xq[i], k, vghi, vglo, vgd_max, grid_coef * c, shrink, key_t, lo_q, hi_q)
        if sat_t < 0:   # the float-lane update: k + floor(u - m), u from the coordinate's bits
            coef = F(grid_coef * c)
            sat = F(0)  # counted in F: an integer counter here halves the loop's vector width
            for j in range(d):
                kj = F(k[j])
                q, clamped = round_offset(kj, shrink_f * kj + coef * F(Xq[i, j]) + vg[j],
                                          F(lane_uniform(key_t, j)), bounds)
                k[j] = min(max(np.int32(q), lo_k), hi_k)
                sat += F(1) if clamped else F(0)
            sat_t = np.int64(sat)
        saturated += sat_t
    return saturated


@njit(cache=True, fastmath=FAST, nogil=True)
def _lp_epoch_multinomial(Xq, x_scale, labels, KT, s, A, R, VG, lam, alpha, idx, rounding, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a multinomial model, in place on KT (C, d) integers:
    the iterate K (d, C) transposed, so that each class's row steps like a linear model.

    As _lp_epoch_linear with labels (n,) int64, A, R (n, C) float64 (cached center scores and
    anchor softmax - one-hot, R = 0 for LP-SGD) and VG (d, C) in grid units. Class c of step t is
    one integer-lane step (or float-lane update) under its own key
    _step_key(seed key, (step0 + t) * C + c).
    """
    F = VG.dtype.type
    key, bounds = rounding
    C, d = KT.shape
    shrink = alpha * lam
    shrink_f = F(shrink)
    dot_scale = x_scale * s
    grid_coef = alpha * x_scale / s
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    VGT = np.ascontiguousarray(VG.T)
    vgd_max = 0
    vghi, vglo, _ = vg_lanes(VGT[0], epoch_key(key, step0), KT[0], Xq[0])
    VGHI = np.empty((C, vghi.shape[0]), dtype=vghi.dtype)
    VGLO = np.empty((C, vglo.shape[0]), dtype=vglo.dtype)
    for c in range(C):
        vghi, vglo, largest = vg_lanes(VGT[c], epoch_key(key, step0 * C + c), KT[c], Xq[0])
        VGHI[c] = vghi
        VGLO[c] = vglo
        vgd_max = -1 if largest < 0 or vgd_max < 0 else max(vgd_max, largest)
    lo_k, hi_k = np.int32(np.iinfo(KT.dtype).min), np.int32(np.iinfo(KT.dtype).max)  # see above
    lo_q, hi_q = np.int64(bounds[0]), np.int64(bounds[1])
    saturated = 0
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], Xq, labels, A, R)
        for c in range(C):
            scores[c] = A[i, c] + dot_scale * np.float64(vector_dot(Xq[i], KT[c]))
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            coef = grid_coef * (p[c] - R[i, c])
            key_tc = step_key(key, (step0 + t) * C + c)
            kc = KT[c]
            sat_c = lane_step(Xq[i], kc, VGHI[c], VGLO[c], vgd_max, coef, shrink, key_tc, lo_q,
                              hi_q)
            if sat_c < 0:   # the float-lane update, as in _lp_epoch_linear
                coef_f = F(coef)
                sat = F(0)
                for j in range(d):
                    kj = F(kc[j])
                    q, clamped = round_offset(kj, shrink_f * kj + coef_f * F(Xq[i, j]) + VGT[c, j],
                                              F(lane_uniform(key_tc, j)), bounds)
                    kc[j] = min(max(np.int32(q), lo_k), hi_k)
                    sat += F(1) if clamped else F(0)
                sat_c = np.int64(sat)
            saturated += sat_c
    return saturated


# ---- low precision in a float format: LP-SGD, LP-SVRG, HALP with bf16 / fp16 / fp8 iterates ----

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
        kj = decode(k[j], k_format)
        kd[j] = kj
        dot += x[j] * kj
    return dot


@njit(cache=True, fastmath=FAST, nogil=True)
def _round_row(k, k_format, kd, x, vg, shrink, coef, key):
    """One float-format step of an iterate row, in grid units:
    k_j <- SR(kd_j - (shrink kd_j + coef x_j + vg_j)) with the coordinate's random bits
    _lane_hash(key, j) (float_formats._encode_stochastic: unbiased, saturating). kd, x, vg (d,)
    float32; shrink, coef float32. Returns the number of saturated coordinates."""
    sat = np.float32(0)   # counted in float32, as in _lp_epoch_linear
    for j in range(k.shape[0]):
        kj = kd[j]
        q, clamped = encode_stochastic(kj - (shrink * kj + coef * x[j] + vg[j]),
                                       lane_hash(key, j), k_format)
        k[j] = q
        sat += np.float32(1) if clamped else np.float32(0)
    return np.int64(sat)


@njit(cache=True, fastmath=FAST, nogil=True)
def _lpf_epoch_linear(Xd, x_format, x_scale, y, k, k_format, s, a, r, vg, lam, alpha, idx, kind,
                      key, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a linear model whose iterate is stored in a float
    format: k (d,) uint16/uint8 bit patterns of k_format (float_formats.FormatParams), the
    iterate w = center + s decode(k).

    Per step i, as _lp_epoch_linear in grid units: c = l'(a_i + s_x s (x_i . k)) - r_i, then
    k <- SR(k - (a lam k + (a c s_x / s) xq_i + vg)), SR the format's stochastic rounding
    (float_formats._encode_stochastic: unbiased, saturating at the largest finite value) with
    the coordinate's 32 random bits _lane_hash(_step_key(key, step0 + t), j) (_round_row). The
    target is formed in float32 (relative error 2^-24, far below the format's 2^-(M+1)).

    Xd (n, d): fixed-point int8/int16 data or float-format patterns (x_format) with scale x_scale;
    y, a, r (n,) float64; vg (d,) float32 (a / s) v; idx (T,) int64; key: the seed key.
    Returns the number of saturated coordinate updates.
    """
    d = k.shape[0]
    x = np.empty(d, dtype=np.float32)    # the sampled row, decoded
    kd = np.empty(d, dtype=np.float32)   # the iterate, decoded once per step
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    saturated = 0
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], Xd, y, a, r)
        _decode_row(Xd, i, x_format, x)
        dot = _decode_dot(k, k_format, x, kd)
        c = dloss(kind, a[i] + dot_scale * np.float64(dot), y[i]) - r[i]
        saturated += _round_row(k, k_format, kd, x, vg, shrink, np.float32(grid_coef * c),
                                step_key(key, step0 + t))
    return saturated


@njit(cache=True, fastmath=FAST, nogil=True)
def _lpf_epoch_multinomial(Xd, x_format, x_scale, labels, KT, k_format, s, A, R, VG, lam, alpha,
                           idx, key, step0):
    """One LP-SGD / LP-SVRG / HALP epoch on a multinomial model whose iterate K (d, C) is stored
    transposed, KT (C, d), as bit patterns of k_format; each class row steps as in
    _lpf_epoch_linear with coefficient p_c - R[i, c] and the random bits of its own key
    _step_key(key, (step0 + t) C + c). labels (n,) int64; A, R (n, C) float64; VG (d, C)
    float32. Returns the number of saturated coordinate updates."""
    C, d = KT.shape
    x = np.empty(d, dtype=np.float32)
    KD = np.empty((C, d), dtype=np.float32)
    VGT = np.ascontiguousarray(VG.T)
    scores = np.empty(C, dtype=np.float64)
    p = np.empty(C, dtype=np.float64)
    shrink, dot_scale, grid_coef = _step_scalars(alpha, lam, x_scale, s)
    saturated = 0
    T = idx.shape[0]
    for t in range(T):
        i = idx[t]
        if t + 1 < T:
            _prefetch_step(idx[t + 1], Xd, labels, A, R)
        _decode_row(Xd, i, x_format, x)
        for c in range(C):
            scores[c] = A[i, c] + dot_scale * np.float64(_decode_dot(KT[c], k_format, x, KD[c]))
        softmax_minus_onehot(scores, labels[i], p)
        for c in range(C):
            saturated += _round_row(KT[c], k_format, KD[c], x, VGT[c], shrink,
                                    np.float32(grid_coef * (p[c] - R[i, c])),
                                    step_key(key, (step0 + t) * C + c))
    return saturated
