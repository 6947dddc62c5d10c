"""The machine a measurement ran on: CPU model, logical CPUs and vector instruction set.

Speed figures are only comparable on one instruction set (the project's machines change between
AVX2 and AVX-512 with VNNI from one day to the next), so every timing this project records or
quotes carries ``cpu_description()`` and the asv machine name carries ``instruction_set()``.
"""

import os
from pathlib import Path


def _cpuinfo(path):
    """{field: value} of the first processor in /proc/cpuinfo's format; {} when unreadable."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def instruction_set(cpuinfo="/proc/cpuinfo"):
    """The widest x86 vector instruction set the CPU offers: 'avx512-vnni', 'avx512', 'avx2',
    'sse' (x86 without AVX2), or 'unknown' when ``cpuinfo`` cannot be read or lists no flags."""
    flags = set(_cpuinfo(cpuinfo).get("flags", "").split())
    if not flags:
        return "unknown"
    if "avx512f" in flags:
        return "avx512-vnni" if "avx512_vnni" in flags else "avx512"
    return "avx2" if "avx2" in flags else "sse"


ISA_NAMES = {"avx512-vnni": "AVX-512 with VNNI", "avx512": "AVX-512", "avx2": "AVX2",
             "sse": "neither AVX2 nor AVX-512", "unknown": "ISA not recorded"}


def cpu_description(cpuinfo="/proc/cpuinfo"):
    """e.g. 'AMD EPYC, 2 logical CPUs, AVX-512 with VNNI': model, os.cpu_count() and the
    instruction set; 'unknown CPU' / 'ISA not recorded' where ``cpuinfo`` does not say."""
    model = _cpuinfo(cpuinfo).get("model name", "unknown CPU")
    return f"{model}, {os.cpu_count()} logical CPUs, {ISA_NAMES[instruction_set(cpuinfo)]}"


if __name__ == "__main__":   # python -m halp_bench.machine: the ISA tag ./run puts in machine names
    print(instruction_set())
