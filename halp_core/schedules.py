"""Learning-rate schedules: the one place their names, parameters and formulas are declared.

A schedule multiplies a run's base step alpha by a dimensionless factor that depends on the
0-based epoch number e (solver epochs: one epoch = T inner steps, the full gradient included for
the variance-reduced solvers). It is applied per epoch, at its start: every step of epoch e uses
alpha * factor(e), and a solver that takes a full gradient per epoch scales that epoch's
(alpha / s) g~ term by the same factor. The policies follow LRBench (Wu et al., 2019):

============ ========================= ==========================================================
name         parameters (default)      factor(e), e = 0 .. epochs - 1
============ ========================= ==========================================================
constant     --                        1
step         every (10), gamma (0.5)   gamma ** (e // every)
exponential  gamma (0.9)               gamma ** e
cosine       floor (0.0)               floor + (1 - floor) (1 + cos(pi e / epochs)) / 2
triangular   period (4), low (0.1)     low + (1 - low) (1 - |e mod 2 period - period| / period)
============ ========================= ==========================================================

* ``every`` and ``period`` are ints >= 1 (epochs); ``gamma`` and ``low`` lie in (0, 1];
  ``floor`` in [0, 1).
* cosine reaches ``floor`` at e = epochs, one epoch past the last one run, so every epoch of the
  run has a factor > floor >= 0 (the last: floor + (1 - floor) sin^2(pi / (2 epochs)); with a
  positive floor over about 1e8 epochs that rounds to floor, still > 0). It is evaluated as
  floor + (1 - floor) sin^2(pi (epochs - e) / (2 epochs)), the same value without the
  cancellation of 1 + cos near pi, so with floor = 0 the last factor stays > 0 too.
* triangular is the triangular cyclic schedule of Smith (2017, "Cyclical learning rates"): it
  starts at ``low`` (Smith's base_lr = low * alpha), rises linearly to 1 (max_lr = alpha) at
  e = period, falls back to ``low`` at e = 2 period, and repeats; ``period`` is the half cycle
  (Smith's stepsize), in epochs.

Every factor lies in (0, 1]; a schedule whose factor would underflow to 0 within its epochs (a
tiny gamma over many epochs) is refused when it is made.

    from halp_core.schedules import make_schedule
    s = make_schedule({"name": "step", "every": 5, "gamma": 0.5}, epochs=20)
    s.factor(7)   # 0.5
    str(s)        # 'step(every=5, gamma=0.5)'
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, NamedTuple

import numpy as np

from . import validate


def _count(value, name):
    """An int >= 1 (a number of epochs)."""
    return validate.integer(value, name, 1)


def _fraction(value, name):
    """A finite number in (0, 1]."""
    value = validate.real(value, name, positive=True)
    if value > 1:
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    return value


def _floor(value, name):
    """A finite number in [0, 1)."""
    value = validate.real(value, name, minimum=0)
    if value >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def _cosine(e, epochs, floor):
    return floor + (1 - floor) * math.sin(math.pi * (epochs - e) / (2 * epochs)) ** 2


def _triangular(e, epochs, period, low):
    return low + (1 - low) * (1 - abs(e % (2 * period) - period) / period)


class Kind(NamedTuple):
    """One schedule: ``params`` {name: (default, check)}, check(value, label) returning the value
    in canonical form or raising; ``formula(e, epochs, **params)`` the factor of 0-based epoch e."""

    params: dict
    formula: Callable


SCHEDULES = {
    "constant": Kind({}, lambda e, epochs: 1.0),
    "step": Kind({"every": (10, _count), "gamma": (0.5, _fraction)},
                 lambda e, epochs, every, gamma: gamma ** (e // every)),
    "exponential": Kind({"gamma": (0.9, _fraction)}, lambda e, epochs, gamma: gamma ** e),
    "cosine": Kind({"floor": (0.0, _floor)}, _cosine),
    "triangular": Kind({"period": (4, _count), "low": (0.1, _fraction)}, _triangular),
}
"""Every schedule by name (see the module docstring for the formulas)."""


def _kind(name):
    """The Kind of schedule ``name``; ValueError listing the known names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"schedule name must be a str, got {name!r} ({type(name).__name__})")
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")
    return SCHEDULES[name]


@dataclass(frozen=True)
class Schedule:
    """A validated learning-rate schedule over ``epochs`` solver epochs.

    name: a key of SCHEDULES; params: its parameters (missing ones take their defaults, unknown
    ones are refused; kept as a read-only mapping in SCHEDULES' order); epochs: int >= 1, the
    run's length in solver epochs (cosine spans it). ``factor(e)`` is the dimensionless
    multiplier of the base step for 0-based epoch e, in (0, 1]. Build one with
    :func:`make_schedule`.
    """

    name: str
    params: dict = field(default_factory=dict)
    epochs: int = 1

    def __post_init__(self):
        kind = _kind(self.name)
        if not isinstance(self.params, Mapping):
            raise TypeError(f"schedule params must be a dict, got {type(self.params).__name__}")
        unknown = sorted(set(self.params) - set(kind.params), key=str)
        if unknown:
            allowed = ", ".join(kind.params) or "none"
            raise ValueError(f"schedule {self.name!r} has no parameter "
                             f"{', '.join(map(repr, unknown))}; allowed: {allowed}")
        params = {key: check(self.params.get(key, default), f"schedule {self.name!r}: {key}")
                  for key, (default, check) in kind.params.items()}
        object.__setattr__(self, "params", MappingProxyType(params))
        object.__setattr__(self, "epochs", validate.integer(self.epochs, "epochs", 1))
        # step, exponential and cosine never rise, constant and triangular stay >= 1 or low > 0:
        # the smallest factor of a run is its last epoch's or its parameters'.
        last = self.epochs - 1
        if not kind.formula(last, self.epochs, **params) > 0:
            raise ValueError(f"schedule {self} underflows to a step factor of 0 by epoch {last} "
                             f"(0-based) of {self.epochs}; use gentler parameters")

    def __hash__(self):
        return hash((self.name, tuple(self.params.items()), self.epochs))

    def factor(self, epoch):
        """Multiplier of the base step for 0-based epoch ``epoch`` (int in [0, epochs - 1]): a
        dimensionless Python float in (0, 1], applied to every step of that epoch."""
        epoch = validate.integer(epoch, "epoch", 0, self.epochs - 1)
        return float(SCHEDULES[self.name].formula(epoch, self.epochs, **self.params))

    def describe(self):
        """The schedule as its name and parameters, e.g. 'cosine(floor=0.01)' or 'constant'."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"

    __str__ = describe


def make_schedule(schedule, epochs):
    """The :class:`Schedule` that ``schedule`` names, over ``epochs`` (int >= 1) solver epochs.

    schedule: None or "constant" (factor 1 every epoch); a name of SCHEDULES (its defaults); a
    dict {"name": NAME, PARAM: VALUE, ...} (missing parameters take their defaults); or a Schedule
    (returned as is when it spans ``epochs``, else the same name and parameters over ``epochs``).
    Raises TypeError / ValueError naming the problem: an unknown name (listing the known ones), an
    unknown parameter (listing the allowed ones), a value of the wrong type or out of its range.
    """
    epochs = validate.integer(epochs, "epochs", 1)
    if schedule is None:
        return Schedule("constant", {}, epochs)
    if isinstance(schedule, Schedule):
        return schedule if schedule.epochs == epochs else Schedule(schedule.name, schedule.params,
                                                                   epochs)
    if isinstance(schedule, str):
        return Schedule(schedule, {}, epochs)
    if isinstance(schedule, dict):
        if "name" not in schedule:
            raise ValueError(f"a schedule dict needs a 'name' (one of {', '.join(SCHEDULES)}); "
                             f"got keys {sorted(schedule, key=str)}")
        params = {k: v for k, v in schedule.items() if k != "name"}
        return Schedule(schedule["name"], params, epochs)
    raise TypeError(f"schedule must be None, a name, a dict or a Schedule, got {schedule!r} "
                    f"({type(schedule).__name__})")


def factors(schedule, epochs):
    """The factors of epochs 0 .. epochs - 1 of ``schedule`` (anything :func:`make_schedule`
    takes): a float64 array of shape (epochs,), dimensionless, in (0, 1]."""
    s = make_schedule(schedule, epochs)
    return np.array([s.factor(e) for e in range(s.epochs)])
