"""Plain NumPy float64 twins of halp_bench.nets.layers and halp_bench.nets.cnn, written
independently of the kernels (sliding windows and einsum instead of im2col; whole arrays instead
of loops), for the tests to compare against and to take finite differences of."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIDE, KERNEL, CONV1, CONV2, FC1, FC2 = 28, 5, 6, 16, 120, 84


def conv2d(x, K, b):
    """Valid cross-correlation: x (C, H, W), K (F, C, k, k), b (F,) or None -> (F, Ho, Wo)."""
    k = K.shape[2]
    windows = sliding_window_view(x, (k, k), axis=(1, 2))      # (C, Ho, Wo, k, k)
    out = np.einsum("chwij,fcij->fhw", windows, K)
    return out if b is None else out + b[:, None, None]


def conv2d_grads(x, K, dout):
    """(dL/dK, dL/db, dL/dx) of ``conv2d`` given dout = dL/dout (F, Ho, Wo)."""
    k = K.shape[2]
    Ho, Wo = dout.shape[1:]
    windows = sliding_window_view(x, (k, k), axis=(1, 2))
    gK = np.einsum("fhw,chwij->fcij", dout, windows)
    dx = np.zeros(x.shape)
    for ki in range(k):
        for kj in range(k):
            dx[:, ki:ki + Ho, kj:kj + Wo] += np.einsum("fhw,fc->chw", dout, K[:, :, ki, kj])
    return gK, dout.sum(axis=(1, 2)), dx


def _windows(a):
    """a (C, H, W) -> (C, H/2, W/2, 4): each 2x2 window's entries in row-major order."""
    C, H, W = a.shape
    return a.reshape(C, H // 2, 2, W // 2, 2).transpose(0, 1, 3, 2, 4).reshape(C, H // 2,
                                                                               W // 2, 4)


def maxpool(a):
    """(out, arg): 2x2 max-pool of a (C, H, W) and the flat index in a[c] of each window's first
    maximum."""
    win = _windows(a)
    first = win.argmax(axis=3)
    i, j = np.indices(first.shape[1:])
    arg = (2 * i + first // 2) * a.shape[2] + 2 * j + first % 2
    return win.max(axis=3), arg


def maxpool_grad(arg, dout, shape):
    """dL/da (``shape``) of ``maxpool`` given dout: each window's gradient at its argmax."""
    dx = np.zeros((shape[0], shape[1] * shape[2]))
    np.put_along_axis(dx, arg.reshape(shape[0], -1), dout.reshape(shape[0], -1), axis=1)
    return dx.reshape(shape)


def relu(z):
    return np.maximum(z, 0.0)


def relu_grad(z, dout):
    return np.where(z > 0, dout, 0.0)


def dense(x, W, b):
    return W @ x if b is None else W @ x + b


def dense_grads(x, W, dout):
    """(dL/dW, dL/db, dL/dx) of ``dense``."""
    return np.outer(dout, x), dout.copy(), W.T @ dout


def softmax_ce(scores, label):
    """(loss, dloss/dscores) of softmax cross-entropy."""
    s = scores - scores.max()
    p = np.exp(s) / np.exp(s).sum()
    loss = np.log(np.exp(s).sum()) - s[label]
    grad = p.copy()
    grad[label] -= 1.0
    return loss, grad


def layers(w, classes):
    """The flat parameter vector w as [(weights, bias)] of conv1, conv2, fc1, fc2, fc3."""
    shapes = [((CONV1, 1, KERNEL, KERNEL), CONV1), ((CONV2, CONV1, KERNEL, KERNEL), CONV2),
              ((FC1, CONV2 * 16), FC1), ((FC2, FC1), FC2), ((classes, FC2), classes)]
    out, start = [], 0
    for shape, n_bias in shapes:
        n = int(np.prod(shape))
        out.append((w[start:start + n].reshape(shape), w[start + n:start + n + n_bias]))
        start += n + n_bias
    assert start == w.size, (start, w.size)
    return out


def network(w, image, label, classes=10):
    """(tape, loss, prediction, grad) of one image: tape = [z1, z2, z3, z4, z5] flattened
    (float64), grad the loss gradient (P,) float64."""
    (K1, b1), (K2, b2), (W3, b3), (W4, b4), (W5, b5) = layers(np.asarray(w, np.float64), classes)
    x = np.asarray(image, np.float64)[None]
    z1 = conv2d(x, K1, b1)
    p1, arg1 = maxpool(relu(z1))
    z2 = conv2d(p1, K2, b2)
    p2, arg2 = maxpool(relu(z2))
    z3 = dense(p2.ravel(), W3, b3)
    z4 = dense(relu(z3), W4, b4)
    z5 = dense(relu(z4), W5, b5)
    loss, d5 = softmax_ce(z5, label)
    gW5, gb5, d4 = dense_grads(relu(z4), W5, d5)
    gW4, gb4, d3 = dense_grads(relu(z3), W4, relu_grad(z4, d4))
    gW3, gb3, dp2 = dense_grads(p2.ravel(), W3, relu_grad(z3, d3))
    d2 = relu_grad(z2, maxpool_grad(arg2, dp2.reshape(p2.shape), z2.shape))
    gK2, gb2, dp1 = conv2d_grads(p1, K2, d2)
    d1 = relu_grad(z1, maxpool_grad(arg1, dp1, z1.shape))
    gK1, gb1, _ = conv2d_grads(x, K1, d1)
    tape = np.concatenate([z.ravel() for z in (z1, z2, z3, z4, z5)])
    grad = np.concatenate([a.ravel() for a in (gK1, gb1, gK2, gb2, gW3, gb3, gW4, gb4, gW5,
                                               gb5)])
    return tape, loss, int(np.argmax(z5)), grad


def batch(w, X, y, idx, classes=10):
    """(tapes (b, L), losses (b,), correct (b,), summed gradient (P,)) over images idx."""
    runs = [network(w, X[i], y[i], classes) for i in idx]
    tapes = np.array([r[0] for r in runs])
    losses = np.array([r[1] for r in runs])
    correct = np.array([float(r[2] == y[i]) for r, i in zip(runs, idx)])
    return tapes, losses, correct, np.sum([r[3] for r in runs], axis=0)
