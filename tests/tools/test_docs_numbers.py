"""The numbers README.md and docs/*.md quote are the ones the shipped files and the code give now.

(a) every block generated from shipped files is exactly what `./run docs` writes (no diff);
(b) the "paper's claim" numbers, measured by running the solvers, are within
    docs_numbers.MEASURED_FACTOR (3x) of what the code produces now, or both at most
    MEASURED_FLOOR (1e-20, float64 rounding of f*);
(c) spot checks of quoted numbers against the shipped files, read here without the generator;
(d) no time, size or scientific-notation figure is typed outside a generated block.
"""

import ast
import itertools
import json
import re

import pandas as pd
import pytest

from tools import docs_numbers as dn

FILE_BLOCKS = set(dn.BLOCKS) - set(dn.MEASURED)


def _blocks():
    """{(file name, block name): body} of every generated block in the docs."""
    return {(p.name, m["name"]): m["body"] for p in dn.DOC_FILES
            for m in dn.BLOCK.finditer(p.read_text())}


def _report(stale):
    return "\n".join(f"{p.name} block {name}:\n--- committed\n{old}+++ now\n{new}"
                     for p, name, old, new in stale) + "\nrun ./run docs"


# ---- (a) and (b) -------------------------------------------------------------------------------

def test_blocks_from_shipped_files_are_current():
    stale = dn.refresh(FILE_BLOCKS)
    assert not stale, _report(stale)


def test_paper_claim_numbers_match_the_solvers_now():
    stale = dn.refresh(set(dn.MEASURED))
    assert not stale, _report(stale)


def test_every_block_has_a_generator_and_every_generator_a_block():
    assert {name for _, name in _blocks()} == set(dn.BLOCKS)


def test_check_fails_on_a_typed_number_and_write_repairs_it(tmp_path):
    doc = tmp_path / "doc.md"
    good = "<!-- generated: speedup -->\n" + "\n".join(dn.speedup()) + "\n<!-- end generated -->\n"
    doc.write_text(good.replace("| 400 MiB | ", "| 400 MiB | 9", 1))
    assert [name for _, name, _, _ in dn.refresh({"speedup"}, files=[doc])] == ["speedup"]
    dn.refresh({"speedup"}, files=[doc], write=True)
    assert doc.read_text() == good and not dn.refresh({"speedup"}, files=[doc])


@pytest.mark.parametrize("old, new, holds", [
    ("| HALP | 8.4e-17 |", "| HALP | 9.1e-18 |", False),    # the README's stale figure: 9x
    ("| LP-SGD | 6.4e-03 |", "| LP-SGD | 7.3e-03 |", True),  # within 3x
    ("| SVRG | 3.6e-24 |", "| SVRG | 2.0e-22 |", True),      # both below 1e-20
    ("| SVRG | 3.6e-24 |", "| SGD | 3.6e-24 |", False),      # the words changed
])
def test_measured_tolerance(old, new, holds):
    assert dn.close_enough(old, new) is holds


# ---- (c) ---------------------------------------------------------------------------------------

def _asv(commit, env, benchmark, machine=dn.MACHINE):
    """{params: value} read straight from a shipped asv result file."""
    (path,) = (dn.RESULTS / machine).glob(f"{commit}-{env}*.json")
    data = json.loads(path.read_text())
    entry = data["results"][benchmark]
    params = entry[data["result_columns"].index("params")]
    values = entry[data["result_columns"].index("result")]
    return dict(zip(itertools.product(*[[ast.literal_eval(v) for v in p] for p in params]), values))


def test_quoted_numbers_match_shipped_files():
    blocks = _blocks()
    run = json.loads((dn.REPRODUCTION / "run.json").read_text())
    for doc in ("README.md", "reproduction.md"):
        assert f"took {run['wall_seconds']:.0f} s of wall time on {run['machine']}" in \
            blocks[(doc, "reproduction-time")]
    convex = pd.read_csv(dn.REPRODUCTION / "convex.csv")
    runs = convex[(convex["problem"] == "mnist") & (convex["label"] == "halp-16")]
    final = runs.groupby("seed")["subopt"].last().median()          # the median over seeds
    assert runs["seed"].nunique() >= 5
    assert f"| halp-16 | " in blocks[("reproduction.md", "reproduction-convex")]
    assert f"{final:.1e} |" in blocks[("reproduction.md", "reproduction-convex")]
    requirement = pd.read_csv(dn.BITS / "requirement.csv")
    share = requirement.groupby("mu")["agrees"].sum()
    for setting, agree in share.items():
        assert f"within one bit of the measurement at {agree} of 20 grid points" in \
            blocks[("bits.md", "bits-agreement")]
    ratio = _asv(dn.PERF_COMMIT, "virtualenv", "bench_speedup.Speedup.track_speedup",
                 dn.PERF_MACHINE)
    row = next(line for line in blocks[("performance.md", "speedup")].splitlines()
               if line.startswith("| 400 MiB |"))
    assert row.split(" | ")[1].startswith(f"{ratio[('halp', 8, 'fp32', 400)]:.2f} (was ")
    # README's headline table: HALP-8 / SVRG-fp32 at 400 MiB and d = 1024 (the 7th width column)
    ratio = _asv(dn.HEADLINE_COMMIT, "virtualenv", "bench_speedup.Speedup.track_speedup",
                 dn.HEADLINE_MACHINE)
    lines = blocks[("README.md", "speedup-widths")].splitlines()
    assert "| 400 MiB, d = 1024 |" in lines[0]
    column = lines[0].split(" | ").index("400 MiB, d = 1024")
    row = next(line for line in lines if line.startswith("| HALP-8 / SVRG-fp32 |"))
    assert row.split(" | ")[column] == f"{1 / ratio[('halp', 8, 'fp32', 400, 1024)]:.2f}x"
    reach = _asv(dn.PEERS_COMMIT, "virtualenv", "bench_peers.PeerTimeToTarget.track_time_to_target",
                 dn.PEERS_MACHINE)
    assert f"halp-16 {reach[('mnist', '1e-08', 'halp-16')]:.3g} s" in blocks[("peers.md", "peers")]


def test_every_block_names_its_source_and_machine():
    for (doc, name), body in _blocks().items():
        assert "./run docs" in body, (doc, name)
        if name not in dn.MEASURED and re.search(r"\d (us|ms|s|min|GB|GB/s)\b", body):
            assert re.search(r"ISA not recorded|AVX2|AVX-512", body), (doc, name)


# ---- (d) ---------------------------------------------------------------------------------------

# A figure with a unit of time, memory or bandwidth, or a number in scientific notation with two
# or more significant digits (settings such as lam = 1e-3 have one).
TYPED = re.compile(r"(?<![\w.-])(\d+(\.\d+)?\s?(ns|us|µs|ms|s|min|minutes|GB|GB/s)|"
                   r"\d\.\d+e[-+]?\d+)(?![\w/])")
SETTINGS = {"3 s"}   # bench_speedup interleaves for at least 3 s: a setting, not a measurement


def test_no_typed_measurement_outside_generated_blocks():
    typed = []
    for path in dn.DOC_FILES:
        text = re.sub(r"<!-- generated: [\w-]+ -->.*?<!-- end generated -->", "",
                      path.read_text(), flags=re.S)
        typed += [f"{path.name}: {m.group(0)!r} in {line.strip()!r}"
                  for line in text.splitlines() for m in TYPED.finditer(line)
                  if m.group(0) not in SETTINGS]
    assert not typed, "put these in a generated block or drop the number:\n" + "\n".join(typed)


def test_headline_range_over_sizes_and_widths():
    """README's headline gives the least and most HALP-8 speedup over every size and width, and
    where it pays and where not; failed and skipped values are left out, inf does not pay."""
    values = {("halp", 8, "fp32", 100, 128): 1 / 0.78, ("halp", 8, "fp32", 100, 1024): 1 / 1.85,
              ("halp", 8, "fp32", 400, 128): float("inf"), ("halp", 8, "fp32", 400, 512): None,
              ("halp", 8, "fp32", 400, 4096): float("nan"), ("halp", 16, "fp32", 100, 128): 0.1,
              ("halp", 8, "fp64", 100, 128): 0.5}
    fp32, fp64 = dn.range_lines(values)
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
    assert dn.width_values(old, "bench_epoch.EpochTime.time_epoch") == {
        ("halp", 8, 1, EPOCH_D): 1.0, ("halp", 8, 400, EPOCH_D): 2.0}
    new = write([["'halp'"], ["8"], ["400"], ["128", str(EPOCH_D)]], [3.0, 4.0])
    assert dn.speed_values(new, "bench_epoch.EpochTime.time_epoch") == {("halp", 8, 400): 4.0}
