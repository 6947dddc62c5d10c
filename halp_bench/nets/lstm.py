"""The LSTM part-of-speech tagger: Numba forward, backward (backpropagation through time) and
bit-centred forward kernels, float32, behind the network contract of ``halp_bench.nets``.

Architecture, per sentence of n tokens with word ids w_1..w_n and tags y_1..y_n:

* embedding  x_t = E[w_t]                        E (vocab, embed)
* one unidirectional LSTM layer of hidden size H, gates in the order i, f, g, o:
  z_t = x_t Wx + h_{t-1} Wh + b (4H),  i = sigmoid(z[0:H]), f = sigmoid(z[H:2H]),
  g = tanh(z[2H:3H]), o = sigmoid(z[3H:4H]),  c_t = f c_{t-1} + i g,  h_t = o tanh(c_t),
  h_0 = c_0 = 0                                  Wx (embed, 4H), Wh (H, 4H), b (4H,)
* scores s_t = h_t Wo + bo (n_tags), softmax cross-entropy against y_t
                                                 Wo (H, n_tags), bo (n_tags,)

The sample loss f_i is the mean cross-entropy over the sentence's tokens; its predictions are its
tokens, correct ones those whose argmax score is the tag (the first maximum on a tie).

Parameters, one flat float32 vector w in this order, each matrix row-major: group "embed" = E;
group "lstm" = Wx, Wh, b; group "out" = Wo, bo. The matrices are stored input-major (a row per
input coordinate), and Wx, Wh are adjacent, so W = [Wx; Wh] (embed + H, 4H) is one matrix and
z_t = [x_t, h_{t-1}] W + b. The forward maps are sums of contiguous rows (out += v[e] W[e, :],
four rows per pass over out), the backward ones contiguous dot products (four rows per pass over
the vector) and, once per sentence, the weight gradients sum_t outer(input_t, delta_t) (four
tokens per pass over a gradient row); every inner loop runs over contiguous memory and
vectorizes. For vocab 10001, embed 32, H 64, n_tags 90: P = 350714.

Initialisation (``init(seed)``, np.random.default_rng(seed), drawn in the order E, Wx, Wh, Wo):
E uniform(-sqrt(3), sqrt(3)), so each embedding coordinate has variance 1, the unit-variance input
that Glorot's variance argument for Wx assumes (PyTorch's nn.Embedding default, N(0, 1), has the
same variance; uniform keeps it bounded like the other groups); Wx, Wh, Wo Glorot-uniform,
U(+-sqrt(6 / (fan_in + fan_out))) with fan_in, fan_out the stored matrix's rows and columns;
b = 0 except the forget gate's b[H:2H] = 1; bo = 0.

Tape, per token t of a sentence, ``tape_per_token`` = embed + 6H + n_tags floats (506 for
embed 32, H 64, n_tags 90): x_t (embed) | z_t (4H) | c_t (H) | h_t (H) | s_t (n_tags), the
tokens one after another. Backward recomputes the gate activations from z_t, tanh(c_t) from c_t
and the softmax from s_t (vectorized: cheaper than the memory they would take); delta_forward
reads x~_t, h~_{t-1} and the linear maps' outputs z~_t, s~_t from the anchor's tape.

Bit-centred forward (``delta_forward``): with the anchor's tape (written at w~), every linear map
is the exact expansion lin(v, W) = lin(v~, W~) + lin(v - v~, W) + lin(v~, W - W~):
x_t = x~_t + (E - E~)[w_t];  z_t = z~_t + (b - b~) + (x_t - x~_t) Wx + x~_t (Wx - Wx~)
+ (h_{t-1} - h~_{t-1}) Wh + h~_{t-1} (Wh - Wh~);  s_t = s~_t + (bo - bo~) + (h_t - h~_t) Wo
+ h~_t (Wo - Wo~). The cell and the loss act on the full values through the same inlined helpers
as ``forward``, so the result equals forward(w) up to float32 rounding.

tanh and exp are float32 approximations written as straight-line arithmetic (``tanh_f32``: a
rational function, error < 3e-7; ``exp_f32``: Cephes' polynomial times 2**n, relative error
< 3.5e-7; both tested against NumPy), so the loops over them vectorize where libm calls do not
(measured here: 0.2-0.3 ns per element, against 4.5 ns for libm's expf and 11.5 ns for its
tanhf); sigmoid(x) = (1 + tanh(x / 2)) / 2. The kernels use Numba's NumPy error model, so float
division vectorizes (no zero-division check; the divisors here are >= 0.0048).
The kernels are serial and release the GIL; scratch is allocated once per call, none per token.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from halp_core import validate
from halp_core.kernels import FAST

from .data import Sentences

F32 = np.float32

# tanh on [-TANH_CLAMP, TANH_CLAMP]: Eigen's float rational approximation, x N(x**2) / D(x**2)
# with N of degree 6 (coefficients _N1 .. _N13) and D of degree 3 (_D0 .. _D6); beyond the clamp
# tanh is +-1 to float32 precision.
TANH_CLAMP = F32(7.90531110763549805)
_N1, _N3, _N5, _N7 = F32(4.89352455891786e-03), F32(6.37261928875436e-04), \
    F32(1.48572235717979e-05), F32(5.12229709037114e-08)
_N9, _N11, _N13 = F32(-8.60467152213735e-11), F32(2.00018790482477e-13), \
    F32(-2.76076847742355e-16)
_D0, _D2, _D4, _D6 = F32(4.89352518554385e-03), F32(2.26843463243900e-03), \
    F32(1.18534705686654e-04), F32(1.19825839466702e-06)
# exp(x) = 2**n exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln(2) / 2, ln(2) / 2], with
# Cephes' expf polynomial exp(r) = 1 + r + r**2 (_P5 + _P4 r + ... + _P0 r**5).
_P0, _P1, _P2 = F32(1.9875691500e-4), F32(1.3981999507e-3), F32(8.3334519073e-3)
_P3, _P4, _P5 = F32(4.1665795894e-2), F32(1.6666665459e-1), F32(5.0000001201e-1)
_LOG2E = F32(1.44269504088896341)
_LN2 = F32(0.693147180559945309)
EXP_FLOOR = F32(-87.3)      # exp(EXP_FLOOR) ~ 1.2e-38, float32's smallest normal scale
_HALF = F32(0.5)
_ONE = F32(1)

_KERNEL = dict(cache=True, fastmath=FAST, error_model="numpy", nogil=True)
_INLINE = dict(_KERNEL, inline="always")


# ---- scalar and vector helpers (inlined into the kernels) ---------------------------------------

@njit(**_INLINE)
def tanh_f32(x):
    """tanh(x) of a float32 x in float32 arithmetic (absolute and relative error < 3e-7),
    branch-free so that loops over it vectorize."""
    x = TANH_CLAMP if x > TANH_CLAMP else x
    x = -TANH_CLAMP if x < -TANH_CLAMP else x
    x2 = x * x
    p = ((((((_N13 * x2 + _N11) * x2 + _N9) * x2 + _N7) * x2 + _N5) * x2 + _N3) * x2 + _N1) * x
    q = ((_D6 * x2 + _D4) * x2 + _D2) * x2 + _D0
    return p / q


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits`` (a register bitcast)."""
    if not isinstance(bits, types.Integer) or bits.bitwidth != 32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(bits), codegen


@njit(**_INLINE)
def exp_f32(x):
    """exp(x) of a float32 x <= 88 (larger x overflow the exponent field) in float32 arithmetic:
    relative error < 3.5e-7 for x >= EXP_FLOOR, exp(EXP_FLOOR) below it (softmax terms that small
    do not count); branch-free so that loops over it vectorize."""
    x = EXP_FLOOR if x < EXP_FLOOR else x
    n = np.floor(x * _LOG2E + _HALF)
    r = x - n * _LN2
    p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
    scale = _float32_from_bits(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))
    return (p * r * r + r + _ONE) * scale


@njit(**_INLINE)
def _sigmoid(x):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2 in float32 (error < 1.5e-7)."""
    return _HALF + _HALF * tanh_f32(_HALF * x)


@njit(**_INLINE)
def _add_rows(out, coef, rows):
    """out (n,) += coef (m,) @ rows (m, n): the rows weighted by coef, summed four at a time (one
    load and store of out per four contiguous rows)."""
    m = rows.shape[0]
    q = m - m % 4
    for e in range(0, q, 4):
        c0, c1, c2, c3 = coef[e], coef[e + 1], coef[e + 2], coef[e + 3]
        r0, r1, r2, r3 = rows[e], rows[e + 1], rows[e + 2], rows[e + 3]
        for k in range(out.shape[0]):
            out[k] += c0 * r0[k] + c1 * r1[k] + c2 * r2[k] + c3 * r3[k]
    for e in range(q, m):
        ce = coef[e]
        r = rows[e]
        for k in range(out.shape[0]):
            out[k] += ce * r[k]


@njit(**_INLINE)
def _add_mat_vec(out, W, u):
    """out (m,) += W (m, n) @ u (n,): contiguous dot products, four rows at a time (one load of
    u per four rows)."""
    m = W.shape[0]
    q = m - m % 4
    for e in range(0, q, 4):
        r0, r1, r2, r3 = W[e], W[e + 1], W[e + 2], W[e + 3]
        s0 = s1 = s2 = s3 = F32(0)
        for k in range(u.shape[0]):
            uk = u[k]
            s0 += r0[k] * uk
            s1 += r1[k] * uk
            s2 += r2[k] * uk
            s3 += r3[k] * uk
        out[e] += s0
        out[e + 1] += s1
        out[e + 2] += s2
        out[e + 3] += s3
    for e in range(q, m):
        r = W[e]
        s = F32(0)
        for k in range(u.shape[0]):
            s += r[k] * u[k]
        out[e] += s


@njit(**_INLINE)
def _add_outer_sum(G, A, B):
    """G (m, k) += A^T B = sum over t of outer(A[t], B[t]), A (n, m), B (n, k)."""
    for e in range(G.shape[0]):
        _add_rows(G[e], A[:, e], B)


@njit(**_INLINE)
def _layers(wl, E, H, C):
    """Views (W (E + H, 4H), b (4H,), Wo (H, C), bo (C,)) of wl, the lstm and out groups of a flat
    parameter vector (w[vocab * E:]); W = [Wx; Wh], Wx its first E rows."""
    G = 4 * H
    o_b = (E + H) * G
    o_wo = o_b + G
    o_bo = o_wo + H * C
    return (wl[:o_b].reshape((E + H, G)), wl[o_b:o_wo], wl[o_wo:o_bo].reshape((H, C)),
            wl[o_bo:o_bo + C])


@njit(**_INLINE)
def _record(tape, pos, E, H, C):
    """Views (x (E,), z (4H,), c (H,), h (H,), s (C,)) of the token record at tape[pos]."""
    G = 4 * H
    return (tape[pos:pos + E], tape[pos + E:pos + E + G], tape[pos + E + G:pos + E + G + H],
            tape[pos + E + G + H:pos + E + G + 2 * H],
            tape[pos + E + G + 2 * H:pos + E + G + 2 * H + C])


@njit(**_INLINE)
def _gates(z, act):
    """Gate activations act (4H,) = (sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)) of the
    pre-activations z (4H,)."""
    H = z.shape[0] // 4
    for k in range(z.shape[0]):
        act[k] = _sigmoid(z[k])
    zg, ag = z[2 * H:3 * H], act[2 * H:3 * H]
    for k in range(H):
        ag[k] = tanh_f32(zg[k])


@njit(**_INLINE)
def _cell(act, c_prev, c, h):
    """LSTM cell from the gate activations act (4H,): writes c (H,) and h (H,)."""
    H = c.shape[0]
    i, f, g, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
    for k in range(H):
        ck = f[k] * c_prev[k] + i[k] * g[k]
        c[k] = ck
        h[k] = o[k] * tanh_f32(ck)


@njit(**_INLINE)
def _token_loss(s, label):
    """(cross-entropy logsumexp(s) - s[label] as float64, 1.0 if argmax(s) == label else 0.0)."""
    best = 0
    for c in range(1, s.shape[0]):
        if s[c] > s[best]:
            best = c
    m = s[best]
    total = F32(0)
    for c in range(s.shape[0]):
        total += exp_f32(s[c] - m)
    return float(m - s[label]) + math.log(float(total)), 1.0 if best == label else 0.0


@njit(**_INLINE)
def _softmax_grad(s, label, scale, out):
    """out (C,) = scale * (softmax(s) - e_label)."""
    m = s[0]
    for c in range(1, s.shape[0]):
        m = max(m, s[c])
    total = F32(0)
    for c in range(s.shape[0]):
        e = exp_f32(s[c] - m)
        out[c] = e
        total += e
    f = scale / total
    for c in range(s.shape[0]):
        out[c] *= f
    out[label] -= scale


# ---- kernels ---------------------------------------------------------------------------------

@njit(**_KERNEL)
def forward_kernel(w_anchor, w, V, E, H, C, words, tags, starts, idx, anchor_tape, anchor_toff,
                   anchor_at, tape, toff, at, losses, correct, centred):
    """Kernel of :meth:`Tagger.delta_forward` (centred True) and of :meth:`Tagger.forward`
    (centred False: the anchor's arguments are not read), no checks; V, E, H, C: vocab, embed,
    hidden, n_tags."""
    Emb, Emb_a = w[:V * E].reshape((V, E)), w_anchor[:V * E].reshape((V, E))
    W, b, Wo, bo = _layers(w[V * E:], E, H, C)
    # centred: W - W~ of the lstm and out groups (not read otherwise)
    dW, db, dWo, dbo = _layers(w[V * E:] - w_anchor[V * E:] if centred else w[V * E:], E, H, C)
    R = E + 6 * H + C
    zero = np.zeros(H, F32)
    act = np.empty(4 * H, F32)
    u = np.empty(E + H, F32)      # the gate input [x_t, h_{t-1}]; centred: [x_t - x~_t, h - h~]
    ua = np.empty(E + H, F32)     # centred: the anchor's gate input [x~_t, h~_{t-1}]
    for j in range(idx.shape[0]):
        a = starts[idx[j]]
        n = starts[idx[j] + 1] - a
        pos = toff[at[j]]
        pos_a = anchor_toff[anchor_at[j]] if centred else 0
        loss = 0.0
        hits = 0.0
        c_prev = zero
        for t in range(n):
            x, z, c, h, s = _record(tape, pos + t * R, E, H, C)
            rows = E if t == 0 else E + H       # h_0 = 0
            if centred:
                xa, za, _, ha, sa = _record(anchor_tape, pos_a + t * R, E, H, C)
                er, era = Emb[words[a + t]], Emb_a[words[a + t]]
                for e in range(E):
                    u[e] = er[e] - era[e]
                    x[e] = xa[e] + u[e]
                ua[:E] = xa
                for k in range(4 * H):
                    z[k] = za[k] + db[k]
                _add_rows(z, u[:rows], W[:rows])
                _add_rows(z, ua[:rows], dW[:rows])
            else:
                x[:] = Emb[words[a + t]]
                u[:E] = x
                z[:] = b
                _add_rows(z, u[:rows], W[:rows])
            _gates(z, act)
            _cell(act, c_prev, c, h)
            if centred:
                for k in range(H):
                    u[E + k] = h[k] - ha[k]
                ua[E:] = ha
                for k in range(C):
                    s[k] = sa[k] + dbo[k]
                _add_rows(s, u[E:], Wo)
                _add_rows(s, ha, dWo)
            else:
                u[E:] = h
                s[:] = bo
                _add_rows(s, h, Wo)
            lt, ht = _token_loss(s, tags[a + t])
            loss += lt
            hits += ht
            c_prev = c
        losses[j] = loss / n
        correct[j] = hits


@njit(**_KERNEL)
def backward_kernel(w, V, E, H, C, words, tags, starts, idx, tape, toff, at, coef, g):
    """Kernel of :meth:`Tagger.backward` (no checks): backpropagation through time over each
    whole sentence, g += coef * grad f_i. The weight gradients are summed over the sentence's
    tokens after its backward sweep (four tokens per pass over a gradient row)."""
    W, b, Wo, bo = _layers(w[V * E:], E, H, C)
    gEmb = g[:V * E].reshape((V, E))
    gW, gb, gWo, gbo = _layers(g[V * E:], E, H, C)
    R = E + 6 * H + C
    G = 4 * H
    longest = 0
    for j in range(idx.shape[0]):
        longest = max(longest, starts[idx[j] + 1] - starts[idx[j]])
    U = np.zeros((longest, E + H), F32)         # per token: the gate input [x_t, h_{t-1}]
    DZ = np.empty((longest, G), F32)            # dloss / dz_t
    HS = np.empty((longest, H), F32)            # h_t
    DS = np.empty((longest, C), F32)            # dloss / ds_t
    ones = np.ones(longest, F32)
    zero = np.zeros(H, F32)
    act = np.empty(G, F32)
    tc = np.empty(H, F32)
    dh = np.empty(H, F32)
    dh_next = np.empty(H, F32)
    dc_next = np.empty(H, F32)
    for j in range(idx.shape[0]):
        a = starts[idx[j]]
        n = starts[idx[j] + 1] - a
        pos = toff[at[j]]
        scale = F32(coef / n)
        dh_next[:] = 0
        dc_next[:] = 0
        for t in range(n - 1, -1, -1):
            x, z, c, h, s = _record(tape, pos + t * R, E, H, C)
            if t > 0:
                _, _, c_prev, h_prev, _ = _record(tape, pos + (t - 1) * R, E, H, C)
            else:
                c_prev, h_prev = zero, zero
            U[t, :E] = x
            U[t, E:] = h_prev
            HS[t] = h
            ds = DS[t]
            _softmax_grad(s, tags[a + t], scale, ds)
            dh[:] = dh_next
            _add_mat_vec(dh, Wo, ds)
            dz = DZ[t]
            _gates(z, act)
            for k in range(H):
                tc[k] = tanh_f32(c[k])
            i, f, gg, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
            di, df, dg, do = dz[:H], dz[H:2 * H], dz[2 * H:3 * H], dz[3 * H:]
            for k in range(H):
                dck = dc_next[k] + dh[k] * o[k] * (_ONE - tc[k] * tc[k])
                do[k] = dh[k] * tc[k] * o[k] * (_ONE - o[k])
                di[k] = dck * gg[k] * i[k] * (_ONE - i[k])
                df[k] = dck * c_prev[k] * f[k] * (_ONE - f[k])
                dg[k] = dck * i[k] * (_ONE - gg[k] * gg[k])
                dc_next[k] = dck * f[k]
            _add_mat_vec(gEmb[words[a + t]], W[:E], dz)
            dh_next[:] = 0
            if t > 0:
                _add_mat_vec(dh_next, W[E:], dz)
        _add_rows(gb, ones[:n], DZ[:n])
        _add_rows(gbo, ones[:n], DS[:n])
        _add_outer_sum(gW, U[:n], DZ[:n])
        _add_outer_sum(gWo, HS[:n], DS[:n])


@njit(**_KERNEL)
def bad_token(words, tags, starts, idx, vocab, n_tags):
    """Position in words of the first token of the sentences idx whose word id is outside
    [0, vocab) or whose tag is outside [0, n_tags); -1 if none."""
    for j in range(idx.shape[0]):
        for p in range(starts[idx[j]], starts[idx[j] + 1]):
            if words[p] < 0 or words[p] >= vocab or tags[p] < 0 or tags[p] >= n_tags:
                return p
    return -1


# ---- the network -----------------------------------------------------------------------------

class Tagger:
    """The LSTM tagger of the module docstring, as a network of the ``halp_bench.nets`` contract.

    vocab, n_tags: numbers of word ids and tags (>= 1, >= 2); embed, hidden: the embedding width
    and the LSTM's hidden size H (>= 1). Attributes: name "lstm", groups (("embed", 0, ..),
    ("lstm", .., ..), ("out", .., size)), size P, tape_per_token (floats of tape per token).

    Every method checks its arguments first (of ``data``, the sentences of idx only: word ids in
    [0, vocab), tags in [0, n_tags), no empty sentence) and raises TypeError or ValueError naming
    the argument; the cost is O(len(idx)) plus one pass over the batch's token ids.
    """

    name = "lstm"
    default_step = 5.0
    """train's step when none is given: SGD-fp32's best of 0.5, 2 and 5 at the quick size
    (docs/reproduction.md); the loss is a mean over a sentence's tokens, so the step is large."""

    def __init__(self, vocab, n_tags, embed=32, hidden=64):
        self.vocab = validate.integer(vocab, "vocab", minimum=1)
        self.classes = validate.integer(n_tags, "n_tags", minimum=2)   # tags a token chooses from
        self.embed = validate.integer(embed, "embed", minimum=1)
        self.hidden = validate.integer(hidden, "hidden", minimum=1)
        V, E, H, C = self._dims
        lstm_start = V * E
        out_start = lstm_start + (E + H + 1) * 4 * H
        self.size = out_start + (H + 1) * C
        self.groups = (("embed", 0, lstm_start), ("lstm", lstm_start, out_start),
                       ("out", out_start, self.size))
        self.tape_per_token = E + 6 * H + C

    @property
    def _dims(self):
        return self.vocab, self.embed, self.hidden, self.classes

    def init(self, seed):
        """Initial parameters (P,) float32 from np.random.default_rng(seed) (module docstring)."""
        rng = np.random.default_rng(validate.integer(seed, "seed", minimum=0))
        V, E, H, C = self._dims
        root3 = np.sqrt(3.0)
        b = np.zeros(4 * H)
        b[H:2 * H] = 1.0
        parts = [rng.uniform(-root3, root3, V * E)]
        for rows, cols in ((E, 4 * H), (H, 4 * H)):
            limit = np.sqrt(6.0 / (rows + cols))
            parts.append(rng.uniform(-limit, limit, rows * cols))
        parts.append(b)
        limit = np.sqrt(6.0 / (H + C))
        parts += [rng.uniform(-limit, limit, H * C), np.zeros(C)]
        return np.concatenate(parts).astype(np.float32)

    def predictions(self, data, idx):
        """Tokens (int64, (len(idx),)) of the sentences idx of ``data`` (a Sentences)."""
        data = self._check_data(data)
        return self._lengths(data, self._check_idx(data, idx))

    def tape_offsets(self, data, idx):
        """Cumulative tape lengths (int64, (len(idx) + 1,)): the tape of sentence idx[j] is
        tape[toff[j]:toff[j + 1]], tape_per_token floats per token."""
        lengths = self.predictions(data, idx)
        return np.concatenate(([0], np.cumsum(lengths * self.tape_per_token))).astype(np.int64)

    def forward(self, w, data, idx, tape, toff, at, losses, correct):
        """Forward pass at w over the sentences idx of ``data``: writes each one's tape into
        tape[toff[at[j]]:toff[at[j] + 1]], losses[j] (mean cross-entropy per token) and
        correct[j] (tokens tagged right), both float64 (len(idx),)."""
        data, idx = self._check_batch(w, "w", data, idx)
        self._check_tape(data, idx, tape, toff, at, "", writeable=True)
        self._check_outputs(idx, losses, correct)
        forward_kernel(w, w, *self._dims, *data, idx, tape, toff, at, tape, toff, at, losses,
                       correct, False)

    def backward(self, w, data, idx, tape, toff, at, coef, g):
        """g (P,) float32 += coef * sum_j grad f_{idx[j]}(w), from the tapes that forward (or
        delta_forward) wrote at w."""
        data, idx = self._check_batch(w, "w", data, idx)
        self._check_tape(data, idx, tape, toff, at, "", writeable=False)
        coef = validate.real(coef, "coef")
        validate.kernel_array(g, "g", (np.float32,), writeable=True)
        if g.shape[0] != self.size:
            raise ValueError(f"g must have length size = {self.size}, got {g.shape[0]}")
        backward_kernel(w, *self._dims, *data, idx, tape, toff, at, coef, g)

    def delta_forward(self, w_anchor, w, data, idx, anchor_tape, anchor_toff, anchor_at, tape,
                      toff, at, losses, correct):
        """The outputs of forward(w, ...) computed in the bit-centred form (module docstring)
        from the anchor's tapes, which forward wrote at w_anchor into
        anchor_tape[anchor_toff[anchor_at[j]]:...]."""
        data, idx = self._check_batch(w, "w", data, idx)
        self._check_params(w_anchor, "w_anchor")
        self._check_tape(data, idx, anchor_tape, anchor_toff, anchor_at, "anchor_",
                         writeable=False)
        self._check_tape(data, idx, tape, toff, at, "", writeable=True)
        self._check_outputs(idx, losses, correct)
        forward_kernel(w_anchor, w, *self._dims, *data, idx, anchor_tape, anchor_toff, anchor_at,
                       tape, toff, at, losses, correct, True)

    # ---- argument checks (cheap: O(batch), once per call) ----

    def _check_params(self, w, name):
        validate.kernel_array(w, name, (np.float32,))
        if w.shape[0] != self.size:
            raise ValueError(f"{name} must have length size = {self.size}, got {w.shape[0]}")

    @staticmethod
    def _check_data(data):
        if not isinstance(data, Sentences):
            raise TypeError(f"data must be a halp_bench.nets.data.Sentences, got "
                            f"{type(data).__name__}")
        for field, a in zip(("words", "tags", "starts"), data):
            validate.kernel_array(a, f"data.{field}", (np.int64,))
        if data.tags.shape != data.words.shape:
            raise ValueError(f"data.tags must have the length of data.words "
                             f"({data.words.shape[0]}), got {data.tags.shape[0]}")
        starts = data.starts
        if starts.shape[0] < 1 or starts[0] != 0 or starts[-1] != data.words.shape[0]:
            raise ValueError(f"data.starts must run from 0 to len(data.words) = "
                             f"{data.words.shape[0]}")
        return data

    @staticmethod
    def _check_idx(data, idx):
        validate.kernel_array(idx, "idx", (np.int64,))
        m = data.starts.shape[0] - 1
        if idx.size and (idx.min() < 0 or idx.max() >= m):
            raise ValueError(f"idx must hold sentence numbers in [0, {m})")
        empty = data.starts[idx + 1] <= data.starts[idx]
        if empty.any():
            raise ValueError(f"data.starts: sentence {idx[np.argmax(empty)]} is empty (every "
                             f"sentence needs at least one token)")
        return idx

    @staticmethod
    def _lengths(data, idx):
        return data.starts[idx + 1] - data.starts[idx]

    def _check_batch(self, w, name, data, idx):
        self._check_params(w, name)
        data = self._check_data(data)
        idx = self._check_idx(data, idx)
        p = bad_token(*data, idx, self.vocab, self.classes)
        if p >= 0:
            if not 0 <= data.words[p] < self.vocab:
                raise ValueError(f"data.words[{p}] = {data.words[p]} is outside "
                                 f"[0, vocab = {self.vocab})")
            raise ValueError(f"data.tags[{p}] = {data.tags[p]} is outside "
                             f"[0, n_tags = {self.classes})")
        return data, idx

    def _check_tape(self, data, idx, tape, toff, at, prefix, writeable):
        validate.kernel_array(tape, f"{prefix}tape", (np.float32,), writeable=writeable)
        validate.kernel_array(toff, f"{prefix}toff", (np.int64,))
        validate.kernel_array(at, f"{prefix}at", (np.int64,))
        if at.shape != idx.shape:
            raise ValueError(f"{prefix}at must have the length of idx ({idx.shape[0]}), got "
                             f"{at.shape[0]}")
        if at.size and (at.min() < 0 or at.max() >= toff.shape[0] - 1):
            raise ValueError(f"{prefix}at must hold slots in [0, len({prefix}toff) - 1 = "
                             f"{toff.shape[0] - 1})")
        start, stop = toff[at], toff[at + 1]
        if (start < 0).any() or (stop > tape.shape[0]).any():
            raise ValueError(f"{prefix}toff: a slot lies outside {prefix}tape (length "
                             f"{tape.shape[0]})")
        wrong = stop - start != self._lengths(data, idx) * self.tape_per_token
        if wrong.any():
            j = np.argmax(wrong)
            raise ValueError(f"{prefix}toff: slot {at[j]} holds {stop[j] - start[j]} floats, "
                             f"sentence {idx[j]} needs {self._lengths(data, idx[j:j + 1])[0]} "
                             f"tokens x {self.tape_per_token}")

    @staticmethod
    def _check_outputs(idx, losses, correct):
        for name, a in (("losses", losses), ("correct", correct)):
            validate.kernel_array(a, name, (np.float64,), writeable=True)
            if a.shape != idx.shape:
                raise ValueError(f"{name} must have the length of idx ({idx.shape[0]}), got "
                                 f"{a.shape[0]}")
