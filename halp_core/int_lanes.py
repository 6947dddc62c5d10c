"""The low-precision step in integer lanes (docs/design.md section 4, docs/performance.md).

One step of LP-SGD / LP-SVRG / HALP, k <- Q(k - m) with m = a lam k + coef x_i + vg in grid units,
never leaves the integers. Two lane widths (``WIDTHS``): int8 iterates on int8 data in 16-bit lanes
with F = 7 fractional bits, and int16 iterates (b = 9..16) on int8 or int16 data in 32-bit lanes
with F = 15. Every coordinate j computes, in those lanes,

    Q_j = (k_j * (2^F - sh) + R_j) - (c * x_ij + VGd_j),   q_j = Q_j >> F (arithmetic),
    k_j <- clamp(q_j, lo, hi)  (counted as saturated when q_j was outside [lo, hi])

where R_j is F fresh random bits of the coordinate (so q_j = floor(k_j - m_j + u_j) with m_j the
move in units of 2^-F), and the per-step and per-epoch terms are dithered so that every term of m
is exact in expectation:
    sh  = floor(a lam 2^F + u1)          (per step; E[sh] = a lam 2^F),
    c   = floor(coef 2^G + u2)           (per step; G = 16 in 16-bit lanes, G = F in 32-bit ones),
    c * x_ij: in 32-bit lanes the exact product; in 16-bit lanes floor(((x << F) c + u4) / 2^16),
          built from the high and low halves of the 32-bit product (u4 per step, so the move keeps
          16 bits of the coefficient, not 7: a coarse c adds noise along x_i to every coordinate),
    VGd_j = floor((VG32_j + u3) / 2^16)  (per step, one u3 shared by the step's coordinates),
    VG32_j = floor(vg_j 2^(F+16) + u_j)  (per epoch and coordinate).
So E[q_j] = k_j - m_j exactly inside the grid (up to the 2^-23 grid units of VG32's dither,
which averages out over epochs), with independent random bits per coordinate and per step.

Exactness of the lane arithmetic (lane of B bits, F = B/2 - 1): |k (2^F - sh)| <= 2^(B-2) and
R < 2^F; a step uses the lanes only if |c| * max|x| + max|VGd| + 2^F - 1 < 2^(B-2), which holds
unless a coordinate moves by about 2^(b-1) grid units (where everything saturates anyway); other
steps, and data wider than the iterate, take the float-lane update of halp_core.solvers.fixed_grid. No lane
ever overflows, so clamping after the shift is exact and the saturation count is the float path's.

Random bits: coordinate j of a step with key K takes slot j % P of lane_hash(K, j // P)
(halp_core.random_bits; P = 4 bytes in 16-bit lanes, 2 half-words in 32-bit lanes), low F bits.
``_step_lanes`` does LANES coordinates per block in LLVM vector IR (sign-extending loads, lane
multiplies, the hash in 32-bit lanes, a min/max clamp whose moved lanes a scalar popcount counts,
and a truncating store), which Numba's own loops cannot express (it widens int8/int16 arithmetic
to int64); ``_step_tail`` does the remaining d % LANES coordinates with the same integer
arithmetic, so the result does not depend on where the blocks end.

Kernel API (Numba code only): ``epoch_lanes`` once per epoch (the fixed-point VG of every row
of the iterate), then ``step`` per step and row; ``step`` returns the saturation count, or
``FLOAT_LANES`` when that step cannot use the integer lanes and the caller must take its
float-lane update.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.np.numpy_support import from_dtype
from numba.core import cgutils
from numba.extending import intrinsic, overload

from . import validate
from .random_bits import GOLDEN, epoch_key, lane_hash, lane_uniform, lowbias32_in

LANES = 64                     # coordinates per vector block (at most 64: one i64 lane mask)
FLOAT_LANES = -1
"""What ``step`` returns when a step cannot use the integer lanes (the dtypes of iterate and
data, or a move too large for the lanes): the caller takes the float-lane update instead."""
# counters of the per-step scalar dithers: far above any coordinate counter (j // 2 < 2**30)
_DITHER_C, _DITHER_SH, _DITHER_VG = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


class _Width:
    """One lane width: lane bits B, fractional bits F = B/2 - 1, random slot bits per coordinate,
    the iterate's dtype and the largest |move| in lane units (2^(B-2) - 1)."""

    def __init__(self, bits, k_dtype):
        self.bits = bits
        self.frac = bits // 2 - 1
        self.one = 1 << self.frac
        self.slot = bits // 2
        self.per_hash = 32 // self.slot
        self.limit = (1 << (bits - 2)) - 1
        # 16-bit lanes: c has 16 fractional bits of a grid unit per data unit and the product
        # (x << F) c / 2^16 keeps its low half (see the module docstring); 32-bit lanes: F bits.
        self.split_product = bits == 16
        self.coef_one = 1 << 16 if self.split_product else self.one
        self.k_dtype = k_dtype
        self.vg_dtype = np.dtype(f"int{bits}")


WIDTHS = {np.dtype(np.int8): _Width(16, np.dtype(np.int8)),
          np.dtype(np.int16): _Width(32, np.dtype(np.int16))}
_NB = {types.int8: np.dtype(np.int8), types.int16: np.dtype(np.int16),
       types.int32: np.dtype(np.int32)}


def _width_of(k_type, x_type):
    """The lane width for an iterate / data dtype pair (Numba types), or None."""
    width = WIDTHS.get(_NB.get(k_type))
    if width is None or _NB.get(x_type) is None or _NB[x_type].itemsize > width.k_dtype.itemsize:
        return None
    return width


@intrinsic
def _step_lanes(typingctx, k, x, vghi, vglo, blocks, mult, coef, thr, thr2, key, lo, hi):
    """Blocks 0..blocks-1 (LANES coordinates each) of one integer-lane step, in place on k;
    returns the number of saturated coordinates (int64). k: int8 (16-bit lanes) or int16 (32-bit
    lanes), x: int8/int16 no wider than k, vghi/vglo: lane-wide ints (VGd's high part and its low 16
    bits biased by -2^15), all 1-D C-contiguous; mult = 2^F - sh, coef = c, thr = 2^15 - 1 - u3
    and thr2 = 2^15 - 1 - u4 (u3, u4 < 2^16), key: the step key, lo/hi: the grid."""
    if not all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
               for a in (k, x, vghi, vglo)):
        return None
    width = _width_of(k.dtype, x.dtype)
    if width is None or not vghi.dtype == vglo.dtype == from_dtype(width.vg_dtype):
        return None
    if not all(isinstance(s, types.Integer) for s in (blocks, mult, coef, thr, thr2, key, lo, hi)):
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        lane = ir.IntType(width.bits)
        vl = ir.VectorType(lane, LANES)
        h32 = ir.VectorType(i32, LANES // width.per_hash)
        slots = ir.VectorType(ir.IntType(width.slot), LANES)

        def pointer(pos):
            dtype = signature.args[pos].dtype
            vty = ir.VectorType(ir.IntType(dtype.bitwidth), LANES)
            array = context.make_array(signature.args[pos])(context, builder, args[pos])
            return builder.bitcast(array.data, vty.as_pointer()), dtype.bitwidth // 8

        def load(pos, b):
            ptr, align = pointer(pos)
            value = builder.load(builder.gep(ptr, [b]), align=align)
            return value if value.type == vl else builder.sext(value, vl)

        def scalar(pos, ty):
            value = context.cast(builder, args[pos], signature.args[pos], types.int64)
            return builder.trunc(value, ty) if ty.width < 64 else value

        def splat(value, vty):
            undef = ir.Constant(vty, ir.Undefined)
            one = builder.insert_element(undef, value, ir.Constant(i32, 0))
            mask = ir.Constant(ir.VectorType(i32, vty.count), [0] * vty.count)
            return builder.shuffle_vector(one, undef, mask)

        def const(vty, value):
            return ir.Constant(vty, [value] * vty.count)

        n_blocks = context.cast(builder, args[4], signature.args[4], types.intp)
        mult_v, coef_v = splat(scalar(5, lane), vl), splat(scalar(6, lane), vl)
        thr_v, thr2_v = splat(scalar(7, lane), vl), splat(scalar(8, lane), vl)
        thr2u_v = builder.xor(thr2_v, const(vl, 0x8000))
        key_v = splat(scalar(9, i32), h32)
        lo_v, hi_v = splat(scalar(10, lane), vl), splat(scalar(11, lane), vl)
        iota = ir.Constant(h32, list(range(h32.count)))
        hash_lanes = lowbias32_in(lambda x, c: builder.mul(x, const(h32, c)),
                                  lambda x, n: builder.xor(x, builder.lshr(x, const(h32, n))))
        k_ptr, k_align = pointer(0)
        i64 = ir.IntType(64)
        popcount = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64]), "llvm.ctpop.i64")
        acc = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
        smax, smin = (cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vl, [vl, vl]), f"llvm.{op}.v{LANES}i{width.bits}")
            for op in ("smax", "smin"))
        with cgutils.for_range(builder, n_blocks) as loop:
            b = loop.index
            k_l, x_l, vg_hi, vg_lo = load(0, b), load(1, b), load(2, b), load(3, b)
            # random bits: lane_hash(key, b * LANES / P + lane), a slot per coordinate
            first = builder.trunc(builder.mul(b, ir.Constant(b.type, h32.count)), i32)
            h = hash_lanes(builder.add(key_v, builder.mul(builder.add(splat(first, h32), iota),
                                                          const(h32, GOLDEN))))
            rnd = builder.and_(builder.zext(builder.bitcast(h, slots), vl),
                               const(vl, width.one - 1))
            carry = builder.sext(builder.icmp_signed(">", vg_lo, thr_v), vl)   # -1 or 0
            if width.split_product:   # floor(((x << F) c + u4) / 2^16) from the high and low halves
                xs = builder.shl(x_l, const(vl, width.frac))
                wide = ir.VectorType(i32, LANES)
                full = builder.mul(builder.sext(xs, wide), builder.sext(coef_v, wide))
                high = builder.trunc(builder.ashr(full, const(wide, 16)), vl)
                # (low ^ 2^15) > thr2 signed  <=>  low > (thr2 ^ 2^15) unsigned: one compare
                low = builder.mul(xs, coef_v)
                low_carry = builder.sext(builder.icmp_unsigned(">", low, thr2u_v), vl)
                product = builder.sub(high, low_carry)
            else:
                product = builder.mul(x_l, coef_v)
            move = builder.add(product, builder.sub(vg_hi, carry))
            total = builder.sub(builder.add(builder.mul(k_l, mult_v), rnd), move)
            q = builder.ashr(total, const(vl, width.frac))
            clamped = builder.call(smin, [builder.call(smax, [q, lo_v]), hi_v])
            # the block's saturated lanes (q moved by the clamp) as a 64-bit mask, counted by a
            # scalar popcount (integer pipes, off the vector ones)
            moved = builder.icmp_signed("!=", clamped, q)
            mask = builder.bitcast(moved, ir.IntType(LANES))
            mask = mask if LANES == 64 else builder.zext(mask, i64)
            builder.store(builder.add(builder.load(acc), builder.call(popcount, [mask])), acc)
            k_vty = k_ptr.type.pointee
            builder.store(builder.trunc(clamped, k_vty), builder.gep(k_ptr, [b]), align=k_align)
        return builder.load(acc)

    return types.int64(k, x, vghi, vglo, blocks, mult, coef, thr, thr2, key, lo, hi), codegen


@njit(cache=True, inline="always")
def _step_tail(k, x, vghi, vglo, start, mult, coef, thr, thr2, key, lo, hi, frac, slot, split):
    """Coordinates start..d-1 of the step of ``_step_lanes``, with the same integer arithmetic
    (scalar); returns their saturation count."""
    per = 32 // slot
    saturated = 0
    for j in range(start, k.shape[0]):
        bits = lane_hash(key, j // per) >> np.uint64(slot * (j % per))
        rnd = np.int64(bits & np.uint64((1 << frac) - 1))
        vgd = np.int64(vghi[j]) + (1 if vglo[j] > thr else 0)
        if split:
            full = (np.int64(x[j]) << frac) * coef
            product = (full >> 16) + (1 if (full & 0xFFFF) - 32768 > thr2 else 0)
        else:
            product = coef * np.int64(x[j])
        q = (np.int64(k[j]) * mult + rnd - (product + vgd)) >> frac
        if q > hi or q < lo:
            saturated += 1
            q = hi if q > hi else lo
        k[j] = q
    return saturated


@njit(cache=True)
def _split_vg(vg, key, frac, limit, vghi, vglo):
    """Per-epoch fixed point of the grid-unit vector vg (float, (d,)):
    V_j = floor(vg_j 2^(frac+16) + u_j) (u_j from lane_uniform(key, j)), split into vghi = V >> 16
    and vglo = (V & 0xFFFF) - 2^15 (lane-wide ints, (d,)). Returns max |VGd| (int64), or FLOAT_LANES when
    some |vg_j| 2^frac reaches ``limit`` (or is not finite): then the integer lanes cannot hold it."""
    scale = np.float64(1 << (frac + 16))
    largest = 0
    for j in range(vg.shape[0]):
        v = np.float64(vg[j]) * scale
        if not abs(v) < np.float64(limit) * 65536.0:
            return FLOAT_LANES
        v_fixed = np.int64(np.floor(v + lane_uniform(key, j)))
        vghi[j] = v_fixed >> 16
        vglo[j] = (v_fixed & 0xFFFF) - 32768
        largest = max(largest, abs(np.int64(vghi[j])) + 1)
    return largest


def epoch_lanes(VG, seed_key, step0, k, x):
    """The per-epoch fixed point of the grid-unit moves VG (float, (C, d): one row per row of the
    iterate; a linear model's (d,) vector as one row), for the lane width of iterate row k and
    data row x: (VGHI, VGLO, max |VGd|) with VGHI, VGLO (C, d) lane-wide ints (see
    ``_split_vg``); row c is dithered under epoch_key(seed_key, step0 C + c). max is
    FLOAT_LANES when the integer lanes do not apply (dtypes, or a move too large). Numba only:
    compiled from ``_epoch_lanes_impl``."""
    validate.numba_only("int_lanes.epoch_lanes")


@overload(epoch_lanes)
def _epoch_lanes_impl(VG, seed_key, step0, k, x):
    width = _width_of(k.dtype, x.dtype)
    if width is None:
        return lambda VG, seed_key, step0, k, x: (np.empty((VG.shape[0], 0), np.int16),
                                                 np.empty((VG.shape[0], 0), np.int16),
                                                 FLOAT_LANES)
    dtype, frac, limit = width.vg_dtype, width.frac, width.limit

    def impl(VG, seed_key, step0, k, x):
        C, d = VG.shape
        VGHI = np.empty((C, d), dtype=dtype)
        VGLO = np.empty((C, d), dtype=dtype)
        largest = 0
        for c in range(C):
            row = _split_vg(VG[c], epoch_key(seed_key, step0 * C + c), frac, limit, VGHI[c],
                            VGLO[c])
            largest = FLOAT_LANES if row < 0 or largest < 0 else max(largest, row)
        return VGHI, VGLO, largest

    return impl


def step(x, k, vghi, vglo, vgd_max, coef, shrink, key, lo, hi):
    """One step of iterate row k on data row x in integer lanes (see the module docstring), in
    place on k: returns the saturation count, or FLOAT_LANES when this step cannot use them
    (dtypes, or a move too large for the lanes); then the caller takes the float-lane update.
    coef: c a x_scale / s and shrink: a lam, in grid units (floats); vghi, vglo, vgd_max: the
    row's from ``epoch_lanes``; key: the step key; lo, hi: the grid's ends. Numba only: compiled
    from ``_step_impl``."""
    validate.numba_only("int_lanes.step")


@overload(step, inline="always")
def _step_impl(x, k, vghi, vglo, vgd_max, coef, shrink, key, lo, hi):
    width = _width_of(k.dtype, x.dtype)
    if width is None:
        return lambda x, k, vghi, vglo, vgd_max, coef, shrink, key, lo, hi: FLOAT_LANES
    one, frac, slot, limit = width.one, width.frac, width.slot, width.limit
    split, coef_one = width.split_product, width.coef_one
    # largest |product| per unit of |c|: |x| 2^F / coef_one
    x_move = (1 << (x.dtype.bitwidth - 1)) * one / coef_one
    coef_top = (1 << (width.bits - 1)) - 1

    def impl(x, k, vghi, vglo, vgd_max, coef, shrink, key, lo, hi):
        if vgd_max < 0:
            return FLOAT_LANES
        c = np.floor(coef * coef_one + lane_uniform(key, _DITHER_C))
        sh = np.floor(shrink * one + lane_uniform(key, _DITHER_SH))
        if not (abs(c) <= coef_top and abs(c) * x_move + 1 + vgd_max + one <= limit
                and 0.0 <= sh <= one):
            return FLOAT_LANES
        thr = 32767 - np.int64(lane_hash(key, _DITHER_VG) & np.uint64(0xFFFF))
        thr2 = 32767 - np.int64(lane_hash(key, _DITHER_VG) >> np.uint64(16))
        mult = one - np.int64(sh)
        ci = np.int64(c)
        blocks = k.shape[0] // LANES
        sat = _step_lanes(k, x, vghi, vglo, blocks, mult, ci, thr, thr2, key, lo, hi)
        return sat + _step_tail(k, x, vghi, vglo, blocks * LANES, mult, ci, thr, thr2, key, lo,
                                hi, frac, slot, split)

    return impl
