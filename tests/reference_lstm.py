"""Plain NumPy float64 twins of halp_bench.nets.lstm's kernels: one sentence's forward pass (the
tape's fields, the loss, the correct count) and its gradient by backpropagation through time,
written from the equations of the module docstring and nothing else of the kernels."""

import numpy as np


def unpack(w, vocab, embed, hidden, n_tags):
    """(E, Wx, Wh, b, Wo, bo) of the flat parameter vector w (layout of lstm.py): views of w when
    it is float64, else of a float64 copy."""
    w = np.asarray(w, dtype=np.float64)
    shapes = [(vocab, embed), (embed, 4 * hidden), (hidden, 4 * hidden), (4 * hidden,),
              (hidden, n_tags), (n_tags,)]
    cuts = np.cumsum([int(np.prod(shape)) for shape in shapes])
    assert cuts[-1] == w.shape[0]
    return tuple(part.reshape(shape) for part, shape in zip(np.split(w, cuts[:-1]), shapes))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gates(z, H):
    """(i, f, g, o) of the pre-activations z (4H,)."""
    return sigmoid(z[:H]), sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sigmoid(z[3 * H:])


def forward(w, words, tags, dims):
    """One sentence at w: (loss = mean cross-entropy, correct tokens, fields) with fields a dict of
    per-token arrays x (n, E), z (n, 4H), c (n, H), h (n, H), s (n, C); dims (vocab, embed,
    hidden, n_tags)."""
    E, Wx, Wh, b, Wo, bo = unpack(w, *dims)
    H = dims[2]
    n = len(words)
    f = {k: [] for k in "xzchs"}
    h, c = np.zeros(H), np.zeros(H)
    loss, correct = 0.0, 0
    for t in range(n):
        x = E[words[t]]
        z = x @ Wx + h @ Wh + b
        i, fg, g, o = gates(z, H)
        c = fg * c + i * g
        h = o * np.tanh(c)
        s = h @ Wo + bo
        m = s.max()
        loss += m + np.log(np.exp(s - m).sum()) - s[tags[t]]
        correct += int(np.argmax(s) == tags[t])
        for k, v in zip("xzchs", (x, z, c, h, s)):
            f[k].append(v)
    return loss / n, correct, {k: np.array(v) for k, v in f.items()}


def gradient(w, words, tags, dims):
    """Gradient (P,) float64 of one sentence's mean cross-entropy at w, by BPTT."""
    E, Wx, Wh, b, Wo, bo = unpack(w, *dims)
    H = dims[2]
    n = len(words)
    _, _, f = forward(w, words, tags, dims)
    grad = np.zeros(np.asarray(w).shape[0])
    gE, gWx, gWh, gb, gWo, gbo = unpack(grad, *dims)   # views: writes land in grad
    dh_next, dc_next = np.zeros(H), np.zeros(H)
    for t in reversed(range(n)):
        z, c, h, s = f["z"][t], f["c"][t], f["h"][t], f["s"][t]
        c_prev = f["c"][t - 1] if t else np.zeros(H)
        h_prev = f["h"][t - 1] if t else np.zeros(H)
        p = np.exp(s - s.max())
        p /= p.sum()
        p[tags[t]] -= 1
        p /= n
        gbo += p
        gWo += np.outer(h, p)
        dh = dh_next + Wo @ p
        i, fg, g, o = gates(z, H)
        tc = np.tanh(c)
        dc = dc_next + dh * o * (1 - tc ** 2)
        dz = np.concatenate((dc * g * i * (1 - i), dc * c_prev * fg * (1 - fg),
                             dc * i * (1 - g ** 2), dh * tc * o * (1 - o)))
        gb += dz
        gWx += np.outer(f["x"][t], dz)
        gWh += np.outer(h_prev, dz)
        gE[words[t]] += Wx @ dz
        dh_next, dc_next = Wh @ dz, dc * fg
    return grad


def loss(w, words, tags, dims):
    """One sentence's mean cross-entropy at w (float64)."""
    return forward(w, words, tags, dims)[0]
