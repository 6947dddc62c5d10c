"""halp_bench.machine: the microarchitecture, instruction set and BLAS kernel type recorded beside
every speed figure, and the asv machine name built from them."""

import os
import subprocess
import sys

import llvmlite.binding
import pytest
import threadpoolctl

from halp_bench import machine


@pytest.fixture(autouse=True)
def host_compiler(monkeypatch):
    """Each test starts as Numba does without settings: no emulated CPU name or features."""
    for name in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "HALP_MACHINE"):
        monkeypatch.delenv(name, raising=False)


def cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: {flags}\n\n"
                    "processor\t: 1\nmodel name\t: Other CPU\nflags\t\t: avx512f\n")
    return path


def test_instruction_set_from_the_first_processors_flags(tmp_path):
    assert machine.instruction_set(cpuinfo(tmp_path, "fpu sse2 avx2 fma")) == "avx2"
    assert machine.instruction_set(cpuinfo(tmp_path, "fpu avx2 avx512f")) == "avx512"
    assert machine.instruction_set(cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")) == "avx512-vnni"
    assert machine.instruction_set(cpuinfo(tmp_path, "fpu sse2")) == "sse"
    assert machine.instruction_set(tmp_path / "missing") == "unknown"


def test_a_cpu_name_alone_keeps_the_hosts_instruction_set(tmp_path, monkeypatch):
    # Numba passes the host's feature list with any NUMBA_CPU_NAME: only the tuning changes
    monkeypatch.setenv("NUMBA_CPU_NAME", "haswell")
    assert machine.instruction_set(cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")) == "avx512-vnni"
    assert machine.llvm_cpu() == "haswell"


@pytest.mark.parametrize("cpu, features, tag", [
    ("haswell", "+avx2,+fma,+bmi2,+popcnt", "avx2"),
    ("znver4", "-avx512f,+avx2,+fma", "avx2"),
    ("haswell", "+avx2,+avx512f", "avx512"),
    ("skylake-avx512", "+avx512f,+avx512bw,+avx512vnni", "avx512-vnni"),
    ("x86-64", "+sse2", "sse"),
])
def test_numba_cpu_features_decide_the_instruction_set(tmp_path, monkeypatch, cpu, features, tag):
    """With NUMBA_CPU_FEATURES the generated code's ISA is the list's, not the host's."""
    monkeypatch.setenv("NUMBA_CPU_NAME", cpu)
    monkeypatch.setenv("NUMBA_CPU_FEATURES", features)
    host = cpuinfo(tmp_path, "avx2 avx512f avx512_vnni" if tag != "avx512-vnni" else "avx2")
    assert machine.instruction_set(host) == tag


def test_features_that_leave_avx512_to_the_cpu_name_are_refused(tmp_path, monkeypatch):
    # LLVM adds znver4's own AVX-512 to "+avx2": the code would not be the AVX2 build it looks like
    monkeypatch.setenv("NUMBA_CPU_NAME", "znver4")
    monkeypatch.setenv("NUMBA_CPU_FEATURES", "+avx2,+fma")
    with pytest.raises(ValueError, match=r"avx512f.*'znver4'.*-avx512f"):
        machine.instruction_set(cpuinfo(tmp_path, "avx2"))


def test_llvm_cpu_is_llvms_host_cpu_unless_numba_cpu_name_is_set(monkeypatch):
    monkeypatch.setattr(llvmlite.binding, "get_host_cpu_name", lambda: "znver9")
    assert machine.llvm_cpu() == "znver9"
    monkeypatch.setenv("NUMBA_CPU_NAME", "  ")
    assert machine.llvm_cpu() == "znver9"
    monkeypatch.setenv("NUMBA_CPU_NAME", "icelake-server")
    assert machine.llvm_cpu() == "icelake-server"


def test_blas_core_is_numpys_openblas_architecture(monkeypatch):
    libs = [{"internal_api": "mkl", "filepath": "/x/libmkl_rt.so"},
            {"internal_api": "openblas", "filepath": "/x/scipy.libs/libscipy_openblas.so",
             "architecture": "Zen"},
            {"internal_api": "openblas", "filepath": "/x/numpy.libs/libscipy_openblas64_.so",
             "architecture": "SkylakeX"}]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: libs)
    assert machine.blas_core() == "SkylakeX"
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: libs[:1])
    assert machine.blas_core() is None


def test_blas_core_reports_what_openblas_picked():
    if machine.blas_core() is None:
        pytest.skip("numpy's BLAS here is not OpenBLAS")
    code = "from halp_bench.machine import blas_core; print(blas_core())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OPENBLAS_CORETYPE": "Haswell"}).stdout
    assert out.strip() == "Haswell"


def test_cpu_description_names_model_cpu_isa_and_blas(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "llvm_cpu", lambda: "znver9")
    monkeypatch.setattr(machine, "blas_core", lambda: "Zen")
    n = os.cpu_count()
    assert machine.cpu_description(cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")) == \
        f"Test CPU, {n} logical CPUs, znver9, AVX-512 with VNNI, OpenBLAS Zen"
    monkeypatch.setattr(machine, "blas_core", lambda: None)
    assert machine.cpu_description(tmp_path / "missing") == \
        f"unknown CPU, {n} logical CPUs, znver9, ISA not recorded, BLAS core not known"


def test_machine_name_is_host_llvm_cpu_and_isa(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "llvm_cpu", lambda: "znver5")
    monkeypatch.setattr(machine.socket, "gethostname", lambda: "box")
    path = cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")
    assert machine.machine_name(path) == "box-znver5-avx512-vnni"
    monkeypatch.setenv("HALP_MACHINE", "lab")
    assert machine.machine_name(path) == "lab-znver5-avx512-vnni"
    monkeypatch.setenv("HALP_MACHINE", " ")
    assert machine.machine_name(path) == "box-znver5-avx512-vnni"


def test_two_microarchitectures_with_one_isa_get_two_names(tmp_path, monkeypatch):
    path = cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")
    names = set()
    for cpu in ("znver4", "znver5"):
        monkeypatch.setattr(machine, "llvm_cpu", lambda cpu=cpu: cpu)
        names.add(machine.machine_name(path))
    assert len(names) == 2


def sysfs(tmp_path, caches):
    """A fake /sys/devices/system/cpu/cpu0/cache: one index<i> folder per (level, type, size);
    None leaves that file out."""
    root = tmp_path / "cache"
    for i, entry in enumerate(caches):
        folder = root / f"index{i}"
        folder.mkdir(parents=True)
        for name, value in zip(("level", "type", "size"), entry):
            if value is not None:
                (folder / name).write_text(f"{value}\n")
    return root


def test_cache_sizes_are_the_data_caches_the_os_lists(tmp_path):
    root = sysfs(tmp_path, [("1", "Data", "48K"), ("1", "Instruction", "32K"),
                            ("2", "Unified", "2048K"), ("3", "Unified", "32M")])
    assert machine.cache_sizes(root) == {"L1d": 48 * 2**10, "L2": 2 * 2**20, "L3": 32 * 2**20}
    assert machine.cache_fields(root) == {"l1d_cache": "49152", "l2_cache": "2097152",
                                          "l3_cache": "33554432"}
    assert list(machine.cache_fields(root)) == list(machine.CACHE_FIELDS.values())


def test_a_cache_that_cannot_be_read_is_left_out(tmp_path):
    root = sysfs(tmp_path, [("1", "Data", None), ("2", "Unified", "lots"), ("3", "Unified", "0K"),
                            ("3", "Unified", "16384")])
    assert machine.cache_sizes(root) == {"L3": 16384}
    (root / "index3" / "size").write_bytes(b"\xff\xfe")
    assert machine.cache_sizes(root) == {}
    assert machine.cache_sizes(tmp_path / "missing") == {}
    assert machine.cache_fields(tmp_path / "missing") == {}


def test_the_cache_fields_reach_machine_json_and_its_reader(tmp_path):
    """What ./run bench's register_machine saves, asv writes into results/<machine>/machine.json,
    and halp_bench.asv_results reads every cache field back as text."""
    from asv.machine import Machine, MachineCollection

    from halp_bench.asv_results import read_machine

    caches = machine.cache_fields(sysfs(tmp_path, [("2", "Unified", "1024K"),
                                                   ("3", "Unified", "32768K")]))
    home = tmp_path / "asv-machine.json"
    MachineCollection.save("box", {**Machine.get_defaults(), "machine": "box", **caches},
                           _path=home)
    Machine.load(machine_name="box", _path=home).save(tmp_path / "results")
    fields, problems = read_machine(tmp_path / "results" / "box")
    assert problems == []
    assert {k: fields[k] for k in caches} == {"l2_cache": "1048576", "l3_cache": "33554432"}
