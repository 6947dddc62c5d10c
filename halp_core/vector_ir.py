"""What the hand-written vector kernels (halp_core.int_lanes, halp_core.bf16_lanes) build their LLVM
IR from: one ``Blocks`` per intrinsic's code generation, with constants and splats of vectors,
intrinsic declarations, pointers to a row of a 2-D array argument, and block loads and stores
that are masked in a row's last, partial block (lanes past the row's end are neither read nor
written). Numba code generation only.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils

I32 = ir.IntType(32)


class Blocks:
    """IR helpers over ``builder`` for one intrinsic whose arguments are ``args`` of types
    ``signature.args``, in blocks of ``lanes`` elements."""

    def __init__(self, context, builder, signature, args, lanes):
        self.context, self.builder = context, builder
        self.signature, self.args, self.lanes = signature, args, lanes
        self.intp = context.get_value_type(types.intp)
        self.mask_type = ir.VectorType(ir.IntType(1), lanes)

    def function(self, name, ret, arg_types):
        """The declared function ``name`` (an LLVM intrinsic) of that type."""
        return cgutils.get_or_insert_function(self.builder.module,
                                              ir.FunctionType(ret, arg_types), name)

    def scalar(self, pos, ty):
        """Integer argument ``pos`` as an LLVM integer of type ``ty``."""
        value = self.context.cast(self.builder, self.args[pos], self.signature.args[pos],
                                  types.int64)
        return self.builder.trunc(value, ty) if ty.width < 64 else value

    def splat(self, value, vty):
        """A vector of type ``vty`` whose every lane is ``value``."""
        undef = ir.Constant(vty, ir.Undefined)
        one = self.builder.insert_element(undef, value, ir.Constant(I32, 0))
        return self.builder.shuffle_vector(one, undef,
                                           ir.Constant(ir.VectorType(I32, vty.count),
                                                       [0] * vty.count))

    @staticmethod
    def const(vty, value):
        """The constant vector of type ``vty`` with ``value`` in every lane."""
        return ir.Constant(vty, [value] * vty.count)

    def row(self, pos, row_pos, vty):
        """Pointer (to ``vty`` vectors) to the row of 2-D C-contiguous array argument ``pos``
        whose index is integer argument ``row_pos``."""
        builder = self.builder
        array = self.context.make_array(self.signature.args[pos])(self.context, builder,
                                                                 self.args[pos])
        row_bytes = cgutils.unpack_tuple(builder, array.strides)[0]
        index = self.context.cast(builder, self.args[row_pos], self.signature.args[row_pos],
                                  types.intp)
        start = builder.gep(builder.bitcast(array.data, ir.IntType(8).as_pointer()),
                            [builder.mul(index, row_bytes)])
        return builder.bitcast(start, vty.as_pointer())

    def width(self, pos):
        """The row length (shape[1], intp) of 2-D array argument ``pos``."""
        array = self.context.make_array(self.signature.args[pos])(self.context, self.builder,
                                                                 self.args[pos])
        return cgutils.unpack_tuple(self.builder, array.shape)[1]

    def _masked(self, op, vty):
        element = "f32" if isinstance(vty.element, ir.FloatType) else f"i{vty.element.width}"
        name = f"llvm.masked.{op}.v{vty.count}{element}.p0"
        if op == "load":
            return self.function(name, vty, [vty.as_pointer(), self.mask_type, vty])
        return self.function(name, ir.VoidType(), [vty, vty.as_pointer(), self.mask_type])

    def load(self, ptr, vty, align, b, mask):
        """Block ``b`` of the row at ``ptr`` (elements aligned to ``align`` bytes); ``mask`` None
        for a full block, else the lanes to read (the others read 0)."""
        at = self.builder.gep(ptr, [b])
        if mask is None:
            return self.builder.load(at, align=align)
        return self.builder.call(self._masked("load", vty), [at, mask, ir.Constant(vty, None)])

    def store(self, value, ptr, align, b, mask):
        """Store ``value`` as block ``b`` of the row at ``ptr`` (``mask``: as ``load``)."""
        at = self.builder.gep(ptr, [b])
        if mask is None:
            self.builder.store(value, at, align=align)
        else:
            self.builder.call(self._masked("store", value.type), [value, at, mask])

    def tail_mask(self, tail):
        """The mask of a last block of ``tail`` (intp, 0 < tail < lanes) elements."""
        lane_ids = ir.Constant(ir.VectorType(self.intp, self.lanes), list(range(self.lanes)))
        return self.builder.icmp_unsigned("<", lane_ids, self.splat(tail, lane_ids.type))

    def all_blocks(self, d, block, chunk=None, after_chunk=None):
        """block(b, None) for every full block of a row of ``d`` elements (intp), then
        block(last, mask) for its partial last block, if any. With ``chunk``, the full blocks go
        ``chunk`` at a time, after_chunk() after each run of them (a flush of lane sums)."""
        builder, intp = self.builder, self.intp
        full_blocks = builder.udiv(d, intp(self.lanes))
        tail = builder.urem(d, intp(self.lanes))
        if chunk is None:
            with cgutils.for_range(builder, full_blocks) as loop:
                block(loop.index, None)
        else:
            with cgutils.for_range_slice(builder, intp(0), full_blocks, intp(chunk)) as (start, _):
                stop = builder.add(start, intp(chunk))
                stop = builder.select(builder.icmp_unsigned("<", stop, full_blocks), stop,
                                      full_blocks)
                with cgutils.for_range_slice(builder, start, stop, intp(1)) as (b, _):
                    block(b, None)
                after_chunk()
        with builder.if_then(builder.icmp_unsigned("!=", tail, intp(0))):
            block(full_blocks, self.tail_mask(tail))
