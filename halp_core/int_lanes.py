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
``row_step`` does LANES coordinates per block in LLVM vector IR (sign-extending loads, lane
multiplies, the hash in 32-bit lanes, a min/max clamp whose moved lanes a scalar popcount counts,
and a truncating store), which Numba's own loops cannot express (it widens int8/int16 arithmetic
to int64). A row whose width is not a multiple of LANES ends in one block of masked loads and
stores with the same arithmetic, so the result does not depend on where the blocks end.

The step is fused with the next step's dot product, x_next . k, taken on each new block of k while
it is still in registers (the epoch loop passes the next sample's row): the loss derivative of
step t + 1 waits for no second pass over k. The step's arrays are passed whole with row indices,
so the epoch loop creates no array views (each view costs reference counting, atomic operations
on the step's critical path).

Kernel API (Numba code only): ``epoch_lanes`` once per epoch (the fixed-point VG of every row
of the iterate and the lanes' constants), then per step and row ``dithers`` (the step's
integers, or False when it cannot use the integer lanes: then the caller takes its float-lane
update) and ``row_step`` (the step and the next dot).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.np.numpy_support import from_dtype
from numba.core import cgutils
from numba.extending import intrinsic, overload

from . import validate
from .vector_ir import Blocks
from .random_bits import GOLDEN, epoch_key, lane_hash, lane_uniform, lowbias32_in

LANES = 64                     # coordinates per vector block (at most 64: one i64 lane mask)
FLUSH_BLOCKS = 1 << 10         # 16-bit lanes: blocks summed in 32-bit lanes before an int64 flush
FLOAT_LANES = -1
"""The max |VGd| ``epoch_lanes`` gives when the epoch cannot use the integer lanes (the dtypes
of iterate and data, or a move too large for the lanes): ``dithers`` then sends every step to
the float-lane update."""
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
def row_step(typingctx, K, X, i, inext, VGHI, VGLO, c, lanes, mult, coef, thr, thr2, key, lo,
             hi):
    """One integer-lane step of row c of K on row i of X, in place, fused with the next step's
    dot product: returns (the number of saturated coordinates, X[inext] . K[c] after the step),
    both int64. K: int8 (16-bit lanes) or int16 (32-bit lanes); X: int8/int16 no wider than K;
    VGHI/VGLO: lane-wide ints (VGd's high part and its low 16 bits biased by -2^15), row c; all
    2-D C-contiguous with one row length d. mult = 2^F - sh, coef = c, thr = 2^15 - 1 - u3 and
    thr2 = 2^15 - 1 - u4 (u3, u4 < 2^16), from ``dithers``; key: the step key, lo/hi: the grid;
    lanes: the epoch's (``epoch_lanes``), whose last entry says that every VGd is 0 (LP-SGD's
    moves have no vg term): then the blocks skip its loads and carries.
    Dtypes without integer lanes compile to (FLOAT_LANES, FLOAT_LANES), never reached (their
    ``epoch_lanes`` sends every step to the float-lane update).

    The d coordinates go in blocks of LANES; the last d % LANES take a block of masked loads and
    stores (lanes past d read as 0, are never stored and never counted), so a row of any width
    runs in vector lanes. Each block's new k lanes, still in registers, are multiplied with the
    next row's data and summed (16-bit lanes: pairs of products in 32-bit lanes, at most 2^15 per
    lane and block, added up and flushed to int64 every FLUSH_BLOCKS blocks, before 32 lanes of
    them could overflow int32; 32-bit lanes: 64-bit sums), so the next step's dot costs no second
    pass over k."""
    arrays = (K, X, VGHI, VGLO)
    if not all(isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" for a in arrays):
        return None
    scalars = (i, inext, c, mult, coef, thr, thr2, key, lo, hi)
    if not all(isinstance(s, types.Integer) for s in scalars):
        return None
    if not (isinstance(lanes, types.BaseTuple) and isinstance(lanes[-1], types.Boolean)):
        return None
    result = types.UniTuple(types.int64, 2)
    signature = result(K, X, i, inext, VGHI, VGLO, c, lanes, mult, coef, thr, thr2, key, lo, hi)
    width = _width_of(K.dtype, X.dtype)
    if width is None:   # no lanes for these dtypes: ``dithers`` never lets a step come here
        return signature, lambda context, builder, sig, args: context.make_tuple(
            builder, sig.return_type, [ir.Constant(ir.IntType(64), FLOAT_LANES)] * 2)
    if not VGHI.dtype == VGLO.dtype == from_dtype(width.vg_dtype):
        return None

    def codegen(context, builder, signature, args):
        i32, i64 = ir.IntType(32), ir.IntType(64)
        lane = ir.IntType(width.bits)
        vl = ir.VectorType(lane, LANES)
        h32 = ir.VectorType(i32, LANES // width.per_hash)
        slots = ir.VectorType(ir.IntType(width.slot), LANES)
        ir_blocks = Blocks(context, builder, signature, args, LANES)
        scalar, splat, const = ir_blocks.scalar, ir_blocks.splat, ir_blocks.const
        intrinsic_fn = ir_blocks.function

        def row(pos, row_pos):
            """(pointer to the row's first LANES-vector, the element's vector type, bytes)."""
            bits = signature.args[pos].dtype.bitwidth
            vty = ir.VectorType(ir.IntType(bits), LANES)
            return ir_blocks.row(pos, row_pos, vty), vty, bits // 8

        rows = {"k": row(0, 6), "x": row(1, 2), "xn": row(1, 3), "vghi": row(4, 6),
                "vglo": row(5, 6)}
        d = ir_blocks.width(0)

        def load(name, b, mask):
            value = ir_blocks.load(*rows[name], b, mask)
            return value if value.type == vl else builder.sext(value, vl)

        mult_v, coef_v = splat(scalar(8, lane), vl), splat(scalar(9, lane), vl)
        thr_v, thr2_v = splat(scalar(10, lane), vl), splat(scalar(11, lane), vl)
        thr2u_v = builder.xor(thr2_v, const(vl, 0x8000))
        key_v = splat(scalar(12, i32), h32)
        lo_v, hi_v = splat(scalar(13, lane), vl), splat(scalar(14, lane), vl)
        one_v = const(vl, 1)
        vg_zero = builder.extract_value(args[7], len(signature.args[7]) - 1)
        iota = ir.Constant(h32, list(range(h32.count)))
        hash_lanes = lowbias32_in(lambda x, c: builder.mul(x, const(h32, c)),
                                  lambda x, n: builder.xor(x, builder.lshr(x, const(h32, n))))
        popcount = intrinsic_fn("llvm.ctpop.i64", i64, [i64])
        smax, smin = (intrinsic_fn(f"llvm.{op}.v{LANES}i{width.bits}", vl, [vl, vl])
                      for op in ("smax", "smin"))
        # the next row's dot: 16-bit lanes sum pairs of products in 32-bit lanes, 32-bit lanes
        # sum their (32-bit) products in 64-bit lanes
        pairs_summed = width.bits == 16
        acc_ty = ir.VectorType(i32, LANES // 2) if pairs_summed else ir.VectorType(i64, LANES)
        # the lanes' sum: 32-bit lanes hold at most FLUSH_BLOCKS 2^15 = 2^25 each, so their 32
        # add in int32 exactly (a shorter reduction on the step's critical path); 64-bit lanes in
        # int64
        reduce_add = intrinsic_fn(f"llvm.vector.reduce.add.v{acc_ty.count}i{acc_ty.element.width}",
                                  acc_ty.element, [acc_ty])
        sat_acc = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
        dot_acc = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
        lanes_acc = cgutils.alloca_once_value(builder, ir.Constant(acc_ty, None))
        even = ir.Constant(ir.VectorType(i32, LANES // 2), list(range(0, LANES, 2)))
        odd = ir.Constant(ir.VectorType(i32, LANES // 2), list(range(1, LANES, 2)))

        def flush():
            total = builder.call(reduce_add, [builder.load(lanes_acc)])
            total = builder.sext(total, i64) if total.type != i64 else total
            builder.store(builder.add(builder.load(dot_acc), total), dot_acc)
            builder.store(ir.Constant(acc_ty, None), lanes_acc)

        def block(b, mask, with_vg):
            k_l, x_l = load("k", b, mask), load("x", b, mask)
            # random bits: lane_hash(key, b * LANES / P + lane), a slot per coordinate
            first = builder.trunc(builder.mul(b, ir.Constant(b.type, h32.count)), i32)
            h = hash_lanes(builder.add(key_v, builder.mul(builder.add(splat(first, h32), iota),
                                                          const(h32, GOLDEN))))
            rnd = builder.and_(builder.zext(builder.bitcast(h, slots), vl),
                               const(vl, width.one - 1))
            if width.split_product:   # floor(((x << F) c + u4) / 2^16) from the high and low halves
                xs = builder.shl(x_l, const(vl, width.frac))
                wide = ir.VectorType(i32, LANES)
                full = builder.mul(builder.sext(xs, wide), builder.sext(coef_v, wide))
                high = builder.trunc(builder.ashr(full, const(wide, 16)), vl)
                # (low ^ 2^15) > thr2 signed  <=>  low > (thr2 ^ 2^15) unsigned: one compare
                low = builder.mul(xs, coef_v)
                product = builder.select(builder.icmp_unsigned(">", low, thr2u_v),
                                         builder.add(high, one_v), high)
            else:
                product = builder.mul(x_l, coef_v)
            move = product
            if with_vg:   # VGd = vghi, plus 1 where vglo > thr
                vg_hi, vg_lo = load("vghi", b, mask), load("vglo", b, mask)
                vg_d = builder.select(builder.icmp_signed(">", vg_lo, thr_v),
                                      builder.add(vg_hi, one_v), vg_hi)
                move = builder.add(product, vg_d)
            total = builder.sub(builder.add(builder.mul(k_l, mult_v), rnd), move)
            q = builder.ashr(total, const(vl, width.frac))
            clamped = builder.call(smin, [builder.call(smax, [q, lo_v]), hi_v])
            # the block's saturated lanes (q moved by the clamp) as a 64-bit mask, counted by a
            # scalar popcount (integer pipes, off the vector ones)
            moved = builder.icmp_signed("!=", clamped, q)
            if mask is not None:
                moved = builder.and_(moved, mask)
            bits = builder.bitcast(moved, ir.IntType(LANES))
            bits = bits if LANES == 64 else builder.zext(bits, i64)
            builder.store(builder.add(builder.load(sat_acc), builder.call(popcount, [bits])),
                          sat_acc)
            k_ptr, k_vty, k_align = rows["k"]
            stored = builder.trunc(clamped, k_vty) if k_vty != vl else clamped
            ir_blocks.store(stored, k_ptr, k_align, b, mask)
            # the next step's dot on the new k: 16-bit lanes take products in 32-bit lanes and
            # sum adjacent pairs (the form LLVM turns into vpmaddwd, or VNNI's vpdpwssd); 32-bit
            # lanes widen their 32-bit products (|k x| <= 2^30) to 64 bits
            xn = load("xn", b, mask)
            if pairs_summed:
                wide = ir.VectorType(i32, LANES)
                products = builder.mul(builder.sext(clamped, wide), builder.sext(xn, wide))
                term = builder.add(*[builder.shuffle_vector(products, products, sel)
                                     for sel in (even, odd)])
            else:
                term = builder.sext(builder.mul(clamped, xn), acc_ty)
            builder.store(builder.add(builder.load(lanes_acc), term), lanes_acc)

        def all_blocks(with_vg):
            # FLUSH_BLOCKS blocks at a time (one loop body, no branch), the lane sums flushed
            ir_blocks.all_blocks(d, lambda b, mask: block(b, mask, with_vg), chunk=FLUSH_BLOCKS,
                                 after_chunk=flush if pairs_summed else (lambda: None))

        with builder.if_else(vg_zero) as (no_vg, vg):
            with no_vg:
                all_blocks(False)
            with vg:
                all_blocks(True)
        flush()
        return context.make_tuple(builder, signature.return_type,
                                  [builder.load(sat_acc), builder.load(dot_acc)])

    return signature, codegen


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
    data row x: (VGHI, VGLO, lanes) with VGHI, VGLO (C, d) lane-wide ints (see ``_split_vg``);
    row c is dithered under epoch_key(seed_key, step0 C + c). lanes: what ``dithers`` reads, a
    tuple (max |VGd|, 2^F, the coefficient's unit, its largest value, the largest |product| per
    unit of it, the largest |move|, whether every VGd is 0); max |VGd| is FLOAT_LANES when the
    integer lanes do not apply (dtypes, or a move too large). Numba only: compiled from
    ``_epoch_lanes_impl``."""
    validate.numba_only("int_lanes.epoch_lanes")


@overload(epoch_lanes)
def _epoch_lanes_impl(VG, seed_key, step0, k, x):
    width = _width_of(k.dtype, x.dtype)
    if width is None:
        return lambda VG, seed_key, step0, k, x: (np.empty((VG.shape[0], 0), np.int16),
                                                 np.empty((VG.shape[0], 0), np.int16),
                                                 (FLOAT_LANES, 1, 1.0, 0.0, 0.0, 0, False))
    dtype, frac, limit, one, coef_one = (width.vg_dtype, width.frac, width.limit, width.one,
                                         float(width.coef_one))
    # largest |product| per unit of |c|: |x| 2^F / coef_one
    x_move = (1 << (x.dtype.bitwidth - 1)) * one / coef_one
    coef_top = float((1 << (width.bits - 1)) - 1)

    def impl(VG, seed_key, step0, k, x):
        C, d = VG.shape
        VGHI = np.empty((C, d), dtype=dtype)
        VGLO = np.empty((C, d), dtype=dtype)
        largest = 0
        for c in range(C):
            row = _split_vg(VG[c], epoch_key(seed_key, step0 * C + c), frac, limit, VGHI[c],
                            VGLO[c])
            largest = FLOAT_LANES if row < 0 or largest < 0 else max(largest, row)
        # every VGd is 0 for every dither: vghi 0 and vglo at its least, -2^15 (no carry)
        vg_zero = bool(np.all(VGHI == 0)) and bool(np.all(VGLO == -32768))
        return VGHI, VGLO, (largest, one, coef_one, coef_top, x_move, limit, vg_zero)

    return impl


@njit(cache=True, inline="always")
def dithers(lanes, coef, shrink, key):
    """The per-step integers of one integer-lane step (see the module docstring), from the
    epoch's ``lanes`` (``epoch_lanes``), coef = c a x_scale / s and shrink = a lam in grid units
    (floats) and the step key: (whether the step can run in the lanes, mult = 2^F - sh, c,
    thr = 2^15 - 1 - u3, thr2 = 2^15 - 1 - u4), the last four ``row_step``'s arguments. Not in
    the lanes (the first is False) when the epoch's lanes do not apply or this step's move is
    too large for them: the caller takes the float-lane update. Scalars only, so the epoch loop
    binds no array to call it."""
    vgd_max, one, coef_one, coef_top, x_move, limit, _ = lanes
    cf = np.floor(coef * coef_one + lane_uniform(key, _DITHER_C))
    sh = np.floor(shrink * one + lane_uniform(key, _DITHER_SH))
    ok = (vgd_max >= 0 and abs(cf) <= coef_top and abs(cf) * x_move + 1 + vgd_max + one <= limit
          and 0.0 <= sh <= one)
    if not ok:
        return False, 0, 0, 0, 0
    bits = lane_hash(key, _DITHER_VG)
    thr = 32767 - np.int64(bits & np.uint64(0xFFFF))
    thr2 = 32767 - np.int64(bits >> np.uint64(16))
    return True, one - np.int64(sh), np.int64(cf), thr, thr2
