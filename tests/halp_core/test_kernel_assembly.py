"""The generated machine code is what a fast kernel needs: int8 dot products on vpmaddwd (or VNNI),
no float64 promotion in float32 kernels, and vectorized hot loops (ymm/zmm registers)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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
    int8_loops = _select(assembly, "dot(array(int8") | _select(assembly, "_lp_epoch_linear", "int8")
    for name, stats in int8_loops.items():
        assert stats["vpmaddwd"] + stats["vnni"] > 0, name


def test_float32_kernels_do_not_promote_to_float64(assembly):
    for name, stats in _select(assembly, "float32").items():
        assert stats["vcvtps2pd"] == 0, name
        assert stats["packed_float_ops"] > 0, name


def test_hot_loops_are_vectorized(assembly):
    for name, stats in assembly.items():
        assert stats["ymm_or_zmm"] > 0, name
    # the stochastic rounding runs on packed float32, for 8- and 16-bit iterates alike
    for name, stats in _select(assembly, "lp_epoch").items():
        assert stats["vroundps"] > 0, name


def test_every_kernel_has_a_vectorized_loop(assembly):
    """Each kernel's hot loop is a single-block loop on ymm/zmm registers, not a scalar loop that
    merely touches a vector register somewhere (docs/performance.md counts their instructions)."""
    for name, stats in assembly.items():
        assert stats["vector_loops"], name
