"""halp_bench.nets.layers and halp_bench.nets.cnn: every layer kernel against its NumPy float64
twin (tests/reference_cnn.py), the twins' gradients against central finite differences, the
network's forward, backward and bit-centred delta_forward against the twin and each other, and
the argument checks."""

import numpy as np
import pytest
import reference_cnn as ref

from halp_bench.nets import layers
from halp_bench.nets.cnn import LeNet
from halp_bench.nets.data import Images

f32 = np.float32
N_IMAGES = 12


def close(actual, expected, rtol=1e-4):
    """Float32 results against float64 ones: relative error rtol, measured against the largest
    entry for entries near zero."""
    expected = np.asarray(expected, np.float64)
    scale = max(np.abs(expected).max(), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def rand(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(f32)


def empty(ndim):
    return np.zeros((0,) * ndim, f32)


@pytest.fixture(scope="module")
def net():
    return LeNet()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    return Images(rng.random((N_IMAGES, 28, 28), dtype=f32), rng.integers(0, 10, N_IMAGES))


@pytest.fixture(scope="module")
def w0(net):
    """Initial weights with nonzero biases (init's are zero), so that the biases are tested."""
    w = net.init(7)
    rng = np.random.default_rng(8)
    for _, start, stop in net.groups:
        w[start:stop][w[start:stop] == 0] = rand(rng, int((w[start:stop] == 0).sum()), scale=0.1)
    return w


# ---- layer kernels against the twins --------------------------------------------------------

# (C, H, W, F, k): LeNet's two convolutions, and a shape with every remainder of the blocking
CONV_SHAPES = [(1, 28, 28, 6, 5), (6, 12, 12, 16, 5), (3, 9, 7, 5, 3)]


@pytest.mark.parametrize("shape", CONV_SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_matches_twin(shape, bias):
    C, H, W, F, k = shape
    rng = np.random.default_rng(0)
    x, K, b = rand(rng, C, H, W), rand(rng, F, C, k, k), rand(rng, F)
    cols = np.empty((C * k * k, (H - k + 1) * (W - k + 1)), f32)
    expected = ref.conv2d(x.astype(float), K.astype(float), b.astype(float) if bias else None)
    out = rand(rng, F, H - k + 1, W - k + 1)
    start = out.copy()
    layers.conv2d_forward(x, K, b if bias else empty(1), cols, out, True)
    close(out, start + expected)
    layers.conv2d_forward(x, K, b if bias else empty(1), cols, out, False)
    close(out, expected)


@pytest.mark.parametrize("shape", CONV_SHAPES)
@pytest.mark.parametrize("want_dx", [True, False])
def test_conv2d_backward_matches_twin(shape, want_dx):
    C, H, W, F, k = shape
    rng = np.random.default_rng(1)
    x, K = rand(rng, C, H, W), rand(rng, F, C, k, k)
    dout = rand(rng, F, H - k + 1, W - k + 1)
    gK, gb = rand(rng, F, C, k, k), rand(rng, F)
    gK0, gb0 = gK.copy(), gb.copy()
    cols = np.empty((C * k * k, (H - k + 1) * (W - k + 1)), f32)
    dx = rand(rng, C, H, W) if want_dx else empty(3)
    layers.conv2d_backward(x, K, dout, 0.3, gK, gb, cols, dx)
    eK, eb, edx = ref.conv2d_grads(x.astype(float), K.astype(float), dout.astype(float))
    close(gK, gK0 + 0.3 * eK)
    close(gb, gb0 + 0.3 * eb)
    if want_dx:
        close(dx, edx)


def test_maxpool_matches_twin():
    rng = np.random.default_rng(2)
    a = rand(rng, 6, 24, 24)
    a[0, 0, :2] = a[0, 1, :2] = 5.0      # a tie: the first maximum in row-major order wins
    out, arg = np.empty((6, 12, 12), f32), np.empty((6, 12, 12), np.int64)
    layers.maxpool2x2_forward(a, out, arg)
    e_out, e_arg = ref.maxpool(a.astype(float))
    np.testing.assert_array_equal(out, e_out)
    np.testing.assert_array_equal(arg, e_arg)
    assert arg[0, 0, 0] == 0
    dout = rand(rng, 6, 12, 12)
    dx = rand(rng, 6, 24, 24)
    layers.maxpool2x2_backward(arg, dout, dx)
    np.testing.assert_array_equal(dx, ref.maxpool_grad(e_arg, dout.astype(float), a.shape))


def test_relu_matches_twin():
    rng = np.random.default_rng(4)
    z, dout = rand(rng, 16, 8, 8), rand(rng, 16, 8, 8)
    out, dz = np.empty_like(z), np.empty_like(z)
    layers.relu(z, out)
    layers.relu_backward(z, dout, dz)
    np.testing.assert_array_equal(out, ref.relu(z.astype(float)))
    np.testing.assert_array_equal(dz, ref.relu_grad(z.astype(float), dout.astype(float)))
    layers.relu_backward(z, dout, dout)         # in place
    np.testing.assert_array_equal(dout, dz)


@pytest.mark.parametrize("q, m", [(120, 256), (7, 13)])
def test_dense_matches_twin(q, m):
    rng = np.random.default_rng(5)
    x, W, b, dout = rand(rng, m), rand(rng, q, m), rand(rng, q), rand(rng, q)
    out = rand(rng, q)
    start = out.copy()
    layers.dense_forward(x, W, b, out, True)
    close(out, start + ref.dense(x.astype(float), W.astype(float), b.astype(float)))
    layers.dense_forward(x, W, empty(1), out, False)
    close(out, ref.dense(x.astype(float), W.astype(float), None))
    gW, gb, dx = rand(rng, q, m), rand(rng, q), rand(rng, m)
    gW0, gb0 = gW.copy(), gb.copy()
    layers.dense_backward(x, W, dout, -0.5, gW, gb, dx)
    eW, eb, edx = ref.dense_grads(x.astype(float), W.astype(float), dout.astype(float))
    close(gW, gW0 - 0.5 * eW)
    close(gb, gb0 - 0.5 * eb)
    close(dx, edx)
    layers.dense_backward(x, W, dout, 1.0, gW, gb, empty(1))    # no input gradient wanted
    close(gW, gW0 + 0.5 * eW)


@pytest.mark.parametrize("shift", [0.0, 500.0, -500.0])
def test_softmax_cross_entropy_matches_twin(shift):
    rng = np.random.default_rng(6)
    scores = rand(rng, 10, scale=3.0) + f32(shift)
    grad = np.empty(10, f32)
    loss = layers.softmax_cross_entropy(scores, 4, grad)
    e_loss, e_grad = ref.softmax_ce(scores.astype(float), 4)
    assert np.isfinite(loss) and loss == pytest.approx(e_loss, rel=1e-12)
    close(grad, e_grad, rtol=1e-6)
    assert layers.softmax_cross_entropy(scores, 4, empty(1)) == loss


# ---- the twins' gradients against finite differences ----------------------------------------

def numeric_grad(f, x, coords, h=1e-6):
    """Central differences of the scalar function f at x (float64) along flat coordinates."""
    out = []
    for c in coords:
        e = np.zeros(x.size)
        e[c] = h
        e = e.reshape(x.shape)
        out.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(out)


def check_grad(f, x, grad, n=12, seed=0):
    coords = np.random.default_rng(seed).choice(x.size, size=min(n, x.size), replace=False)
    np.testing.assert_allclose(grad.ravel()[coords], numeric_grad(f, x, coords), rtol=1e-5,
                               atol=1e-7)


def test_twin_layer_gradients_match_finite_differences():
    rng = np.random.default_rng(9)
    x, K, b = rng.standard_normal((3, 9, 8)), rng.standard_normal((4, 3, 3, 3)), \
        rng.standard_normal(4)
    R = rng.standard_normal((4, 7, 6))          # L = sum(R * conv(x, K, b))
    gK, gb, dx = ref.conv2d_grads(x, K, R)
    check_grad(lambda v: (R * ref.conv2d(v, K, b)).sum(), x, dx)
    check_grad(lambda v: (R * ref.conv2d(x, v, b)).sum(), K, gK)
    check_grad(lambda v: (R * ref.conv2d(x, K, v)).sum(), b, gb)

    a = rng.standard_normal((2, 6, 8))
    Rp = rng.standard_normal((2, 3, 4))
    _, arg = ref.maxpool(a)
    check_grad(lambda v: (Rp * ref.maxpool(v)[0]).sum(), a, ref.maxpool_grad(arg, Rp, a.shape))

    z, Rz = rng.standard_normal(50), rng.standard_normal(50)
    check_grad(lambda v: (Rz * ref.relu(v)).sum(), z, ref.relu_grad(z, Rz))

    xd, W, bd, Rd = (rng.standard_normal(9), rng.standard_normal((5, 9)), rng.standard_normal(5),
                     rng.standard_normal(5))
    gW, gbd, dxd = ref.dense_grads(xd, W, Rd)
    check_grad(lambda v: Rd @ ref.dense(v, W, bd), xd, dxd)
    check_grad(lambda v: Rd @ ref.dense(xd, v, bd), W, gW)
    check_grad(lambda v: Rd @ ref.dense(xd, W, v), bd, gbd)

    s = rng.standard_normal(10)
    check_grad(lambda v: ref.softmax_ce(v, 3)[0], s, ref.softmax_ce(s, 3)[1])


def test_twin_network_gradient_matches_finite_differences(net, data, w0):
    w = w0.astype(np.float64)
    idx = [0, 1]
    grad = ref.batch(w, data.X, data.y, idx)[3]
    rng = np.random.default_rng(10)
    for name, start, stop in net.groups:
        coords = np.append(rng.choice(np.arange(start, stop), 3, replace=False), stop - 1)
        numeric = numeric_grad(lambda v: ref.batch(v, data.X, data.y, idx)[1].sum(), w, coords)
        np.testing.assert_allclose(grad[coords], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


# ---- the network --------------------------------------------------------------------------

def test_sizes_groups_and_tape_layout(net, data):
    assert net.name == "cnn"
    assert net.size == 44_426
    assert [g[0] for g in net.groups] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert net.groups[0][1] == 0 and net.groups[-1][2] == net.size
    assert all(a[2] == b[1] for a, b in zip(net.groups, net.groups[1:]))
    assert [stop - start for _, start, stop in net.groups] == [156, 2416, 30840, 10164, 850]
    assert net.tape_length == 4694
    idx = np.array([3, 1, 4], np.int64)
    np.testing.assert_array_equal(net.tape_offsets(data, idx), [0, 4694, 2 * 4694, 3 * 4694])
    np.testing.assert_array_equal(net.predictions(data, idx), [1, 1, 1])
    assert net.predictions(data, idx).dtype == np.int64
    three = LeNet(classes=3)
    assert three.size == 44_426 - 7 * 85 and three.tape_length == 4687


def test_init_shapes_bounds_and_seed(net):
    w = net.init(0)
    assert w.dtype == np.float32 and w.shape == (net.size,)
    np.testing.assert_array_equal(w, net.init(0))
    assert not np.array_equal(w, net.init(1))
    limits = [np.sqrt(6 / 25), np.sqrt(6 / 150), np.sqrt(6 / 256), np.sqrt(6 / 120),
              np.sqrt(6 / 94)]
    n_bias = [6, 16, 120, 84, 10]
    for (name, start, stop), limit, nb in zip(net.groups, limits, n_bias):
        weights, bias = w[start:stop - nb], w[stop - nb:stop]
        assert np.all(bias == 0), name
        assert np.abs(weights).max() <= limit and np.abs(weights).max() > 0.9 * limit, name
        assert abs(weights.mean()) < 0.1 * limit, name


def run_forward(net, w, data, idx, slots=None):
    """forward over idx with the tapes in a buffer of ``slots`` tapes at at = the given slots;
    returns (tape buffer, toff, at, losses, correct)."""
    at = np.arange(len(idx), dtype=np.int64) if slots is None else np.asarray(slots, np.int64)
    toff = net.tape_offsets(data, np.arange(at.max() + 1, dtype=np.int64))
    tape = np.zeros(toff[-1], f32)
    losses, correct = np.full(len(idx), np.nan), np.full(len(idx), np.nan)
    net.forward(w, data, idx, tape, toff, at, losses, correct)
    return tape, toff, at, losses, correct


def test_forward_matches_twin(net, data, w0):
    idx = np.array([5, 0, 7, 7, 2], np.int64)
    slots = [6, 1, 0, 3, 4]                 # slots 2 and 5 stay unwritten
    tape, toff, at, losses, correct = run_forward(net, w0, data, idx, slots)
    e_tapes, e_losses, e_correct, _ = ref.batch(w0, data.X, data.y, idx)
    for j, slot in enumerate(slots):
        close(tape[toff[slot]:toff[slot + 1]], e_tapes[j])
    for slot in (2, 5):
        assert not tape[toff[slot]:toff[slot + 1]].any()
    close(losses, e_losses, rtol=1e-5)
    np.testing.assert_array_equal(correct, e_correct)


def test_forward_counts_correct_predictions(net, data, w0):
    label = data.y[0]
    w = w0.copy()
    w[net.size - 10:] = 0
    w[net.size - 10 + label] = 100.0        # fc3's bias: every image is predicted ``label``
    idx = np.arange(N_IMAGES, dtype=np.int64)
    *_, losses, correct = run_forward(net, w, data, idx)
    np.testing.assert_array_equal(correct, (data.y == label).astype(float))
    assert 0 < correct.sum() < N_IMAGES
    assert np.all(losses[data.y != label] > 50) and np.all(losses[data.y == label] < 1e-6)


def test_backward_matches_twin_gradient(net, data, w0):
    idx = np.array([1, 4, 4, 9, 11], np.int64)
    slots = [4, 0, 2, 1, 3]
    tape, toff, at, *_ = run_forward(net, w0, data, idx, slots)
    g = rand(np.random.default_rng(11), net.size, scale=0.01)
    g_start = g.copy()
    net.backward(w0, data, idx, tape, toff, at, 0.37, g)
    expected = ref.batch(w0, data.X, data.y, idx)[3]
    for name, start, stop in net.groups:
        close(g[start:stop] - g_start[start:stop], 0.37 * expected[start:stop], rtol=1e-3)


@pytest.mark.parametrize("offset", [1e-3, 1.0])
def test_delta_forward_matches_forward(net, data, w0, offset):
    """w = w~ + offset * (a random vector as large as w~'s layers): small and large moves."""
    rng = np.random.default_rng(12)
    w = w0.copy()
    for _, start, stop in net.groups:
        w[start:stop] += offset * rand(rng, stop - start, scale=np.abs(w0[start:stop]).mean())
    # the anchor's tapes of all images (indexed by image), the new ones in minibatch slots
    everything = np.arange(N_IMAGES, dtype=np.int64)
    anchor_tape, anchor_toff, *_ = run_forward(net, w0, data, everything)
    idx = np.array([8, 3, 10, 3], np.int64)
    toff = net.tape_offsets(data, idx)
    at = np.array([2, 0, 3, 1], np.int64)
    tape = np.zeros(toff[-1], f32)
    losses, correct = np.full(4, np.nan), np.full(4, np.nan)
    net.delta_forward(w0, w, data, idx, anchor_tape, anchor_toff, idx, tape, toff, at, losses,
                      correct)
    f_tape, f_toff, f_at, f_losses, f_correct = run_forward(net, w, data, idx, at)
    np.testing.assert_array_equal(correct, f_correct)
    np.testing.assert_allclose(losses, f_losses, rtol=1e-5)
    for j in range(4):
        slot = at[j]
        close(tape[toff[slot]:toff[slot + 1]], f_tape[f_toff[slot]:f_toff[slot + 1]], rtol=1e-5)
    # the bit-centred tape is not the anchor's
    assert not np.allclose(tape[toff[0]:toff[1]], anchor_tape[anchor_toff[3]:anchor_toff[4]])
    g_delta, g_forward = np.zeros(net.size, f32), np.zeros(net.size, f32)
    net.backward(w, data, idx, tape, toff, at, 1.0, g_delta)
    net.backward(w, data, idx, f_tape, f_toff, f_at, 1.0, g_forward)
    for name, start, stop in net.groups:
        close(g_delta[start:stop], g_forward[start:stop], rtol=1e-4)


# ---- argument checks ----------------------------------------------------------------------

def forward_args(net, data, w0):
    idx = np.array([0, 2], np.int64)
    toff = net.tape_offsets(data, idx)
    return dict(w=w0, data=data, idx=idx, tape=np.zeros(toff[-1], f32), toff=toff,
                at=np.arange(2, dtype=np.int64), losses=np.zeros(2), correct=np.zeros(2))


BAD_FORWARD = [
    ("w", lambda a: a["w"].astype(np.float64), TypeError, "w must have dtype float32"),
    ("w", lambda a: a["w"][:-1], ValueError, r"w must have shape \(44426,\)"),
    ("data", lambda a: (a["data"].X, a["data"].y), TypeError, "data must be"),
    ("data", lambda a: Images(np.ascontiguousarray(a["data"].X[:, :27]),
                                         a["data"].y), ValueError, "data.X"),
    ("data", lambda a: Images(a["data"].X, a["data"].y + 10), ValueError, "data.y"),
    ("idx", lambda a: np.array([0, N_IMAGES], np.int64), ValueError, "idx must lie in"),
    ("idx", lambda a: np.array([0, -1], np.int64), ValueError, "idx must lie in"),
    ("idx", lambda a: np.array([0.0, 1.0]), TypeError, "idx must have dtype int64"),
    ("tape", lambda a: a["tape"][:-1], ValueError, "toff points outside tape"),
    ("toff", lambda a: a["toff"] // 2, ValueError, "toff must give each image 4694"),
    ("at", lambda a: np.array([0, 2], np.int64), ValueError, "at must lie in"),
    ("at", lambda a: np.zeros(3, np.int64), ValueError, "at must have the shape of idx"),
    ("losses", lambda a: np.zeros(2, f32), TypeError, "losses must have dtype float64"),
    ("correct", lambda a: np.zeros(3), ValueError, "correct must have the shape of idx"),
]


@pytest.mark.parametrize("name, make, error, message", BAD_FORWARD)
def test_forward_rejects_bad_arguments(net, data, w0, name, make, error, message):
    args = forward_args(net, data, w0)
    args[name] = make(args)
    with pytest.raises(error, match=message):
        net.forward(**args)


def test_backward_and_delta_forward_reject_bad_arguments(net, data, w0):
    a = forward_args(net, data, w0)
    net.forward(**a)
    g = np.zeros(net.size, f32)
    common = (a["data"], a["idx"], a["tape"], a["toff"], a["at"])
    with pytest.raises(ValueError, match="coef must be a finite number"):
        net.backward(w0, *common, np.inf, g)
    with pytest.raises(TypeError, match="g must have dtype float32"):
        net.backward(w0, *common, 1.0, g.astype(np.float64))
    g.flags.writeable = False
    with pytest.raises(ValueError, match="g is read-only"):
        net.backward(w0, *common, 1.0, g)
    out = (a["tape"].copy(), a["toff"], a["at"], a["losses"], a["correct"])
    with pytest.raises(TypeError, match="w_anchor must have dtype float32"):
        net.delta_forward(w0.astype(np.float64), w0, *common, *out)
    with pytest.raises(TypeError, match="anchor_tape must have dtype float32"):
        net.delta_forward(w0, w0, a["data"], a["idx"], a["tape"].astype(np.float64), a["toff"],
                          a["at"], *out)
    with pytest.raises(ValueError, match="anchor_at must lie in"):
        net.delta_forward(w0, w0, a["data"], a["idx"], a["tape"], a["toff"],
                          np.array([0, 5], np.int64), *out)


def test_constructor_and_init_reject_bad_arguments(net):
    with pytest.raises(ValueError, match="classes must be >= 2"):
        LeNet(classes=1)
    with pytest.raises(TypeError, match="classes must be an int"):
        LeNet(classes=10.0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        net.init(-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        net.init("1")
