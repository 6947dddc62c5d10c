"""The numbers README.md and docs/*.md quote are the ones the shipped files and the code give now.

(a) every block generated from shipped files is exactly what `./run docs` writes (no diff);
(b) the "paper's claim" numbers, measured by running the solvers, are within
    engine.MEASURED_FACTOR (3x) of what the code produces now, or both at most
    MEASURED_FLOOR (1e-20, float64 rounding of f*);
(c) spot checks of quoted numbers against the shipped files, read here without the generator;
(d) no time, size or scientific-notation figure and no instruction count is typed outside a
    generated block.
"""

import ast
import itertools
import json
import re

import pandas as pd
import pytest

from halp_bench.files import FileFormatError

from tools.docs_numbers import catalog, engine, formatting, pinned, sources
from tools.docs_numbers.documents import performance, readme
from tools.docs_numbers.engine import Block

MEASURED = {name for name, block in catalog.BLOCKS.items() if block.measured}
FILE_BLOCKS = set(catalog.BLOCKS) - MEASURED


def _blocks():
    """{(file name, block name): body} of every generated block in the docs."""
    return {(p.name, name): body for p in engine.DOC_FILES
            for name, body in engine.blocks_in(p).items()}


def _report(stale):
    return "\n".join(f"{p.name} block {name}:\n--- committed\n{old}+++ now\n{new}"
                     for p, name, old, new in stale) + "\nrun ./run docs"


# ---- (a) and (b) -------------------------------------------------------------------------------

def test_blocks_from_shipped_files_are_current():
    stale = engine.refresh(catalog.BLOCKS, FILE_BLOCKS)
    assert not stale, _report(stale)


def test_paper_claim_numbers_match_the_solvers_now():
    stale = engine.refresh(catalog.BLOCKS, MEASURED)
    assert not stale, _report(stale)


def test_every_block_has_a_generator_and_every_generator_a_block():
    assert {name for _, name in _blocks()} == set(catalog.BLOCKS)


def test_check_fails_on_a_typed_number_and_write_repairs_it(tmp_path):
    doc = tmp_path / "doc.md"
    good = ("<!-- generated: speedup -->\n" + "\n".join(performance.speedup())
            + "\n<!-- end generated -->\n")
    doc.write_text(good.replace("| 400 MiB | ", "| 400 MiB | 9", 1))
    stale = engine.refresh(catalog.BLOCKS, {"speedup"}, files=[doc])
    assert [name for _, name, _, _ in stale] == ["speedup"]
    engine.refresh(catalog.BLOCKS, {"speedup"}, files=[doc], write=True)
    assert doc.read_text() == good and not engine.refresh(catalog.BLOCKS, {"speedup"}, files=[doc])


def test_a_block_without_a_generator_is_an_error_naming_the_file(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- generated: no-such-block -->\nx\n<!-- end generated -->\n")
    with pytest.raises(KeyError, match="doc.md: no generator for block 'no-such-block'"):
        engine.refresh(catalog.BLOCKS, files=[doc])


def test_a_block_name_is_declared_by_one_document():
    class One:
        BLOCKS = (Block("x", list),)

    class Two:
        BLOCKS = (Block("x", list),)

    with pytest.raises(ValueError, match="block 'x' is declared by"):
        catalog.gather((One, Two))
    assert set(catalog.gather((One,))) == {"x"}


@pytest.mark.parametrize("old, new, holds", [
    ("| HALP | 8.4e-17 |", "| HALP | 9.1e-18 |", False),    # the README's stale figure: 9x
    ("| LP-SGD | 6.4e-03 |", "| LP-SGD | 7.3e-03 |", True),  # within 3x
    ("| SVRG | 3.6e-24 |", "| SVRG | 2.0e-22 |", True),      # both below 1e-20
    ("| SVRG | 3.6e-24 |", "| SGD | 3.6e-24 |", False),      # the words changed
])
def test_measured_tolerance(old, new, holds):
    assert engine.close_enough(old, new) is holds


# ---- (c) ---------------------------------------------------------------------------------------

def _asv(commit, env, benchmark, machine=pinned.MACHINE):
    """{params: value} read straight from a shipped asv result file."""
    (path,) = (sources.RESULTS / machine).glob(f"{commit}-{env}*.json")
    data = json.loads(path.read_text())
    entry = data["results"][benchmark]
    params = entry[data["result_columns"].index("params")]
    values = entry[data["result_columns"].index("result")]
    return dict(zip(itertools.product(*[[ast.literal_eval(v) for v in p] for p in params]), values))


def test_quoted_numbers_match_shipped_files():
    blocks = _blocks()
    run = json.loads((sources.REPRODUCTION / "run.json").read_text())
    for doc in ("README.md", "reproduction.md"):
        assert f"took {run['wall_seconds']:.0f} s of wall time on {run['machine']}" in \
            blocks[(doc, "reproduction-time")]
    convex = pd.read_csv(sources.REPRODUCTION / "convex.csv")
    runs = convex[(convex["problem"] == "mnist") & (convex["label"] == "halp-16")]
    final = runs.groupby("seed")["subopt"].last().median()          # the median over seeds
    assert runs["seed"].nunique() >= 5
    assert f"| halp-16 | " in blocks[("reproduction.md", "reproduction-convex")]
    assert f"{final:.1e} |" in blocks[("reproduction.md", "reproduction-convex")]
    requirement = pd.read_csv(sources.BITS / "requirement.csv")
    share = requirement.groupby("mu")["agrees"].sum()
    for setting, agree in share.items():
        assert f"within one bit of the measurement at {agree} of 20 grid points" in \
            blocks[("bits.md", "bits-agreement")]
    ratio = _asv(pinned.PERF.commit, "virtualenv", "bench_speedup.Speedup.track_speedup",
                 pinned.PERF.machine)
    row = next(line for line in blocks[("performance.md", "speedup")].splitlines()
               if line.startswith("| 400 MiB |"))
    assert row.split(" | ")[1].startswith(f"{ratio[('halp', 8, 'fp32', 400)]:.2f} (was ")
    # README's headline table: HALP-8 / SVRG-fp32 at 400 MiB and d = 1024 (the 7th width column)
    ratio = _asv(pinned.HEADLINE.commit, "virtualenv", "bench_speedup.Speedup.track_speedup",
                 pinned.HEADLINE.machine)
    lines = blocks[("README.md", "speedup-widths")].splitlines()
    assert "| 400 MiB, d = 1024 |" in lines[0]
    column = lines[0].split(" | ").index("400 MiB, d = 1024")
    row = next(line for line in lines if line.startswith("| HALP-8 / SVRG-fp32 |"))
    assert row.split(" | ")[column] == f"{1 / ratio[('halp', 8, 'fp32', 400, 1024)]:.2f}x"
    reach = _asv(pinned.PEERS.commit, "virtualenv",
                 "bench_peers.PeerTimeToTarget.track_time_to_target", pinned.PEERS.machine)
    assert f"halp-16 {reach[('mnist', '1e-08', 'halp-16')]:.3g} s" in blocks[("peers.md", "peers")]


def test_instruction_counts_are_the_probes_recorded_loops():
    """The instructions table quotes docs/kernel-loops/<commit>.json (tools/asm_probe.py --out),
    read here without the generator: HALP-8's inner update is the first vectorized loop of the
    8-bit epoch kernel, at the measured commit and the one before."""
    kernel = "_lp_epoch_linear(array(int8, 2d, C), k=array(int8, 1d, C))"
    counts = []
    for commit in (pinned.PERF.commit, pinned.PERF_BEFORE):
        record = json.loads((sources.KERNEL_LOOPS / f"{commit}.json").read_text())
        assert record["commit"] == commit
        counts.append(next(iter(record["loops"][kernel].values()))["instructions"])
    row = next(line for line in _blocks()[("performance.md", "instructions")].splitlines()
               if line.startswith("| HALP-8 |"))
    cells = row.split(" | ")
    assert cells[4] == f"{counts[0]} / 64"
    # the other loops are the same at both commits: the totals differ by the update's change
    total, before = float(cells[5]), float(cells[6].rstrip(" |"))
    assert abs(before - total - (counts[1] - counts[0]) / 64) <= 0.01


def _records_with(tmp_path, changes):
    """A copy of docs/kernel-loops/ in ``tmp_path`` where {commit: {kernel: instructions}} set the
    first vectorized loop of those kernels."""
    for path in sources.KERNEL_LOOPS.glob("*.json"):
        record = json.loads(path.read_text())
        for kernel, count in changes.get(record["commit"], {}).items():
            next(iter(record["loops"][kernel].values()))["instructions"] = count
        (tmp_path / path.name).write_text(json.dumps(record))
    return tmp_path


def _text(lines):
    return " ".join(line.strip() for line in lines)   # wrapped prose: phrases span lines


def test_the_update_sentences_are_the_records_loops(tmp_path, monkeypatch):
    """The words on the update quote the 8-bit kernel's update loop as recorded at PERF,
    PERF_BEFORE and BEFORE_INT_LANES (read here without the generator); a changed record changes
    them, and the comparison's words follow the numbers."""
    lp8 = "_lp_epoch_linear(array(int8, 2d, C), k=array(int8, 1d, C))"
    lp16 = "_lp_epoch_linear(array(int8, 2d, C), k=array(int16, 1d, C))"

    def first_loop(commit, kernel):
        record = json.loads((sources.KERNEL_LOOPS / f"{commit}.json").read_text())
        return next(iter(record["loops"][kernel].values()))["instructions"]

    now, before, floats = (first_loop(c, lp8) for c in (pinned.PERF.commit, pinned.PERF_BEFORE,
                                                         pinned.BEFORE_INT_LANES))
    assert f"{now} instructions per 64 coordinates instead of {before} (int8 iterates), " \
           f"{first_loop(pinned.PERF.commit, lp16)} instead of " \
           f"{first_loop(pinned.PERF_BEFORE, lp16)} (int16)" in _text(performance.this_round())
    update = _text(performance.update())
    assert f"The 8-bit step updates 64 coordinates with {now}:" in update
    assert f"the float-lane update took {floats} for 64" in update

    monkeypatch.setattr(sources, "KERNEL_LOOPS", _records_with(tmp_path, {
        pinned.PERF.commit: {lp8: 61, lp16: 99}, pinned.BEFORE_INT_LANES: {lp8: 50}}))
    assert f"61 instructions per 64 coordinates instead of {before} (int8 iterates), 99 instead" \
        in _text(performance.this_round())
    update = _text(performance.update())
    assert "The 8-bit step updates 64 coordinates with 61:" in update
    assert "the float-lane update took 50 for 64" in update
    assert "twice the lanes, and with 11 more instructions." in update


def test_more_or_fewer_instructions():
    assert performance.more_or_fewer(63, 72) == performance.more_or_fewer(72, 72) == \
        "not with more instructions"
    assert performance.more_or_fewer(73, 72) == "and with 1 more instruction"


def test_prose_wraps_paragraphs_and_list_items():
    text = "- " + "word " * 30 + "\n\nshort line"
    lines = formatting.prose(text, width=40)
    assert all(len(line) <= 40 for line in lines) and lines[-2:] == ["", "short line"]
    assert lines[0].startswith("- word") and all(line.startswith("  word") for line in lines[1:-2])
    assert " ".join(line.strip() for line in lines[:-2]) == text.splitlines()[0].strip()


def test_a_hot_loop_the_record_lacks_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "KERNEL_LOOPS", tmp_path)
    (tmp_path / "abc.json").write_text(json.dumps({"commit": "abc", "loops": {"k(x)": {
        ".LBB0_1": {"instructions": 7, "opcodes": "vaddps jne"}}}}))
    assert performance.loop_counts({"s": (performance.HotLoop("k(x)", 0, 16), None)}, "abc") == \
        {"s": ((7, 16), None)}
    with pytest.raises(KeyError, match="k\\(x\\) has no vectorized loop 1"):
        performance.loop_counts({"s": (performance.HotLoop("k(x)", 1, 16),)}, "abc")
    (tmp_path / "def.json").write_text(json.dumps({"commit": "abc", "loops": {}}))
    with pytest.raises(FileFormatError, match="records commit 'abc', not def"):
        sources.kernel_loops("def")


def test_every_block_names_its_source_and_machine():
    for (doc, name), body in _blocks().items():
        assert "./run docs" in body, (doc, name)
        if name not in MEASURED and re.search(r"\d (us|ms|s|min|GB|GB/s)\b", body):
            assert re.search(r"ISA not recorded|AVX2|AVX-512", body), (doc, name)


# ---- (d) ---------------------------------------------------------------------------------------

# A figure with a unit of time, memory or bandwidth, or a number in scientific notation with two
# or more significant digits (settings such as lam = 1e-3 have one).
TYPED = re.compile(r"(?<![\w.-])(\d+(\.\d+)?\s?(ns|us|µs|ms|s|min|minutes|GB|GB/s)|"
                   r"\d\.\d+e[-+]?\d+)(?![\w/])")
SETTINGS = {"3 s"}   # bench_speedup interleaves for at least 3 s: a setting, not a measurement


# An instruction count (docs/kernel-loops/ holds them): "63 instructions", "instructions per 64".
INSTRUCTIONS = re.compile(r"\b\d+\s+instructions?\b|\binstructions? per \d")


def _typed(pattern, settings=()):
    """['file: match in line'] of ``pattern`` in the docs outside generated blocks."""
    typed = []
    for path in engine.DOC_FILES:
        text = re.sub(r"<!-- generated: [\w-]+ -->.*?<!-- end generated -->", "",
                      path.read_text(), flags=re.S)
        typed += [f"{path.name}: {m.group(0)!r} in {line.strip()!r}"
                  for line in text.splitlines() for m in pattern.finditer(line)
                  if m.group(0) not in settings]
    return typed


def test_no_typed_measurement_outside_generated_blocks():
    typed = _typed(TYPED, SETTINGS)
    assert not typed, "put these in a generated block or drop the number:\n" + "\n".join(typed)


def test_no_instruction_count_typed_outside_generated_blocks():
    typed = _typed(INSTRUCTIONS)
    assert not typed, ("generate these from docs/kernel-loops/ (tools/asm_probe.py --loops --out) "
                       "or drop the number:\n" + "\n".join(typed))
    assert INSTRUCTIONS.findall("compare: 63 instructions per 64 coordinates instead of 70") and \
        INSTRUCTIONS.findall("at 19 instructions per 128 elements") and \
        not INSTRUCTIONS.findall("the hot loops' instructions; instructions per element")


def test_headline_range_over_sizes_and_widths():
    """README's headline gives the least and most HALP-8 speedup over every size and width, and
    where it pays and where not; failed and skipped values are left out, inf does not pay."""
    values = {("halp", 8, "fp32", 100, 128): 1 / 0.78, ("halp", 8, "fp32", 100, 1024): 1 / 1.85,
              ("halp", 8, "fp32", 400, 128): float("inf"), ("halp", 8, "fp32", 400, 512): None,
              ("halp", 8, "fp32", 400, 4096): float("nan"), ("halp", 16, "fp32", 100, 128): 0.1,
              ("halp", 8, "fp64", 100, 128): 0.5}
    fp32, fp64 = readme.range_lines(values)
    assert fp32 == ("- **HALP-8 vs SVRG-fp32**: 0.00x (400 MiB, d = 128) to 1.85x (100 MiB, "
                    "d = 1024); faster at 100 MiB at d = 1024; slower at 100 MiB at d = 128; "
                    "400 MiB at d = 128.")
    assert "faster at 100 MiB at d = 128; slower at no size and width measured" in fp64


def test_width_values_read_files_before_the_width_axis_at_epoch_d(tmp_path):
    from benchmarks.common import EPOCH_D

    def write(params, result):
        path = tmp_path / "r.json"
        path.write_text(json.dumps({"commit_hash": "ab" * 20, "env_name": "env", "date": 1, "version": 2,
                                    "result_columns": ["result", "params"], "results": {
            "bench_epoch.EpochTime.time_epoch": [result, params]}}))
        return path

    old = write([["'halp'"], ["8"], ["1", "400"]], [1.0, 2.0])
    assert sources.width_values(old, "bench_epoch.EpochTime.time_epoch") == {
        ("halp", 8, 1, EPOCH_D): 1.0, ("halp", 8, 400, EPOCH_D): 2.0}
    new = write([["'halp'"], ["8"], ["400"], ["128", str(EPOCH_D)]], [3.0, 4.0])
    assert sources.speed_values(new, "bench_epoch.EpochTime.time_epoch") == {("halp", 8, 400): 4.0}
