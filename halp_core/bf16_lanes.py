"""The bf16 step on CPUs with AVX512_BF16 (docs/design.md section 4, docs/performance.md): one
LP-SGD / LP-SVRG / HALP step of a bf16 iterate row on bf16 data, fused with the next step's dot
product, which ``vdpbf16ps`` takes on the new bf16 patterns as they are (32 products summed into
16 float32 lanes per instruction: no decoding, no separate pass over k).

Per coordinate j the step is the one every float format takes (halp_core.grids.step): the target
t_j = k_j - (shrink k_j + coef x_ij + vg_j) in float32, then bf16 stochastic rounding with the
coordinate's 32 random bits lane_hash(key, j) (halp_core.float_formats: add their top 16 bits to
t_j's float32 pattern and keep the top half; saturate at the largest finite bf16, NaN stays NaN).
The random stream is the general path's, coordinate for coordinate. What may differ from the
general path is float32's last bit: the target here is formed in two fused multiply-adds,
k (1 - shrink) - vg - coef x, and the dot is summed in vdpbf16ps's order (products of bf16
values are exact in float32; the instruction flushes subnormal inputs and outputs to zero,
values below 2^-126, which the dot of a bf16 iterate does not carry in practice). A saturated
coordinate is one whose target lies beyond the largest finite value, or is NaN.

The path is chosen when a kernel compiles, from the CPU Numba compiles for (``available``: the
host's features, or NUMBA_CPU_FEATURES when set), so a machine without AVX512_BF16, or one made to
stand in for one (NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx2,...), takes the general path.
``path()`` names the path taken, for reports. Numba code only: ``row_step``.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.core.codegen import get_host_cpu_features
from numba.extending import intrinsic

from .random_bits import GOLDEN, lowbias32_in
from .vector_ir import Blocks

BLOCK = 32
"""bf16 coordinates per block: one 512-bit vector of patterns, one vdpbf16ps."""
FEATURE = "avx512bf16"
"""The LLVM name of the CPU feature the path needs."""
FMA = ("contract",)
"""The LLVM flag that lets a multiply and an add fuse (the target's two fused multiply-adds)."""
PATHS = ("avx512-bf16", "general")
"""The names ``path`` gives: the AVX512_BF16 step, and halp_core.solvers.float_grid's loop."""


def available():
    """Whether the CPU that Numba compiles for has AVX512_BF16: NUMBA_CPU_FEATURES when it is
    set, else the host's features, as Numba itself takes them."""
    features = config.CPU_FEATURES if config.CPU_FEATURES is not None else \
        get_host_cpu_features()
    return f"+{FEATURE}" in str(features).split(",")


def path():
    """The name (one of PATHS) of the step a bf16 iterate on bf16 data takes on this CPU."""
    return PATHS[0] if available() else PATHS[1]


class _BFloat(ir.Type):
    """LLVM's bfloat type, which llvmlite does not name: the element of vdpbf16ps's operands."""

    def _to_string(self):
        return "bfloat"

    def __eq__(self, other):
        return isinstance(other, _BFloat)

    def __hash__(self):
        return hash(_BFloat)


@intrinsic
def row_step(typingctx, K, X, i, inext, VG, c, shrink, coef, key, max_pattern):
    """One bf16 step of row c of K on row i of X, in place, fused with the next step's dot:
    returns (the number of saturated coordinates, int64; X[inext] . K[c] after the step, float32).

    K (C, d) uint16: bf16 patterns of the iterate, grid units; X (n, d) uint16: bf16 patterns of
    the data; VG (C, d) float32: the epoch's (a / s) v; all C-contiguous. shrink = a lam and
    coef (float32): the step's factor of k and of x; key: the step key (uint32); max_pattern:
    the format's largest finite pattern (float_formats.params). Blocks of BLOCK coordinates; the last
    d % BLOCK take one block of masked loads and stores (lanes past d read 0, stay unstored and
    uncounted). Only for a CPU with AVX512_BF16 (``available``)."""
    arrays = (K, X, VG)
    if not all(isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" for a in arrays):
        return None
    if not (K.dtype == X.dtype == types.uint16 and VG.dtype == types.float32):
        return None
    if not all(isinstance(s, types.Integer) for s in (i, inext, c, key, max_pattern)):
        return None
    if not all(isinstance(s, types.Float) for s in (shrink, coef)):
        return None
    result = types.Tuple((types.int64, types.float32))
    signature = result(K, X, i, inext, VG, c, shrink, coef, key, max_pattern)

    def codegen(context, builder, sig, args):
        i16, i32, i64, f32 = ir.IntType(16), ir.IntType(32), ir.IntType(64), ir.FloatType()
        v16, v32, vf = (ir.VectorType(i16, BLOCK), ir.VectorType(i32, BLOCK),
                        ir.VectorType(f32, BLOCK))
        acc_ty = ir.VectorType(f32, BLOCK // 2)
        pairs = ir.VectorType(_BFloat(), BLOCK)
        ir_blocks = Blocks(context, builder, sig, args, BLOCK)
        scalar, splat, const, fn = (ir_blocks.scalar, ir_blocks.splat, ir_blocks.const,
                                    ir_blocks.function)
        rows = {"k": (ir_blocks.row(0, 5, v16), v16, 2), "x": (ir_blocks.row(1, 2, v16), v16, 2),
                "xn": (ir_blocks.row(1, 3, v16), v16, 2), "vg": (ir_blocks.row(4, 5, vf), vf, 4)}

        def load(name, b, mask):
            return ir_blocks.load(*rows[name], b, mask)

        def widen(patterns):   # bf16 patterns -> their float32 values
            return builder.bitcast(builder.shl(builder.zext(patterns, v32), const(v32, 16)), vf)

        keep_v = splat(builder.fsub(ir.Constant(f32, 1.0), args[6]), vf)
        coef_v = splat(args[7], vf)
        key_v = splat(scalar(8, i32), v32)
        max_v = builder.bitcast(builder.shl(splat(scalar(9, i32), v32), const(v32, 16)), vf)
        neg_max_v = builder.fneg(max_v)
        iota = ir.Constant(v32, list(range(BLOCK)))
        top_halves = ir.Constant(v32, list(range(1, 2 * BLOCK, 2)))   # little-endian: odd
        hash_lanes = lowbias32_in(lambda x, n: builder.mul(x, const(v32, n)),
                                  lambda x, n: builder.xor(x, builder.lshr(x, const(v32, n))))
        popcount = fn("llvm.ctpop.i32", i32, [i32])
        dpbf16 = fn(f"llvm.x86.{FEATURE}.dpbf16ps.512", acc_ty, [acc_ty, pairs, pairs])
        sat_acc = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
        dot_acc = cgutils.alloca_once_value(builder, ir.Constant(acc_ty, None))

        def block(b, mask):
            kf, xf, vg = widen(load("k", b, mask)), widen(load("x", b, mask)), load("vg", b, mask)
            # t = k (1 - shrink) - vg - coef x: grids.step's k - (shrink k + coef x + vg), as two
            # fused multiply-adds
            target = builder.fsub(builder.fsub(builder.fmul(kf, keep_v, flags=FMA), vg,
                                               flags=FMA),
                                  builder.fmul(coef_v, xf, flags=FMA), flags=FMA)
            # saturation: |t| beyond the largest finite value is clamped to it; a NaN passes both
            # compares. Both count as saturated (as on the general path) and take no random
            # bits: the largest value's low half is 0, and a NaN that float32 arithmetic made
            # is quiet, so its top half is a bf16 NaN
            clamped = builder.select(builder.fcmp_ordered(">", target, max_v), max_v, target)
            clamped = builder.select(builder.fcmp_ordered("<", clamped, neg_max_v), neg_max_v,
                                     clamped)
            moved = builder.fcmp_unordered("!=", clamped, target)
            # coordinate j's bits: lane_hash(key, j), j = b BLOCK + lane
            first = builder.trunc(builder.mul(b, ir.Constant(b.type, BLOCK)), i32)
            h = hash_lanes(builder.add(key_v, builder.mul(builder.add(splat(first, v32), iota),
                                                          const(v32, GOLDEN))))
            # float_formats' top-half stochastic rounding: add the top 16 random bits to the
            # float32 pattern, keep the top half
            bits = builder.select(moved, const(v32, 0), builder.lshr(h, const(v32, 16)))
            rounded = builder.add(builder.bitcast(clamped, v32), bits)
            halves = builder.bitcast(rounded, ir.VectorType(i16, 2 * BLOCK))
            stored = builder.shuffle_vector(halves, halves, top_halves)
            if mask is not None:
                moved = builder.and_(moved, mask)
            counted = builder.call(popcount, [builder.bitcast(moved, i32)])
            builder.store(builder.add(builder.load(sat_acc), builder.zext(counted, i64)),
                          sat_acc)
            ir_blocks.store(stored, rows["k"][0], 2, b, mask)
            # the next step's dot on the new patterns: vdpbf16ps, 32 products into 16 lanes
            xn = load("xn", b, mask)
            builder.store(builder.call(dpbf16, [builder.load(dot_acc),
                                                builder.bitcast(stored, pairs),
                                                builder.bitcast(xn, pairs)]), dot_acc)

        ir_blocks.all_blocks(ir_blocks.width(0), block)
        # the 16 lanes' sum, halving the vector: a fixed order
        total = builder.load(dot_acc)
        width = BLOCK // 2
        while width > 1:
            width //= 2
            total = builder.fadd(*[builder.shuffle_vector(total, total, ir.Constant(
                ir.VectorType(i32, width), list(range(start, start + width))))
                for start in (0, width)])
        dot = builder.extract_element(total, ir.Constant(i32, 0))
        return context.make_tuple(builder, sig.return_type, [builder.load(sat_acc), dot])

    return signature, codegen
