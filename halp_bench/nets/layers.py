"""Numba layer kernels of the networks: one sample, float32, outputs written in place.

Layers: ``conv2d_forward`` / ``conv2d_backward`` (valid cross-correlation, stride 1, through an
im2col matrix so that the inner loops run over all output positions at once),
``maxpool2x2_forward`` / ``maxpool2x2_backward`` (2x2 windows, stride 2, the argmax recorded),
``dense_forward`` / ``dense_backward``, ``relu`` / ``relu_backward`` and
``softmax_cross_entropy`` (the loss and its gradient with respect to the scores). The
convolutions run on ``im2col`` / ``col2im`` and two blocked small matrix products,
``add_matmul`` and ``add_matmul_bt``.

Conventions shared by every kernel:

* arrays are float32 and C-contiguous (the argmax int64), shapes as each docstring says; the
  kernels trust their input (the networks' Python methods validate once per minibatch);
* an optional input or output is passed as an empty array of the same number of dimensions (a
  bias of shape (0,): no bias; an input gradient of shape (0,) or (0, 0, 0): not wanted);
* ``accumulate`` (bool): False writes ``out = lin(x, W) + b``, True adds it to ``out``. The
  networks' bit-centred forms use it to start from a cached product and add two more;
* backward kernels add ``coef * gradient`` to the parameter gradients (a minibatch sums its
  samples into one vector) and overwrite the input gradient.
"""

import math

import numpy as np
from numba import njit

from halp_core.kernels import FAST


@njit(cache=True, fastmath=FAST)
def im2col(x, k, cols):
    """cols[(c, ki, kj), (r, s)] = x[c, r + ki, s + kj]: the k x k patches of x (C, H, W) as the
    columns of cols (C k k, Ho Wo), Ho = H - k + 1, Wo = W - k + 1."""
    Ho = x.shape[1] - k + 1
    Wo = x.shape[2] - k + 1
    p = 0
    for c in range(x.shape[0]):
        for ki in range(k):
            for kj in range(k):
                row = cols[p]
                for r in range(Ho):
                    src = x[c, r + ki, kj:kj + Wo]
                    dst = row[r * Wo:(r + 1) * Wo]
                    for s in range(Wo):
                        dst[s] = src[s]
                p += 1


@njit(cache=True, fastmath=FAST)
def col2im(cols, k, dx):
    """The adjoint of ``im2col``: dx (C, H, W) = the sum of every column of cols (C k k, Ho Wo)
    put back at its patch's place (dx is overwritten)."""
    Ho = dx.shape[1] - k + 1
    Wo = dx.shape[2] - k + 1
    dx[:] = 0
    p = 0
    for c in range(dx.shape[0]):
        for ki in range(k):
            for kj in range(k):
                row = cols[p]
                for r in range(Ho):
                    src = row[r * Wo:(r + 1) * Wo]
                    dst = dx[c, r + ki, kj:kj + Wo]
                    for s in range(Wo):
                        dst[s] += src[s]
                p += 1


@njit(cache=True, fastmath=FAST)
def add_matmul(A, B, out):
    """out (I, T) += A (I, K) @ B (K, T); A may be a strided view (a transpose), B and out are
    C-contiguous. Blocked: one pass over T updates four rows of out from two rows of B, eight
    multiply-adds per six loads and four stores."""
    I, K = A.shape
    T = out.shape[1]
    i = 0
    while i + 4 <= I:
        r0 = out[i]
        r1 = out[i + 1]
        r2 = out[i + 2]
        r3 = out[i + 3]
        k = 0
        while k + 2 <= K:
            b = B[k]
            c = B[k + 1]
            a0, a1, a2, a3 = A[i, k], A[i + 1, k], A[i + 2, k], A[i + 3, k]
            e0, e1, e2, e3 = A[i, k + 1], A[i + 1, k + 1], A[i + 2, k + 1], A[i + 3, k + 1]
            for t in range(T):
                bt = b[t]
                ct = c[t]
                r0[t] += a0 * bt + e0 * ct
                r1[t] += a1 * bt + e1 * ct
                r2[t] += a2 * bt + e2 * ct
                r3[t] += a3 * bt + e3 * ct
            k += 2
        if k < K:
            b = B[k]
            a0, a1, a2, a3 = A[i, k], A[i + 1, k], A[i + 2, k], A[i + 3, k]
            for t in range(T):
                bt = b[t]
                r0[t] += a0 * bt
                r1[t] += a1 * bt
                r2[t] += a2 * bt
                r3[t] += a3 * bt
        i += 4
    for i in range(i, I):
        r0 = out[i]
        for k in range(K):
            b = B[k]
            a0 = A[i, k]
            for t in range(T):
                r0[t] += a0 * b[t]


@njit(cache=True, fastmath=FAST)
def add_matmul_bt(A, B, coef, out):
    """out (I, J) += coef * A (I, T) @ B (J, T)^T: dot products of rows (A, B C-contiguous),
    two rows of A by four rows of B per pass over T (eight sums at once)."""
    I = A.shape[0]
    J = B.shape[0]
    T = A.shape[1]
    cf = np.float32(coef)
    i = 0
    while i + 2 <= I:
        a = A[i]
        e = A[i + 1]
        j = 0
        while j + 4 <= J:
            b0 = B[j]
            b1 = B[j + 1]
            b2 = B[j + 2]
            b3 = B[j + 3]
            s0 = s1 = s2 = s3 = u0 = u1 = u2 = u3 = np.float32(0)
            for t in range(T):
                at = a[t]
                et = e[t]
                s0 += at * b0[t]
                s1 += at * b1[t]
                s2 += at * b2[t]
                s3 += at * b3[t]
                u0 += et * b0[t]
                u1 += et * b1[t]
                u2 += et * b2[t]
                u3 += et * b3[t]
            out[i, j] += cf * s0
            out[i, j + 1] += cf * s1
            out[i, j + 2] += cf * s2
            out[i, j + 3] += cf * s3
            out[i + 1, j] += cf * u0
            out[i + 1, j + 1] += cf * u1
            out[i + 1, j + 2] += cf * u2
            out[i + 1, j + 3] += cf * u3
            j += 4
        for j in range(j, J):
            b0 = B[j]
            s0 = u0 = np.float32(0)
            for t in range(T):
                s0 += a[t] * b0[t]
                u0 += e[t] * b0[t]
            out[i, j] += cf * s0
            out[i + 1, j] += cf * u0
        i += 2
    if i < I:
        a = A[i]
        for j in range(J):
            b0 = B[j]
            s0 = np.float32(0)
            for t in range(T):
                s0 += a[t] * b0[t]
            out[i, j] += cf * s0


@njit(cache=True, fastmath=FAST)
def conv2d_forward(x, K, b, cols, out, accumulate):
    """out[f] (=, or += if ``accumulate``) sum_c x[c] (*) K[f, c] + b[f]: valid cross-correlation.

    x (C, H, W); K (F, C, k, k); b (F,) or (0,) for none; cols (C k k, Ho Wo) scratch; out
    (F, Ho, Wo) with Ho = H - k + 1, Wo = W - k + 1.
    """
    F = K.shape[0]
    k = K.shape[2]
    n_out = out.shape[1] * out.shape[2]
    of = out.reshape((F, n_out))
    for f in range(F):
        row = of[f]
        bias = b[f] if b.shape[0] > 0 else np.float32(0)
        if accumulate:
            for t in range(n_out):
                row[t] += bias
        else:
            for t in range(n_out):
                row[t] = bias
    im2col(x, k, cols)
    add_matmul(K.reshape((F, K.shape[1] * k * k)), cols, of)


@njit(cache=True, fastmath=FAST)
def conv2d_backward(x, K, dout, coef, gK, gb, cols, dx):
    """Gradients of ``conv2d_forward`` given dout = dL/dout (F, Ho, Wo): gK (F, C, k, k) +=
    coef dL/dK, gb (F,) += coef dL/db, and dx (C, H, W) = dL/dx unless dx is empty (0, 0, 0).
    x (C, H, W) is the forward input; cols (C k k, Ho Wo) scratch."""
    F = K.shape[0]
    k = K.shape[2]
    n_patch = K.shape[1] * k * k
    n_out = dout.shape[1] * dout.shape[2]
    cf = np.float32(coef)
    df = dout.reshape((F, n_out))
    for f in range(F):
        drow = df[f]
        total = np.float32(0)
        for t in range(n_out):
            total += drow[t]
        gb[f] += cf * total
    im2col(x, k, cols)
    add_matmul_bt(df, cols, coef, gK.reshape((F, n_patch)))
    if dx.shape[0] > 0:
        cols[:] = 0
        add_matmul(K.reshape((F, n_patch)).T, df, cols)
        col2im(cols, k, dx)


@njit(cache=True, fastmath=FAST)
def maxpool2x2_forward(a, out, arg):
    """out[c, i, j] = max of the 2x2 window a[c, 2i:2i+2, 2j:2j+2]; arg[c, i, j] (int64) = the
    flat index r * W + s in a[c] of the first maximum in row-major order. a (C, H, W) with H, W
    even; out, arg (C, H / 2, W / 2)."""
    W = a.shape[2]
    for c in range(out.shape[0]):
        for i in range(out.shape[1]):
            top = a[c, 2 * i]
            bottom = a[c, 2 * i + 1]
            for j in range(out.shape[2]):
                s = 2 * j
                best = top[s]
                where = s
                if top[s + 1] > best:
                    best = top[s + 1]
                    where = s + 1
                if bottom[s] > best:
                    best = bottom[s]
                    where = W + s
                if bottom[s + 1] > best:
                    best = bottom[s + 1]
                    where = W + s + 1
                out[c, i, j] = best
                arg[c, i, j] = 2 * i * W + where


@njit(cache=True, fastmath=FAST)
def maxpool2x2_backward(arg, dout, dx):
    """dx (C, H, W) = dL/da of ``maxpool2x2_forward``: dout (C, H / 2, W / 2) routed to each
    window's recorded argmax ``arg``, zero elsewhere (dx is overwritten)."""
    C = dx.shape[0]
    dxf = dx.reshape((C, dx.shape[1] * dx.shape[2]))
    dxf[:] = 0
    for c in range(C):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                dxf[c, arg[c, i, j]] = dout[c, i, j]


@njit(cache=True, fastmath=FAST)
def relu(z, out):
    """out = max(z, 0) elementwise; z and out of one shape (any number of dimensions)."""
    zf = z.reshape(z.size)
    of = out.reshape(out.size)
    zero = np.float32(0)
    for t in range(zf.shape[0]):
        of[t] = max(zf[t], zero)


@njit(cache=True, fastmath=FAST)
def relu_backward(z, dout, dz):
    """dz = dout where z > 0, else 0 (the gradient through ``relu`` at pre-activation z); all
    three of one shape; dz may be dout itself."""
    zf = z.reshape(z.size)
    df = dout.reshape(dout.size)
    of = dz.reshape(dz.size)
    zero = np.float32(0)
    for t in range(zf.shape[0]):
        of[t] = df[t] if zf[t] > zero else zero


@njit(cache=True, fastmath=FAST)
def dense_forward(x, W, b, out, accumulate):
    """out (=, or += if ``accumulate``) W x + b. x (m,); W (q, m); b (q,) or (0,) for none;
    out (q,)."""
    for i in range(W.shape[0]):
        row = W[i]
        total = np.float32(0)
        for j in range(x.shape[0]):
            total += row[j] * x[j]
        if b.shape[0] > 0:
            total += b[i]
        out[i] = out[i] + total if accumulate else total


@njit(cache=True, fastmath=FAST)
def dense_backward(x, W, dout, coef, gW, gb, dx):
    """Gradients of ``dense_forward`` given dout = dL/dout (q,): gW (q, m) += coef outer(dout,
    x), gb (q,) += coef dout, and dx (m,) = W^T dout unless dx is empty (0,)."""
    cf = np.float32(coef)
    for i in range(W.shape[0]):
        d = cf * dout[i]
        grow = gW[i]
        for j in range(x.shape[0]):
            grow[j] += d * x[j]
        gb[i] += d
    if dx.shape[0] > 0:
        dx[:] = 0
        for i in range(W.shape[0]):
            d = dout[i]
            row = W[i]
            for j in range(dx.shape[0]):
                dx[j] += d * row[j]


@njit(cache=True, fastmath=FAST)
def softmax_cross_entropy(scores, label, grad):
    """The cross-entropy of softmax(scores) at ``label``, logsumexp(scores) - scores[label], as a
    float64 (computed in float64, stable for any scores); unless grad is empty (0,), also writes
    grad (C,) float32 = softmax(scores) - e_label, its gradient. scores (C,) float32."""
    top = np.float64(scores[0])
    for c in range(1, scores.shape[0]):
        top = max(top, np.float64(scores[c]))
    total = 0.0
    for c in range(scores.shape[0]):
        total += math.exp(np.float64(scores[c]) - top)
    lse = top + math.log(total)
    if grad.shape[0] > 0:
        for c in range(scores.shape[0]):
            grad[c] = np.float32(math.exp(np.float64(scores[c]) - lse))
        grad[label] -= np.float32(1)
    return lse - np.float64(scores[label])
