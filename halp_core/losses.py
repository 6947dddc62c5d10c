"""Per-sample losses of the linear models (docs/design.md section 2) as scalar Numba functions.

Least squares: l(a, y) = (a - y)**2 / 2, l'(a, y) = a - y.
Binary logistic: l(a, y) = log(1 + exp(-y a)), l'(a, y) = -y / (1 + exp(y a)), y in {-1, +1}.
Multinomial logistic (softmax cross-entropy) works on a score vector a of length C:
l(a, y) = logsumexp(a) - a[y], gradient softmax(a) - e_y.

``dloss`` and ``softmax_minus_onehot`` are scalar Numba functions inlined into the epoch kernels
(the solvers' and the networks'; no argument checks, Numba code only); ``logistic_loss`` is the
NumPy loss of halp_core.problems.
"""

import math

import numpy as np
from numba import njit

LEAST_SQUARES = 0
LOGISTIC = 1


@njit(cache=True, inline="always")
def dloss(kind, a, y):
    """l'(a, y) for a linear model (float64): ``kind`` is LEAST_SQUARES or LOGISTIC."""
    if kind == LEAST_SQUARES:
        return a - y
    t = y * a
    if t > 0.0:
        e = math.exp(-t)
        return -y * e / (1.0 + e)
    return -y / (1.0 + math.exp(t))


@njit(cache=True, inline="always")
def softmax_minus_onehot(scores, label, out):
    """out = softmax(scores) - e_label (length C), computed in out's dtype (float32 or float64);
    stable for large scores."""
    T = out.dtype.type
    m = T(scores[0])
    for c in range(1, scores.shape[0]):
        m = max(m, T(scores[c]))
    total = T(0)
    for c in range(scores.shape[0]):
        e = math.exp(T(scores[c]) - m)
        out[c] = e
        total += e
    for c in range(scores.shape[0]):
        out[c] /= total
    out[label] -= T(1)


def logistic_loss(margins):
    """log(1 + exp(-m)) elementwise, stable for any m (NumPy, float64)."""
    return np.logaddexp(0.0, -margins)
