"""halp_core.schedules: each schedule against a formula written here independently (Smith's
cycle/x form for triangular, 1 + cos for cosine), the boundary epochs, every validation error, and
that SCHEDULES is the one list of names."""

import math

import numpy as np
import pytest

import halp_core
from halp_core import schedules
from halp_core.schedules import SCHEDULES, Schedule, factors, make_schedule


def _reference(name, epochs, **p):
    """The factors of epochs 0..epochs-1, straight from the textbook formulas."""
    out = []
    for e in range(epochs):
        if name == "constant":
            f = 1.0
        elif name == "step":
            f = p["gamma"] ** math.floor(e / p["every"])
        elif name == "exponential":
            f = math.exp(e * math.log(p["gamma"]))
        elif name == "cosine":
            f = p["floor"] + 0.5 * (1 - p["floor"]) * (1 + math.cos(math.pi * e / epochs))
        elif name == "triangular":   # Smith (2017), base_lr = low, max_lr = 1, stepsize = period
            cycle = math.floor(1 + e / (2 * p["period"]))
            x = abs(e / p["period"] - 2 * cycle + 1)
            f = p["low"] + (1 - p["low"]) * max(0.0, 1 - x)
        out.append(f)
    return np.array(out)


CASES = [
    ("constant", {}),
    ("step", dict(every=10, gamma=0.5)),
    ("step", dict(every=1, gamma=0.9)),
    ("step", dict(every=3, gamma=1.0)),
    ("exponential", dict(gamma=0.9)),
    ("exponential", dict(gamma=0.37)),
    ("cosine", dict(floor=0.0)),
    ("cosine", dict(floor=0.01)),
    ("triangular", dict(period=4, low=0.1)),
    ("triangular", dict(period=1, low=0.5)),
    ("triangular", dict(period=3, low=1.0)),
]


@pytest.mark.parametrize("epochs", [1, 2, 7, 25])
@pytest.mark.parametrize("name, params", CASES)
def test_factors_match_the_reference_formulas(name, params, epochs):
    s = make_schedule(dict(name=name, **params), epochs)
    got = [s.factor(e) for e in range(epochs)]
    assert all(type(f) is float and 0 < f <= 1 for f in got)
    np.testing.assert_allclose(got, _reference(name, epochs, **params), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(factors(s, epochs), got)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_defaults_are_the_declared_ones(name):
    s = make_schedule(name, 30)
    defaults = {k: d for k, (d, _) in SCHEDULES[name].params.items()}
    assert dict(s.params) == defaults
    np.testing.assert_allclose(factors(name, 30), _reference(name, 30, **defaults), rtol=1e-12)


def test_documented_defaults():
    assert dict(make_schedule("step", 5).params) == dict(every=10, gamma=0.5)
    assert dict(make_schedule("exponential", 5).params) == dict(gamma=0.9)
    assert dict(make_schedule("cosine", 5).params) == dict(floor=0.0)
    assert dict(make_schedule("triangular", 5).params) == dict(period=4, low=0.1)


def test_step_boundaries():
    s = make_schedule(dict(name="step", every=4, gamma=0.5), 13)
    assert [s.factor(e) for e in (0, 3, 4, 7, 8, 11, 12)] == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]


@pytest.mark.parametrize("epochs, floor", [(1, 0.0), (2, 0.0), (10, 0.0), (1000, 0.0),
                                           (10**9, 0.0), (1, 0.2), (2, 0.2), (10, 0.2),
                                           (1000, 0.2)])
def test_cosine_starts_at_one_and_ends_above_floor(epochs, floor):
    """Even over 1e9 epochs the last factor is > 0 (1 + cos(pi (1 - 1e-9)) would round to 0)."""
    s = make_schedule(dict(name="cosine", floor=floor), epochs)
    last = s.factor(epochs - 1)
    assert s.factor(0) == 1.0 and last > floor
    expected = floor + (1 - floor) * math.sin(math.pi / (2 * epochs)) ** 2
    assert last == pytest.approx(expected, rel=1e-9)
    if epochs > 1:
        assert last < s.factor(epochs - 2)


def test_cosine_is_symmetric_around_half_its_epochs():
    s = make_schedule("cosine", 20)
    for e in range(1, 20):
        assert s.factor(e) + s.factor(20 - e) == pytest.approx(1.0, abs=1e-14)


def test_triangular_starts_low_peaks_at_period_and_repeats():
    period, low = 3, 0.25
    s = make_schedule(dict(name="triangular", period=period, low=low), 40)
    f = factors(s, 40)
    assert f[0] == low and f[period] == 1.0 and f[2 * period] == low
    assert all(f[e] == f[e + 2 * period] for e in range(40 - 2 * period))
    peaks = np.flatnonzero(f == 1.0)
    np.testing.assert_array_equal(peaks, np.arange(period, 40, 2 * period))
    assert np.all(np.diff(f[:period + 1]) > 0) and np.all(np.diff(f[period:2 * period + 1]) < 0)
    assert f.min() == low


@pytest.mark.parametrize("name", ["step", "exponential", "cosine"])
def test_decaying_schedules_never_rise(name):
    assert np.all(np.diff(factors(name, 50)) <= 0)


def test_none_and_constant_are_one():
    for spec in (None, "constant", {"name": "constant"}):
        s = make_schedule(spec, 6)
        assert s.name == "constant" and dict(s.params) == {}
        assert list(factors(s, 6)) == [1.0] * 6


@pytest.mark.parametrize("spec, text", [
    (None, "constant"),
    ("step", "step(every=10, gamma=0.5)"),
    ({"name": "cosine", "floor": 0.01}, "cosine(floor=0.01)"),
    ({"name": "triangular", "low": 0.2}, "triangular(period=4, low=0.2)"),
    ({"name": "exponential", "gamma": 0.95}, "exponential(gamma=0.95)"),
])
def test_description(spec, text):
    s = make_schedule(spec, 8)
    assert s.describe() == str(s) == text


def test_a_schedule_passes_through():
    s = make_schedule({"name": "step", "every": 2, "gamma": 0.5}, 10)
    assert make_schedule(s, 10) is s
    longer = make_schedule(s, 30)
    assert (longer.name, dict(longer.params), longer.epochs) == ("step", dict(s.params), 30)
    cos = make_schedule("cosine", 10)
    assert make_schedule(cos, 20).factor(10) == pytest.approx(0.5)   # re-spanned over 20 epochs


def test_schedules_are_frozen_and_hashable():
    s = make_schedule({"name": "step", "gamma": 0.25}, 5)
    with pytest.raises(AttributeError):
        s.name = "cosine"
    with pytest.raises(TypeError):
        s.params["gamma"] = 0.9
    assert s == make_schedule({"name": "step", "gamma": 0.25}, 5)
    assert hash(s) == hash(make_schedule({"name": "step", "gamma": 0.25}, 5))
    assert s != make_schedule({"name": "step", "gamma": 0.25}, 6)


def test_integer_like_numpy_values_are_canonical():
    s = make_schedule({"name": "triangular", "period": np.int64(2), "low": np.float32(0.5)}, 5)
    assert type(s.params["period"]) is int and type(s.params["low"]) is float
    assert s.factor(np.int64(2)) == 1.0


@pytest.mark.parametrize("spec, error, match", [
    ("warmup", ValueError, "unknown schedule 'warmup'; known: " + ", ".join(SCHEDULES)),
    ({"name": "Cosine"}, ValueError, "known: constant, step"),
    ({"name": 3}, TypeError, "schedule name must be a str"),
    ({"every": 3}, ValueError, "needs a 'name'"),
    (3, TypeError, "schedule must be None, a name, a dict or a Schedule"),
    (["step"], TypeError, "schedule must be None"),
    ({"name": "step", "evry": 3}, ValueError, "no parameter 'evry'; allowed: every, gamma"),
    ({"name": "constant", "gamma": 0.5}, ValueError, "no parameter 'gamma'; allowed: none"),
    ({"name": "cosine", "gamma": 0.5}, ValueError, "allowed: floor"),
    ({"name": "step", "every": 0}, ValueError, "every must be >= 1"),
    ({"name": "step", "every": 2.0}, TypeError, "every must be an int"),
    ({"name": "step", "every": True}, TypeError, "every must be an int"),
    ({"name": "step", "gamma": 0.0}, ValueError, "gamma must be a finite number > 0"),
    ({"name": "step", "gamma": 1.5}, ValueError, r"gamma must be in \(0, 1\]"),
    ({"name": "step", "gamma": True}, TypeError, "gamma must be a number"),
    ({"name": "step", "gamma": "0.5"}, TypeError, "gamma must be a number"),
    ({"name": "exponential", "gamma": float("nan")}, ValueError, "gamma must be a finite"),
    ({"name": "exponential", "gamma": float("inf")}, ValueError, "gamma must be a finite"),
    ({"name": "exponential", "gamma": 1e-200}, ValueError, "underflows to a step factor of 0"),
    ({"name": "cosine", "floor": -0.1}, ValueError, "floor must be a finite number >= 0"),
    ({"name": "cosine", "floor": 1.0}, ValueError, r"floor must be in \[0, 1\)"),
    ({"name": "cosine", "floor": float("nan")}, ValueError, "floor must be a finite number"),
    ({"name": "triangular", "period": 0}, ValueError, "period must be >= 1"),
    ({"name": "triangular", "period": 1.5}, TypeError, "period must be an int"),
    ({"name": "triangular", "low": 0.0}, ValueError, "low must be a finite number > 0"),
    ({"name": "triangular", "low": 1.01}, ValueError, r"low must be in \(0, 1\]"),
])
def test_bad_schedules(spec, error, match):
    with pytest.raises(error, match=match):
        make_schedule(spec, 5)


def test_errors_name_the_schedule_and_parameter():
    with pytest.raises(ValueError, match=r"schedule 'step': gamma"):
        make_schedule({"name": "step", "gamma": 2.0}, 5)


@pytest.mark.parametrize("epochs, error", [(0, ValueError), (-3, ValueError), (2.0, TypeError),
                                           (True, TypeError), (None, TypeError)])
def test_bad_epochs(epochs, error):
    with pytest.raises(error, match="epochs must be"):
        make_schedule("cosine", epochs)


@pytest.mark.parametrize("epoch, error, match", [(-1, ValueError, "epoch must be >= 0"),
                                                 (4, ValueError, "epoch must be <= 3"),
                                                 (1.0, TypeError, "epoch must be an int"),
                                                 (False, TypeError, "epoch must be an int")])
def test_factor_outside_the_run(epoch, error, match):
    with pytest.raises(error, match=match):
        make_schedule("step", 4).factor(epoch)


def test_direct_construction_is_validated_too():
    with pytest.raises(ValueError, match="unknown schedule"):
        Schedule("linear", {}, 3)
    with pytest.raises(TypeError, match="params must be a dict"):
        Schedule("step", [("gamma", 0.5)], 3)
    assert Schedule("step", {"gamma": 0.5}, 3) == make_schedule({"name": "step", "gamma": 0.5}, 3)


def test_the_module_is_the_one_list_of_names():
    """The names errors list, the kinds with a formula, and the package's export are SCHEDULES."""
    with pytest.raises(ValueError) as info:
        make_schedule("nope", 3)
    listed = str(info.value).split("known: ")[1].split(", ")
    assert listed == list(SCHEDULES) == ["constant", "step", "exponential", "cosine", "triangular"]
    assert all(isinstance(kind, schedules.Kind) and callable(kind.formula)
               for kind in SCHEDULES.values())
    assert halp_core.SCHEDULES is SCHEDULES and halp_core.make_schedule is make_schedule
    assert {"SCHEDULES", "make_schedule", "schedules"} <= set(halp_core.__all__)
    for name, kind in SCHEDULES.items():
        for param, (default, check) in kind.params.items():
            assert check(default, param) == default    # every default passes its own check


# ---- the solvers run epoch e at step * factor(e) ------------------------------------------------

@pytest.mark.parametrize("solver,precision", [("sgd", "fp64"), ("svrg", "fp32"), ("halp", 8),
                                              ("lp-sgd", "bf16"), ("halp", "fp16")])
def test_solvers_follow_the_schedule(solver, precision):
    """A step schedule halving every epoch gives the iterate of a run whose step is halved by
    hand between epochs (for HALP the (alpha / s) g~ term included), bit for bit; a constant
    schedule gives the plain run."""
    from halp_core import datasets, make_solver, solve
    prob = datasets.synthetic_least_squares(80, 6, lam=1e-2, noise=0.1, seed=2)
    step = 0.3 / prob.L_max
    planned = make_solver(prob, solver, precision=precision, step=step, seed=3, epochs=3,
                          schedule={"name": "step", "every": 1, "gamma": 0.5})
    by_hand = make_solver(prob, solver, precision=precision, step=step, seed=3)
    for epoch in range(3):
        assert planned.alpha == step * 0.5 ** epoch
        planned.run_epoch()
        by_hand.step = step * 0.5 ** epoch
        by_hand.run_epoch()
        assert np.array_equal(planned.w, by_hand.w)
    plain = solve(prob, solver, precision=precision, step=step, epochs=2, seed=3)
    constant = solve(prob, solver, precision=precision, step=step, epochs=2, seed=3,
                     schedule="constant")
    assert np.array_equal(plain.w, constant.w) and constant.settings["schedule"] == "constant"
    cosine = solve(prob, solver, precision=precision, step=step, epochs=2, seed=3, schedule="cosine")
    assert cosine.settings["schedule"].startswith("cosine") and not np.array_equal(cosine.w, plain.w)


def test_make_solver_needs_the_run_length_for_a_schedule():
    from halp_core import datasets, make_solver
    prob = datasets.synthetic_least_squares(30, 4, lam=1e-2, noise=0.1, seed=2)
    with pytest.raises(ValueError, match="needs epochs="):
        make_solver(prob, "sgd", precision="fp64", step=0.01, schedule="cosine")
    run = make_solver(prob, "sgd", precision="fp64", step=0.01,
                      schedule=schedules.make_schedule("cosine", 4))
    assert run.schedule.epochs == 4
