"""The convergence rule of the regression gate, shared by `./run compare` (`judge.py`) and the
dashboard's History page: how a change of a convergence benchmark from BASE to HEAD is judged.

Convergence benchmarks are deterministic (seeded data and sampling), so they carry no timing
noise to test against; what matters is whether a solver still reaches the accuracy it reached. A
benchmark is judged by this rule when its asv unit is one of UNITS (the timing rule, `rule.py`,
judges every other one):

* unit EPOCHS_UNIT (epochs to reach a target, NEVER when the target is never reached): any change
  of the epoch count is a change: more epochs (reached -> never included) is a regression, fewer
  (never -> reached included) an improvement;
* unit SUBOPT_UNIT (f - f* after some epochs): a regression when HEAD is above a target that BASE
  reached (BASE <= target < HEAD), an improvement when HEAD reaches a target BASE did not; moves
  that cross no target are "no change". Values at or below FLOOR count as equal (float64 noise).

Targets are the `target` parameter values of the epochs-to-target benchmark present in the
results compared (`targets`), DEFAULT_TARGETS where there are none. Each verdict has a size,
ratio = HEAD / BASE (f - f* values raised to FLOOR first, never values as NEVER), so a list of
regressions sorts largest first.
"""

import math
import re
from dataclasses import dataclass

from halp_bench.compare import rule

NAME = "convergence"
"""The rule's name in reports and tables (the timing rule's is `rule.NAME`)."""
SUBOPT_UNIT = "f - f*"
"""asv unit of bench_convergence's track_subopt: f(w_k) - f* after k epochs."""
EPOCHS_UNIT = "epochs"
"""asv unit of bench_convergence's track_epochs_to_target: the first epoch at which f - f* <= target."""
UNITS = (SUBOPT_UNIT, EPOCHS_UNIT)
"""The asv units this rule judges."""
NEVER = 1e6
"""Epochs to target stored when the target is never reached: written by benchmarks/bench_convergence.py
(its `common.NEVER`; tests/halp_bench/test_compare_convergence.py checks the two agree). Any value at or
above it, and +inf (asv's "not reached"), reads as never."""
TARGET_PARAM = "target"
"""The parameter of the epochs-to-target benchmark that names its target f - f*."""
DEFAULT_TARGETS = (1e-4, 1e-6, 1e-10)
"""The convergence suite's targets (benchmarks/common.py, CONV_TARGETS; checked by the same test),
used when the results compared hold no epochs-to-target benchmark."""
FLOOR = 1e-12
"""f - f* at or below this is float64 noise and counts as equal. f - f* is the difference of two
float64 objective values of order 1, each a sum over up to 4096 rows in the suite; rounding of
such a sum can move it by up to about n * eps * |f| = 4096 * 2.2e-16 ~ 1e-12, so smaller values
(0, tiny negative ones, 1e-20 .. 1e-30) tell nothing apart. It lies 100x below the smallest
default target, so crossings of every target are still decided."""

RULE_TEXT = (f"convergence benchmarks (units {', '.join(repr(u) for u in UNITS)}): epochs to target: "
             f"more epochs, or reached -> never ({NEVER:g}), is a regression, fewer an improvement; "
             f"f - f*: a regression when HEAD lies above a target BASE reached, an improvement when "
             f"HEAD reaches a target BASE did not (targets: the epochs-to-target benchmark's, "
             f"default {', '.join(f'{t:g}' for t in DEFAULT_TARGETS)}); f - f* at or below "
             f"{FLOOR:g} counts as equal")
"""The rule in one sentence (reports and docs print it)."""

_TARGET = re.compile(rf"(?:^|, ){TARGET_PARAM}=([^,]+)")


@dataclass(frozen=True)
class Change:
    """The convergence rule's judgement of one change: verdict (`rule.REGRESSION`,
    `rule.IMPROVEMENT` or `rule.NO_CHANGE`), ratio = HEAD / BASE (see `judge`) and note (what
    changed, in words; '' for no change)."""

    verdict: str
    ratio: float
    note: str


def applies(unit):
    """Whether a benchmark of asv unit `unit` is judged by this rule (else by the timing rule)."""
    return unit in UNITS


def targets(params_keys):
    """The targets (floats, largest first) named by the `target=` entries of `params_keys` (the
    readable params keys of the epochs-to-target benchmark, e.g. "problem=lsq, ..., target=1e-06");
    DEFAULT_TARGETS when none names one. A target that is not a positive number raises ValueError."""
    found = set()
    for key in params_keys:
        match = _TARGET.search(key)
        if match is None:
            continue
        try:
            value = float(match.group(1).strip().strip("'\""))
        except ValueError:
            raise ValueError(f"{TARGET_PARAM} in {key!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{TARGET_PARAM} in {key!r} must be a positive finite number")
        found.add(value)
    return tuple(sorted(found or DEFAULT_TARGETS, reverse=True))


def _checked(value, side):
    value = float(value)
    if math.isnan(value) or value == -math.inf:
        raise ValueError(f"{side} must be a number or +inf, got {value}")
    return value


def _epochs(base, head):
    b, h = min(base, NEVER), min(head, NEVER)
    if b == h:
        return Change(rule.NO_CHANGE, 1.0, "")
    ratio = h / b if b > 0 else math.nan
    said = [f"{v:g}" if v < NEVER else "never" for v in (b, h)]
    verdict = rule.REGRESSION if h > b else rule.IMPROVEMENT
    return Change(verdict, ratio, f"epochs to target {said[0]} -> {said[1]}")


def _subopt(base, head, goals):
    b, h = max(base, FLOOR), max(head, FLOOR)
    ratio = h / b
    lost = [t for t in goals if b <= t < h]
    won = [t for t in goals if h <= t < b]
    if lost:
        return Change(rule.REGRESSION, ratio, f"f - f* {b:.3g} -> {h:.3g}: above target {min(lost):g}")
    if won:
        return Change(rule.IMPROVEMENT, ratio, f"f - f* {b:.3g} -> {h:.3g}: reaches target {max(won):g}")
    return Change(rule.NO_CHANGE, ratio, "")


def judge(unit, base, head, goals=DEFAULT_TARGETS):
    """The rule's `Change` of one convergence benchmark x parameter combination from BASE to HEAD.

    unit: one of UNITS (anything else raises ValueError: the timing rule judges it); base, head:
    the two values in that unit (epochs: NEVER or +inf for never; f - f*: +inf for a run that
    diverged, above every target); NaN or -inf raise ValueError. goals: the targets (`targets`).
    ratio = HEAD / BASE after raising f - f* to FLOOR and lowering epochs to NEVER (NaN for a
    base of 0 epochs); both at the floor or both never give ratio 1 and "no change".
    """
    if not applies(unit):
        raise ValueError(f"unit {unit!r} is not a convergence unit {UNITS}; the timing rule judges it")
    base, head = _checked(base, "base"), _checked(head, "head")
    if unit == EPOCHS_UNIT:
        return _epochs(base, head)
    return _subopt(base, head, goals)
