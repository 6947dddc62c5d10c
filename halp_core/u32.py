"""Unsigned 32-bit integer arithmetic that stays 32 bits wide inside Numba code.

Numba types the result of arithmetic on uint32 values as a 64-bit integer, so a loop of bit
manipulation vectorizes (at best) in 64-bit lanes, with 64-bit multiplies that AVX-512 runs as
several micro-ops and AVX2 does not have. These intrinsics are single LLVM i32
instructions (wrapping modulo 2^32, logical shifts): a loop built from them vectorizes in 32-bit
lanes, 16 per AVX-512 or 8 per AVX2 vector. Arguments are converted to uint32 first (truncated);
shift counts must be below 32. Numba code only (halp_core.float_formats uses them for the float
formats' bit patterns and their random bits).
"""

from numba import types
from numba.extending import intrinsic

_U32 = types.uint32


def _binary(name, doc):
    """An intrinsic uint32(uint32, uint32) that applies the llvmlite builder method ``name``."""

    def typer(typingctx, a, b):
        if not (isinstance(a, types.Integer) and isinstance(b, types.Integer)):
            return None

        def codegen(context, builder, signature, args):
            x, y = (context.cast(builder, v, t, _U32) for v, t in zip(args, signature.args))
            return getattr(builder, name)(x, y)

        return _U32(a, b), codegen

    typer.__name__ = typer.__qualname__ = name.strip("_")
    typer.__doc__ = doc
    return intrinsic(typer)


add = _binary("add", "a + b mod 2^32.")
sub = _binary("sub", "a - b mod 2^32.")
mul = _binary("mul", "a * b mod 2^32 (the low half of the product).")
shl = _binary("shl", "a << b mod 2^32 (b < 32).")
shr = _binary("lshr", "a >> b, logical (b < 32).")
and_ = _binary("and_", "a & b.")
or_ = _binary("or_", "a | b.")
xor = _binary("xor", "a ^ b.")
