"""A small multilayer perceptron trained on the CPU with SGD (float32), LP-SGD and HALP: the
nonconvex evidence of the reproduction (halp_bench.reproduce).

Model: x (d,) -> h = relu(W1^T [x; 1]) (H,) -> scores W2^T [h; 1] (C,), softmax cross-entropy, plus
(lam / 2) ||W||^2 on every parameter (biases included). W1 has shape (d + 1, H) and W2 (H + 1, C):
the last row of each is the bias. Weights are float32 and initialised Glorot-uniform from the seed.

Methods (one epoch = T = n per-sample steps):

* ``sgd``  : W <- W - alpha grad f_i(W), float32.
* ``lp-sgd``: each layer's W = s_l K_l with K_l b-bit integers on a fixed grid; the update
  K <- Q(K - (alpha / s_l) grad f_i(W)) is rounded stochastically. Default s_l: the grid covers
  SCALE_RANGE times the layer's largest initial weight.
* ``halp`` : bit centering per layer. Each epoch takes the full gradient G~ at the anchor W~ (float32),
  sets the layer's scale s_l = ||G~_l|| / (mu (2^(b-1) - 1)) (halp_core.bit_centering.grid_scale)
  and the offset K_l = 0, runs the SVRG
  steps K <- Q(K - (alpha / s_l)(grad f_i(W~ + s K) - grad f_i(W~) + G~)), then W~ <- W~ + s K.
  mu is a parameter (no strong convexity here to bound it).

A learning-rate schedule (halp_core.schedules) sets each epoch's step: every step of epoch e
(0-based) uses alpha_e = alpha * factor(e), HALP's (alpha_e / s_l) G~ term included.

The per-sample loops are Numba kernels (``sgd_epoch``, ``lp_epoch``); full-data passes (the full
gradient, loss and accuracy) are float32 matrix products in NumPy. Data: the problem's X (the
dequantized b-bit data when the problem has ``data_bits``) as float32.

Float formats (docs/loss-scaling.md): ``precision="fp16"`` etc. stores LP-SGD's / HALP's offsets
as that format's bit patterns (``.lowfloat``; halp_core.grids steps them); ``grad_format`` with
``loss_scaling`` passes SGD's backpropagated gradients through a format (``.scaling``).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from halp_core import (
    bit_centering, fixed_point, grids, registry, schedules, solvers, trajectory, validate)
from halp_core.kernels import FAST
from halp_core.losses import softmax_minus_onehot
from halp_core.random_bits import step_key
from halp_core.solvers import divergence
from halp_core.problems import Multinomial

METHODS = ("sgd", "lp-sgd", "halp")
"""The registry solvers (halp_core.registry) the MLP has its own version of; a method's data passes
per epoch follow its registry entry (``variance_reduced``)."""
HISTORY_COLUMNS = ("epoch", "passes", "seconds", "train_loss", "val_accuracy", "saturations")
SCALE_RANGE = 4.0


# ---- Numba kernels ---------------------------------------------------------------------------

@njit(cache=True, fastmath=FAST)
def forward_backward(xa, label, W1, W2, z1, h, d1, d2, scores, p):
    """One sample's forward and backward pass, in place.

    xa (d + 1,) float32: the input with a trailing 1; label: int; W1 (d + 1, H), W2 (H + 1, C)
    float32. Writes z1 (H,) pre-activations, h (H + 1,) activations with h[H] = 1, d2 (C,) =
    softmax - one-hot (the score gradient), d1 (H,) = (W2[:H] d2) * (z1 > 0); scores, p (C,)
    float64 scratch. The sample's gradients are outer(xa, d1) for W1 and outer(h, d2) for W2.
    """
    H = z1.shape[0]
    C = d2.shape[0]
    z1[:] = 0
    for j in range(xa.shape[0]):
        x = xa[j]
        if x != 0:
            for c in range(H):
                z1[c] += x * W1[j, c]
    for c in range(H):
        h[c] = max(z1[c], z1.dtype.type(0))
    h[H] = 1
    scores[:] = 0.0
    for c in range(H + 1):
        for k in range(C):
            scores[k] += h[c] * W2[c, k]
    softmax_minus_onehot(scores, label, p)
    for k in range(C):
        d2[k] = p[k]
    for c in range(H):
        back = z1.dtype.type(0)
        if z1[c] > 0:
            for k in range(C):
                back += W2[c, k] * d2[k]
        d1[c] = back


def scratch_buffers(W1, W2):
    """Per-step buffers of forward_backward for weights W1 (d + 1, H), W2 (H + 1, C)."""
    H, C = W2.shape[0] - 1, W2.shape[1]
    f32 = np.float32
    return (np.empty(W1.shape[0], f32), np.empty(H, f32), np.empty(H + 1, f32), np.empty(H, f32),
            np.empty(C, f32), np.empty(C), np.empty(C))


@njit(cache=True, fastmath=FAST)
def sgd_epoch(X, labels, W1, W2, lam, alpha, idx, xa, z1, h, d1, d2, scores, p):
    """One float32 SGD epoch in place on W1, W2. X (n, d) float32; labels (n,) int64; idx (T,)
    int64 sample order; the rest are ``scratch_buffers``."""
    shrink = np.float32(alpha * lam)   # not 1 - alpha lam: see halp_core.epochs
    a = np.float32(alpha)
    for t in range(idx.shape[0]):
        sample_pass(X, labels, idx[t], W1, W2, xa, z1, h, d1, d2, scores, p)
        sgd_update(W1, W2, xa, h, d1, d2, shrink, a)


@njit(cache=True, fastmath=FAST, inline="always")
def sample_pass(X, labels, i, W1, W2, xa, z1, h, d1, d2, scores, p):
    """Sample i's forward and backward pass: xa = [X[i]; 1], then ``forward_backward``."""
    d = X.shape[1]
    xa[:d] = X[i]
    xa[d] = 1
    forward_backward(xa, labels[i], W1, W2, z1, h, d1, d2, scores, p)


@njit(cache=True, fastmath=FAST, inline="always")
def sgd_update(W1, W2, xa, h, d1, d2, shrink, a):
    """One sample's float32 SGD update in place: W1 -= shrink W1 + a outer(xa, d1), W2 -= shrink
    W2 + a outer(h, d2) (shrink = a lam)."""
    for j in range(W1.shape[0]):
        ax = a * xa[j]
        for c in range(W1.shape[1]):
            W1[j, c] -= shrink * W1[j, c] + ax * d1[c]
    for j in range(W2.shape[0]):
        ah = a * h[j]
        for c in range(W2.shape[1]):
            W2[j, c] -= shrink * W2[j, c] + ah * d2[c]


# ---- offsets of LP-SGD / HALP: b-bit integers or a float format's bit patterns ------------------
#
# _lp_layer steps every offset coordinate with the core's step (halp_core.grids.step, the same one
# the solvers' kernels take), compiled for the type of ``bounds``: fixed point, K int8 / int16 and
# bounds the (lo, hi) float32 ends of fixed_point.make_rounding; a float format (.lowfloat), K its
# uint16 / uint8 bit patterns and bounds its float_formats.params(name).

@njit(cache=True, fastmath=FAST, inline="always")
def _lp_layer(a, d, a_t, d_t, K, Cn, W, s, VG, shrink, coef, key, first, bounds):
    """Round one layer's step in grid units and refresh its float weights; returns saturations.

    K (m, q) integers of scale s around center Cn (float32); W = Cn + s K (updated); the step's
    gradient difference is outer(a, d) - outer(a_t, d_t); VG (m, q) = (alpha / s) G~ (grid units);
    coef = alpha / s; coordinate (j, c) draws its uniform from counter first + j * q + c under the
    step key ``key`` (halp_core.grids.step). With ``bounds`` a float format's kernel constants
    (float_formats.params), K holds that format's bit patterns instead.
    """
    sf = np.float32(s)
    saturated = np.int32(0)
    q_cols = K.shape[1]
    for j in range(K.shape[0]):
        aj = coef * a[j]
        atj = coef * a_t[j]
        base = j * q_cols
        for c in range(q_cols):
            k, value, clamped = grids.step(grids.value(K[j, c], bounds), shrink,
                                           aj * d[c] - atj * d_t[c], VG[j, c], key,
                                           first + base + c, bounds)
            K[j, c] = k
            W[j, c] = Cn[j, c] + sf * value
            saturated += np.int32(clamped)
    return saturated



@njit(cache=True, fastmath=FAST)
def lp_epoch(X, labels, K1, K2, C1, C2, W1, W2, s1, s2, VG1, VG2, H_t, D1_t, D2_t, lam, alpha, idx,
             rounding, step0, xa, z1, h, d1, d2, scores, p):
    """One LP-SGD or HALP epoch in place on the integer offsets K1, K2 (and W = C + s K).

    X (n, d) float32, labels (n,) int64; K1 (d + 1, H), K2 (H + 1, C) int8/int16; C1, C2 float32
    centers (zeros for LP-SGD); W1, W2 float32 = C + s K on entry; s1, s2 the layers' scales;
    VG1, VG2 float32 (alpha / s) G~ (zeros for LP-SGD); H_t (n, H + 1), D1_t (n, H), D2_t (n, C)
    float32: each sample's activations and deltas at the anchor (zeros for LP-SGD); idx (T,) int64;
    rounding: ``fixed_point.make_rounding(seed, bits, np.float32)``, or (seed key,
    float_formats.params(name)) with K1, K2 uint16/uint8 patterns of that float format
    (.lowfloat); step0: the global number of the first step (step t's key is
    step_key(seed key, step0 + t)). Layer 2's counters follow layer 1's.
    Returns the number of saturated (clamped) coordinate updates.
    """
    key, bounds = rounding
    m1 = K1.size
    shrink = np.float32(alpha * lam)
    coef1 = np.float32(alpha / s1)
    coef2 = np.float32(alpha / s2)
    saturated = 0
    for t in range(idx.shape[0]):
        i = idx[t]
        sample_pass(X, labels, i, W1, W2, xa, z1, h, d1, d2, scores, p)
        key_t = step_key(key, step0 + t)
        saturated += _lp_layer(xa, d1, xa, D1_t[i], K1, C1, W1, s1, VG1, shrink, coef1, key_t, 0,
                               bounds)
        saturated += _lp_layer(h, d2, H_t[i], D2_t[i], K2, C2, W2, s2, VG2, shrink, coef2, key_t,
                               m1, bounds)
    return saturated


# ---- full-data passes (NumPy, float32) -------------------------------------------------------

def _with_ones(A):
    return np.hstack([A, np.ones((A.shape[0], 1), dtype=A.dtype)])


def _forward(weights, X):
    """Activations of the whole data set: (Z1 (n, H), Ha (n, H + 1) with the bias column, scores
    (n, C)), float32; weights = [W1, W2], X (n, d) float32."""
    W1, W2 = weights
    Z1 = X @ W1[:-1] + W1[-1]
    Ha = _with_ones(np.maximum(Z1, 0))
    return Z1, Ha, Ha @ W2


def _softmax_minus_onehot(scores, labels):
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p


def loss_and_accuracy(weights, X, labels, lam):
    """(f(W) = mean cross-entropy + (lam / 2) ||W||^2, accuracy) on X (n, d) float32 with labels
    (n,) int; both as Python floats (f in float64)."""
    _, _, scores = _forward(weights, X)
    s = scores.astype(np.float64)
    top = s.max(axis=1)
    lse = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
    ce = float(np.mean(lse - s[np.arange(len(labels)), labels]))
    reg = 0.5 * lam * sum(float(np.sum(W.astype(np.float64) ** 2)) for W in weights)
    return ce + reg, float(np.mean(np.argmax(s, axis=1) == labels))


def full_gradient(weights, X, labels, lam):
    """grad f at ``weights`` over all n samples, and each sample's anchor activations and deltas.

    Returns ([G1, G2] of the weights' shapes, Ha (n, H + 1), D1 (n, H), D2 (n, C)), float32.
    """
    W1, W2 = weights
    Z1, Ha, scores = _forward(weights, X)
    D2 = _softmax_minus_onehot(scores, labels).astype(np.float32)
    D1 = (D2 @ W2[:-1].T) * (Z1 > 0)
    n = X.shape[0]
    G1 = np.vstack([X.T @ D1, D1.sum(axis=0, keepdims=True)]) / n + lam * W1
    G2 = Ha.T @ D2 / n + lam * W2
    return [G1.astype(np.float32), G2.astype(np.float32)], Ha, D1.astype(np.float32), D2


def init_weights(d, hidden, classes, seed):
    """Glorot-uniform [W1 (d + 1, hidden), W2 (hidden + 1, classes)] float32, zero biases.
    d, hidden: ints >= 1; classes: int >= 2; seed: int >= 0."""
    validate.integer(d, "d", 1)
    validate.integer(hidden, "hidden", 1)
    validate.integer(classes, "classes", 2)
    fixed_point.check_seed(seed)
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in ((d, hidden), (hidden, classes)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = np.zeros((fan_in + 1, fan_out), dtype=np.float32)
        W[:-1] = rng.uniform(-limit, limit, (fan_in, fan_out))
        weights.append(W)
    return weights


# ---- training --------------------------------------------------------------------------------

@dataclass
class MLPResult:
    """A training run: ``history`` (DataFrame with HISTORY_COLUMNS: epoch, passes (data passes so
    far), seconds (training time so far, evaluation excluded), train_loss f(W) on the training set,
    val_accuracy on the validation set, saturations (clamped updates that epoch)); ``weights``
    [W1, W2] float32; ``settings`` the arguments used (``schedule``: its description);
    ``steps`` the step alpha_e the kernels used in epoch e = 0, 1, ... (float, one per epoch
    run)."""

    history: pd.DataFrame
    weights: list
    settings: dict
    steps: list = field(default_factory=list)


def _check_args(problem, method, hidden, epochs, step, lam, bits, mu, seed):
    """Validate train's arguments; returns the precision (int bits or a float format's name)."""
    validate.instance(problem, Multinomial, "problem")
    if not (hasattr(problem, "X_val") and hasattr(problem, "y_val")):
        raise ValueError("problem has no validation split (X_val, y_val); use datasets.mnist()")
    X_val = validate.real_array(problem.X_val, "problem.X_val", 2)
    y_val = validate.real_array(problem.y_val, "problem.y_val", 1)
    if X_val.shape[1] != problem.d or y_val.shape[0] != X_val.shape[0]:
        raise ValueError(f"problem.X_val must be (m, {problem.d}) with m labels in y_val, got "
                         f"{X_val.shape} and {y_val.shape}")
    if not np.isin(y_val, np.arange(problem.n_classes)).all():
        raise ValueError(f"problem.y_val must hold labels 0..{problem.n_classes - 1}")
    validate.choice(method, "method", METHODS)
    validate.integer(hidden, "hidden", 1)
    validate.integer(epochs, "epochs", 1)
    validate.real(step, "step", positive=True)
    validate.real(lam, "lam", minimum=0)
    validate.real(mu, "mu", positive=True)
    fixed_point.check_seed(seed)
    if method != "sgd":
        return solvers.check_precision(method, bits)
    return bits


def train(problem, method, *, hidden=64, epochs=5, step=0.02, lam=1e-4, bits=8, mu=1.0, seed=0,
          schedule=None, callback=None, precision=None, grad_format=None, loss_scaling="none"):
    """Train the MLP on ``problem`` (datasets.mnist(): X (n, d), labels, X_val, y_val) and record
    loss and validation accuracy per epoch.

    method: "sgd" (float32), "lp-sgd" or "halp" (``bits``-bit weights / offsets); hidden: width H;
    epochs: int >= 1; step: alpha > 0; lam: L2 strength >= 0; mu: HALP's bit-centering constant
    (> 0); seed: initialisation, sampling (uniform with replacement) and rounding; schedule:
    anything ``halp_core.schedules.make_schedule`` takes (None: constant), epoch e's (0-based)
    step is step * factor(e); callback(epoch, row) after each epoch. precision: the
    low-precision methods' number format, an int number of bits (2..16) or a float format's name
    ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2"; halp_bench.mlp.lowfloat); ``bits`` is its older
    name (give one of the two). grad_format: None (float32 gradients) or a float format through
    which method "sgd" passes its backpropagated gradients, with loss_scaling "none", "static",
    "dynamic", "adaptive" or a ``scaling.LossScaling`` (halp_bench.mlp.scaling; the history then
    has its GRAD_COLUMNS too). Returns an :class:`MLPResult`. A diverging run (weights or loss
    not finite, or the loss above 10x its start) raises one RuntimeWarning naming the epoch and
    the fix and is recorded in ``history.attrs["diverged_epoch"]`` / ``["divergence"]``; a
    non-finite run stops there.
    """
    if precision is not None:
        if bits != 8:
            raise ValueError(f"give precision or bits, not both (got precision={precision!r}, "
                             f"bits={bits!r})")
        bits = precision
    bits = _check_args(problem, method, hidden, epochs, step, lam, bits, mu, seed)
    schedule = schedules.make_schedule(schedule, epochs)
    from . import scaling   # noqa: PLC0415 (imports this package)
    grad_format, loss_scaling = scaling.check_grad_format(grad_format, loss_scaling, method)
    X = problem.X.astype(np.float32)
    labels = problem.labels
    X_val = np.asarray(problem.X_val, dtype=np.float32)
    y_val = np.asarray(problem.y_val, dtype=np.int64)
    n = X.shape[0]
    weights = init_weights(problem.d, hidden, problem.n_classes, seed)
    rng = np.random.default_rng(seed)
    scratch = scratch_buffers(*weights)
    runner = _runner(X, labels, weights, method, bits, lam, mu, seed, scratch, grad_format,
                     loss_scaling)
    runner.run(np.zeros(0, dtype=np.int64), step)  # compile before timing
    saturations = []

    def run_epoch():
        alpha = step * schedule.factor(len(saturations))
        saturations.append(runner.epoch(rng.integers(0, n, size=n, dtype=np.int64), alpha))

    def evaluate(current):
        loss, _ = loss_and_accuracy(current, X, labels, lam)
        _, acc = loss_and_accuracy(current, X_val, y_val, lam)
        return loss, acc, saturations[-1] if saturations else 0, *getattr(runner, "stats", ())

    settings = dict(method=method, hidden=hidden, epochs=epochs, step=step, lam=lam,
                    bits=None if method == "sgd" else bits, mu=mu if method == "halp" else None,
                    seed=seed, schedule=str(schedule), grad_format=grad_format,
                    loss_scaling=vars(loss_scaling).copy() if grad_format else None)
    record = trajectory.record(trajectory.timed_epochs(run_epoch, runner.weights, epochs),
                               evaluate, runner.weights(),
                               passes_per_epoch=1 + registry.spec(method).variance_reduced,
                               settings=settings,
                               columns=HISTORY_COLUMNS + getattr(runner, "columns", ()),
                               check=_divergence_check(method, bits, mu), callback=callback)
    return MLPResult(history=record.history, weights=record.state, settings=settings,
                     steps=runner.steps_used)


def _divergence_check(method, bits, mu):
    """The MLP's divergence rule for ``trajectory.record`` (``divergence.training_check``)."""
    label = "fp32" if method == "sgd" else bits if isinstance(bits, str) else f"{bits} bits"
    fix = "use a smaller step" + (f" or a larger mu (mu={mu:g} here)" if method == "halp" else "")
    return divergence.training_check(f"mlp {method} ({label})", fix)


def _runner(X, labels, weights, method, precision, lam, mu, seed, scratch, grad_format,
            loss_scaling):
    """The training state of ``method``: float32 SGD (with low-precision gradients when
    grad_format is a format's name), or LP-SGD / HALP on b-bit integers or float-format
    patterns (precision an int or a name)."""
    from . import lowfloat, scaling   # noqa: PLC0415 (they import this package)
    if method == "sgd" and grad_format is not None:
        return scaling.SgdLowGrad(X, labels, weights, lam, scratch, grad_format, loss_scaling)
    if method == "sgd":
        return SgdMethod(X, labels, weights, lam, scratch)
    low = lowfloat.LowFloat if isinstance(precision, str) else LowPrecisionMethod
    return low(X, labels, weights, method, precision, lam, mu, seed, scratch)


class SgdMethod:
    """State of float32 SGD training: the weights [W1, W2], updated in place; ``steps_used`` the
    step of each epoch run."""

    def __init__(self, X, labels, weights, lam, scratch):
        self.X, self.labels, self.W = X, labels, weights
        self.lam, self.scratch = lam, scratch
        self.steps_used = []

    def weights(self):
        """Current float32 weights [W1, W2] (copies)."""
        return [W.copy() for W in self.W]

    def epoch(self, idx, alpha):
        """One epoch of T = len(idx) steps of size alpha; returns 0 (nothing saturates in
        float32)."""
        self.steps_used.append(alpha)
        self.run(idx, alpha)
        return 0

    def run(self, idx, alpha):
        """The steps idx (int64) of size alpha of the Numba kernel, nothing else."""
        sgd_epoch(self.X, self.labels, self.W[0], self.W[1], self.lam, alpha, idx,
                   *self.scratch)


class LowPrecisionMethod:
    """State of LP-SGD / HALP training: per layer the integer offset K, center C, scale s, the
    float weights W = C + s K, and (HALP) the anchor gradient and per-sample caches;
    ``steps_used`` the step of each epoch run."""

    def __init__(self, X, labels, weights, method, bits, lam, mu, seed, scratch):
        self.X, self.labels, self.method = X, labels, method
        self.lam, self.mu, self.scratch = lam, mu, scratch
        self.steps_used = []
        self.bits = bits
        self.top = bit_centering.grid_top(bits)
        self.W = [W.copy() for W in weights]
        n, H, C = X.shape[0], weights[1].shape[0] - 1, weights[1].shape[1]
        self.VG = [np.zeros(W.shape, dtype=np.float32) for W in weights]
        if method == "halp":
            self.C = [W.copy() for W in weights]
            self.scales = [1.0, 1.0]
        else:
            self.C = [np.zeros(W.shape, dtype=np.float32) for W in weights]
            self.scales = [SCALE_RANGE * float(np.abs(W).max()) / self.top for W in weights]
        self._grid(weights, seed)
        self.caches = (np.zeros((n, H + 1), np.float32), np.zeros((n, H), np.float32),
                       np.zeros((n, C), np.float32))
        self.steps = 0

    def _grid(self, weights, seed):
        """The offsets K (b-bit integers; LP-SGD: W rounded onto its grid) and the rounding."""
        self.K = [np.zeros(W.shape, dtype=fixed_point.storage_dtype(self.bits)) for W in weights]
        self.rounding = fixed_point.make_rounding(seed, self.bits, np.float32)
        if self.method != "halp":
            for K, W, s in zip(self.K, self.W, self.scales):
                K[...] = fixed_point.quantize(W, self.bits, s)[0]
                W[...] = s * K

    def _offset(self, K):
        """A layer's offset K in grid units (float32 or integers)."""
        return K

    def weights(self):
        """Current float32 weights [W1, W2] (copies)."""
        return [W.copy() for W in self.W]

    def _center(self, alpha):
        """HALP bit centering for an epoch of step alpha: full gradient at the anchor, new
        scales, offsets 0, VG = (alpha / s) G~."""
        grads, *self.caches = full_gradient(self.C, self.X, self.labels, self.lam)
        for layer, G in enumerate(grads):
            scale = bit_centering.grid_scale(float(np.linalg.norm(G)), self.mu, self.bits)
            if scale is not None:
                self.scales[layer] = scale
            self.K[layer][...] = 0
            self.W[layer][...] = self.C[layer]
            self.VG[layer][...] = (alpha / self.scales[layer]) * G

    def epoch(self, idx, alpha):
        """One epoch of T = len(idx) steps of size alpha; returns the number of saturated
        updates."""
        self.steps_used.append(alpha)
        if self.method == "halp":
            self._center(alpha)
        sat = self.run(idx, alpha)
        if self.method == "halp":
            for layer in range(2):
                self.C[layer] += self.scales[layer] * self._offset(self.K[layer])
                self.W[layer][...] = self.C[layer]
                self.K[layer][...] = 0
        return sat

    def run(self, idx, alpha):
        """The steps idx (int64) of size alpha of the Numba kernel, nothing else; returns
        saturations."""
        sat = lp_epoch(self.X, self.labels, self.K[0], self.K[1], self.C[0], self.C[1],
                       self.W[0], self.W[1], self.scales[0], self.scales[1], self.VG[0],
                       self.VG[1], *self.caches, self.lam, alpha, idx, self.rounding,
                       self.steps, *self.scratch)
        self.steps += idx.shape[0]
        return int(sat)
