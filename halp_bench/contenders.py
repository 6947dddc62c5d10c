"""One way to run any contender, ours or a peer, returning the same trajectory record.

A contender is either one of our solvers at a precision, ``(solver, precision)`` with solver a
name of ``halp_core.registry`` (e.g. ``("halp", 8)``, ``("svrg", "fp64")``), or the name of a peer
(``halp_bench.peers.PEERS``, e.g. ``"tick-svrg-fp64"``).
"""

from halp_core import registry, solve

from . import peers


def run(problem, contender, *, step, epochs, seed=0, **options):
    """Run ``contender`` on ``problem`` and return its :class:`halp_core.Result` (history columns
    epoch, passes, seconds, loss, subopt, grad_norm, dist; seconds = the contender's own time).

    step: absolute step size alpha > 0 (peers that choose their own step ignore it); epochs: int
    >= 1; seed: int; options: further keyword arguments of ``halp_core.solve`` (mu, scale,
    sampling, callback, ...) for our solvers; peers take none.
    """
    if isinstance(contender, tuple) and len(contender) == 2:
        solver, precision = contender
        registry.spec(solver)  # a clear error for an unknown solver
        return solve(problem, solver, precision=precision, step=step, epochs=epochs, seed=seed,
                     **options)
    if isinstance(contender, str) and contender in registry.SPECS:
        raise ValueError(f"our solver {contender!r} needs a precision: pass ({contender!r}, "
                         f"precision)")
    if options:
        raise ValueError(f"peer {contender!r} takes no options (got {', '.join(options)})")
    return peers.solve_peer(problem, contender, step=step, epochs=epochs, seed=seed)
