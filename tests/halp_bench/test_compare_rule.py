"""The gate's decision rule (halp_bench.compare.rule) on synthetic samples."""

import math

import numpy as np
import pytest

from halp_bench.compare import rule


def samples(center, n=80, noise=0.05, seed=0):
    """n positive samples around `center` with multiplicative lognormal noise (sigma = noise)."""
    return center * np.exp(np.random.default_rng(seed).normal(0.0, noise, n))


def judge(base, head, threshold=rule.MIN_EFFECT):
    return rule.verdict(*rule.interval_from_samples(base, head), threshold)


def test_identical_distributions_are_no_change():
    verdicts = [judge(samples(1e-3, seed=2 * s), samples(1e-3, seed=2 * s + 1)) for s in range(30)]
    assert verdicts == [rule.NO_CHANGE] * 30


def test_a_2x_shift_is_a_regression_and_half_an_improvement():
    base = samples(1e-3, seed=1)
    ratio, low, high = rule.interval_from_samples(base, samples(2e-3, seed=2))
    assert 1.8 < low < ratio < high < 2.2
    assert rule.verdict(ratio, low, high, rule.MIN_EFFECT) == rule.REGRESSION
    assert judge(base, samples(0.5e-3, seed=3)) == rule.IMPROVEMENT


def test_a_significant_shift_below_the_threshold_is_no_change():
    base, head = samples(1.0, noise=0.002, seed=4), samples(1.05, noise=0.002, seed=5)
    ratio, low, high = rule.interval_from_samples(base, head)
    assert low > 1.04                      # clearly significant ...
    assert rule.verdict(ratio, low, high, rule.MIN_EFFECT) == rule.NO_CHANGE   # ... but below 1.10
    assert rule.verdict(ratio, low, high, 1.02) == rule.REGRESSION


def test_a_large_ratio_without_significance_is_no_change():
    assert rule.verdict(1.5, 0.9, 2.5, 1.1) == rule.NO_CHANGE
    assert rule.verdict(1.5, math.nan, math.nan, 1.1) == rule.NO_CHANGE


def test_too_few_samples_give_no_interval():
    ratio, low, high = rule.interval_from_samples([1.0, 1.1], [2.0, 2.1, 2.2])
    assert ratio == pytest.approx(2.1 / 1.05) and math.isnan(low) and math.isnan(high)
    assert rule.verdict(ratio, low, high, 1.1) == rule.NO_CHANGE


def test_nan_samples_are_ignored_and_nonpositive_ones_rejected():
    base = np.append(samples(1.0, seed=6), np.nan)
    assert judge(base, samples(3.0, seed=7)) == rule.REGRESSION
    with pytest.raises(ValueError, match="positive"):
        rule.interval_from_samples([1.0, 0.0, 1.0], [1.0, 1.0, 1.0])


def test_the_bootstrap_is_seeded():
    base, head = samples(1.0, seed=8), samples(1.2, seed=9)
    assert rule.interval_from_samples(base, head) == rule.interval_from_samples(base, head)


def test_verdict_is_vectorized_and_checks_the_threshold():
    out = rule.verdict([1.2, 0.5, 1.05, np.nan], [1.1, 0.4, 1.01, 1.0], [1.3, 0.6, 1.1, 1.2], 1.1)
    assert out.tolist() == [rule.REGRESSION, rule.IMPROVEMENT, rule.NO_CHANGE, rule.NO_CHANGE]
    with pytest.raises(ValueError, match="threshold"):
        rule.verdict(1.2, 1.1, 1.3, 0.9)


def test_interval_from_summaries_spans_both_intervals():
    ratio, low, high = rule.interval_from_summaries(1.0, 0.9, 1.1, 2.0, 1.9, 2.1)
    assert (ratio, low, high) == pytest.approx((2.0, 1.9 / 1.1, 2.1 / 0.9))
    assert rule.verdict(ratio, low, high, 1.1) == rule.REGRESSION
    overlap = rule.interval_from_summaries(1.0, 0.8, 1.3, 1.2, 1.1, 1.4)
    assert rule.verdict(*overlap, 1.1) == rule.NO_CHANGE
    none = rule.interval_from_summaries(1.0, np.nan, np.nan, 3.0, np.nan, np.nan)
    assert np.isnan(none[1]) and rule.verdict(*none, 1.1) == rule.NO_CHANGE


def test_history_threshold_is_the_noise_floored_at_the_minimum_effect():
    assert rule.history_threshold([1.0, 1.5]) == rule.MIN_EFFECT          # too short
    assert rule.history_threshold([1.0] * 10) == rule.MIN_EFFECT          # no noise
    noisy = samples(1.0, n=20, noise=0.1, seed=10)
    expected = math.exp(rule.NOISE_Z * 1.4826 * np.median(np.abs(np.log(noisy) - np.median(np.log(noisy)))))
    assert rule.history_threshold(noisy) == pytest.approx(expected, rel=1e-3)
    assert rule.history_threshold(noisy) > 1.2
    # Robust: one real step in the history barely moves it.
    assert rule.history_threshold(np.append(noisy, 5.0)) == pytest.approx(rule.history_threshold(noisy), rel=0.15)
    # Only the last LOOKBACK values count; non-finite ones are ignored.
    assert rule.history_threshold(np.concatenate([[100.0, 0.01] * 20, [1.0] * rule.LOOKBACK, [np.inf]])) \
        == rule.MIN_EFFECT

