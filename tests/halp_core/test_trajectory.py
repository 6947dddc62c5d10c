"""halp_core.trajectory: the one trajectory loop. ``evaluate`` is the float64 objective's row,
``timed_epochs`` times only the epochs and runs them lazily, ``record`` builds the history
(start row, passes, settings), calls back, and applies a check (one warning, a non-finite run
stops) and a progress rule; ``Result`` says whether a run diverged or failed."""

import warnings

import numpy as np
import pandas as pd
import pytest

from halp_core import datasets, trajectory
from halp_core.trajectory import HISTORY_COLUMNS, Result


@pytest.fixture(scope="module")
def prob():
    return datasets.synthetic_least_squares(60, 4, lam=0.1, noise=0.1, seed=0)


def test_evaluate_is_the_float64_objective(prob):
    w = np.arange(4.0) / 10
    loss, subopt, grad_norm, dist = trajectory.evaluate(prob, w)
    assert loss == prob.loss(w) and subopt == prob.suboptimality(w)
    assert grad_norm == np.linalg.norm(prob.grad(w))
    assert dist == np.linalg.norm(w - prob.w_star)
    assert trajectory.evaluate(prob, prob.w_star)[3] == 0


def test_evaluate_a_diverged_iterate_quietly(prob):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = trajectory.evaluate(prob, np.full(4, 1e200))
    assert not np.isfinite(values[0]) and not np.isfinite(values[2])


def test_timed_epochs_are_lazy_and_time_only_the_epochs():
    log = []

    def run_epoch():
        log.append("run")

    def current():
        log.append("read")
        return len([x for x in log if x == "run"])

    points = trajectory.timed_epochs(run_epoch, current, 3)
    assert log == []   # nothing runs before the first point is asked for
    first = next(points)
    assert log == ["run", "read"] and first[0] == 1 and first[2] == 1 and first[1] >= 0
    rest = list(points)
    assert [p[0] for p in rest] == [2, 3] and [p[2] for p in rest] == [2, 3]
    seconds = [first[1]] + [p[1] for p in rest]
    assert seconds == sorted(seconds)   # cumulative


def _points(states):
    return [(epoch, 0.5 * epoch, state) for epoch, state in enumerate(states, start=1)]


def _evaluate(state):
    """Four values from a scalar state: loss = state, the rest derived."""
    return state, state - 1.0, 2 * state, 3 * state


def test_record_builds_the_history():
    seen = []
    out = trajectory.record(_points([4.0, 3.0, 2.0]), _evaluate, 5.0, passes_per_epoch=2.0,
                            settings={"solver": "toy"}, callback=lambda e, r: seen.append((e, r)))
    h = out.history
    assert isinstance(h, pd.DataFrame) and list(h.columns) == list(HISTORY_COLUMNS)
    assert h.epoch.tolist() == [0, 1, 2, 3] and h.passes.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert h.seconds.tolist() == [0.0, 0.5, 1.0, 1.5] and h.loss.tolist() == [5.0, 4.0, 3.0, 2.0]
    assert h.dist.tolist() == [15.0, 12.0, 9.0, 6.0]
    assert h.attrs == {"solver": "toy"}   # no check: no diagnosis in the attrs
    assert out.state == 2.0 and out.diverged_epoch is None and out.divergence == ""
    assert [e for e, _ in seen] == [1, 2, 3] and seen[1][1]["loss"] == 3.0


def test_record_warns_once_at_the_first_failed_check_and_stops_when_not_finite():
    calls = []

    def check(epoch, state, row, first, previous):
        calls.append((epoch, previous))
        return f"bad at {epoch}" if state > first["loss"] else None

    with pytest.warns(RuntimeWarning, match="bad at 2") as caught:
        out = trajectory.record(_points([1.0, 3.0, 4.0, np.inf, 5.0]), _evaluate, 2.0,
                                passes_per_epoch=1.0, settings={}, check=check)
    assert len(caught) == 1
    assert calls == [(1, 2.0), (2, 1.0)]   # judged until the first failure, with the last state
    assert out.diverged_epoch == 2 and out.divergence == "bad at 2"
    assert out.history.epoch.tolist() == [0, 1, 2, 3, 4]   # runs on while finite, stops at inf
    assert out.history.attrs == {"diverged_epoch": 2, "divergence": "bad at 2",
                                 "no_progress": ""}


def test_record_applies_the_progress_rule_once_to_a_run_that_did_not_diverge():
    rows_seen = []

    def progress(rows):
        rows_seen.append([row["loss"] for row in rows])
        return "stuck"

    with pytest.warns(RuntimeWarning, match="stuck"):
        out = trajectory.record(_points([2.0, 2.0]), _evaluate, 2.0, passes_per_epoch=1.0,
                                settings={}, check=lambda *args: None, progress=progress)
    assert rows_seen == [[2.0, 2.0, 2.0]] and out.no_progress == "stuck"
    assert out.history.attrs["no_progress"] == "stuck"
    with pytest.warns(RuntimeWarning) as caught:
        out = trajectory.record(_points([np.nan]), _evaluate, 2.0, passes_per_epoch=1.0,
                                settings={}, check=lambda *args: "diverged", progress=progress)
    assert [str(w.message) for w in caught] == ["diverged"] and out.no_progress == ""
    assert len(rows_seen) == 1   # not asked after a divergence


@pytest.mark.parametrize("diverged_epoch,no_progress,diverged,failed", [
    (None, "", False, False), (3, "", True, True), (None, "stuck", False, True)])
def test_result_says_whether_the_run_failed(diverged_epoch, no_progress, diverged, failed):
    result = Result(w=np.zeros(2), history=pd.DataFrame(), saturations=np.zeros(0, np.int64),
                    diverged_epoch=diverged_epoch, no_progress=no_progress)
    assert result.diverged is diverged and result.failed is failed
