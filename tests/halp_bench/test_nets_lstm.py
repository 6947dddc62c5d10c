"""The LSTM tagger of halp_bench.nets.lstm through its public API: forward, backward and the
bit-centred forward against the NumPy float64 twins (tests/reference_lstm.py), the twins'
gradient against central finite differences, tapes, offsets, initialisation, the float32
approximations of tanh and exp, and refusals of bad input."""

import numpy as np
import pytest
from numba import njit
from refusals import read_only, refusal_test
import reference_lstm as ref

from halp_bench.nets import lstm
from halp_bench.nets.data import Sentences
from halp_core.kernels import FAST

SMALL = dict(vocab=23, n_tags=5, embed=6, hidden=5)      # lengths off the vector widths
WIDER = dict(vocab=40, n_tags=13, embed=16, hidden=8)
LENGTHS = (1, 2, 5, 7, 4, 3)


def _dims(net):
    return net.vocab, net.embed, net.hidden, net.classes


def _sentences(net, lengths, seed=0):
    rng = np.random.default_rng(seed)
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    n = int(starts[-1])
    return Sentences(rng.integers(0, net.vocab, n), rng.integers(0, net.classes, n), starts)


def _params(net, seed=0, bias_noise=0.3):
    """init(seed) with random biases too (init's are 0 and 1), so every term is exercised."""
    w = net.init(seed)
    rng = np.random.default_rng(seed + 100)
    for name, start, stop in net.groups:
        if name != "embed":
            H, C = net.hidden, net.classes
            bias = slice(stop - 4 * H, stop) if name == "lstm" else slice(stop - C, stop)
            w[bias] += (bias_noise * rng.standard_normal(w[bias].shape[0])).astype(np.float32)
    return w


def _sentence(data, i):
    a, b = data.starts[i], data.starts[i + 1]
    return data.words[a:b], data.tags[a:b]


def _run_forward(net, w, data, idx, at=None, slots=None):
    """forward over idx into a fresh tape; returns (tape, toff, at, losses, correct)."""
    slots = idx if slots is None else slots
    at = np.arange(len(idx), dtype=np.int64) if at is None else at
    toff = net.tape_offsets(data, slots)
    tape = np.full(toff[-1], np.nan, np.float32)
    losses, correct = np.zeros(len(idx)), np.zeros(len(idx))
    net.forward(w, data, idx, tape, toff, at, losses, correct)
    return tape, toff, at, losses, correct


def _fields(net, tape, toff, slot, length):
    """The tape of one slot split into the twin's fields (x, z, c, h, s), each (length, .)."""
    E, H, C = net.embed, net.hidden, net.classes
    rec = tape[toff[slot]:toff[slot + 1]].reshape(length, net.tape_per_token).astype(np.float64)
    cuts = np.cumsum([E, 4 * H, H, H, C])
    assert cuts[-1] == net.tape_per_token
    return dict(zip("xzchs", np.split(rec, cuts[:-1], axis=1)))


# ---- layout and initialisation ----------------------------------------------------------------

def test_layout_of_the_benchmark_size():
    net = lstm.Tagger(10001, 90)
    E, H, C = 32, 64, 90
    assert net.name == "lstm"
    assert net.size == 10001 * E + (E + H + 1) * 4 * H + (H + 1) * C == 350714
    assert net.groups == (("embed", 0, 320032), ("lstm", 320032, 344864),
                          ("out", 344864, 350714))
    assert net.tape_per_token == E + 6 * H + C == 506


def test_init_is_deterministic_and_scaled():
    net = lstm.Tagger(**WIDER)
    w = net.init(3)
    assert w.dtype == np.float32 and w.shape == (net.size,)
    np.testing.assert_array_equal(w, net.init(3))
    assert not np.array_equal(w, net.init(4))
    E, Wx, Wh, b, Wo, bo = ref.unpack(w, *_dims(net))
    H = net.hidden
    assert np.abs(E).max() <= np.sqrt(3) and abs(E.var() - 1) < 0.15
    for M in (Wx, Wh, Wo):
        limit = np.sqrt(6 / sum(M.shape))
        assert np.abs(M).max() <= limit and np.abs(M).max() > 0.8 * limit
    np.testing.assert_array_equal(b, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])
    np.testing.assert_array_equal(bo, 0)


def test_offsets_and_predictions():
    net = lstm.Tagger(**SMALL)
    data = _sentences(net, LENGTHS)
    idx = np.array([4, 0, 3, 3], dtype=np.int64)
    lengths = np.array(LENGTHS)[idx]
    np.testing.assert_array_equal(net.predictions(data, idx), lengths)
    toff = net.tape_offsets(data, idx)
    assert toff.dtype == np.int64
    np.testing.assert_array_equal(toff, np.r_[0, np.cumsum(lengths * net.tape_per_token)])
    assert net.tape_offsets(data, np.array([], dtype=np.int64)).tolist() == [0]


# ---- kernels against the float64 twins ----------------------------------------------------------

@pytest.mark.parametrize("dims", [SMALL, WIDER], ids=["small", "wider"])
def test_forward_matches_the_twin(dims):
    net = lstm.Tagger(**dims)
    data = _sentences(net, LENGTHS)
    w = _params(net)
    idx = np.array([5, 0, 3, 1, 2, 4], dtype=np.int64)
    at = np.array([2, 5, 0, 1, 4, 3], dtype=np.int64)     # the tape slot of sample j
    slots = np.empty_like(idx)
    slots[at] = idx
    tape, toff, _, losses, correct = _run_forward(net, w, data, idx, at, slots)
    assert not np.isnan(tape).any()                          # every slot written in full
    for j, i in enumerate(idx):
        words, tags = _sentence(data, i)
        loss, hits, fields = ref.forward(w, words, tags, _dims(net))
        assert losses[j] == pytest.approx(loss, rel=1e-5)
        assert correct[j] == hits
        got = _fields(net, tape, toff, at[j], len(words))
        for k in "xzchs":
            np.testing.assert_allclose(got[k], fields[k], rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("dims", [SMALL, WIDER], ids=["small", "wider"])
def test_backward_matches_the_twin(dims):
    net = lstm.Tagger(**dims)
    data = _sentences(net, LENGTHS, seed=1)
    w = _params(net, seed=1)
    idx = np.array([3, 0, 5, 3, 2], dtype=np.int64)          # a sentence twice counts twice
    tape, toff, at, _, _ = _run_forward(net, w, data, idx)
    g0 = np.random.default_rng(2).standard_normal(net.size).astype(np.float32)
    g = g0.copy()
    net.backward(w, data, idx, tape, toff, at, -0.7, g)
    expected = g0 - 0.7 * sum(ref.gradient(w, *_sentence(data, i), _dims(net)) for i in idx)
    scale = np.abs(expected - g0).max()
    np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-5 * scale)
    touched = np.zeros(net.vocab, bool)
    touched[np.concatenate([_sentence(data, i)[0] for i in idx])] = True
    E_rows = (g - g0)[:net.vocab * net.embed].reshape(net.vocab, net.embed)
    assert np.all(E_rows[~touched] == 0) and np.all(np.abs(E_rows[touched]).max(axis=1) > 0)


def test_one_token_sentence():
    net = lstm.Tagger(**SMALL)
    data = _sentences(net, (1,), seed=4)
    w = _params(net, seed=4)
    idx = np.array([0], dtype=np.int64)
    tape, toff, at, losses, _ = _run_forward(net, w, data, idx)
    assert losses[0] == pytest.approx(ref.loss(w, *_sentence(data, 0), _dims(net)), rel=1e-5)
    g = np.zeros(net.size, np.float32)
    net.backward(w, data, idx, tape, toff, at, 1.0, g)
    np.testing.assert_allclose(g, ref.gradient(w, *_sentence(data, 0), _dims(net)),
                               rtol=1e-4, atol=1e-7)
    _, _, Wh, _, _, _ = ref.unpack(g, *_dims(net))
    assert np.all(Wh == 0)                                    # h_0 = 0: Wh plays no part


def test_twin_gradient_matches_finite_differences():
    """Central differences of the float64 twin's loss, a few coordinates of every part."""
    net = lstm.Tagger(**SMALL)
    data = _sentences(net, (3, 1, 4), seed=5)
    w = _params(net, seed=5).astype(np.float64)
    dims = _dims(net)
    rng = np.random.default_rng(6)
    names = ("E", "Wx", "Wh", "b", "Wo", "bo")
    views = dict(zip(names, ref.unpack(np.arange(net.size), *dims)))
    for i in range(3):
        words, tags = _sentence(data, i)
        grad = ref.gradient(w, words, tags, dims)
        coords = list(views["E"][rng.choice(words, 2)].ravel()[::3])   # rows that occur
        for name in names[1:]:
            coords += list(rng.choice(views[name].ravel(), 3, replace=False))
        for k in map(int, coords):
            e = np.zeros(net.size)
            e[k] = 1e-6
            fd = (ref.loss(w + e, words, tags, dims) - ref.loss(w - e, words, tags, dims)) / 2e-6
            assert grad[k] == pytest.approx(fd, rel=1e-5, abs=1e-8), (i, k)


# ---- the bit-centred forward ------------------------------------------------------------------

@pytest.mark.parametrize("offset", [1e-3, 1.0], ids=["small", "large"])
def test_delta_forward_equals_forward(offset):
    net = lstm.Tagger(**WIDER)
    data = _sentences(net, LENGTHS, seed=7)
    w_anchor = _params(net, seed=7)
    rng = np.random.default_rng(8)
    w = w_anchor + (offset * np.abs(w_anchor).mean() * rng.standard_normal(net.size)) \
        .astype(np.float32)
    m = len(LENGTHS)
    anchor_tape, anchor_toff, _, _, _ = _run_forward(net, w_anchor, data, np.arange(m))
    idx = np.array([4, 1, 0, 5], dtype=np.int64)              # a batch; the anchor tape is all
    tape, toff, at, losses, correct = _run_forward(net, w, data, idx)
    d_tape = np.full_like(tape, np.nan)
    d_losses, d_correct = np.zeros(len(idx)), np.zeros(len(idx))
    net.delta_forward(w_anchor, w, data, idx, anchor_tape, anchor_toff, idx, d_tape, toff, at,
                      d_losses, d_correct)
    np.testing.assert_allclose(d_losses, losses, rtol=1e-5)
    np.testing.assert_array_equal(d_correct, correct)
    np.testing.assert_allclose(d_tape, tape, rtol=1e-4, atol=1e-5 * np.abs(tape).max())
    g, d_g = np.zeros(net.size, np.float32), np.zeros(net.size, np.float32)
    net.backward(w, data, idx, tape, toff, at, 1.0, g)
    net.backward(w, data, idx, d_tape, toff, at, 1.0, d_g)
    np.testing.assert_allclose(d_g, g, rtol=1e-4, atol=1e-5 * np.abs(g).max())


def test_delta_forward_reads_the_anchor_tape():
    """The anchor's gate pre-activations z~ are taken from its tape, not recomputed: a shift
    planted in them shifts z of the same token by exactly that much."""
    net = lstm.Tagger(**SMALL)
    data = _sentences(net, (3,), seed=9)
    w_anchor = _params(net, seed=9)
    w = w_anchor + np.float32(0.01)
    idx = np.array([0], dtype=np.int64)
    anchor_tape, toff, at, _, _ = _run_forward(net, w_anchor, data, idx)
    tape = np.empty_like(anchor_tape)
    losses, correct = np.zeros(1), np.zeros(1)
    runs = []
    for shift in (0.0, 0.5):
        planted = anchor_tape.copy()
        z0 = net.embed                                     # token 0's z field
        planted[z0:z0 + 4 * net.hidden] += np.float32(shift)
        net.delta_forward(w_anchor, w, data, idx, planted, toff, at, tape, toff, at, losses,
                          correct)
        runs.append(_fields(net, tape, toff, 0, 3)["z"][0])
    np.testing.assert_allclose(runs[1] - runs[0], 0.5, rtol=1e-5)


# ---- float32 approximations ---------------------------------------------------------------------

@njit(fastmath=FAST, error_model="numpy")    # as in the kernels
def _apply(f_index, x):
    out = np.empty_like(x)
    for k in range(x.shape[0]):
        out[k] = lstm.tanh_f32(x[k]) if f_index == 0 else lstm.exp_f32(x[k])
    return out


def test_tanh_and_exp_approximations():
    x = np.linspace(-30, 30, 600001).astype(np.float32)
    tiny = np.float32(10.0) ** -np.linspace(1, 30, 300, dtype=np.float32)
    x = np.concatenate((x, tiny, -tiny))
    t = _apply(0, x)
    assert t.dtype == np.float32
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(t - exact).max() < 3e-7
    assert (np.abs(t - exact) / np.maximum(np.abs(exact), 1e-45)).max() < 3e-7
    x = np.linspace(lstm.EXP_FLOOR, 88, 600001).astype(np.float32)
    e = _apply(1, x)
    exact = np.exp(x.astype(np.float64))
    assert (np.abs(e - exact) / exact).max() < 3.5e-7
    below = _apply(1, np.array([-90.0, -1e30], np.float32))
    assert np.all(below == _apply(1, np.array([lstm.EXP_FLOOR], np.float32)))


# ---- refusals -----------------------------------------------------------------------------------

def _ctx():
    net = lstm.Tagger(**SMALL)
    data = _sentences(net, (2, 3), seed=10)
    w = net.init(0)
    idx = np.array([1, 0], dtype=np.int64)
    toff = net.tape_offsets(data, idx)
    tape = np.zeros(toff[-1], np.float32)
    at = np.arange(2, dtype=np.int64)
    return dict(net=net, data=data, w=w, idx=idx, toff=toff, tape=tape, at=at,
                losses=np.zeros(2), correct=np.zeros(2), g=np.zeros(net.size, np.float32))


def _forward(**change):
    c = {**_ctx(), **change}
    c["net"].forward(c["w"], c["data"], c["idx"], c["tape"], c["toff"], c["at"], c["losses"],
                     c["correct"])


def _backward(coef=1.0, **change):
    c = {**_ctx(), **change}
    c["net"].backward(c["w"], c["data"], c["idx"], c["tape"], c["toff"], c["at"], coef, c["g"])


def _delta(w_anchor=None, anchor_toff=None, anchor_at=None):
    c = _ctx()
    c["net"].delta_forward(c["w"] if w_anchor is None else w_anchor, c["w"], c["data"], c["idx"],
                           c["tape"].copy(), c["toff"] if anchor_toff is None else anchor_toff,
                           c["at"] if anchor_at is None else anchor_at, c["tape"], c["toff"],
                           c["at"], c["losses"], c["correct"])


def _data(words=None, tags=None, starts=None):
    d = _ctx()["data"]
    return Sentences(d.words if words is None else words, d.tags if tags is None else tags,
                     d.starts if starts is None else starts)


I64 = np.int64
CASES = [
    ("vocab zero", lambda: lstm.Tagger(0, 5), ValueError, "vocab"),
    ("n_tags float", lambda: lstm.Tagger(10, 5.0), TypeError, "n_tags"),
    ("hidden zero", lambda: lstm.Tagger(10, 5, hidden=0), ValueError, "hidden"),
    ("seed negative", lambda: lstm.Tagger(10, 5).init(-1), ValueError, "seed"),
    ("w float64", lambda: _forward(w=_ctx()["w"].astype(np.float64)), TypeError, "w must"),
    ("w short", lambda: _forward(w=_ctx()["w"][:-1].copy()), ValueError, "w must have length"),
    ("data tuple", lambda: _forward(data=tuple(_ctx()["data"])), TypeError, "data must"),
    ("words int32", lambda: _forward(data=_data(words=np.zeros(5, np.int32))), TypeError,
     "data.words"),
    ("word id = vocab", lambda: _forward(data=_data(words=np.array([0, 1, 2, 23, 4], I64))),
     ValueError, r"data.words\[3\] = 23 is outside \[0, vocab = 23\)"),
    ("word id negative", lambda: _forward(data=_data(words=np.array([0, -1, 2, 3, 4], I64))),
     ValueError, r"data.words\[1\]"),
    ("tag = n_tags", lambda: _backward(data=_data(tags=np.array([0, 1, 5, 3, 4], I64))),
     ValueError, r"data.tags\[2\] = 5 is outside"),
    ("tags short", lambda: _forward(data=_data(tags=np.zeros(4, I64))), ValueError, "data.tags"),
    ("empty sentence", lambda: _forward(data=_data(starts=np.array([0, 0, 5], I64))),
     ValueError, "data.starts: sentence 0 is empty"),
    ("starts past the end", lambda: _forward(data=_data(starts=np.array([0, 2, 6], I64))),
     ValueError, "data.starts"),
    ("idx out of range", lambda: _forward(idx=np.array([0, 2], I64)), ValueError, "idx"),
    ("idx float", lambda: _forward(idx=np.array([0.0, 1.0])), TypeError, "idx"),
    ("idx 2-D", lambda: _forward(idx=np.zeros((2, 1), I64)), ValueError, "idx"),
    ("tape float64", lambda: _forward(tape=np.zeros(1000)), TypeError, "tape"),
    ("tape read-only", lambda: _forward(tape=read_only(_ctx()["tape"])), ValueError, "tape"),
    ("tape too short", lambda: _forward(tape=np.zeros(10, np.float32)), ValueError,
     "outside tape"),
    ("slot of the wrong size", lambda: _forward(toff=np.array([0, 2, 5], I64) *
                                                _ctx()["net"].tape_per_token), ValueError,
     "toff: slot 0 holds 82 floats, sentence 1 needs 3 tokens"),
    ("at wrong length", lambda: _forward(at=np.zeros(3, I64)), ValueError, "at must"),
    ("at out of range", lambda: _forward(at=np.array([0, 2], I64)), ValueError, "at must"),
    ("losses short", lambda: _forward(losses=np.zeros(1)), ValueError, "losses"),
    ("correct float32", lambda: _forward(correct=np.zeros(2, np.float32)), TypeError,
     "correct"),
    ("g short", lambda: _backward(g=np.zeros(5, np.float32)), ValueError, "g must"),
    ("g float64", lambda: _backward(g=np.zeros(_ctx()["net"].size)), TypeError, "g must"),
    ("coef nan", lambda: _backward(coef=float("nan")), ValueError, "coef"),
    ("coef str", lambda: _backward(coef="1"), TypeError, "coef"),
    ("w_anchor short", lambda: _delta(w_anchor=np.zeros(3, np.float32)), ValueError,
     "w_anchor"),
    ("anchor_toff wrong", lambda: _delta(anchor_toff=np.array([0, 3, 5], I64)), ValueError,
     "anchor_toff"),
    ("anchor_at out of range", lambda: _delta(anchor_at=np.array([0, 5], I64)), ValueError,
     "anchor_at"),
]

test_refusals = refusal_test(CASES)
