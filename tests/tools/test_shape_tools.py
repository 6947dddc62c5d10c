"""The measuring tools of docs/performance.md's "Every problem shape" section (tools/step_cost.py,
tools/width_speedups.py, tools/time_to_accuracy.py) and what ./run docs reads from their files."""

import json
import math

import numpy as np
import pytest

from halp_bench.files import FileFormatError
from tools import measurement_record, step_cost, time_to_accuracy, width_speedups
from tools.docs_numbers import engine, pinned, sources
from tools.docs_numbers.documents import performance


def test_fit_recovers_a_line():
    fixed, per = step_cost.fit([16, 64, 256], [20.0 + 0.5 * d for d in (16, 64, 256)])
    assert fixed == pytest.approx(20.0) and per == pytest.approx(0.5)


def test_a_step_costs_nanoseconds_and_more_at_a_wider_row():
    """Two widths, one solver, one round: a finite positive cost per step at each, and the wider
    rows cost more per step (64 times the coordinates)."""
    narrow, wide = (step_cost.measure(d, solvers=(("sgd", "fp32"),), rounds=1)["sgd-fp32"]
                    for d in (16, 1024))
    assert 0 < narrow < wide < 1e5


def test_width_shapes_put_only_the_default_width_in_cache():
    shapes = width_speedups.shapes(sizes=(1, 100), widths=(128, 1024))
    assert shapes == [(1, width_speedups.IN_CACHE_WIDTH), (100, 128), (100, 1024)]
    assert width_speedups.label(width_speedups.PAIRS[0]) == "halp-8 / svrg-fp32"
    assert set(performance.WIDTH_GOALS) == {width_speedups.label(p) for p in width_speedups.PAIRS}


def test_the_step_costs_cover_every_width_of_the_speed_suite():
    """The bound per width sets each out-of-cache shape against the in-cache step at its width."""
    from benchmarks import common

    assert set(common.WIDTHS) <= set(step_cost.WIDTHS)


def test_a_shape_records_epochs_and_full_gradients(tmp_path):
    """One in-cache shape, a short budget: each pair's speedup is its two median epochs' ratio;
    the variance-reduced contenders' full-gradient passes take part of their epoch, and the
    solvers without one record None."""
    found, n = width_speedups.measure(1, 64, tmp_path, budget_s=0.0)
    assert n > 0
    for pair, value in found.items():
        low, base = value["epoch_s"]
        assert value["speedup"] == pytest.approx(base / low)
    halp = found["halp-8 / svrg-fp32"]
    assert all(0 < g < e for g, e in zip(halp["full_gradient_s"], halp["epoch_s"]))
    assert found["lp-sgd-8 / sgd-fp32"]["full_gradient_s"] == [None, None]


def test_time_to_accuracy_runs_ours_and_only_the_peers_for_the_loss():
    prob = time_to_accuracy.problem("lsq-128")
    assert prob.n == time_to_accuracy.N_ROWS and prob.d == 128
    found = time_to_accuracy.contenders_for(prob)
    assert found["halp-8"] == ("halp", 8) and found["svrg-fp64"] == ("svrg", "fp64")
    from halp_bench import peers
    assert all(prob.kind in peers.PEERS[name].kinds for name in found if isinstance(found[name], str))


def test_a_measurement_of_another_commit_or_without_a_cpu_is_refused(tmp_path):
    (tmp_path / "m-abc.json").write_text(json.dumps({"commit": "xyz", "cpu": "c"}))
    with pytest.raises(FileFormatError, match="records commit 'xyz', not abc"):
        sources.measurement(tmp_path, "m", "abc")
    (tmp_path / "m-xyz.json").write_text(json.dumps({"commit": "xyz"}))
    with pytest.raises(FileFormatError, match="no cpu field"):
        sources.measurement(tmp_path, "m", "xyz")


def test_the_width_table_quotes_the_files():
    """docs/performance.md's width-speedups cell at 400 MiB, d = 128 is the two files' speedups,
    read here without the generator."""
    values = []
    for commit in (pinned.SHAPES_BEFORE, pinned.SHAPES):
        record = json.loads((sources.WIDTH_SPEEDUPS / f"{pinned.MACHINE}-{commit}.json")
                            .read_text())
        row = next(r for r in record["rows"] if (r["size_mb"], r["d"]) == (400, 128))
        values.append(row["speedup"]["halp-8 / svrg-fp32"])
    body = engine.blocks_in(engine.ROOT / "docs" / "performance.md")["width-speedups"]
    line = next(line for line in body.splitlines() if line.startswith("| 400 MiB | 128 |"))
    assert line.split(" | ")[2].startswith(f"{values[0]:.2f}x → {values[1]:.2f}x (")


def test_the_bound_per_width_adds_the_full_gradient_to_the_in_cache_steps():
    """docs/performance.md's width-bound cell for HALP-8 at 100 MiB, d = 1024: the baseline's
    epoch over (HALP-8's full-gradient pass + n in-cache steps), from the two files."""
    shapes = json.loads((sources.WIDTH_SPEEDUPS / f"{pinned.MACHINE}-{pinned.SHAPES}.json")
                        .read_text())
    steps = json.loads((sources.STEP_COST / f"{pinned.MACHINE}-{pinned.SHAPES}.json").read_text())
    row = next(r for r in shapes["rows"] if (r["size_mb"], r["d"]) == (100, 1024))
    pair = "halp-8 / svrg-fp32"
    step_ns = steps["ns_per_step"]["halp-8"][steps["widths"].index(1024)]
    least = row["full_gradient_s"][pair][0] + row["n"] * step_ns * 1e-9
    body = engine.blocks_in(engine.ROOT / "docs" / "performance.md")["width-bound"]
    line = next(line for line in body.splitlines()
                if line.startswith("| 100 MiB | 1024 | HALP-8 / SVRG-fp32 |"))
    assert line.split(" | ")[7] == f"{row['epoch_s'][pair][1] / least:.2f}x"


def test_the_step_cost_sentence_quotes_the_fit():
    record = json.loads((sources.STEP_COST / f"{pinned.MACHINE}-{pinned.SHAPES}.json").read_text())
    widths, ns = record["widths"], record["ns_per_step"]["halp-8"]
    assert record["fixed_ns"]["halp-8"] == pytest.approx(step_cost.fit(widths, ns)[0])
    body = engine.blocks_in(engine.ROOT / "docs" / "performance.md")["step-costs"]
    assert f"fixed cost is {record['fixed_ns']['halp-8']:.1f} ns (HALP-8)" in body


def test_time_to_accuracy_cells_say_failed_or_not_reached():
    failed = {"1e-08": None, "failure": "halp (8 bits) diverged at epoch 2"}
    assert performance.time_cell(failed, "1e-08") == "failed"
    assert performance.time_cell({"1e-08": None, "failure": None}, "1e-08") == "not reached"
    assert performance.time_cell({"1e-08": 0.5}, "1e-08") == "500 ms"
    record = json.loads((sources.TIME_TO_ACCURACY / f"{pinned.MACHINE}-{pinned.ACCURACY}.json")
                        .read_text())
    assert set(record["problems"]) == set(time_to_accuracy.PROBLEMS)
    for runs in record["problems"].values():
        assert set(time_to_accuracy.OURS) <= set(runs)
        for entry in runs.values():
            assert entry["1e-08"] is None or (math.isfinite(entry["1e-08"])
                                              and entry["1e-08"] >= (entry["1e-04"] or 0))
    assert np.isfinite([r["seconds_per_epoch"] for p in record["problems"].values()
                        for r in p.values() if r["seconds_per_epoch"] is not None]).all()


def test_a_written_record_reads_back_through_the_docs_source(tmp_path):
    commit = measurement_record.commit()
    assert len(commit.rstrip("+")) == 8
    record = {"commit": "abcd1234", "cpu": "some CPU", "date": "2026-12-07", "command": "x"}
    measurement_record.write(record, tmp_path / "sub" / "m-abcd1234.json")
    path, found = sources.measurement(tmp_path / "sub", "m", "abcd1234")
    assert found == record and path.name == "m-abcd1234.json"
