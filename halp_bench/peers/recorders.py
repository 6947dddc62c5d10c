"""How a peer's run becomes timed points (epoch, seconds, w) for halp_core.trajectory.record:
"callback" peers through :class:`Recorder`, "restarted" ones through :func:`restarted` ("stepped"
peers use halp_core.trajectory.timed_epochs directly; see halp_bench.peers)."""

import time

import numpy as np

from halp_core import validate


class Recorder:
    """Per-epoch callback: copies the iterate and its time (its own time is subtracted)."""

    def __init__(self, current_w, start_at_first_call=False):
        self.current_w = current_w
        self.points = []
        self.start = None
        self.overhead = 0.0
        self.skip_first = start_at_first_call

    def begin(self):
        self.start = time.perf_counter()

    def __call__(self, state):
        now = time.perf_counter()
        if self.skip_first:
            self.skip_first, self.start = False, now
        else:
            w = self.current_w(state)
            self.points.append((len(self.points) + 1, now - self.start - self.overhead, w))
        self.overhead += time.perf_counter() - now


def restart_grid(epochs):
    """Checkpoints of restarted peers: 1, 2, ..., then k -> max(k + 1, floor(1.25 k)) (so no gap
    is wider than 25%), ending at ``epochs`` (an int >= 1)."""
    epochs = validate.integer(epochs, "epochs", 1)
    grid, k = [], 1
    while k < epochs:
        grid.append(k)
        k = max(k + 1, k * 5 // 4)
    return grid + [epochs]


def restarted(fit, epochs):
    """[(k, seconds, w)] from one fresh timed ``fit(k) -> w`` per checkpoint k of restart_grid."""
    out = []
    for k in restart_grid(epochs):
        start = time.perf_counter()
        w = fit(k)
        out.append((k, time.perf_counter() - start, w))
        if not np.isfinite(w).all():
            break
    return out
