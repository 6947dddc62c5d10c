"""Tables of the Peers page (plain pandas, no Streamlit): bench_peers results from the tidy frame of
`results.load_results`, and live trajectories of our solvers and the installed peers.

Benchmark names are those of benchmarks/bench_peers.py (the dashboard never imports benchmarks/).
"""

import numpy as np
import pandas as pd

from dashboard.analysis import latest
from dashboard.results import param_table

EPOCH = "bench_peers.PeerEpoch.track_seconds_per_epoch"
TO_TARGET = "bench_peers.PeerTimeToTarget.track_time_to_target"
OURS = ("svrg-fp64", "svrg-fp32", "halp-8", "halp-16")
"""Our contenders in bench_peers; every other `solver` value is a peer."""

COLUMNS = ["machine", "env", "commit_short", "problem", "target", "solver", "side", "seconds"]


def peer_results(frame, benchmark):
    """Newest ok rows of `benchmark` per machine × env: machine, env, commit_short, problem, target
    ('' for per-epoch time), solver, side ('ours' / 'peer'), seconds (inf: target not reached)."""
    rows = param_table(latest(frame[(frame["benchmark"] == benchmark) & (frame["status"] == "ok")]))
    if rows.empty or not {"problem", "solver"} <= set(rows):  # names unknown without benchmarks.json
        return pd.DataFrame(columns=COLUMNS)
    if "target" not in rows:
        rows = rows.assign(target="")
    names = {c: rows[c].astype(str) for c in ("problem", "target", "solver")}  # names, whatever a file holds
    rows = rows.assign(**names, side=np.where(names["solver"].isin(OURS), "ours", "peer"), seconds=rows["value"])
    return rows[COLUMNS].sort_values(["machine", "problem", "target", "seconds"]).reset_index(drop=True)


def standing(table):
    """Per machine × problem × target: our fastest contender, the fastest peer, and ours / peer
    (below 1: we are faster). `table` is `peer_results` output."""
    out = []
    for key, part in table.groupby(["machine", "env", "problem", "target"], sort=True):
        ours, peer = part[part["side"] == "ours"], part[part["side"] == "peer"]
        if ours.empty or peer.empty:
            continue
        best_ours, best_peer = ours.loc[ours["seconds"].idxmin()], peer.loc[peer["seconds"].idxmin()]
        ratio = (best_ours["seconds"] / best_peer["seconds"]
                 if np.isfinite(best_peer["seconds"]) else np.nan)
        out.append(dict(zip(["machine", "env", "problem", "target"], key), ours=best_ours["solver"],
                        ours_seconds=best_ours["seconds"], peer=best_peer["solver"],
                        peer_seconds=best_peer["seconds"], ratio=ratio))
    return pd.DataFrame(out, columns=["machine", "env", "problem", "target", "ours", "ours_seconds",
                                      "peer", "peer_seconds", "ratio"])


def trajectories(problem, step, epochs, peers_to_run, seed=0):
    """Live trajectories on `problem` at absolute `step`: our SVRG-fp64 / fp32 and HALP-16 / 8
    (mu='auto') and the peers named in `peers_to_run`, stacked with a `solver` and `side` column
    (the columns of halp_core.solve's history otherwise)."""
    from halp_core import peers, solve

    runs = []
    for label, solver, precision in (("svrg-fp64", "svrg", "fp64"), ("svrg-fp32", "svrg", "fp32"),
                                     ("halp-16", "halp", 16), ("halp-8", "halp", 8)):
        mu = "auto" if solver == "halp" else None
        hist = solve(problem, solver, precision=precision, step=step, epochs=epochs, mu=mu, seed=seed).history
        runs.append(hist.assign(solver=label, side="ours"))
    for name in peers_to_run:
        hist = peers.solve_peer(problem, name, step=step, epochs=epochs, seed=seed).history
        runs.append(hist.assign(solver=name, side="peer"))
    return pd.concat(runs, ignore_index=True)
