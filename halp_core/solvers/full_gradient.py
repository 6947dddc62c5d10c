"""The full-gradient pass of the variance-reduced solvers (SVRG, LP-SVRG, HALP; docs/design.md
section 4): g = (1/n) sum_i l'(x_i^T w, y_i) x_i + lam w, caching each sample's margin (or
scores) and loss derivative for the epoch's inner steps. Numba kernels, on float data or on the
quantized copy (int8 / int16, or a float format's patterns decoded a row at a time); and the
moved-anchor pass (``moved_grad_linear``), which updates a linear model's pass after its anchor
moved by an integer offset on a grid.
"""

import threading

import numba
import numpy as np
from numba import config, njit, prange, set_num_threads, types
from numba.extending import overload

from .. import validate
from ..float_formats import NO_FORMAT, data_row, data_value, is_top_half
from ..kernels import FAST, vector_dot
from ..losses import dloss, softmax_minus_onehot

# The pass is split into ``blocks`` contiguous row ranges, each summed into its own accumulator
# row by a serial kernel (``grad_rows_*``); the blocks run on ``blocks`` threads (numba prange)
# and are then added in block order, so the result depends on the block count only, never on
# thread timing. One block (the default) is the plain single-threaded pass.

FLUSH_ROWS = 256
# int8 * int8 products are at most 2^14 in magnitude: rows this wide sum exactly in int32.
_INT8_ROW = (1 << 17) - 1


def _row_dot(X, i, x_format, w, buf):
    """x_i . w in w's dtype (unscaled), X (n, d) data, w (d,) float; buf (d,) in w's dtype:
    a general float format's row i decoded, for ``_row_axpy``. Numba only.

    How a row is read depends on its data: a top-half format's patterns (bf16) decode in
    registers, here and again in ``_row_axpy`` (a shift: cheaper than a buffer's store and
    load); a general format's (fp16, fp8) decode once, into buf, as the dot goes; integer and
    float data are read as they are."""
    validate.numba_only("full_gradient._row_dot")


@overload(_row_dot, inline="always")
def _row_dot_impl(X, i, x_format, w, buf):
    if not (isinstance(X.dtype, types.Integer) and not X.dtype.signed):
        return lambda X, i, x_format, w, buf: vector_dot(X[i], w)
    G = w.dtype

    if is_top_half(x_format):
        def in_registers(X, i, x_format, w, buf):
            total = G(0)
            for j in range(w.shape[0]):
                total += G(data_value(X[i, j], x_format)) * w[j]
            return total
        return in_registers

    def into_buffer(X, i, x_format, w, buf):
        total = G(0)
        for j in range(w.shape[0]):
            v = G(data_value(X[i, j], x_format))
            buf[j] = v
            total += v * w[j]
        return total
    return into_buffer


def _row_axpy(X, i, x_format, r, part, buf):
    """part += r x_i (unscaled; part (d,) and r in w's dtype), reading row i as ``_row_dot`` did
    (buf: the row it decoded, for a general float format). Numba only."""
    validate.numba_only("full_gradient._row_axpy")


@overload(_row_axpy, inline="always")
def _row_axpy_impl(X, i, x_format, r, part, buf):
    G = part.dtype
    if not (isinstance(X.dtype, types.Integer) and not X.dtype.signed):
        def as_stored(X, i, x_format, r, part, buf):
            for j in range(part.shape[0]):
                part[j] += r * G(X[i, j])
        return as_stored
    if is_top_half(x_format):
        def in_registers(X, i, x_format, r, part, buf):
            for j in range(part.shape[0]):
                part[j] += r * G(data_value(X[i, j], x_format))
        return in_registers

    def from_buffer(X, i, x_format, r, part, buf):
        for j in range(part.shape[0]):
            part[j] += r * buf[j]
    return from_buffer


@njit(cache=True, fastmath=FAST)
def grad_rows_linear(X, x_scale, x_format, y, w, kind, lo, hi, a_out, r_out, acc):
    """Rows lo..hi-1 of a linear model's full gradient: a_out[i] = x_i^T w,
    r_out[i] = l'(a_i, y_i) (float64, (n,)) and acc += sum_i r_i X[i] (unscaled, (d,)).

    X (n, d) float32/float64/int8/int16, or uint16/uint8 patterns of the float format x_format
    (decoded as ``_row_dot`` says), with scale x_scale (x_i = x_scale * X[i]); y (n,) float64;
    w (d,) float; acc (d,) float, the dtype of the gradient. The dot products and the row sums
    run in w's dtype (float32 w: 16 int8 or float32 columns per AVX-512 vector), the sums added
    into acc every FLUSH_ROWS rows, so float32 rounding accumulates over at most that many rows.
    """
    d = X.shape[1]
    G = w.dtype.type
    part = np.zeros(d, dtype=w.dtype)   # rows summed in w's dtype, FLUSH_ROWS at a time
    decoded = np.empty(d, dtype=w.dtype)
    for i in range(lo, hi):
        a = x_scale * np.float64(_row_dot(X, i, x_format, w, decoded))
        r = dloss(kind, a, y[i])
        a_out[i] = a
        r_out[i] = r
        _row_axpy(X, i, x_format, G(r), part, decoded)
        if (i - lo + 1) % FLUSH_ROWS == 0 or i == hi - 1:
            for j in range(d):
                acc[j] += part[j]
                part[j] = 0


@njit(cache=True, fastmath=FAST)
def grad_rows_multinomial(X, x_scale, x_format, labels, WT, lo, hi, a_out, r_out, accT):
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


@njit(cache=True, fastmath=FAST)
def moved_rows_linear(X, x_scale, y, k, s, kind, lo, hi, a, r, acc):
    """Rows lo..hi-1 of a linear model's full gradient after its anchor moved by s k, from the
    margins and derivatives cached at the old anchor: a[i] += x_scale s (X[i] . k) (the integer
    dot is exact), r[i] = l'(a[i], y[i]) and acc += sum_i (r_new - r_old)_i X[i] (unscaled, (d,)
    float64). X (n, d) int8/int16, k (d,) int8/int16, a, r, y (n,) float64. The changes of r
    are summed in float32 lanes, FLUSH_ROWS rows at a time (float32's rounding is relative to the
    change, not to the gradient). Returns sum_i (r_new - r_old)_i^2."""
    d = X.shape[1]
    part = np.zeros(d, dtype=np.float32)
    move = x_scale * s
    change = 0.0
    narrow = X.itemsize + k.itemsize == 2 and d <= _INT8_ROW
    for i in range(lo, hi):
        if narrow:   # int8 . int8 in one int32 sum: vectorized, no per-row block views
            dot = np.int32(0)
            for j in range(d):
                dot = np.int32(dot + np.int32(X[i, j]) * np.int32(k[j]))
            a_i = a[i] + move * np.float64(dot)
        else:
            a_i = a[i] + move * np.float64(vector_dot(X[i], k))
        r_i = dloss(kind, a_i, y[i])
        dr = r_i - r[i]
        a[i] = a_i
        r[i] = r_i
        change += dr * dr
        f = np.float32(dr)
        for j in range(d):
            part[j] += f * np.float32(X[i, j])
        if (i - lo + 1) % FLUSH_ROWS == 0 or i == hi - 1:
            for j in range(d):
                acc[j] += part[j]
                part[j] = 0
    return change


@njit(cache=True, parallel=True)
def _moved_blocks_linear(X, x_scale, y, k, s, kind, a, r, acc, change):
    n, blocks = X.shape[0], acc.shape[0]
    for b in prange(blocks):
        change[b] = moved_rows_linear(X, x_scale, y, k, s, kind, b * n // blocks,
                                      (b + 1) * n // blocks, a, r, acc[b])


@njit(cache=True, parallel=True)
def _grad_blocks_linear(X, x_scale, x_format, y, w, kind, a_out, r_out, acc):
    n, blocks = X.shape[0], acc.shape[0]
    for b in prange(blocks):
        grad_rows_linear(X, x_scale, x_format, y, w, kind, b * n // blocks, (b + 1) * n // blocks,
                         a_out, r_out, acc[b])


@njit(cache=True, parallel=True)
def _grad_blocks_multinomial(X, x_scale, x_format, labels, WT, a_out, r_out, accT):
    n, blocks = X.shape[0], accT.shape[0]
    for b in prange(blocks):
        grad_rows_multinomial(X, x_scale, x_format, labels, WT, b * n // blocks, (b + 1) * n // blocks,
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


def full_grad_linear(X, x_scale, y, w, lam, kind, a_out, r_out, g_out, blocks=1,
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
        grad_rows_linear(X, x_scale, x_format, y, w, kind, 0, n, a_out, r_out, acc[0])
    else:
        set_num_threads(blocks)
        _launch(_grad_blocks_linear, X, x_scale, x_format, y, w, kind, a_out, r_out, acc)
    _finish_grad(acc, x_scale / n, lam, w, g_out)


def full_grad_multinomial(X, x_scale, labels, W, lam, a_out, r_out, g_out, blocks=1,
                           x_format=NO_FORMAT):
    """Full gradient of multinomial logistic regression, caching per-sample scores and
    softmax(a_i) - e_{y_i}.

    X (n, d) float/int (or float-format patterns, x_format) with scale x_scale; labels (n,)
    int64; W (d, C) float. Writes
    a_out (n, C) = scores, r_out (n, C) = softmax - one-hot (computed in r_out's dtype), g_out
    (d, C). blocks: as in full_grad_linear.
    """
    _check_blocks(blocks)
    n = X.shape[0]
    WT = np.ascontiguousarray(W.T)
    accT = np.zeros((blocks,) + WT.shape, dtype=g_out.dtype)
    if blocks == 1:
        grad_rows_multinomial(X, x_scale, x_format, labels, WT, 0, n, a_out, r_out, accT[0])
    else:
        set_num_threads(blocks)
        _launch(_grad_blocks_multinomial, X, x_scale, x_format, labels, WT, a_out, r_out, accT)
    _finish_grad(np.ascontiguousarray(accT.transpose(0, 2, 1)), x_scale / n, lam, W, g_out)


def moved_grad_linear(X, x_scale, y, k, s, lam, kind, a, r, g, blocks=1):
    """The full gradient of a linear model after its anchor w moved by s k, updated in place
    from its values at the old anchor: the cached margins a (n,) = x_i^T w and derivatives
    r (n,) = l'(a_i, y_i) (float64) and the gradient g (d,) float64 become those at w + s k,
    g += (x_scale / n) sum_i (r_new - r_old)_i X[i] + lam s k. X (n, d) int8/int16 with scale
    x_scale (x_i = x_scale X[i]), y (n,) float64, k (d,) int8/int16, s the scale of k.

    What HALP's anchor pass costs once the gradient needs float64 accuracy: x_i^T (s k) is an
    exact integer dot, and only the change of each derivative is summed, in float32, so the
    pass's rounding is relative to the change, not to g (docs/design.md section 4). Returns
    ||r_new - r_old||_2. blocks: row blocks summed separately, one thread each (as
    full_grad_linear).
    """
    _check_blocks(blocks)
    n, d = X.shape
    acc = np.zeros((blocks, d))
    change = np.zeros(blocks)
    if blocks == 1:
        change[0] = moved_rows_linear(X, x_scale, y, k, s, kind, 0, n, a, r, acc[0])
    else:
        set_num_threads(blocks)
        _launch(_moved_blocks_linear, X, x_scale, y, k, s, kind, a, r, acc, change)
    delta = np.empty_like(g)
    _finish_grad(acc, x_scale / n, lam, s * k.astype(np.float64), delta)
    g += delta
    return float(np.sqrt(change.sum()))
