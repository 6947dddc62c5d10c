"""Peers: our solvers against scikit-learn, cyanure, tick, lightning and copt on the same objective."""

import pandas as pd
import streamlit as st

from dashboard import benchmarks, ui
from dashboard.data import peers as data
from dashboard.figures import peers as figures
from dashboard.results import as_text

res, stamp = ui.load()
frame = res.frame

st.title("Peers")
st.markdown(
    "Our SVRG (fp64, fp32) and HALP (16, 8 bits) against what a user would pick instead, every one "
    "solving the same objective on the same 8-bit data (`halp_bench.peers`, docs/peers.md). From "
    f"`bench_peers` at each machine's newest commit: steady per-epoch time (`{benchmarks.PEER_EPOCH}`) "
    f"and solver time to reach f − f* ≤ 1e-4 and ≤ 1e-8 (`{benchmarks.PEER_TO_TARGET}`). Lower is better.")

epoch = ui.pick_machines(data.peer_results(frame, benchmarks.PEER_EPOCH), key="pe_machines",
                         machines=res.machines)
to_target = data.peer_results(frame, benchmarks.PEER_TO_TARGET)
to_target = to_target[to_target["machine"].isin(epoch["machine"])]
if epoch.empty:
    st.info("No `bench_peers` results yet: run `asv run ... --bench bench_peers` (docs/peers.md).")
else:
    problem = st.radio("Problem", sorted(epoch["problem"].unique(), key=str), horizontal=True, key="pe_problem")
    st.header("Where we stand")
    summary = pd.concat([data.standing(epoch[epoch["problem"] == problem]).assign(target="per epoch"),
                         data.standing(to_target[to_target["problem"] == problem])],
                        ignore_index=True)
    columns = ["ours_seconds", "peer_seconds", "ratio"]
    ui.table(summary.assign(**{c: as_text(summary[c]) for c in columns}))
    st.caption("ratio = our fastest / fastest peer (below 1: we are faster); not reached: the "
               "target was not reached within the benchmark's epochs.")
    ui.plot(figures.seconds_bars(epoch[epoch["problem"] == problem], f"Seconds per epoch, {problem}"),
            key="pe_epoch")
    for target in sorted(to_target["target"].unique(), key=str):
        part = to_target[(to_target["problem"] == problem) & (to_target["target"] == target)]
        if not part.empty:
            ui.plot(figures.seconds_bars(part, f"Time to f − f* ≤ {target}, {problem}"), key=f"pe_target_{target}")

st.header("Trajectories, live")
st.markdown("Solve a small problem now: ours and every installed peer at one step (peers that pick "
            "their own step ignore it), f − f* against solver time.")
try:
    from dashboard import live
except ImportError as exc:
    st.warning(f"halp_core is not importable here, so live runs are off: {exc}")
    st.stop()

status = live.peer_status()
missing = {name: reason for name, reason in status.items() if reason is not None}
if missing:
    with st.expander(f"{len(missing)} peer(s) skipped: not installed"):
        for name, reason in missing.items():
            st.write(f"**{name}**: {reason}")


@st.cache_data(show_spinner="Running our solvers and the peers…", max_entries=8)
def live_runs(name, step_factor, epochs, chosen):
    """Cached `live.trajectories` (the same settings are not run twice)."""
    return live.trajectories(name, step_factor, epochs, chosen)


with st.form("pe_live"):
    name = st.selectbox("Problem", list(live.PEER_PROBLEMS), key="pe_live_problem")
    kind = "logistic" if name.startswith("logistic") else "least_squares"
    options = live.available_peers(kind)
    chosen = st.multiselect("Peers", options, default=live.default_peers(kind), key="pe_live_peers",
                            help="Run beside our own contenders; a few read well in one chart.")
    step_factor = st.number_input("Step α × L_max", min_value=1e-3, max_value=1.0, value=0.5, key="pe_step")
    epochs = st.slider("Epochs", 2, 40, 15, key="pe_epochs")
    submitted = st.form_submit_button("Run")

if submitted:
    runs = live_runs(name, step_factor, epochs, tuple(chosen))
    ui.plot(figures.trajectory_figure(runs), key="pe_traj")
    ui.table(runs)
