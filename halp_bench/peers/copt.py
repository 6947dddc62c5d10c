"""copt peer: minimize_svrg (Numba)."""

import numpy as np

from .recorders import Recorder

def svrg(problem, step, epochs, seed):
    """copt's minimize_svrg (Numba, compiled inside every call; per-epoch permutation drawn from
    NumPy's global RNG, which is seeded here and restored afterwards). Its logistic derivative is
    a ``parallel=True`` kernel called once per sample: it runs on one Numba thread here, like
    every other solver (a parallel launch per sample on 2 threads made it ~100x slower)."""
    import copt
    import numba
    from copt import loss

    if problem.kind == "logistic":
        b = (problem.y + 1.0) / 2.0
        f_deriv = loss.LogLoss(problem.X, b).partial_deriv
    else:
        b = problem.y
        f_deriv = loss.SquareLoss(problem.X, b).partial_deriv
    rec = Recorder(lambda state: state["x"].astype(np.float64), start_at_first_call=True)
    saved, threads = np.random.get_state(), numba.get_num_threads()
    np.random.seed(seed)
    numba.set_num_threads(1)
    try:
        copt.minimize_svrg(f_deriv, problem.X, b, np.zeros(problem.d), step, alpha=problem.lam,
                           max_iter=epochs, tol=0.0, callback=rec)
    finally:
        np.random.set_state(saved)
        numba.set_num_threads(threads)
    return rec.points
