"""halp_core.random_bits: every key and counter hash against its NumPy twin (tests/reference.py),
bit for bit, the uniforms they give, and the seed's checks."""

import numpy as np
import pytest
from numba import njit

from refusals import refusal_test
import reference as ref
from halp_core import random_bits

KEYS = np.array([0, 1, 0xDEADBEEF, 0xFFFFFFFF, 0x9E3779B9], dtype=np.uint64)
COUNTERS = np.array([0, 1, 2, 5, 12345, 123456789, 2**31, 2**31 + 7, 0xFFFFFFFF, 2**32, 2**32 + 5,
                     2**40 + 3, 2**63 + 1], dtype=np.uint64)   # past 2**32: step keys hash the high word


@njit
def _table(keys, counters):
    """(lane_hash, lane_uniform, uniform_bits, step_key, epoch_key) of every (key, counter) pair,
    row-major."""
    m = keys.size * counters.size
    hashes, bits = np.empty(m, np.uint64), np.empty(m, np.uint64)
    steps, epochs, uniforms = np.empty(m, np.uint64), np.empty(m, np.uint64), np.empty(m)
    for a in range(keys.size):
        for b in range(counters.size):
            i = a * counters.size + b
            hashes[i] = random_bits.lane_hash(keys[a], counters[b])
            uniforms[i] = random_bits.lane_uniform(keys[a], counters[b])
            bits[i] = random_bits.uniform_bits(keys[a], counters[b])
            steps[i] = random_bits.step_key(keys[a], counters[b])
            epochs[i] = random_bits.epoch_key(keys[a], counters[b])
    return hashes, uniforms, bits, steps, epochs


def test_counter_hashes_and_keys_are_the_32_bit_twins():
    hashes, uniforms, bits, steps, epochs = _table(KEYS, COUNTERS)
    pairs = [(k, c) for k in KEYS for c in COUNTERS]
    assert hashes.tolist() == [int(ref.lane_hash(k, c)) for k, c in pairs]
    assert uniforms.tolist() == [float(ref.lane_uniform(k, c)) for k, c in pairs]
    assert bits.tolist() == [int(ref.uniform_bits(k, c)) for k, c in pairs]
    assert steps.tolist() == [int(ref.step_key(k, c)) for k, c in pairs]
    assert epochs.tolist() == [int(ref.epoch_key(k, c)) for k, c in pairs]
    assert (hashes < 2**32).all() and (bits < 2**24).all()
    assert ((0 <= uniforms) & (uniforms < 1)).all()


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1, 2**32, 2**63 + 5, 2**64 - 1])
def test_seed_key_is_the_twin_and_tells_seeds_apart(seed):
    key = random_bits.seed_key(seed)
    assert isinstance(key, np.uint64) and key == ref.seed_key(seed) and key < 2**32
    assert key != random_bits.seed_key(seed ^ 1) and key != random_bits.seed_key(seed ^ 2**40)


def test_lane_uniform_is_uniform_over_counters():
    """2^16 counters under one key: the uniforms' mean and variance are those of U[0, 1) within 4
    standard errors, and neighbouring counters are uncorrelated."""
    counters = np.arange(2**16, dtype=np.uint64)
    u = ref.lane_uniform(random_bits.seed_key(7), counters)
    _, got, _, _, _ = _table(np.array([random_bits.seed_key(7)]), counters)
    assert np.array_equal(got, u)
    m = u.size
    assert abs(u.mean() - 0.5) <= 4 * np.sqrt(1 / 12 / m)
    assert abs(u.var() - 1 / 12) <= 4 * np.sqrt(1 / 180 / m)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) <= 4 / np.sqrt(m)


# (id, call, exception, words the message must contain)
SEED_CASES = [
    ("seed-key-none", lambda: random_bits.seed_key(None), TypeError, "seed must be an int"),
    ("seed-key-str", lambda: random_bits.seed_key("a"), TypeError, "seed must be an int"),
    ("seed-key-neg", lambda: random_bits.seed_key(-5), ValueError, "seed must be >= 0"),
    ("seed-key-float", lambda: random_bits.seed_key(2.0), TypeError, "seed must be an int"),
    ("seed-key-2**64", lambda: random_bits.seed_key(2**64), ValueError, "seed must be <="),
]


test_bad_seed_is_refused = refusal_test(SEED_CASES)
