"""Tables of the Peers page: bench_peers results from the tidy frame of `results.load_results`
(plain pandas, no Streamlit). The page's live trajectories are `dashboard.live`.
"""

import numpy as np
import pandas as pd

from dashboard.benchmarks import PARAM_NAMES, PEER_OURS
from dashboard.results import newest_ok

COLUMNS = ["machine", "env", "commit_short", "problem", "target", "solver", "side", "seconds"]


def peer_results(frame, benchmark):
    """Newest ok rows of `benchmark` (benchmarks.PEER_EPOCH or PEER_TO_TARGET) per machine × env:
    machine, env, commit_short, problem, target ('' for per-epoch time), solver, side ('ours' /
    'peer'), seconds (inf: target not reached)."""
    rows = newest_ok(frame, benchmark, PARAM_NAMES[benchmark])
    if rows is None:  # also when the names are unknown (no benchmarks.json)
        return pd.DataFrame(columns=COLUMNS)
    if "target" not in rows:
        rows = rows.assign(target="")
    names = {c: rows[c].astype(str) for c in ("problem", "target", "solver")}  # names, whatever a file holds
    rows = rows.assign(**names, side=np.where(names["solver"].isin(PEER_OURS), "ours", "peer"), seconds=rows["value"])
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
