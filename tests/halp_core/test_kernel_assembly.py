"""The generated machine code is what a fast kernel needs: int8 dot products on vpmaddwd (or VNNI),
no float64 promotion in float32 kernels, vectorized hot loops (ymm/zmm registers), and the
low-precision step in integer lanes. The checks name x86 vector instructions: they skip on a CPU
without AVX2 (the project's machines change between AVX2 and AVX-512; none of this depends on
which)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from halp_bench.machine import instruction_set

pytestmark = pytest.mark.skipif(instruction_set() not in ("avx2", "avx512", "avx512-vnni"),
                                reason=f"the checks read AVX2/AVX-512 code; this CPU: "
                                       f"{instruction_set()}")


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """Instruction statistics per kernel signature, compiled afresh (cached code has no asm)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba-cache")))
    probe = Path(__file__).resolve().parents[2] / "tools" / "asm_probe.py"
    out = subprocess.run([sys.executable, str(probe)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def _select(assembly, *parts):
    found = {k: v for k, v in assembly.items() if all(p in k for p in parts)}
    assert found, f"no kernel signature matches {parts}: {sorted(assembly)}"
    return found


def test_int8_dot_products_use_multiply_add(assembly):
    int8_loops = _select(assembly, "dot(array(int8") | _select(assembly, "lp_epoch_linear", "int8")
    for name, stats in int8_loops.items():
        assert stats["vpmaddwd"] + stats["vnni"] > 0, name


def test_float32_kernels_do_not_promote_to_float64(assembly):
    """Kernels on float32 data stay in float32. (The full gradient on int8 data sums rows in
    float32 and adds the partial sums into its float64 gradient every FLUSH_ROWS rows: there the
    widening is the design.)"""
    for name, stats in _select(assembly, "(array(float32").items():
        assert stats["vcvtps2pd"] == 0, name
        assert stats["packed_float_ops"] > 0, name


def test_hot_loops_are_vectorized(assembly):
    for name, stats in assembly.items():
        assert stats["ymm_or_zmm"] > 0, name
    # the float-lane fallback of the stochastic rounding runs on packed float32
    for name, stats in _select(assembly, "lp_epoch").items():
        assert stats["vroundps"] > 0, name


def test_low_precision_step_runs_in_integer_lanes(assembly):
    """int8 iterates on int8 data: 16-bit word multiplies and arithmetic shifts (halp_core.int_lanes);
    int16 iterates: 32-bit arithmetic shifts, in the linear and the multinomial kernels."""
    for kernel in ("lp_epoch_linear", "lp_epoch_multinomial"):
        for name, stats in _select(assembly, kernel, "(array(int8", "k=array(int8").items():
            assert stats["word_lane_ops"] >= 2, name
        for name, stats in _select(assembly, kernel, "(array(int8", "k=array(int16").items():
            assert stats["dword_shifts"] > 0, name


def test_epoch_kernels_prefetch_the_next_step(assembly):
    """Every epoch kernel prefetches what a later sampled step reads at random: its data row (one
    prefetch in a loop over the row's lines) and its per-sample values (a linear model's one row
    of the per-sample table; a multinomial model's label and cached scores and derivatives),
    issued kernels.PREFETCH_AHEAD steps ahead (kernels.next_sample)."""
    for name, stats in _select(assembly, "epoch_").items():
        assert stats["prefetches"] >= (2 if "_linear" in name else 3), name


def test_every_kernel_has_a_vectorized_loop(assembly):
    """Each kernel's hot loop is a single-block loop on ymm/zmm registers, not a scalar loop that
    merely touches a vector register somewhere (docs/performance.md counts their instructions)."""
    for name, stats in assembly.items():
        assert stats["vector_loops"], name


def test_float_format_kernels_run_in_32_bit_lanes(assembly):
    """A float-format iterate (bf16 on uint16 patterns, fp8 on uint8): the rounding, the decoding
    and the random bits run in 32-bit integer lanes (vpmulld for the hash), never in 64-bit lanes
    (Numba's own uint32 arithmetic would widen to them: halp_core.u32)."""
    for kernel in ("lpf_epoch_linear", "lpf_epoch_multinomial"):
        for width in ("uint16", "uint8"):
            for name, stats in _select(assembly, kernel, f"k=array({width}").items():
                assert stats["dword_multiplies"] > 0 and stats["qword_multiplies"] == 0, name
                assert stats["vector_loops"], name


def test_bf16_step_takes_the_path_of_the_target(assembly):
    """A bf16 iterate on bf16 data takes vdpbf16ps exactly when the CPU Numba compiles for has
    AVX512_BF16 (halp_core.bf16_lanes.available: the host's features, or NUMBA_CPU_FEATURES),
    in the linear and the multinomial kernel; no other kernel, and no other format, uses it."""
    from halp_core import bf16_lanes

    for name, stats in assembly.items():
        uses = stats["bf16_dots"] > 0
        bf16_on_bf16 = "lpf_epoch_" in name and "(array(uint16" in name and "k=array(uint16" in name
        assert uses == (bf16_on_bf16 and bf16_lanes.available()), name


def _target_has_avx512():
    """Whether Numba compiles for a CPU with AVX-512: the features NUMBA_CPU_FEATURES names when it
    is set (as CI sets it to build as an AVX2-only machine would), else the host's."""
    import llvmlite.binding
    import numba.core.config

    features = numba.core.config.CPU_FEATURES
    if features:
        return "+avx512f" in features.split(",")
    return bool(llvmlite.binding.get_host_cpu_features().get("avx512f", False))


def test_code_uses_the_target_instruction_set(assembly):
    """zmm registers appear in the kernels exactly when the target CPU has AVX-512: an AVX2-only
    build (NUMBA_CPU_NAME=haswell with NUMBA_CPU_FEATURES=+avx2,...) must hold none, or it would
    fault on an AVX2-only machine; an AVX-512 build uses them in its hot loops."""
    zmm = {name: stats["zmm"] for name, stats in assembly.items() if stats["zmm"]}
    if _target_has_avx512():
        assert zmm, "an AVX-512 target compiled no kernel with zmm registers"
    else:
        assert not zmm, f"kernels use zmm registers on a target without AVX-512: {sorted(zmm)}"
