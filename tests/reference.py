"""Plain NumPy references of every Numba kernel in halp_core (no Numba here).

They follow the formulas of docs/design.md and of halp_core's modules (random_bits, fixed_point,
int_lanes, float_formats, grids, and the solvers' full_gradient, full_precision, fixed_grid and
float_grid) literally, one step at a time, and use the same counter-hash random bits, so kernel and reference can be compared exactly (integers) or to
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


def seed_key(seed):
    """32-bit key (uint64) of an integer seed in [0, 2^64): lowbias32 of its low half mixed with
    lowbias32 of its high half."""
    low = np.uint64((seed ^ 0x5BD1E995) & 0xFFFFFFFF)
    high = np.uint64((seed >> 32) & 0xFFFFFFFF)
    return hash32(low ^ hash32(high ^ np.uint64(0x9E3779B9)))


def step_key(seed_key, step):
    """Key of step ``step`` (int >= 0) under a seed key."""
    s = np.uint64(step)
    return hash32(np.uint64(seed_key) ^ hash32(s ^ hash32(s >> np.uint64(32))))


GOLDEN = np.uint64(0x9E3779B9)


def lane_hash(key, counter):
    """hash32(key + counter * 0x9E3779B9 mod 2**32), the per-coordinate random bits (uint64)."""
    return hash32(np.uint64(key) + np.asarray(counter, dtype=np.uint64) * GOLDEN)


def lane_uniform(key, counter):
    """u in [0, 1) with the top 24 of lane_hash's bits (float64)."""
    return (lane_hash(key, counter) >> np.uint64(8)).astype(np.float64) / 2.0**24


def epoch_key(seed_key, step0):
    """Key of the per-epoch dithers of an epoch starting at step ``step0``."""
    return hash32(step_key(seed_key, step0) ^ np.uint64(0x6A09E667))


def lane_width(k_dtype, x_dtype):
    """(lane bits B, fractional bits F = B/2 - 1, random slot bits B/2, move limit 2^(B-2) - 1) of
    halp_core.int_lanes for an iterate / data dtype pair, or None (float lanes)."""
    k_size, x_size = np.dtype(k_dtype).itemsize, np.dtype(x_dtype).itemsize
    if x_size > k_size or k_size > 2:
        return None
    bits = 16 * k_size
    return bits, bits // 2 - 1, bits // 2, (1 << (bits - 2)) - 1


def split_vg(vg, key, frac, limit):
    """(VGd high part, low 16 bits - 2**15, max |VGd|) of halp_core.int_lanes' vg split (epoch_lanes); max is -1
    when vg is too large for the integer lanes."""
    v = np.asarray(vg, dtype=np.float64) * 2.0 ** (frac + 16)
    if not np.all(np.abs(v) < limit * 65536.0):
        return None, None, -1
    fixed = np.floor(v + lane_uniform(key, np.arange(v.size))).astype(np.int64)
    hi = fixed >> 16
    return hi, (fixed & 0xFFFF) - 32768, int(np.max(np.abs(hi) + 1, initial=0))


def lane_step(x, k, vghi, vglo, vgd_max, coef, shrink, key, bits):
    """Integer-lane step of halp_core.int_lanes: (new k as int64, saturation count), or None when
    the step must take the float lanes."""
    width = lane_width(k.dtype, x.dtype)
    if width is None or vgd_max < 0:
        return None
    lane_bits, frac, slot, limit = width
    one = 1 << frac
    split = lane_bits == 16
    coef_one = 1 << 16 if split else one
    c = np.floor(coef * coef_one + lane_uniform(key, 0xFFFFFFFF))
    sh = np.floor(shrink * one + lane_uniform(key, 0xFFFFFFFE))
    x_move = (1 << (8 * x.dtype.itemsize - 1)) * one / coef_one
    if not (abs(c) < 2 ** (lane_bits - 1) and abs(c) * x_move + 1 + vgd_max + one <= limit
            and 0 <= sh <= one):
        return None
    dither = int(lane_hash(key, 0xFFFFFFFD))
    thr = 32767 - (dither & 0xFFFF)
    xi = x.astype(np.int64)
    if split:   # floor(((x << F) c + u4) / 2^16)
        product = ((xi << frac) * int(c) + (dither >> 16)) >> 16
    else:
        product = int(c) * xi
    per = 32 // slot
    j = np.arange(k.size)
    rnd = ((lane_hash(key, j // per) >> (slot * (j % per)).astype(np.uint64))
           & np.uint64(one - 1)).astype(np.int64)
    vgd = vghi + (vglo > thr)
    q = (k.astype(np.int64) * (one - int(sh)) + rnd - (product + vgd)) >> frac
    lo, hi = grid(bits)
    return np.clip(q, lo, hi), int(np.sum((q < lo) | (q > hi)))


def uniform_bits(key, j):
    """24 random bits (uint64) of elements j under ``key``: hash32(key ^ j * GOLDEN) >> 8."""
    j = np.asarray(j, dtype=np.uint64)
    return hash32(np.uint64(key) ^ ((j * GOLDEN) & M32)) >> np.uint64(8)


def uniforms(key, m):
    """U[0, 1) with 24 random bits for elements 0..m-1 under ``key`` (float64)."""
    return uniform_bits(key, np.arange(m, dtype=np.uint64)).astype(np.float64) / 2.0**24


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


def _lp_row_step(x, k, k_dtype, vg, lanes_vg, coef, shrink, key, bits):
    """One step of one iterate row (the linear model's k, or a class row of K^T): the integer-lane
    step when it applies, else the float-lane rounding with u = lane_uniform(key, j)."""
    if lanes_vg is not None:
        done = lane_step(x, k.astype(k_dtype), *lanes_vg, coef, shrink, key, bits)
        if done is not None:
            return done
    target = (1 - shrink) * k - coef * x.astype(np.float64) - vg
    return round_stochastic(target, lane_uniform(key, np.arange(k.size)), bits)


def lp_epoch(Xq, x_scale, y_or_labels, k, s, a, r, vg, lam, alpha, idx, kind, seed_key, step0,
             bits):
    """LP-SGD / LP-SVRG / HALP epoch on the integer iterate k (halp_core.solvers.fixed_grid).

    Linear models: step t has key step_key(seed_key, step0 + t). Multinomial models take k as K^T
    (C, d) and vg as (d, C); class c of step t has key step_key(seed_key, (step0 + t) C + c) and
    steps like a linear model with coefficient p_c - r_ic. Each row takes the integer-lane step
    (lane_step) when it applies, else the float-lane rounding. Returns (new k as int64, saturation
    count)."""
    k_dtype = k.dtype
    rows = k.astype(np.int64).copy().reshape(-1, k.shape[-1])
    vg_rows = np.asarray(vg, dtype=np.float64).T.reshape(rows.shape)
    C = rows.shape[0]
    width = lane_width(k_dtype, Xq.dtype)
    lanes_vg = [None] * C
    if width is not None:
        keys = [epoch_key(seed_key, step0)] if kind != "multinomial" else [
            epoch_key(seed_key, step0 * C + c) for c in range(C)]
        splits = [split_vg(vg_rows[c], keys[c], width[1], width[3]) for c in range(C)]
        largest = -1 if any(m < 0 for _, _, m in splits) else max(m for _, _, m in splits)
        lanes_vg = [None if largest < 0 else (hi, lo, largest) for hi, lo, _ in splits]
    saturated = 0
    for t, i in enumerate(idx):
        dots = x_scale * s * (rows @ Xq[i].astype(np.int64)).astype(np.float64)
        if kind == "multinomial":
            coefs = softmax_minus_onehot(a[i] + dots, y_or_labels[i]) - r[i]
            keys = [step_key(seed_key, (step0 + t) * C + c) for c in range(C)]
        else:
            coefs = [dloss(kind, a[i] + dots[0], y_or_labels[i]) - r[i]]
            keys = [step_key(seed_key, step0 + t)]
        for c in range(C):
            rows[c], sat = _lp_row_step(Xq[i], rows[c], k_dtype, vg_rows[c], lanes_vg[c],
                                        alpha * x_scale / s * coefs[c], alpha * lam, keys[c], bits)
            saturated += sat
    return rows.reshape(k.shape), saturated


# ---- float formats (halp_core.float_formats) -----------------------------------------------------

def format_values(dtype):
    """Every finite non-negative value of a float format, ascending (float64), from the format's
    ml_dtypes / NumPy dtype (an independent definition of the format)."""
    width = np.dtype(dtype).itemsize * 8
    patterns = np.arange(2 ** (width - 1), dtype=np.uint64).astype(f"u{width // 8}")
    with np.errstate(invalid="ignore"):    # NaN patterns
        values = patterns.view(dtype).astype(np.float64)
    return np.unique(values[np.isfinite(values)])


def round_format_stochastic(v, r, dtype, mantissa_bits, bias):
    """Stochastic rounding of float32 values v to the format (float64 results) with 32 random
    bits r (uint32) each, as halp_core.float_formats.encode_stochastic_value decides: |v| between
    neighbours lo < hi rounds up when, in the normal range (and everywhere for bias 127, whose
    subnormals are float32's), the top D = 23 - M bits of r are at least 2^D (hi - |v|) /
    (hi - lo), and in the subnormal range when (r >> 8) / 2^24 < (|v| - lo)
    / (hi - lo). Values above the largest finite one saturate to it (NaN stays NaN)."""
    grid = format_values(dtype)
    a = np.abs(v.astype(np.float64))
    i = np.clip(np.searchsorted(grid, a, side="right") - 1, 0, grid.size - 2)
    lo, hi = grid[i], grid[i + 1]
    frac = (a - lo) / (hi - lo)
    drop = 23 - mantissa_bits
    r = r.astype(np.uint64)
    normal = (a >= 2.0 ** (1 - bias)) | (bias == 127)   # bias 127: float32's own subnormals
    up_normal = (r >> np.uint64(32 - drop)).astype(np.float64) >= 2.0 ** drop * (1 - frac)
    up_sub = (r >> np.uint64(8)).astype(np.float64) / 2.0 ** 24 < frac
    out = np.where(np.where(normal, up_normal, up_sub), hi, lo)
    out = np.where(frac == 0, lo, out)
    out = np.where(a >= grid[-1], grid[-1], out)
    return np.where(np.isnan(a), np.nan, np.copysign(out, v))


def lpf_epoch_linear(xvals, x_scale, y, kvals, s, a, r, vg, lam, alpha, idx, kind, seed_key,
                     step0, round_format):
    """LP-SGD / LP-SVRG / HALP epoch with the iterate in a float format (halp_core.solvers.
    float_grid.lpf_epoch_linear), on decoded values: xvals (n, d) and kvals (d,) float64; round_format(v,
    r) the format's stochastic rounding (round_format_stochastic with the format bound). Step t's
    coordinate j uses lane_hash(step_key(seed_key, step0 + t), j). Returns (new k values,
    saturation count)."""
    k = kvals.astype(np.float64).copy()
    top = round_format(np.array([np.float32(3.4e38)]), np.zeros(1, np.uint32))[0]
    saturated = 0
    for t, i in enumerate(idx):
        c = dloss(kind, a[i] + x_scale * s * float(xvals[i] @ k), y[i]) - r[i]
        coef = np.float32(alpha * x_scale / s * c)
        target = (k - (np.float32(alpha * lam) * k + coef * xvals[i] + vg)).astype(np.float32)
        bits = lane_hash(step_key(seed_key, step0 + t), np.arange(k.size)).astype(np.uint32)
        saturated += int(np.sum(np.abs(target.astype(np.float64)) > top))
        k = round_format(target, bits)
    return k, saturated


# ---- halp_bench.mlp.scaling: low-precision gradients with loss scaling ------------------------

def format_dtype(name):
    """The ml_dtypes (or NumPy) dtype of the registered float format ``name``."""
    import ml_dtypes

    from halp_core import registry

    ref = registry.format_spec(name).reference
    return np.dtype(getattr(ml_dtypes, ref, None) or ref)


def adaptive_scale(amax, max_finite, margin):
    """2^(floor(log2(max_finite / amax)) - margin), halved once if amax times it exceeds
    max_finite; exponent clipped to [-64, 64]; 1 for amax = 0."""
    if amax == 0:
        return 1.0
    e = min(max(np.floor(np.log2(max_finite / amax)) - margin, -64), 64)
    s = 2.0 ** e
    return s / 2 if amax * s > max_finite else s


def round_scaled(v, scale, name, max_finite):
    """RN_name(scale v) / scale with ml_dtypes' round to nearest (v float32); overflowing entries
    saturate at +-max_finite. Returns (values float32, overflowed, flushed, nonzero)."""
    x = (np.asarray(v, np.float32) * np.float32(scale)).astype(np.float32)
    q = x.astype(format_dtype(name)).astype(np.float32)
    bad = ~np.isfinite(q) | (np.abs(q) > max_finite)
    q = np.where(bad, np.sign(x) * np.float32(max_finite), q).astype(np.float32)
    r = (q * np.float32(1.0 / scale)).astype(np.float32)
    nonzero = v != 0
    return r, bool(bad.any()), int(np.sum(nonzero & (r == 0))), int(np.sum(nonzero))


def round_backprop(z1, W2, d2, name, max_finite, policy, scale, margin):
    """The MLP's low-precision backward step (halp_bench.mlp.scaling.round_backprop): d2 rounded
    at its scale, d1 = (W2[:H] d2) * (z1 > 0) from the rounded d2 (float32), rounded at its own.
    Returns (d2, d1, overflowed, flushed, nonzero, (S_2, S_1))."""
    adaptive = policy == "adaptive"
    s2 = adaptive_scale(float(np.max(np.abs(d2))), max_finite, margin) if adaptive else scale
    r2, o2, f2, n2 = round_scaled(d2, s2, name, max_finite)
    d1 = ((W2[:-1].astype(np.float32) @ r2) * (z1 > 0)).astype(np.float32)
    s1 = adaptive_scale(float(np.max(np.abs(d1))), max_finite, margin) if adaptive else scale
    r1, o1, f1, n1 = round_scaled(d1, s1, name, max_finite)
    return r2, r1, o2 or o1, f2 + f1, n2 + n1, (s2, s1)
