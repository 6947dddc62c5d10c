"""Training a network (``cnn.LeNet``, ``lstm.Tagger``) with SGD (float32), LP-SGD, LP-SVRG or
HALP, on minibatches of ``batch`` samples, T = one pass (n / batch steps) per epoch.

Every method works on the network's flat float32 parameter vector w (P,), split into its
``groups`` (a layer's weights and bias). The low-precision methods store w per group l as

    w = C + s_l value(K)        (K: b-bit integers or a float format's bit patterns)

and step every coordinate j with the core's one step, ``halp_core.grids.step`` (the solvers'
kernels take the same one): in grid units of s_l,

    K_j <- Q(K_j - (alpha lam K_j + (alpha / s_l) D_j + VG_j)),   VG = (alpha / s_l)(G~ + lam C),

with stochastic rounding Q that draws coordinate j's random bits from counter j under step t's
key (``halp_core.random_bits.step_key``). D is the minibatch's data gradient term and G~ the full
data gradient (no regularizer) at the epoch's anchor w~:

* ``sgd``    : float32, w <- w - alpha (grad_B(w) + lam w).
* ``lp-sgd`` : C = 0, s_l fixed (the grid covers SCALE_RANGE times the layer's largest initial
  weight), D = grad_B(w), VG = 0.
* ``lp-svrg``: LP-SGD's grid with SVRG's direction: anchor w~ = w at the epoch start,
  D = grad_B(w) - grad_B(w~), VG = (alpha / s_l) G~.
* ``halp``   : bit centering (De Sa et al. 2018, Algorithm 2): each epoch C = w~ (float32), K = 0,
  s_l = ||G~_l + lam C_l|| / (mu_l top) (``halp_core.bit_centering.grid_scale``), D = grad_B(w) -
  grad_B(w~); at the epoch's end w~ <- C + s K. The forward pass at w is the network's
  bit-centred ``delta_forward``: every linear map is (x~ + dx)(W~ + dW) = x~W~ + dx W + x~ dW, the
  anchor's x~ and x~W~ read from the activations cached by the full-gradient pass.

Warm start (``warm_epochs``, default WARM_EPOCHS = 1): in their first epoch LP-SVRG and HALP
leave out SVRG's anchor terms (D = grad_B(w), VG = (alpha / s_l) lam C): LP-SVRG steps as LP-SGD
on its grid, HALP as LP-SGD on its bit-centred grid. From a random initialization, SVRG's
direction against an anchor one pass old drove LeNet (all 60,000 images, step 0.1, seed 4) to
predict one class within the first epoch where the offsets had nothing to clamp them (HALP-bf16);
8-bit HALP survived only because its grid clamped 19,678 updates. SVRG on neural networks is
commonly started from SGD for the same reason; ``--study`` measures warm_epochs=0.

mu per layer is automatic (``mu_schedule``): epoch 0 sizes each layer's grid to HEADROOM times the
largest coordinate move of a short float32 pilot of the same SVRG steps (PILOT_STEPS of them), not
scaled up to the epoch's T steps: like the convex rule's first epoch (mu = L_max), it errs on the
side of a fine grid that may saturate, since a grid too coarse rounds a network's weights away (a
pilot move scaled linearly to T sized LeNet's grids at tens of times its weights and left it
predicting one class); every later epoch takes the core's secant rule ``bit_centering.next_mu``
on that layer (the curvature measured between the last two anchors, against the last offset's
size: its 2-norm after an epoch that saturated).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from halp_core import (bit_centering, fixed_point, float_formats, grids, random_bits, schedules,
                       solvers, trajectory, validate)
from halp_core.kernels import FAST
from halp_core.solvers import divergence

METHODS = ("sgd", "lp-sgd", "lp-svrg", "halp")
"""The methods of :func:`train`, named as the core's registry names its solvers."""
RUNS = (("sgd", "fp32"), ("lp-sgd", 8), ("lp-sgd", "bf16"), ("lp-sgd", "fp8-e4m3"),
        ("halp", 8), ("halp", "bf16"), ("halp", "fp8-e4m3"), ("lp-svrg", 8))
"""(method, precision) of the deep-learning reproduction: every method at 8 bits, LP-SGD and HALP
also in bf16 and in fp8-e4m3."""
HISTORY_COLUMNS = ("epoch", "passes", "seconds", "train_loss", "val_loss", "val_accuracy",
                   "saturations")
SCALE_RANGE = 4.0
"""LP-SGD's / LP-SVRG's fixed grid covers SCALE_RANGE x the layer's largest initial |weight|."""
WARM_EPOCHS = 1
"""Epochs at the start in which LP-SVRG and HALP step without SVRG's anchor terms (``train``'s
``warm_epochs``)."""
PILOT_STEPS = 32
"""Float32 steps of HALP's pilot, which sizes epoch 0's grids (``mu_schedule``)."""
EVAL_ROWS = 10_000
"""The training loss of the history is taken on the first EVAL_ROWS training samples."""
CHUNK = 1000
"""Samples per forward call in full-data passes (bounds the scratch tape)."""


def label(method, precision):
    """A run's name, e.g. 'halp-8', 'sgd-fp32', 'lp-sgd-bf16'."""
    return f"{method}-{precision}"


# ---- the one low-precision step of every coordinate --------------------------------------------

@njit(cache=True, fastmath=FAST)
def step_offsets(K, C, w, D, VG, starts, scales, shrink, alpha, key0, step, spec, clamped):
    """One step of every coordinate of every group, in place.

    K (P,) the offsets (int8 / int16, or a float format's uint16 / uint8 patterns); C (P,)
    float32 centre; w (P,) float32 = C + s value(K), refreshed; D (P,) float32 the data gradient
    term; VG (P,) float32 (alpha / s) (G~ + lam C), grid units; starts (L + 1,) int64 the groups'
    bounds; scales (L,) float64 s_l; shrink = alpha lam; alpha the step; key0 the run's seed key,
    step the global step number (its key is step_key(key0, step)); spec the grid
    (``grids`` module). clamped (L,) int64 += the saturated coordinates per group.
    """
    key = random_bits.step_key(key0, step)
    sh = np.float32(shrink)
    for layer in range(scales.shape[0]):
        s = np.float32(scales[layer])
        coef = np.float32(alpha / scales[layer])
        saturated = 0
        for j in range(starts[layer], starts[layer + 1]):
            k, value, hit = grids.step(grids.value(K[j], spec), sh, coef * D[j], VG[j], key, j,
                                       spec)
            K[j] = k
            w[j] = C[j] + s * value
            saturated += np.int64(hit)
        clamped[layer] += saturated


# ---- the methods' state ------------------------------------------------------------------------

class Passes:
    """Full-data passes of a network over one split: loss, accuracy and the full gradient, with
    the anchor's tapes kept for the epoch (``keep``)."""

    def __init__(self, net, data, n):
        self.net, self.data, self.n = net, data, n
        self.all = np.arange(n, dtype=np.int64)
        self.toff = net.tape_offsets(data, self.all)
        self.tape = None

    def evaluate(self, w, rows=None):
        """(mean loss over samples, accuracy over predictions) of w on the first ``rows``
        samples (all when None), chunk by chunk."""
        rows = self.n if rows is None else min(rows, self.n)
        loss = correct = count = 0.0
        for lo in range(0, rows, CHUNK):
            idx = self.all[lo:min(lo + CHUNK, rows)]
            toff = self.net.tape_offsets(self.data, idx)
            tape = np.empty(int(toff[-1]), dtype=np.float32)
            losses, right = np.empty(len(idx)), np.empty(len(idx))
            self.net.forward(w, self.data, idx, tape, toff, np.arange(len(idx)), losses, right)
            loss += float(losses.sum())
            correct += float(right.sum())
            count += float(self.net.predictions(self.data, idx).sum())
        return loss / rows, correct / count

    def gradient(self, w):
        """The full data gradient (no regularizer) at w, float32 (P,); keeps every sample's
        tape at w in ``self.tape`` (indexed by sample id through ``self.toff``)."""
        if self.tape is None:
            self.tape = np.empty(int(self.toff[-1]), dtype=np.float32)
        losses, right = np.empty(self.n), np.empty(self.n)
        self.net.forward(w, self.data, self.all, self.tape, self.toff, self.all, losses, right)
        g = np.zeros(self.net.size, dtype=np.float32)
        self.net.backward(w, self.data, self.all, self.tape, self.toff, self.all, 1.0 / self.n, g)
        return g


class Method:
    """A method's state over one network and training split: the weights ``w`` (float32 (P,)),
    the minibatch tapes, and ``step(idx, alpha)`` / ``start_epoch(alpha)`` / ``end_epoch()``."""

    variance_reduced = False

    def __init__(self, net, data, n, w, lam, batch):
        self.net, self.data, self.lam = net, data, lam
        self.passes = Passes(net, data, n)
        self.w = w
        self.at = np.arange(batch, dtype=np.int64)
        self.losses, self.right = np.empty(batch), np.empty(batch)
        self.D = np.zeros(net.size, dtype=np.float32)

    def batch_tape(self, idx):
        """(tape, toff) scratch for the minibatch idx."""
        toff = self.net.tape_offsets(self.data, idx)
        return np.empty(int(toff[-1]), dtype=np.float32), toff

    def gradient_at_w(self, idx):
        """D = the minibatch's mean data gradient at w (forward then backward)."""
        tape, toff = self.batch_tape(idx)
        b = len(idx)
        self.net.forward(self.w, self.data, idx, tape, toff, self.at[:b], self.losses[:b],
                         self.right[:b])
        self.D[:] = 0
        self.net.backward(self.w, self.data, idx, tape, toff, self.at[:b], 1.0 / b, self.D)
        return tape, toff

    def start_epoch(self, alpha):
        """Before an epoch of step alpha."""

    def end_epoch(self):
        """After an epoch; returns the epoch's saturated coordinate updates (int)."""
        return 0

    def weights(self):
        """A float32 copy of w (P,)."""
        return self.w.copy()


class Sgd(Method):
    """Float32 minibatch SGD."""

    def step(self, idx, alpha):
        """One step on the minibatch idx (int64) of size alpha."""
        self.gradient_at_w(idx)
        self.w -= np.float32(alpha) * (self.D + np.float32(self.lam) * self.w)


class LowPrecision(Method):
    """LP-SGD, LP-SVRG or HALP: w = C + s value(K) per group, stepped by ``step_offsets``."""

    def __init__(self, net, data, n, w, lam, batch, method, precision, seed, mu, epoch_steps=None,
                 warm_epochs=WARM_EPOCHS):
        super().__init__(net, data, n, w, lam, batch)
        self.warm_epochs, self.epoch, self.svrg = warm_epochs, 0, False
        self.epoch_steps = max(n // batch, 1) if epoch_steps is None else epoch_steps
        self.method, self.precision = method, precision
        self.variance_reduced = method != "lp-sgd"
        self.starts = np.array([g[1] for g in net.groups] + [net.size], dtype=np.int64)
        self.L = len(net.groups)
        self.top = bit_centering.grid_top(precision)
        self.key = random_bits.seed_key(seed)
        if isinstance(precision, str):
            self.K = np.zeros(net.size, dtype=float_formats.storage_dtype(precision))
            self.spec = float_formats.params(precision)
        else:
            self.K = np.zeros(net.size, dtype=fixed_point.storage_dtype(precision))
            self.spec = fixed_point.rounding_bounds(precision, np.float32)
        self.C = np.zeros(net.size, dtype=np.float32)
        self.VG = np.zeros(net.size, dtype=np.float32)
        self.clamped = np.zeros(self.L, dtype=np.int64)
        self.steps = 0
        self.G = None
        self.mu = mu
        self.mus = [np.nan] * self.L
        if method == "halp":
            self.scales = np.ones(self.L)
            self.C[:] = w
        else:
            self.scales = np.array([SCALE_RANGE * max(float(np.abs(w[a:b]).max()), 1e-3) / self.top
                                    for _, a, b in net.groups])
            self._round_onto_grid()
        self.anchor = self.w.copy()

    def _values(self):
        """value(K) as float32 (P,)."""
        if isinstance(self.precision, str):
            return float_formats.decode(self.K, self.precision).astype(np.float32)
        return self.K.astype(np.float32)

    def _scale_vector(self):
        return np.repeat(self.scales, np.diff(self.starts)).astype(np.float32)

    def _round_onto_grid(self):
        """LP-SGD / LP-SVRG start: w rounded to nearest onto the fixed grid."""
        x = self.w / self._scale_vector()
        if isinstance(self.precision, str):
            self.K[:] = float_formats.encode(x, self.precision)[0]
        else:
            self.K[:] = fixed_point.quantize(x, self.precision, 1.0)[0]
        self.w[:] = self.C + self._scale_vector() * self._values()

    def start_epoch(self, alpha):
        """LP-SVRG / HALP: the full gradient at the anchor (and its tapes); HALP re-centres. In
        the first ``warm_epochs`` epochs the step leaves out SVRG's anchor terms (``svrg``)."""
        self.clamped[:] = 0
        if not self.variance_reduced:
            return
        self.svrg = self.epoch >= self.warm_epochs
        self.anchor[:] = self.w
        G = self.passes.gradient(self.anchor)
        if self.method == "halp":
            self._centre(G, alpha)
        VG = G * np.float32(self.svrg) + np.float32(self.lam) * self.C
        self.VG[:] = np.float32(alpha) * VG / self._scale_vector()

    def _centre(self, G, alpha):
        """HALP's bit centering: C = w~, K = 0, each group's grid from its mu."""
        full = G + np.float32(self.lam) * self.anchor
        norms = [float(np.linalg.norm(full[a:b])) for _, a, b in self.net.groups]
        mus = self.mu_schedule(full, G, alpha)
        for layer, (norm, mu) in enumerate(zip(norms, mus)):
            scale = bit_centering.grid_scale(norm, mu, self.precision)
            if scale is not None:
                self.scales[layer] = scale
        self.mus = list(mus)
        self.C[:] = self.anchor
        self.K[:] = 0
        self.G, self.last_anchor = full, self.anchor.copy()

    def mu_schedule(self, full, G, alpha):
        """mu per group for this epoch (floats > 0) from the anchor's full gradient ``full``
        (regularizer included) and data gradient G: the given ``mu`` when fixed; else epoch 0's
        from the float32 pilot and later epochs' from ``bit_centering.next_mu``."""
        groups = self.net.groups
        if self.mu != "auto":
            return [float(self.mu)] * len(groups)
        if self.G is None:
            move = self._pilot(G, alpha)
            return [float(np.linalg.norm(full[a:b])) / max(bit_centering.HEADROOM * m, 1e-30)
                    for (_, a, b), m in zip(groups, move)]
        offset = self.anchor - self.last_anchor
        return [bit_centering.next_mu(mu, self.G[a:b].astype(np.float64),
                                      full[a:b].astype(np.float64),
                                      offset[a:b].astype(np.float64), bool(sat > 0))
                for (_, a, b), mu, sat in zip(groups, self.mus, self.last_clamped)]

    def _pilot(self, G, alpha):
        """Largest coordinate move per group of PILOT_STEPS (at most T) float32 steps of the
        epoch's kind (SVRG's, or SGD's in a warm epoch) from the anchor (minibatches drawn from a
        generator of their own)."""
        n, b = self.passes.n, len(self.at)
        steps = min(PILOT_STEPS, self.epoch_steps)
        rng = np.random.default_rng(int(self.key))
        saved = self.w.copy()
        for _ in range(steps):
            idx = rng.integers(0, n, size=b, dtype=np.int64)
            self._direction(idx)
            self.w -= np.float32(alpha) * (self.D + G * np.float32(self.svrg)
                                           + np.float32(self.lam) * self.w)
        move = np.abs(self.w - self.anchor)
        self.w[:] = saved
        return [float(move[a:b].max()) for _, a, b in self.net.groups]

    def _direction(self, idx):
        """D = grad_B(w) - grad_B(w~) (grad_B(w) alone in a warm epoch): HALP's forward at w is
        the bit-centred one."""
        b = len(idx)
        if self.method == "halp":
            tape, toff = self.batch_tape(idx)
            p = self.passes
            self.net.delta_forward(self.anchor, self.w, self.data, idx, p.tape, p.toff, idx,
                                   tape, toff, self.at[:b], self.losses[:b], self.right[:b])
            self.D[:] = 0
            self.net.backward(self.w, self.data, idx, tape, toff, self.at[:b], 1.0 / b, self.D)
        else:
            self.gradient_at_w(idx)
        if self.svrg:
            p = self.passes
            self.net.backward(self.anchor, self.data, idx, p.tape, p.toff, idx, -1.0 / b, self.D)

    def step(self, idx, alpha):
        """One step on the minibatch idx (int64) of size alpha."""
        if self.variance_reduced:
            self._direction(idx)
        else:
            self.gradient_at_w(idx)
        step_offsets(self.K, self.C, self.w, self.D, self.VG, self.starts, self.scales,
                     alpha * self.lam, alpha, self.key, self.steps, self.spec, self.clamped)
        self.steps += 1

    def end_epoch(self):
        """HALP: the anchor moves to C + s K (the weights w) and K = 0."""
        self.last_clamped = self.clamped.copy()
        self.epoch += 1
        if self.method == "halp":
            self.C[:] = self.w
            self.K[:] = 0
        return int(self.clamped.sum())


# ---- training -----------------------------------------------------------------------------------

@dataclass
class NetResult:
    """A training run: ``history`` (DataFrame: HISTORY_COLUMNS, then ``mu_<group>`` per group
    (HALP's mu of each epoch, NaN otherwise); epoch 0 is the start; seconds = training time so
    far, evaluation excluded; train_loss on the first EVAL_ROWS training samples; val_loss and
    val_accuracy on the whole validation split, accuracy over predictions), ``weights`` (float32
    (P,)), ``settings`` (the arguments used); failures in ``history.attrs`` (diverged_epoch,
    divergence, no_progress)."""

    history: pd.DataFrame
    weights: np.ndarray
    settings: dict = field(default_factory=dict)


def _check(net, train_data, val_data, method, precision, epochs, step, lam, batch, mu, seed):
    for name in ("groups", "size", "classes", "init", "forward", "backward", "delta_forward",
                 "tape_offsets", "predictions"):
        if not hasattr(net, name):
            raise TypeError(f"net must be a network of halp_bench.nets (cnn.LeNet, lstm.Tagger); "
                            f"{type(net).__name__} has no {name!r}")
    validate.choice(method, "method", METHODS)
    if method == "sgd" and precision != "fp32":
        raise ValueError(f"sgd trains networks in float32: precision must be 'fp32', got "
                         f"{precision!r}")
    solvers.check_precision(method, precision)
    validate.integer(epochs, "epochs", 1)
    validate.real(step, "step", positive=True)
    validate.real(lam, "lam", minimum=0)
    validate.integer(batch, "batch", 1)
    if mu != "auto":
        validate.real(mu, "mu", positive=True)
    fixed_point.check_seed(seed)
    for name, data in (("train_data", train_data), ("val_data", val_data)):
        if samples(data) < 1:
            raise ValueError(f"{name} holds no samples")
    if batch > samples(train_data):
        raise ValueError(f"batch ({batch}) exceeds the {samples(train_data)} training samples")


def samples(data):
    """Number of samples of an Images or Sentences split."""
    return len(data.starts) - 1 if hasattr(data, "starts") else len(data.y)


def _head(data, k):
    """The first k samples of an Images or Sentences split, as the same type."""
    if hasattr(data, "starts"):
        end = data.starts[k]
        return type(data)(data.words[:end], data.tags[:end], data.starts[:k + 1])
    return type(data)(data.X[:k], data.y[:k])


def _make(net, data, method, precision, w, lam, batch, seed, mu, epoch_steps=None,
          warm_epochs=WARM_EPOCHS):
    """The state of ``method`` on ``data`` from weights w; epoch_steps: T (None: one pass)."""
    n = samples(data)
    if method == "sgd":
        return Sgd(net, data, n, w, lam, batch)
    return LowPrecision(net, data, n, w, lam, batch, method, precision, seed, mu, epoch_steps,
                        warm_epochs)


def _compile(net, data, method, precision, lam, batch, seed, mu):
    """Run one epoch of ``method`` on the first ``batch`` samples, so that every kernel is
    compiled (or loaded from Numba's cache) before the timed epochs."""
    head = _head(data, batch)
    state = _make(net, head, method, precision, net.init(seed), lam, batch, seed, mu)
    state.start_epoch(1e-3)
    state.step(np.arange(batch, dtype=np.int64), 1e-3)
    state.end_epoch()


def train(net, train_data, val_data, method, precision, *, epochs=5, step=None, lam=1e-4,
          batch=32, mu="auto", seed=0, schedule=None, epoch_steps=None, warm_epochs=WARM_EPOCHS,
          callback=None):
    """Train ``net`` on ``train_data`` and record losses and validation accuracy per epoch.

    net: ``cnn.LeNet()`` or ``lstm.Tagger(...)``; train_data, val_data: its data
    (``data.Images`` / ``data.Sentences``); method: one of METHODS; precision: "fp32" for sgd, else
    bits (int 2..16) or a float format's name ("bf16", "fp16", "fp8-e4m3", "fp8-e5m2"); epochs:
    int >= 1, each one pass (T = n / batch steps, a fresh permutation; the last partial
    minibatch is dropped); step: alpha > 0 (epoch e uses alpha * schedule factor(e); None: the
    network's ``default_step``); lam: L2
    strength >= 0 on every parameter; batch: samples per step; mu: HALP's bit-centering constant
    per layer, "auto" (see the module docstring) or a float > 0; seed: initialisation, sampling
    and rounding; epoch_steps: T, the steps of an epoch (default n // batch, one pass; fewer
    re-centre HALP and LP-SVRG more often); warm_epochs: int >= 0, LP-SVRG's and HALP's first
    epochs without SVRG's anchor terms (LP-SVRG then steps as LP-SGD on its grid, HALP as
    bit-centred LP-SGD: see the module docstring); callback(epoch, row) after each epoch. Returns
    a :class:`NetResult`. A diverging
    run (weights or loss not finite, or the loss above divergence.GROWTH times its start) raises
    one RuntimeWarning naming the epoch and the fix, and so does a run that made no progress
    (its training loss never below log(classes), a uniform guess's); both are recorded in
    ``history.attrs`` (diverged_epoch, divergence, no_progress).
    """
    step = getattr(net, "default_step", None) if step is None else step
    _check(net, train_data, val_data, method, precision, epochs, step, lam, batch, mu, seed)
    schedule = schedules.make_schedule(schedule, epochs)
    n = samples(train_data)
    steps = n // batch if epoch_steps is None else validate.integer(epoch_steps, "epoch_steps", 1,
                                                                    n // batch)
    validate.integer(warm_epochs, "warm_epochs", 0)
    _compile(net, train_data, method, precision, lam, batch, seed, mu)
    state = _make(net, train_data, method, precision, net.init(seed), lam, batch, seed, mu,
                  steps, warm_epochs)
    val = Passes(net, val_data, samples(val_data))
    rng = np.random.default_rng(seed)
    saturations = []

    def run_epoch():
        alpha = step * schedule.factor(len(saturations))
        state.start_epoch(alpha)
        order = rng.permutation(n).astype(np.int64)
        for t in range(steps):
            state.step(order[t * batch:(t + 1) * batch], alpha)
        saturations.append(state.end_epoch())

    def evaluate(w):
        train_loss, _ = state.passes.evaluate(w, EVAL_ROWS)
        val_loss, accuracy = val.evaluate(w)
        mus = getattr(state, "mus", [np.nan] * len(net.groups))
        return (train_loss, val_loss, accuracy, saturations[-1] if saturations else 0, *mus)

    columns = HISTORY_COLUMNS + tuple(f"mu_{name}" for name, _, _ in net.groups)
    settings = dict(network=net.name, method=method, precision=precision, epochs=epochs,
                    step=step, lam=lam, batch=batch, mu=mu if method == "halp" else None,
                    seed=seed, schedule=str(schedule), epoch_steps=steps,
                    warm_epochs=warm_epochs if method in ("halp", "lp-svrg") else None)
    record = trajectory.record(
        trajectory.timed_epochs(run_epoch, state.weights, epochs), evaluate, state.weights(),
        passes_per_epoch=steps * batch / n + state.variance_reduced, settings=settings,
        columns=columns,
        check=_divergence_check(net.name, method, precision),
        progress=_progress_check(net.name, method, precision, net.classes), callback=callback)
    return NetResult(history=record.history, weights=record.state, settings=settings)


def _progress_check(network, method, precision, classes):
    """The no-progress rule for ``trajectory.record``: a run whose training loss never fell
    below log(classes), the loss of the uniform guess (a network whose units all died ends
    there)."""
    floor = float(np.log(classes))

    def progress(rows):
        best = min(row["train_loss"] for row in rows[1:])
        if best < floor:
            return None
        return (f"{network} {label(method, precision)} made no progress: its training loss never "
                f"fell below {floor:.3g}, the loss of a uniform guess over {classes} classes "
                f"(best {best:.3g}); use a smaller step")

    return progress


def _divergence_check(network, method, precision):
    """The divergence rule for ``trajectory.record`` (``divergence.training_check``)."""
    fix = "use a smaller step" + (" or a fixed mu" if method == "halp" else "")
    return divergence.training_check(f"{network} {label(method, precision)}", fix)
