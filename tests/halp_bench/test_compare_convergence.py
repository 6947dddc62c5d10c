"""The convergence rule (halp_bench/compare/convergence.py): epochs to target changed, f - f*
crossing a target, values at the float64 floor equal; and `./run compare`'s judge applies it to
convergence benchmarks only."""

import math

import pytest

from benchmarks import bench_convergence, common
from halp_bench import asv_results
from halp_bench.compare import convergence, judge, report, rule

EPOCHS = "bench_convergence.Convergence.track_epochs_to_target"
SUBOPT = "bench_convergence.Convergence.track_subopt"
DOT = "bench_kernels.Dot.time_dot"
UNITS = {EPOCHS: convergence.EPOCHS_UNIT, SUBOPT: convergence.SUBOPT_UNIT, DOT: "seconds"}


def test_the_rule_declares_what_the_convergence_suite_writes():
    """The sentinel, the targets and the units are the suite's (halp_bench may not import benchmarks/)."""
    assert convergence.NEVER == common.NEVER
    assert convergence.DEFAULT_TARGETS == tuple(sorted((float(t) for t in common.CONV_TARGETS), reverse=True))
    assert bench_convergence.Convergence.track_subopt.unit == convergence.SUBOPT_UNIT
    assert bench_convergence.Convergence.track_epochs_to_target.unit == convergence.EPOCHS_UNIT
    assert convergence.TARGET_PARAM in bench_convergence.Convergence.track_epochs_to_target.param_names
    assert convergence.FLOOR < min(convergence.DEFAULT_TARGETS)
    assert convergence.applies("epochs") and convergence.applies("f - f*")
    assert not convergence.applies("seconds") and not convergence.applies("ratio")


@pytest.mark.parametrize("base, head, verdict", [
    (7, 9, rule.REGRESSION), (9, 7, rule.IMPROVEMENT), (7, 7, rule.NO_CHANGE),
    (7, convergence.NEVER, rule.REGRESSION), (convergence.NEVER, 7, rule.IMPROVEMENT),
    (convergence.NEVER, convergence.NEVER, rule.NO_CHANGE), (7, math.inf, rule.REGRESSION),
    (math.inf, convergence.NEVER, rule.NO_CHANGE)])
def test_epochs_to_target_changed(base, head, verdict):
    change = convergence.judge(convergence.EPOCHS_UNIT, base, head)
    assert change.verdict == verdict
    assert (change.note == "") == (verdict == rule.NO_CHANGE)
    expected = min(head, convergence.NEVER) / min(base, convergence.NEVER)
    assert change.ratio == pytest.approx(expected)


def test_reached_to_never_is_named_and_sorts_first():
    lost = convergence.judge(convergence.EPOCHS_UNIT, 29, convergence.NEVER)
    slower = convergence.judge(convergence.EPOCHS_UNIT, 13, 14)
    assert "29 -> never" in lost.note and lost.ratio > slower.ratio > 1


@pytest.mark.parametrize("base, head, verdict, target", [
    (5e-7, 2e-6, rule.REGRESSION, 1e-6),          # crossed 1e-6 upward
    (1e-6, 1.5e-6, rule.REGRESSION, 1e-6),        # reached means <= target
    (2e-6, 5e-7, rule.IMPROVEMENT, 1e-6),         # crossed 1e-6 downward
    (1e-11, 1e-5, rule.REGRESSION, 1e-10),        # lost both targets: the smaller is named
    (1e-5, 1e-11, rule.IMPROVEMENT, 1e-6),        # reached both: the larger is named
    (3e-3, 9e-3, rule.NO_CHANGE, None),           # 3x worse, but no target crossed
    (2e-7, 9e-7, rule.NO_CHANGE, None),
    (1e-7, math.inf, rule.REGRESSION, 1e-6),      # diverged
])
def test_subopt_crossing_a_target(base, head, verdict, target):
    change = convergence.judge(convergence.SUBOPT_UNIT, base, head)
    assert change.verdict == verdict
    assert change.ratio == pytest.approx(head / base) or math.isinf(head)
    if target is not None:
        assert f"target {target:g}" in change.note


@pytest.mark.parametrize("base, head", [(1e-30, 1e-20), (0.0, 1e-25), (-1.1e-16, 3e-13),
                                        (1e-12, 0.0), (1e-28, convergence.FLOOR)])
def test_values_at_the_float64_floor_are_equal(base, head):
    change = convergence.judge(convergence.SUBOPT_UNIT, base, head)
    assert change.verdict == rule.NO_CHANGE and change.ratio == 1.0


def test_the_floor_applies_to_the_size_too():
    change = convergence.judge(convergence.SUBOPT_UNIT, 1e-25, 1e-9)
    assert change.verdict == rule.REGRESSION
    assert change.ratio == pytest.approx(1e-9 / convergence.FLOOR)


def test_targets_come_from_the_epochs_benchmark_params():
    keys = ["problem=lsq, solver=sgd, precision=fp64, target=1e-06",
            "problem=lsq, solver=sgd, precision=fp64, target=1e-03", "problem=lsq, epoch=4"]
    assert convergence.targets(keys) == (1e-3, 1e-6)
    assert convergence.targets([]) == convergence.DEFAULT_TARGETS
    assert convergence.judge(convergence.SUBOPT_UNIT, 5e-4, 5e-3, (1e-3,)).verdict == rule.REGRESSION
    assert convergence.judge(convergence.SUBOPT_UNIT, 5e-4, 5e-3).verdict == rule.NO_CHANGE


@pytest.mark.parametrize("call, words", [
    (lambda: convergence.judge("seconds", 1.0, 2.0), "timing rule"),
    (lambda: convergence.judge(convergence.SUBOPT_UNIT, math.nan, 1.0), "base must be a number"),
    (lambda: convergence.judge(convergence.EPOCHS_UNIT, 3, -math.inf), "head must be a number"),
    (lambda: convergence.targets(["target=soon"]), "not a number"),
    (lambda: convergence.targets(["a=1, target=-1e-6"]), "positive"),
])
def test_bad_input_is_refused(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def measured(value, samples=(), low=math.nan, high=math.nan):
    return asv_results.Measurement(asv_results.OK, value, low, high, tuple(samples), "v1")


def test_the_judge_applies_the_convergence_rule_to_convergence_units_only():
    """A 2x change: a regression for the timing rule when significant, and for the convergence rule
    only where it crosses a target or changes the epochs; the timing row is what it was."""
    f32 = "dtype=float32, level=L2"
    lsq = "problem=lsq, solver=halp, precision=8"
    base = {(DOT, f32): measured(1e-3, [1e-3] * 5), (SUBOPT, lsq + ", epoch=8"): measured(4e-7),
            (SUBOPT, lsq + ", epoch=4"): measured(4e-3), (EPOCHS, lsq + ", target=1e-06"): measured(7.0),
            (EPOCHS, lsq + ", target=1e-10"): measured(convergence.NEVER)}
    head = {(DOT, f32): measured(2e-3, [2e-3] * 5), (SUBOPT, lsq + ", epoch=8"): measured(8e-7),
            (SUBOPT, lsq + ", epoch=4"): measured(8e-3), (EPOCHS, lsq + ", target=1e-06"): measured(8.0),
            (EPOCHS, lsq + ", target=1e-10"): measured(convergence.NEVER)}
    rows = {(r.benchmark, r.params): r for r in judge.judge(base, head, UNITS)}
    timing = rows[(DOT, f32)]
    assert (timing.rule, timing.verdict, timing.threshold) == (rule.NAME, rule.REGRESSION, rule.MIN_EFFECT)
    assert timing == judge.judge({(DOT, f32): base[(DOT, f32)]}, {(DOT, f32): head[(DOT, f32)]}, UNITS)[0]
    assert {k: r.verdict for k, r in rows.items() if r.rule == convergence.NAME} == {
        (SUBOPT, lsq + ", epoch=8"): rule.NO_CHANGE, (SUBOPT, lsq + ", epoch=4"): rule.NO_CHANGE,
        (EPOCHS, lsq + ", target=1e-06"): rule.REGRESSION, (EPOCHS, lsq + ", target=1e-10"): rule.NO_CHANGE}
    crossed = {**head, (SUBOPT, lsq + ", epoch=8"): measured(2e-6)}
    row = {(r.benchmark, r.params): r for r in judge.judge(base, crossed, UNITS)}[(SUBOPT, lsq + ", epoch=8")]
    assert row.verdict == rule.REGRESSION and "target 1e-06" in row.note
    assert math.isnan(row.threshold) and row.threshold_from == "targets 1e-06, 1e-10"
    assert report.threshold_text(row) == "targets 1e-06, 1e-10"
    assert judge.exit_code(list(rows.values())) == judge.EXIT_REGRESSION


def test_without_units_every_benchmark_is_judged_by_the_timing_rule():
    """The judge recognises convergence benchmarks by unit alone: without units, a track_ value
    without an interval is "no change" for the timing rule, as before."""
    key = (EPOCHS, "problem=lsq, target=1e-06")
    row, = judge.judge({key: measured(7.0)}, {key: measured(convergence.NEVER)})
    assert (row.rule, row.verdict) == (rule.NAME, rule.NO_CHANGE)
    row, = judge.judge({key: measured(7.0)}, {key: measured(convergence.NEVER)}, UNITS)
    assert (row.rule, row.verdict) == (convergence.NAME, rule.REGRESSION)
