"""Tiny problems shared by the tests (imported as ``tiny_problems``: tests/ is on the path)."""

import numpy as np

from halp_core.problems import Multinomial


def mlp_problem(X_val=None, y_val=None):
    """A 30-sample, 4-feature, 3-class Multinomial (lam 0.1, seed 0) with a 10-sample validation
    split (X_val (10, 4), y_val (10,)) for halp_bench.mlp.train; X_val / y_val replace the drawn
    split when given (to test its checks). A training epoch takes milliseconds."""
    rng = np.random.default_rng(0)
    prob = Multinomial(rng.random((30, 4)), rng.integers(0, 3, 30), 0.1, n_classes=3)
    prob.X_val = rng.random((10, 4)) if X_val is None else X_val
    prob.y_val = rng.integers(0, 3, 10) if y_val is None else y_val
    return prob
