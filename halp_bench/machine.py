"""The machine a measurement ran on: CPU model, logical CPUs, the CPU Numba compiles for, its
vector instruction set and the kernel type numpy's OpenBLAS picked.

Speed figures compare only on one microarchitecture: a Zen 4 and a Zen 5 both offer AVX-512 with
VNNI, yet their timings differ. So every timing this project records or quotes carries
``cpu_description()``, and the asv machine name (``machine_name()``, used by ``./run bench`` and
``./run compare``) carries the LLVM CPU name and the instruction-set tag.

What Numba generates is what counts, not only what the host offers: ``NUMBA_CPU_NAME`` replaces
the host CPU's name (the tuning, and the CPU whose default features LLVM starts from) and
``NUMBA_CPU_FEATURES`` replaces the host's feature list. Without ``NUMBA_CPU_FEATURES`` Numba
passes the host's full feature list, so the instruction set is the host's (from
``/proc/cpuinfo``) whatever ``NUMBA_CPU_NAME`` says. With it, the instruction set is the one the
list turns on (``+avx2``, ``+avx512f``, ``+avx512vnni``); LLVM adds the CPU name's own features to
the list, so a list that leaves AVX-512 to a CPU name that has it (or lacks it) is refused, and
the user names ``+avx512f`` or ``-avx512f``.

Where low precision stops paying depends on where the data leaves the caches, so the machine's
cache sizes (``cache_sizes()``, from the OS's sysfs) are recorded too: ``./run bench`` writes them
into asv's machine.json as the fields ``CACHE_FIELDS`` names.
"""

import os
import socket
from pathlib import Path

ISA_NAMES = {"avx512-vnni": "AVX-512 with VNNI", "avx512": "AVX-512", "avx2": "AVX2",
             "sse": "neither AVX2 nor AVX-512", "unknown": "ISA not recorded"}
"""Instruction-set tag -> its readable name."""


CACHE_ROOT = "/sys/devices/system/cpu/cpu0/cache"
"""Where Linux lists the caches CPU 0 sees: one ``index<i>/`` folder per cache with its ``level``,
``type`` and ``size``."""
CACHE_FIELDS = {"L1d": "l1d_cache", "L2": "l2_cache", "L3": "l3_cache"}
"""Cache level -> the machine.json field holding its size: bytes, written as text (asv's machine
fields are text), per core or per shared instance as the OS reports it."""
_CACHE_LEVELS = {("1", "Data"): "L1d", ("2", "Unified"): "L2", ("2", "Data"): "L2",
                 ("3", "Unified"): "L3", ("3", "Data"): "L3"}
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


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


def _isa_tag(avx512f, vnni, avx2):
    """The tag of the widest of these instruction sets."""
    if avx512f:
        return "avx512-vnni" if vnni else "avx512"
    return "avx2" if avx2 else "sse"


def _features(text):
    """The features a comma-separated LLVM feature list turns on ('+avx2,-avx512f' -> {'avx2'})."""
    return {f.strip()[1:] for f in text.split(",") if f.strip().startswith("+")}


def llvm_cpu():
    """The CPU name Numba compiles for: NUMBA_CPU_NAME when set, else LLVM's host CPU name
    (``llvmlite.binding.get_host_cpu_name()``, e.g. 'znver4')."""
    name = os.environ.get("NUMBA_CPU_NAME", "").strip()
    if name:
        return name
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


def _emits_zmm(cpu, features):
    """Whether LLVM, compiling for ``cpu`` with the feature list ``features``, adds two 16-float
    vectors in one 512-bit (zmm) register, i.e. whether the generated code has AVX-512."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    ir = ('define void @add(ptr %a, ptr %b) #0 {\n'
          '  %x = load <16 x float>, ptr %a\n  %y = load <16 x float>, ptr %b\n'
          '  %z = fadd <16 x float> %x, %y\n  store <16 x float> %z, ptr %a\n  ret void\n}\n'
          'attributes #0 = { "min-legal-vector-width"="512" "prefer-vector-width"="512" }\n')
    machine = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features)
    return "zmm" in machine.emit_assembly(llvm.parse_assembly(ir))


def instruction_set(cpuinfo="/proc/cpuinfo"):
    """The widest x86 vector instruction set of the code Numba generates: 'avx512-vnni',
    'avx512', 'avx2', 'sse' (x86 without AVX2), or 'unknown' when ``cpuinfo`` cannot be read or
    lists no flags.

    From ``cpuinfo``'s flags, or from NUMBA_CPU_FEATURES when it is set (see the module's
    docstring); ValueError when that list leaves AVX-512 to the CPU name and the CPU name decides
    otherwise than the list says."""
    listed = os.environ.get("NUMBA_CPU_FEATURES", "").strip()
    if listed:
        on = _features(listed)
        if _emits_zmm(llvm_cpu(), listed) != ("avx512f" in on):
            raise ValueError(
                f"NUMBA_CPU_FEATURES={listed!r} does not turn on avx512f, but LLVM's CPU "
                f"{llvm_cpu()!r} has it, so Numba's code has AVX-512: name +avx512f or -avx512f "
                "in NUMBA_CPU_FEATURES (or pick a NUMBA_CPU_NAME without AVX-512)"
                if "avx512f" not in on else
                f"NUMBA_CPU_FEATURES={listed!r} turns on avx512f, but LLVM does not generate "
                f"AVX-512 for CPU {llvm_cpu()!r} with it")
        return _isa_tag("avx512f" in on, "avx512vnni" in on, "avx2" in on)
    flags = set(_cpuinfo(cpuinfo).get("flags", "").split())
    if not flags:
        return "unknown"
    return _isa_tag("avx512f" in flags, "avx512_vnni" in flags, "avx2" in flags)


def blas_core():
    """The kernel type numpy's OpenBLAS runs (threadpoolctl's 'architecture', e.g. 'SkylakeX';
    OpenBLAS reports what it picked, so OPENBLAS_CORETYPE shows); None when numpy's BLAS is not
    OpenBLAS or does not say."""
    import numpy  # noqa: F401  (threadpoolctl sees loaded libraries only)
    from threadpoolctl import threadpool_info

    found = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    found.sort(key=lambda i: not Path(i.get("filepath", "")).parent.name.startswith("numpy"))
    return found[0].get("architecture") if found else None


def cpu_description(cpuinfo="/proc/cpuinfo"):
    """e.g. 'AMD EPYC, 2 logical CPUs, znver4, AVX-512 with VNNI, OpenBLAS SkylakeX': model,
    os.cpu_count(), the CPU Numba compiles for (``llvm_cpu()``), the instruction set and numpy's
    OpenBLAS kernel type; 'unknown CPU' / 'ISA not recorded' / 'BLAS core not known' where the
    sources do not say."""
    model = _cpuinfo(cpuinfo).get("model name", "unknown CPU")
    core = blas_core()
    blas = f"OpenBLAS {core}" if core else "BLAS core not known"
    return (f"{model}, {os.cpu_count()} logical CPUs, {llvm_cpu()}, "
            f"{ISA_NAMES[instruction_set(cpuinfo)]}, {blas}")


def _cache_bytes(text):
    """Bytes of a sysfs cache size ('32K', '1024K', '32M', '65536'); None when it is none of these."""
    text = text.strip().upper()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _SIZE_UNITS else (text, "")
    return int(number) * _SIZE_UNITS[unit] if number.isdigit() and int(number) > 0 else None


def cache_sizes(root=CACHE_ROOT):
    """{level: bytes} of CPU 0's data caches, levels 'L1d', 'L2', 'L3' (CACHE_FIELDS' keys), each
    the size of one cache as the OS reports it (an L3 shared by several cores counts once); a
    level is absent where ``root`` does not list it or its ``level`` / ``type`` / ``size`` files
    cannot be read or parsed. Instruction caches are left out."""
    found = {}
    for index in sorted(Path(root).glob("index*")):
        try:
            level, kind, size = ((index / name).read_text().strip()
                                 for name in ("level", "type", "size"))
        except (OSError, UnicodeDecodeError):
            continue
        name = _CACHE_LEVELS.get((level, kind))
        nbytes = _cache_bytes(size)
        if name is not None and nbytes is not None:
            found.setdefault(name, nbytes)
    return {name: found[name] for name in CACHE_FIELDS if name in found}


def cache_fields(root=CACHE_ROOT):
    """The machine.json fields of ``cache_sizes(root)``: {CACHE_FIELDS[level]: bytes as text}."""
    return {CACHE_FIELDS[name]: str(nbytes) for name, nbytes in cache_sizes(root).items()}


def machine_name(cpuinfo="/proc/cpuinfo"):
    """The asv machine name: '<HALP_MACHINE or host name>-<llvm_cpu()>-<instruction_set()>',
    e.g. 'vm-znver4-avx512-vnni'. Results under two names never share a series."""
    host = os.environ.get("HALP_MACHINE", "").strip() or socket.gethostname()
    return f"{host}-{llvm_cpu()}-{instruction_set(cpuinfo)}"


if __name__ == "__main__":   # python -m halp_bench.machine: the asv machine name ./run registers
    print(machine_name())
