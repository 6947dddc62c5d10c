"""cyanure peer: its SVRG (LogisticRegression / Regression)."""

import warnings

import numpy as np

from .recorders import restarted

def svrg(problem, epochs, seed):
    from cyanure.estimators import LogisticRegression, Regression

    def fit(k):
        cls = LogisticRegression if problem.kind == "logistic" else Regression
        model = cls(lambda_1=problem.lam, penalty="l2", fit_intercept=False, solver="svrg",
                    max_iter=k, tol=0.0, duality_gap_interval=10**9, verbose=False, n_threads=1,
                    random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(problem.X, problem.y)
        return model.coef_.ravel().astype(np.float64)

    return restarted(fit, epochs)
