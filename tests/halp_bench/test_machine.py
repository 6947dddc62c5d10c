"""halp_bench.machine: the instruction set recorded beside every speed figure."""

from halp_bench import machine


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


def test_cpu_description_names_model_and_instruction_set(tmp_path):
    text = machine.cpu_description(cpuinfo(tmp_path, "avx2"))
    assert text.startswith("Test CPU, ") and text.endswith("logical CPUs, AVX2")
    assert machine.cpu_description(cpuinfo(tmp_path, "avx512f")).endswith(", AVX-512")
    assert machine.cpu_description(tmp_path / "missing") == \
        f"unknown CPU, {machine.os.cpu_count()} logical CPUs, ISA not recorded"
