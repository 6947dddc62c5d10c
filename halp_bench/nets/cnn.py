"""A LeNet-5-style CNN for 28 x 28 single-channel images (``data.Images``), as Numba kernels
behind the networks' contract (forward, backward, bit-centred delta_forward; halp_bench.nets).

Architecture (fixed):

    input (1, 28, 28)
    -> conv1: 6 filters 5 x 5, valid, + bias (6, 24, 24) -> ReLU -> max-pool 2 x 2, stride 2
       (6, 12, 12)
    -> conv2: 16 filters 5 x 5 over 6 channels, + bias (16, 8, 8) -> ReLU -> max-pool 2 x 2
       (16, 4, 4)
    -> flatten (256, channel-major) -> fc1 120 + ReLU -> fc2 84 + ReLU -> fc3 ``classes``
    -> softmax cross-entropy.

Parameters: one flat float32 vector w, groups in this order, each its weights (row-major) then
its bias: conv1 (6, 1, 5, 5) + 6, conv2 (16, 6, 5, 5) + 16, fc1 (120, 256) + 120, fc2
(84, 120) + 84, fc3 (classes, 84) + classes; P = 44,426 for 10 classes. ``init``: He-uniform
U(+-sqrt(6 / fan_in)) for the layers followed by ReLU, Glorot-uniform U(+-sqrt(6 / (fan_in +
fan_out))) for fc3, zero biases, drawn layer by layer from np.random.default_rng(seed).

Tape of one image (float32, ``tape_length`` = 4,684 + classes = 4,694): the pre-activations of the
five linear maps, z1 (6, 24, 24), z2 (16, 8, 8), z3 (120), z4 (84), z5 (classes), in this order.
Everything else is a cheap function of them and is recomputed where needed: the input of conv2 is
maxpool(relu(z1)) (with its argmax), of fc1 maxpool(relu(z2)), of fc2 relu(z3), of fc3 relu(z4),
and the softmax comes from z5.

Bit-centred form (``delta_forward``): every linear map is evaluated as
lin(x, W) = lin(x~, W~) + lin(x - x~, W) + lin(x~, W - W~), the bias a part of W (its input a
constant 1, so it enters the last term only), with lin(x~, W~) the anchor tape's pre-activation
and x~ recomputed from it. conv1's input is the image, the same at the anchor, so its middle term
is zero and is not computed. ReLU and max-pool act on the full values. The result is forward(w)
up to float32 rounding.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from halp_core import validate
from halp_core.kernels import FAST

from .data import Images
from .layers import (
    conv2d_backward, conv2d_forward, dense_backward, dense_forward, maxpool2x2_backward,
    maxpool2x2_forward, relu, relu_backward, softmax_cross_entropy)

SIDE = 28
KERNEL = 5
CONV1 = 6
CONV2 = 16
FC1 = 120
FC2 = 84
SIDE1 = SIDE - KERNEL + 1      # 24: conv1's output
POOL1 = SIDE1 // 2             # 12
SIDE2 = POOL1 - KERNEL + 1     # 8: conv2's output
POOL2 = SIDE2 // 2             # 4
FLAT = CONV2 * POOL2 * POOL2   # 256

# Offsets into w of every layer's weights and bias; fc3's end depends on the number of classes.
_K1 = 0
_B1 = _K1 + CONV1 * KERNEL * KERNEL
_K2 = _B1 + CONV1
_B2 = _K2 + CONV2 * CONV1 * KERNEL * KERNEL
_W3 = _B2 + CONV2
_B3 = _W3 + FC1 * FLAT
_W4 = _B3 + FC1
_B4 = _W4 + FC2 * FC1
_W5 = _B4 + FC2

# Offsets into one image's tape of z1 ... z5.
_Z1 = 0
_Z2 = _Z1 + CONV1 * SIDE1 * SIDE1
_Z3 = _Z2 + CONV2 * SIDE2 * SIDE2
_Z4 = _Z3 + FC1
_Z5 = _Z4 + FC2


class _Activations(NamedTuple):
    """One image's activations after each linear map: a1 = relu(z1), p1 = maxpool(a1) and its
    argmax, a2, p2, arg2 likewise, h3 = relu(z3), h4 = relu(z4)."""

    a1: np.ndarray
    p1: np.ndarray
    arg1: np.ndarray
    a2: np.ndarray
    p2: np.ndarray
    arg2: np.ndarray
    h3: np.ndarray
    h4: np.ndarray


class _Gradients(NamedTuple):
    """One image's loss gradients: d5 wrt z5, then wrt h4, h3, p2 (flat), a2 / z2, p1, a1 / z1;
    cols1, cols2 the im2col scratch of conv1 and conv2."""

    d5: np.ndarray
    d4: np.ndarray
    d3: np.ndarray
    dp2: np.ndarray
    d2: np.ndarray
    dp1: np.ndarray
    d1: np.ndarray
    cols1: np.ndarray
    cols2: np.ndarray


# ---- Numba kernels ---------------------------------------------------------------------------

@njit(cache=True)
def _activations():
    """Scratch for one image's activations (allocated once per batch)."""
    f32 = np.float32
    return _Activations(
        np.empty((CONV1, SIDE1, SIDE1), f32), np.empty((CONV1, POOL1, POOL1), f32),
        np.empty((CONV1, POOL1, POOL1), np.int64), np.empty((CONV2, SIDE2, SIDE2), f32),
        np.empty((CONV2, POOL2, POOL2), f32), np.empty((CONV2, POOL2, POOL2), np.int64),
        np.empty(FC1, f32), np.empty(FC2, f32))


@njit(cache=True)
def _gradients(classes):
    """Scratch for one image's gradients and the im2col matrices (allocated once per batch)."""
    f32 = np.float32
    return _Gradients(
        np.empty(classes, f32), np.empty(FC2, f32), np.empty(FC1, f32), np.empty(FLAT, f32),
        np.empty((CONV2, SIDE2, SIDE2), f32), np.empty((CONV1, POOL1, POOL1), f32),
        np.empty((CONV1, SIDE1, SIDE1), f32),
        np.empty((KERNEL * KERNEL, SIDE1 * SIDE1), f32),
        np.empty((CONV1 * KERNEL * KERNEL, SIDE2 * SIDE2), f32))


@njit(cache=True)
def _first_outside(values, lo, hi):
    """The first j with values[j] outside [lo, hi), or -1."""
    for j in range(values.shape[0]):
        if values[j] < lo or values[j] >= hi:
            return j
    return -1


@njit(cache=True)
def _first_bad_label(y, idx, classes):
    """The first j with y[idx[j]] outside [0, classes), or -1 (idx already checked)."""
    for j in range(idx.shape[0]):
        if y[idx[j]] < 0 or y[idx[j]] >= classes:
            return j
    return -1


@njit(cache=True)
def _first_bad_slot(toff, at, length, size):
    """The first j whose tape toff[at[j]]:toff[at[j] + 1] is not ``length`` floats inside
    [0, size), or -1 (at already checked)."""
    for j in range(at.shape[0]):
        start = toff[at[j]]
        if toff[at[j] + 1] - start != length or start < 0 or start + length > size:
            return j
    return -1


@njit(cache=True, inline="always")
def _layers(w, classes):
    """Views of the flat parameter vector w (or a gradient or difference of the same layout):
    K1, b1, K2, b2, W3, b3, W4, b4, W5, b5."""
    b5 = _W5 + classes * FC2
    return (w[_K1:_B1].reshape((CONV1, 1, KERNEL, KERNEL)), w[_B1:_K2],
            w[_K2:_B2].reshape((CONV2, CONV1, KERNEL, KERNEL)), w[_B2:_W3],
            w[_W3:_B3].reshape((FC1, FLAT)), w[_B3:_W4],
            w[_W4:_B4].reshape((FC2, FC1)), w[_B4:_W5],
            w[_W5:b5].reshape((classes, FC2)), w[b5:b5 + classes])


@njit(cache=True, inline="always")
def _tape(tape, start, classes):
    """Views z1 ... z5 of one image's tape, which begins at tape[start]."""
    t = tape[start:start + _Z5 + classes]
    return (t[_Z1:_Z2].reshape((CONV1, SIDE1, SIDE1)), t[_Z2:_Z3].reshape((CONV2, SIDE2, SIDE2)),
            t[_Z3:_Z4], t[_Z4:_Z5], t[_Z5:])


@njit(cache=True, fastmath=FAST, inline="always")
def _pool_layer(z, act_a, act_p, act_arg):
    """act_p = maxpool(act_a = relu(z)), with its argmax."""
    relu(z, act_a)
    maxpool2x2_forward(act_a, act_p, act_arg)


@njit(cache=True, fastmath=FAST)
def _hidden(zs, act):
    """Every activation of one image from its tape views zs (the inputs of conv2, fc1, fc2,
    fc3, and the pooling argmaxes)."""
    z1, z2, z3, z4, _ = zs
    _pool_layer(z1, act.a1, act.p1, act.arg1)
    _pool_layer(z2, act.a2, act.p2, act.arg2)
    relu(z3, act.h3)
    relu(z4, act.h4)


@njit(cache=True, fastmath=FAST, inline="always")
def _subtract(a, b, out):
    """out = a - b (1-D)."""
    for t in range(out.shape[0]):
        out[t] = a[t] - b[t]


@njit(cache=True, fastmath=FAST, inline="always")
def _conv(delta, x, x_t, dx, K, dK, b, db, z_t, cols, z, empty):
    """z = conv(x, K) + b; if ``delta``, as z_t + conv(x - x_t, K) + conv(x_t, dK) + db (dx is
    scratch for x - x_t)."""
    if delta:
        z[:] = z_t
        _subtract(x.reshape(x.size), x_t.reshape(x.size), dx.reshape(x.size))
        conv2d_forward(dx, K, empty, cols, z, True)
        conv2d_forward(x_t, dK, db, cols, z, True)
    else:
        conv2d_forward(x, K, b, cols, z, False)


@njit(cache=True, fastmath=FAST, inline="always")
def _dense(delta, x, x_t, dx, W, dW, b, db, z_t, z, empty):
    """z = W x + b; if ``delta``, as z_t + W (x - x_t) + dW x_t + db (dx is scratch)."""
    if delta:
        z[:] = z_t
        _subtract(x, x_t, dx)
        dense_forward(dx, W, empty, z, True)
        dense_forward(x_t, dW, db, z, True)
    else:
        dense_forward(x, W, b, z, False)


@njit(cache=True, fastmath=FAST)
def _image_forward(delta, x, ws, dws, zs, zs_t, act, act_t, diff, cols1, cols2, empty):
    """One image's forward pass: writes its tape views zs and activations act. With ``delta``,
    the bit-centred form around the anchor's tape views zs_t: dws are the views of w - w_anchor,
    act_t receives the anchor's activations and diff the input differences."""
    K1, b1, K2, b2, W3, b3, W4, b4, W5, b5 = ws
    dK1, db1, dK2, db2, dW3, db3, dW4, db4, dW5, db5 = dws
    z1, z2, z3, z4, z5 = zs
    if delta:
        _hidden(zs_t, act_t)
        z1[:] = zs_t[0]        # + conv(x - x~, K1) = 0: the image is the anchor's
        conv2d_forward(x, dK1, db1, cols1, z1, True)
    else:
        conv2d_forward(x, K1, b1, cols1, z1, False)
    _pool_layer(z1, act.a1, act.p1, act.arg1)
    _conv(delta, act.p1, act_t.p1, diff.p1, K2, dK2, b2, db2, zs_t[1], cols2, z2, empty)
    _pool_layer(z2, act.a2, act.p2, act.arg2)
    _dense(delta, act.p2.reshape(FLAT), act_t.p2.reshape(FLAT), diff.p2.reshape(FLAT), W3, dW3,
           b3, db3, zs_t[2], z3, empty)
    relu(z3, act.h3)
    _dense(delta, act.h3, act_t.h3, diff.h3, W4, dW4, b4, db4, zs_t[3], z4, empty)
    relu(z4, act.h4)
    _dense(delta, act.h4, act_t.h4, diff.h4, W5, dW5, b5, db5, zs_t[4], z5, empty)


@njit(cache=True, fastmath=FAST, nogil=True)
def _forward_batch(delta, w, dw, X, y, idx, tape, toff, at, tape_t, toff_t, at_t, losses,
                   correct):
    """forward (``delta`` False; dw and the anchor tape unused) or delta_forward over the batch
    idx: tapes, losses and correct counts (the contract's meaning)."""
    classes = (w.shape[0] - _W5) // (FC2 + 1)
    act, act_t, diff, grads = _activations(), _activations(), _activations(), _gradients(classes)
    ws = _layers(w, classes)
    dws = _layers(dw, classes)
    empty = np.empty(0, np.float32)
    for j in range(idx.shape[0]):
        i = idx[j]
        zs = _tape(tape, toff[at[j]], classes)
        zs_t = _tape(tape_t, toff_t[at_t[j]], classes)
        _image_forward(delta, X[i].reshape((1, SIDE, SIDE)), ws, dws, zs, zs_t, act, act_t,
                       diff, grads.cols1, grads.cols2, empty)
        z5 = zs[4]
        losses[j] = softmax_cross_entropy(z5, y[i], empty)
        correct[j] = 1.0 if np.argmax(z5) == y[i] else 0.0


@njit(cache=True, fastmath=FAST, nogil=True)
def _backward_batch(w, X, y, idx, tape, toff, at, coef, g):
    """g += coef sum_j grad f_{idx[j]}(w) from the tapes (the contract's ``backward``)."""
    classes = (w.shape[0] - _W5) // (FC2 + 1)
    act, grads = _activations(), _gradients(classes)
    K1, b1, K2, b2, W3, b3, W4, b4, W5, b5 = _layers(w, classes)
    gK1, gb1, gK2, gb2, gW3, gb3, gW4, gb4, gW5, gb5 = _layers(g, classes)
    no_input = np.empty((0, 0, 0), np.float32)
    for j in range(idx.shape[0]):
        i = idx[j]
        zs = _tape(tape, toff[at[j]], classes)
        z1, z2, z3, z4, z5 = zs
        _hidden(zs, act)
        softmax_cross_entropy(z5, y[i], grads.d5)
        dense_backward(act.h4, W5, grads.d5, coef, gW5, gb5, grads.d4)
        relu_backward(z4, grads.d4, grads.d4)
        dense_backward(act.h3, W4, grads.d4, coef, gW4, gb4, grads.d3)
        relu_backward(z3, grads.d3, grads.d3)
        dense_backward(act.p2.reshape(FLAT), W3, grads.d3, coef, gW3, gb3, grads.dp2)
        maxpool2x2_backward(act.arg2, grads.dp2.reshape((CONV2, POOL2, POOL2)), grads.d2)
        relu_backward(z2, grads.d2, grads.d2)
        conv2d_backward(act.p1, K2, grads.d2, coef, gK2, gb2, grads.cols2, grads.dp1)
        maxpool2x2_backward(act.arg1, grads.dp1, grads.d1)
        relu_backward(z1, grads.d1, grads.d1)
        conv2d_backward(X[i].reshape((1, SIDE, SIDE)), K1, grads.d1, coef, gK1, gb1, grads.cols1,
                        no_input)


# ---- the network -----------------------------------------------------------------------------

class LeNet:
    """The LeNet-5-style CNN of this module's docstring for ``classes`` classes (default 10),
    following the networks' contract (halp_bench.nets): ``name``, ``groups``, ``size``,
    ``tape_length``, ``init``, ``tape_offsets``, ``predictions``, ``forward``, ``backward``,
    ``delta_forward``."""

    name = "cnn"
    default_step = 0.1
    """train's step when none is given: SGD-fp32's at the quick size (docs/reproduction.md)."""

    def __init__(self, classes=10):
        self.classes = validate.integer(classes, "classes", minimum=2)
        stop = _W5 + self.classes * (FC2 + 1)
        bounds = (_K1, _K2, _W3, _W4, _W5, stop)
        self.groups = tuple((name, bounds[k], bounds[k + 1])
                            for k, name in enumerate(("conv1", "conv2", "fc1", "fc2", "fc3")))
        self.size = stop
        self.tape_length = _Z5 + self.classes

    def init(self, seed):
        """Initial parameters (P,) float32: He-uniform weights for conv1, conv2, fc1, fc2,
        Glorot-uniform for fc3, zero biases, drawn in that order from default_rng(seed)."""
        rng = np.random.default_rng(validate.integer(seed, "seed", minimum=0))
        w = np.zeros(self.size, np.float32)
        # (number of weights, the fan of the limit sqrt(6 / fan)) per group, in order
        layers = ((_B1 - _K1, KERNEL * KERNEL), (_B2 - _K2, CONV1 * KERNEL * KERNEL),
                  (_B3 - _W3, FLAT), (_B4 - _W4, FC1), (self.classes * FC2, FC2 + self.classes))
        for (_, start, _), (n_weights, fan) in zip(self.groups, layers):
            limit = np.sqrt(6.0 / fan)
            w[start:start + n_weights] = rng.uniform(-limit, limit, n_weights)
        return w

    def tape_offsets(self, data, idx):
        """int64 (len(idx) + 1,): tape j is tape[toff[j]:toff[j + 1]], ``tape_length`` floats
        each."""
        idx = self._indices(data, idx)
        return np.arange(idx.shape[0] + 1, dtype=np.int64) * self.tape_length

    def predictions(self, data, idx):
        """int64 (len(idx),): one prediction per image."""
        idx = self._indices(data, idx)
        return np.ones(idx.shape[0], np.int64)

    def forward(self, w, data, idx, tape, toff, at, losses, correct):
        """Forward pass at w (P,) float32 over images idx (b,) int64 of ``data``: image idx[j]'s
        tape into tape[toff[at[j]]:toff[at[j] + 1]], losses[j] its cross-entropy and correct[j]
        1.0 if its argmax is its label (float64 (b,) each)."""
        w = self._params(w, "w")
        idx = self._indices(data, idx)
        self._tapes(tape, toff, at, idx, "tape", "toff", "at", writeable=True)
        self._outputs(losses, correct, idx)
        _forward_batch(False, w, w, data.X, data.y, idx, tape, toff, at, tape, toff, at, losses,
                       correct)

    def backward(self, w, data, idx, tape, toff, at, coef, g):
        """g (P,) float32 += coef * the sum over j of the gradient of image idx[j]'s loss at w,
        read from the tapes that forward or delta_forward wrote at w."""
        w = self._params(w, "w")
        idx = self._indices(data, idx)
        self._tapes(tape, toff, at, idx, "tape", "toff", "at", writeable=False)
        coef = validate.real(coef, "coef")
        g = self._params(g, "g", writeable=True)
        _backward_batch(w, data.X, data.y, idx, tape, toff, at, coef, g)

    def delta_forward(self, w_anchor, w, data, idx, anchor_tape, anchor_toff, anchor_at, tape,
                      toff, at, losses, correct):
        """The outputs of ``forward(w, ...)`` in the bit-centred form around w_anchor (P,)
        float32, whose tapes for these images forward wrote into anchor_tape at
        anchor_toff[anchor_at[j]] (the module docstring)."""
        w_anchor = self._params(w_anchor, "w_anchor")
        w = self._params(w, "w")
        idx = self._indices(data, idx)
        self._tapes(anchor_tape, anchor_toff, anchor_at, idx, "anchor_tape", "anchor_toff",
                    "anchor_at", writeable=False)
        self._tapes(tape, toff, at, idx, "tape", "toff", "at", writeable=True)
        self._outputs(losses, correct, idx)
        _forward_batch(True, w, w - w_anchor, data.X, data.y, idx, tape, toff, at, anchor_tape,
                       anchor_toff, anchor_at, losses, correct)

    # ---- argument checks (once per call; the kernels trust their input) ----

    def _params(self, w, name, writeable=False):
        validate.kernel_array(w, name, (np.float32,), 1, writeable=writeable)
        if w.shape[0] != self.size:
            raise ValueError(f"{name} must have shape ({self.size},), got {w.shape}")
        return w

    def _indices(self, data, idx):
        if not isinstance(data, Images):
            raise TypeError(f"data must be a halp_bench.nets.data.Images, got "
                            f"{type(data).__name__}")
        X = validate.kernel_array(data.X, "data.X", (np.float32,), 3)
        y = validate.kernel_array(data.y, "data.y", (np.int64,), 1)
        if X.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"data.X must have shape (n, {SIDE}, {SIDE}), got {X.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"data.y has {y.shape[0]} labels for {X.shape[0]} images")
        validate.kernel_array(idx, "idx", (np.int64,), 1)
        j = _first_outside(idx, 0, X.shape[0])
        if j >= 0:
            raise ValueError(f"idx must lie in [0, {X.shape[0]}), got idx[{j}] = {idx[j]}")
        j = _first_bad_label(y, idx, self.classes)
        if j >= 0:
            raise ValueError(f"data.y must lie in [0, {self.classes}), got data.y[{idx[j]}] = "
                             f"{y[idx[j]]}")
        return idx

    def _tapes(self, tape, toff, at, idx, tape_name, toff_name, at_name, writeable):
        validate.kernel_array(tape, tape_name, (np.float32,), 1, writeable=writeable)
        validate.kernel_array(toff, toff_name, (np.int64,), 1)
        validate.kernel_array(at, at_name, (np.int64,), 1)
        if at.shape != idx.shape:
            raise ValueError(f"{at_name} must have the shape of idx {idx.shape}, got {at.shape}")
        j = _first_outside(at, 0, toff.shape[0] - 1)
        if j >= 0:
            raise ValueError(f"{at_name} must lie in [0, {toff.shape[0] - 1}) (len({toff_name})"
                             f" - 1), got {at_name}[{j}] = {at[j]}")
        j = _first_bad_slot(toff, at, self.tape_length, tape.shape[0])
        if j < 0:
            return
        start, stop = toff[at[j]], toff[at[j] + 1]
        if stop - start != self.tape_length:
            raise ValueError(f"{toff_name} must give each image {self.tape_length} floats of "
                             f"{tape_name} (tape_offsets), got {stop - start} at {at_name}[{j}]")
        raise ValueError(f"{toff_name} points outside {tape_name} (length {tape.shape[0]}): "
                         f"{start}:{stop} at {at_name}[{j}]")

    def _outputs(self, losses, correct, idx):
        for name, out in (("losses", losses), ("correct", correct)):
            validate.kernel_array(out, name, (np.float64,), 1, writeable=True)
            if out.shape != idx.shape:
                raise ValueError(f"{name} must have the shape of idx {idx.shape}, got "
                                 f"{out.shape}")
