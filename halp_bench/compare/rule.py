"""The timing rule of the regression gate, shared by `./run compare` and the dashboard's History
page: it judges every benchmark except the convergence ones (their asv unit is one of
`convergence.UNITS`; `convergence.py` holds their rule).

A change of one benchmark (one parameter combination) from BASE to HEAD is judged on the ratio
HEAD / BASE of a central value (higher is worse for every asv benchmark) and an interval of that
ratio at CONFIDENCE:

* regression:  the interval lies above 1 (the change is significant) AND ratio >= threshold;
* improvement: the interval lies below 1 AND ratio <= 1 / threshold;
* no change:   anything else, also a ratio or an interval that is NaN (nothing to decide on);
* acknowledged: a regression or improvement that `benchmarks/acknowledged.toml` declares for a
  commit of the compared range (applied by the callers through `acknowledged.find`);
* failed: a side did not produce a value (applied by the callers).

The threshold is a minimum effect: MIN_EFFECT, or, where earlier results of the same machine
and benchmark version exist, the benchmark's own noise (`history_threshold`), never below
MIN_EFFECT. Significance alone never flags a change: on a shared machine tiny shifts are
"significant" but meaningless.

Where the interval comes from:

* the gate (`interval_from_samples`): asv's raw samples of both commits (recorded with
  `--record-samples`, rounds interleaved), percentile bootstrap (scipy.stats.bootstrap,
  N_RESAMPLES resamples, fixed seed) of the ratio of medians;
* result files without samples (the dashboard's history): `interval_from_summaries`, the
  ratio's range spanned by asv's two 99% intervals of the medians (low_head / high_base,
  high_head / low_base), a conservative interval; where asv stored none (track_ benchmarks,
  `--quick` runs), it is NaN and the verdict is "no change".
"""

import math

import numpy as np
from scipy import stats

NAME = "timing"
"""The rule's name in reports and tables: it judges every benchmark but the convergence ones
(`convergence.py`)."""
MIN_EFFECT = 1.10
"""The default threshold: a regression must make HEAD at least 10% slower than BASE."""
CONFIDENCE = 0.99
"""Confidence level of the ratio's interval."""
N_RESAMPLES = 2000
"""Bootstrap resamples of `interval_from_samples`."""
SEED = 0
"""Seed of the bootstrap (the same samples always give the same verdict)."""
MIN_SAMPLES = 3
"""Fewer samples than this on a side give no interval (NaN): no verdict but "no change"."""
NOISE_Z = 3.0
"""History-aware threshold: exp(NOISE_Z x the robust standard deviation of log values)."""
LOOKBACK = 20
"""At most this many earlier commits of a series enter `history_threshold`."""
MIN_HISTORY = 3
"""Fewer earlier values than this: the threshold is MIN_EFFECT."""

REGRESSION, IMPROVEMENT, NO_CHANGE, ACKNOWLEDGED, FAILED = (
    "regression", "improvement", "no change", "acknowledged", "failed")
VERDICTS = (REGRESSION, IMPROVEMENT, NO_CHANGE, ACKNOWLEDGED, FAILED)
"""Every verdict, worst first."""

RULE_TEXT = (f"regression when the {CONFIDENCE:.0%} interval of HEAD/BASE lies above 1 and the "
             f"ratio is at least the threshold (improvement: below 1 and at most 1/threshold); "
             f"threshold = max({MIN_EFFECT}, exp({NOISE_Z:g} x robust SD of the benchmark's log "
             f"values over up to {LOOKBACK} earlier commits of this machine)), {MIN_EFFECT} "
             f"without {MIN_HISTORY} such commits")
"""The rule in one sentence (reports and docs print it)."""


def verdict(ratio, low, high, threshold):
    """Verdict(s) of the rule from ratio = HEAD / BASE, its interval [low, high] and threshold.

    Scalars give a str; arrays (broadcast together, any shape) give an object array of str.
    NaN anywhere means "no change". threshold must be >= 1.
    """
    ratio, low, high, threshold = (np.asarray(v, dtype="float64") for v in (ratio, low, high, threshold))
    if np.any(threshold < 1):
        raise ValueError(f"threshold must be >= 1, got {threshold.min()}")
    with np.errstate(invalid="ignore"):
        worse = (low > 1) & (ratio >= threshold)
        better = (high < 1) & (ratio <= 1 / threshold)
    out = np.select([worse, better], [REGRESSION, IMPROVEMENT], default=NO_CHANGE).astype(object)
    return str(out) if out.ndim == 0 else out


def _clean(samples, name):
    """Finite positive float64 values of `samples` (1-D); NaN (skipped repeats) are dropped."""
    a = np.asarray(samples, dtype="float64").ravel()
    a = a[np.isfinite(a)]
    if np.any(a <= 0):
        raise ValueError(f"{name} samples must be positive (asv values where higher is worse), "
                         f"got {a[a <= 0][:3].tolist()}")
    return a


def _median_ratio(head, base, axis=-1):
    return np.median(head, axis=axis) / np.median(base, axis=axis)


def interval_from_samples(base, head, confidence=CONFIDENCE, n_resamples=N_RESAMPLES, seed=SEED):
    """(ratio, low, high) of median(head) / median(base) from raw samples.

    base, head: 1-D sequences of one benchmark's samples (seconds, bytes, ...; positive; NaN
    entries ignored). The interval is scipy's percentile bootstrap at `confidence`, resampling the
    two sides independently. Fewer than MIN_SAMPLES values on a side: the ratio with a NaN interval.
    """
    base, head = _clean(base, "base"), _clean(head, "head")
    if base.size == 0 or head.size == 0:
        return math.nan, math.nan, math.nan
    ratio = float(np.median(head) / np.median(base))
    if min(base.size, head.size) < MIN_SAMPLES:
        return ratio, math.nan, math.nan
    if np.ptp(base) == 0 and np.ptp(head) == 0:   # no spread: the bootstrap has nothing to vary
        return ratio, ratio, ratio
    res = stats.bootstrap((head, base), _median_ratio, n_resamples=n_resamples, vectorized=True,
                          paired=False, confidence_level=confidence, method="percentile",
                          rng=np.random.default_rng(seed))
    return ratio, float(res.confidence_interval.low), float(res.confidence_interval.high)


def interval_from_summaries(base, base_low, base_high, head, head_low, head_high):
    """(ratio, low, high) arrays from two central values and their intervals (asv's stored 99%
    interval of each median), for result files without samples.

    ratio = head / base; low = head_low / base_high; high = head_high / base_low: the widest
    ratio the two intervals allow. Any NaN or non-positive input makes that entry's interval NaN.
    Inputs broadcast; outputs are float64 arrays.
    """
    base, base_low, base_high, head, head_low, head_high = (
        np.asarray(v, dtype="float64") for v in (base, base_low, base_high, head, head_low, head_high))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, head / base, np.nan)
        ok = (base_low > 0) & (base_high > 0) & np.isfinite(head_low) & np.isfinite(head_high)
        low = np.where(ok, head_low / base_high, np.nan)
        high = np.where(ok, head_high / base_low, np.nan)
    return ratio, low, high


def history_threshold(values, min_effect=MIN_EFFECT, z=NOISE_Z):
    """A benchmark's threshold from its own earlier values on one machine and benchmark version.

    values: 1-D, oldest first (one central value per commit; non-finite or non-positive ones are
    ignored); the last LOOKBACK are used. threshold = max(min_effect, exp(z * s)), s the median
    absolute deviation of their logs scaled to a normal standard deviation (robust to the few real
    steps a history holds). Fewer than MIN_HISTORY usable values: min_effect.
    """
    v = np.asarray(values, dtype="float64").ravel()
    v = v[np.isfinite(v) & (v > 0)][-LOOKBACK:]
    if v.size < MIN_HISTORY:
        return float(min_effect)
    spread = stats.median_abs_deviation(np.log(v), scale="normal")
    return float(max(min_effect, math.exp(z * spread)))

