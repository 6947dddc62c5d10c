"""docs/peers.md (and README.md): our fastest solver against the fastest peer, from bench_peers."""

import math

from tools.docs_numbers import pinned
from tools.docs_numbers.engine import Block
from tools.docs_numbers.formatting import seconds, table
from tools.docs_numbers.sources import asv_values, result_file, source_line

PEER_PROBLEMS = {"mnist": "binary MNIST, lam = 1e-4", "lsq": "least squares 20000 x 256"}
OURS = ("svrg-fp64", "svrg-fp32", "halp-8", "halp-16")
PER_ITERATION = "sklearn-lbfgs"     # its "epoch" is one L-BFGS iteration: not in seconds per epoch
NOTE = ("Not reached within the run's epochs: {missed}. {per_iteration} is left out of seconds per "
        "epoch (its epoch is an iteration).")


def peers():
    path = result_file(pinned.PEERS)
    epoch = asv_values(path, "bench_peers.PeerEpoch.track_seconds_per_epoch")
    reach = asv_values(path, "bench_peers.PeerTimeToTarget.track_time_to_target")
    rows, never = [], []
    for problem, title in PEER_PROBLEMS.items():
        measures = [("seconds per epoch", {s: v for (p, s), v in epoch.items()
                                           if p == problem and s != PER_ITERATION})]
        measures += [(f"time to f − f* ≤ {t}",
                      {s: v for (p, tt, s), v in reach.items() if p == problem and tt == t})
                     for t in dict.fromkeys(k[1] for k in reach)]
        for measure, values in measures:
            found = {s: v for s, v in values.items() if v is not None and math.isfinite(v)}
            ours = min((s for s in found if s in OURS), key=found.get)
            peer = min((s for s in found if s not in OURS), key=found.get)
            rows.append([title, measure, f"{ours} {seconds(found[ours])}",
                         f"{peer} {seconds(found[peer])}", f"{found[ours] / found[peer]:.2f}"])
            missed = [s for s, v in values.items() if v is not None and math.isinf(v)]
            if missed:
                never.append(f"{title}, {measure}: {', '.join(missed)}")
    return [*table(("problem", "measure", "ours (fastest)", "fastest peer", "ours / peer"), rows),
            "", NOTE.format(missed="; ".join(never) or "none", per_iteration=PER_ITERATION), "",
            source_line(path, pinned.PEERS.command)]


BLOCKS = (Block("peers", peers),)
