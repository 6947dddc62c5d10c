"""scikit-learn peers: SGDClassifier / SGDRegressor, sag / saga (sag_solver), and
LogisticRegression with lbfgs."""

import warnings

import numpy as np

from halp_core.trajectory import timed_epochs

from .recorders import restarted

def sgd(problem, step, epochs, seed):
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    common = dict(penalty="l2", alpha=problem.lam, fit_intercept=False, learning_rate="constant",
                  eta0=step, shuffle=True, random_state=np.random.RandomState(seed))
    if problem.kind == "logistic":
        model = SGDClassifier(loss="log_loss", **common)
        fit = lambda: model.partial_fit(problem.X, problem.y, classes=np.array([-1.0, 1.0]))  # noqa: E731
    else:
        model = SGDRegressor(loss="squared_error", **common)
        fit = lambda: model.partial_fit(problem.X, problem.y)  # noqa: E731
    return timed_epochs(fit, lambda: model.coef_.ravel().astype(np.float64), epochs)


def sag(problem, epochs, seed, is_saga):
    """One sag_solver epoch per call, resumed through its warm-start memory (the kernel that
    LogisticRegression / Ridge with solver sag or saga run; automatic step)."""
    from sklearn.linear_model._sag import sag_solver

    X = problem.X
    y = (problem.y + 1.0) / 2.0 if problem.kind == "logistic" else problem.y  # log loss: 0/1 labels
    mem = {"coef": np.zeros((problem.d, 1))}
    rng = np.random.RandomState(seed)
    max_sq = float(np.einsum("ij,ij->i", X, X).max())
    loss = "log" if problem.kind == "logistic" else "squared"

    def run_epoch():
        nonlocal mem
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, mem = sag_solver(X, y, None, loss, problem.n * problem.lam, 0.0, 1, 0.0, 0, rng,
                                   False, max_sq, mem, is_saga)

    return timed_epochs(run_epoch, lambda: np.array(mem["coef"][:, 0], dtype=np.float64), epochs)


def lbfgs(problem, epochs, seed):
    from sklearn.linear_model import LogisticRegression

    def fit(k):
        model = LogisticRegression(solver="lbfgs", C=1.0 / (problem.n * problem.lam),
                                   fit_intercept=False, max_iter=k, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(problem.X, problem.y)
        return model.coef_.ravel().astype(np.float64)

    return restarted(fit, epochs)
