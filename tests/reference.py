"""Plain NumPy references of every Numba kernel in halp_core (no Numba here).

They follow the formulas of docs/design.md and halp_core.epochs literally, one step at a time, and use
the same counter-hash random bits, so kernel and reference can be compared exactly (integers) or to
rounding (floats).
"""

import numpy as np

M32 = np.uint64(0xFFFFFFFF)


def hash32(x):
    """lowbias32 on uint64 arrays/scalars (low 32 bits)."""
    x = np.asarray(x, dtype=np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def step_key(seed_key, step):
    s = np.uint64(step)
    return hash32(np.uint64(seed_key) ^ hash32(s ^ hash32(s >> np.uint64(32))))


RANDOM_SPAN = 1 << 14


def uniforms(key, m):
    """U[0, 1) with 24 random bits for elements 0..m-1 under ``key`` (float64)."""
    j = np.arange(m, dtype=np.uint64)
    top24 = hash32(np.uint64(key) ^ ((j * np.uint64(0x9E3779B9)) & M32)) >> np.uint64(8)
    return top24.astype(np.float64) / 2.0**24


def grid(bits):
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def round_stochastic(x, u, bits):
    """k = clamp(floor(x + u)); returns (k as int64, number clamped)."""
    lo, hi = grid(bits)
    q = np.floor(x + u)
    return np.clip(q, lo, hi).astype(np.int64), int(np.sum((q < lo) | (q > hi)))


def quantize_nearest(x, scale, bits):
    lo, hi = grid(bits)
    q = np.floor(np.asarray(x, dtype=np.float64) / scale + 0.5)
    return np.clip(q, lo, hi).astype(np.int64), int(np.sum((q < lo) | (q > hi)))


def quantize_stochastic(x, scale, bits, key):
    x = np.asarray(x, dtype=np.float64)
    k, sat = round_stochastic(x.ravel() / scale, uniforms(key, x.size), bits)
    return k.reshape(x.shape), sat


def dloss(kind, a, y):
    """l'(a, y): kind 0 least squares, 1 logistic."""
    return a - y if kind == 0 else -y / (1.0 + np.exp(y * a))


def softmax_minus_onehot(scores, label):
    p = np.exp(scores - scores.max())
    p /= p.sum()
    p[label] -= 1.0
    return p


def read_words(words):
    """Sum of uint64 words modulo 2**64 (NumPy's uint64 sum wraps the same way)."""
    return np.uint64(np.sum(words, dtype=np.uint64))


def full_grad_linear(X, x_scale, y, w, lam, kind):
    """(a, r, g): margins x_i^T w, derivatives l'(a_i), gradient (1/n) X^T r x_scale + lam w."""
    Xf = X.astype(np.float64) * x_scale
    a = Xf @ w
    r = dloss(kind, a, y)
    return a, r, Xf.T @ r / X.shape[0] + lam * w


def full_grad_multinomial(X, x_scale, labels, W, lam):
    Xf = X.astype(np.float64) * x_scale
    A = Xf @ W
    R = np.stack([softmax_minus_onehot(A[i], labels[i]) for i in range(X.shape[0])])
    return A, R, Xf.T @ R / X.shape[0] + lam * W


def fp_epoch(X, y_or_labels, w, r, v, lam, alpha, idx, kind):
    """SGD/SVRG epoch; kind 0/1 linear, 'multinomial' for W (d, C). Returns the new w (float64)."""
    w = w.astype(np.float64).copy()
    Xf = X.astype(np.float64)
    for i in idx:
        if kind == "multinomial":
            c = softmax_minus_onehot(Xf[i] @ w, y_or_labels[i]) - r[i]
            w = (1 - alpha * lam) * w - alpha * np.outer(Xf[i], c) - alpha * v
        else:
            c = dloss(kind, Xf[i] @ w, y_or_labels[i]) - r[i]
            w = (1 - alpha * lam) * w - alpha * c * Xf[i] - alpha * v
    return w


def lp_epoch(Xq, x_scale, y_or_labels, k, s, a, r, vg, lam, alpha, idx, kind, seed_key, step0,
             bits):
    """LP-SGD / LP-SVRG / HALP epoch on the integer iterate k (see halp_core.epochs).

    Random uniforms: a table of RANDOM_SPAN + k.size hashed values; step t reads the window at
    offset step_key(seed_key, t) mod RANDOM_SPAN. Returns (new k as int64, saturation count)."""
    k = k.astype(np.int64).copy()
    Xf = Xq.astype(np.float64)
    table = uniforms(seed_key, RANDOM_SPAN + k.size)
    saturated = 0
    for t, i in enumerate(idx):
        offset = int(step_key(seed_key, step0 + t)) & (RANDOM_SPAN - 1)
        if kind == "multinomial":
            scores = a[i] + x_scale * s * (Xq[i].astype(np.int64) @ k)
            c = softmax_minus_onehot(scores, y_or_labels[i]) - r[i]
            target = (1 - alpha * lam) * k - (alpha * x_scale / s) * np.outer(Xf[i], c) - vg
        else:
            dot = a[i] + x_scale * s * float(Xq[i].astype(np.int64) @ k)
            c = dloss(kind, dot, y_or_labels[i]) - r[i]
            target = (1 - alpha * lam) * k - (alpha * x_scale / s) * c * Xf[i] - vg
        q, sat = round_stochastic(target.ravel(), table[offset:offset + k.size], bits)
        saturated += sat
        k = q.reshape(k.shape)
    return k, saturated
