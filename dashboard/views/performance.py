"""Bandwidth and threads: the GB/s an epoch streams against the read limit, and scaling with threads."""

import streamlit as st

from dashboard import benchmarks, ui
from dashboard.data import performance as data
from dashboard.figures import performance as figures
from dashboard.results import mixed_key, precision_label

res, stamp = ui.load()

st.title("Bandwidth and threads")
st.markdown("How close each solver's epochs come to the machine's memory read bandwidth "
            "(`bench_bandwidth`), and how epoch time scales with threads (`bench_threads`), at each "
            "machine's newest commit.")
st.info("**For these benchmarks higher is better** (GB/s, fraction of read bandwidth, speedup), "
        "although asv marks every rise red.", icon="⬆️")
ui.require_results(res)
frame = ui.pick_machines(res.frame, key="pf_machines", machines=res.machines)

st.header("Memory bandwidth")
st.markdown(
    f"GB/s (1e9 bytes/s) = bytes an epoch streams (`bytes_per_epoch`: the data matrix once per inner "
    f"pass, once more for the full gradient of the SVRG types) / epoch time (`{benchmarks.EPOCH_GBPS}`), "
    f"beside a STREAM-like read kernel over the 8-bit matrix of each size (`{benchmarks.READ_GBPS}`), the "
    f"limit. The project's goal: **{benchmarks.GOAL_SOLVER} streams its int8 data at ≥ "
    f"{data.GOAL_FRACTION:.0%} of read bandwidth** (`{benchmarks.FRACTION}`: epoch GB/s over the read "
    "kernel's GB/s on the solver's own data, the two interleaved in one process).")
gbps = data.bandwidth(frame)
fractions = data.fraction_of_read(frame)
missing = [b for b, have in ((benchmarks.EPOCH_GBPS, (gbps["solver"] != data.READ_LABEL).any()),
                             (benchmarks.READ_GBPS, (gbps["solver"] == data.READ_LABEL).any()),
                             (benchmarks.FRACTION, not fractions.empty)) if not have]
if len(missing) == 3:
    st.info(f"No `{benchmarks.EPOCH_GBPS}`, `{benchmarks.READ_GBPS}` or `{benchmarks.FRACTION}` results yet: run "
            "`asv run ... --bench bench_bandwidth` (docs/benchmarks.md).")
else:
    for benchmark in missing:
        st.info(f"No `{benchmark}` results yet.")
    if not fractions.empty:
        goal = data.goal(fractions)
        if goal.empty:
            st.info(f"No `{benchmarks.FRACTION}` results for {benchmarks.GOAL_SOLVER}.")
        else:
            st.subheader(f"Goal: {benchmarks.GOAL_SOLVER} at ≥ {data.GOAL_FRACTION:.0%} of read bandwidth")
            groups = list(goal.groupby(["machine", "env"], sort=True))
            cols = st.columns(min(4, len(groups)))
            for i, ((machine, env), part) in enumerate(groups):
                met = int(part["meets_goal"].sum())
                cols[i % len(cols)].metric(
                    f"{machine}" + (f" · {env}" if goal["env"].nunique() > 1 else ""),
                    f"{met} of {len(part)} sizes",
                    help=", ".join(f"{s} MB: {f:.2f}" for s, f in zip(part["size_mb"], part["fraction"])))
    if not gbps.empty:
        ui.plot(figures.bandwidth_figure(gbps), key="pf_gbps")
    if not fractions.empty:
        ui.plot(figures.fraction_figure(fractions), key="pf_fraction")
    without = data.machines_without(frame, benchmarks.FRACTION if not fractions.empty else benchmarks.EPOCH_GBPS)
    if without:
        st.caption("No bandwidth results from: " + ", ".join(without) + ".")
    with st.expander("Bandwidth values"):
        ui.table(gbps)
        ui.table(fractions)

st.header("Thread scaling")
st.markdown(
    f"Seconds per epoch on the 100 MiB problem at 1, 2, 4 and 8 threads (`{benchmarks.THREAD_TIME}`); "
    "speedup = t(1 thread) / t(k threads), the dotted line is ideal linear scaling. **Threads "
    f"parallelize only the full-gradient pass** ({', '.join(data.PARALLEL_SOLVERS)}); inner steps stay "
    f"sequential, so {' and '.join(data.CONTROL_SOLVERS)} (dashed) have nothing to parallelize and serve as "
    "a flat control. Thread counts above a machine's Numba threads are skipped. The headline benchmarks "
    "are single-threaded.")
scaling = data.thread_scaling(frame)
if scaling.empty:
    st.info(f"No `{benchmarks.THREAD_TIME}` results yet: run `asv run ... --bench bench_threads` "
            "(docs/benchmarks.md).")
    st.stop()
precisions = sorted(set(scaling["precision"].astype(str)), key=mixed_key)   # bit widths, then names
chosen = st.multiselect("Precisions", precisions, default=precisions, key="pf_precisions",
                        format_func=precision_label)
scaling = scaling[scaling["precision"].astype(str).isin(chosen)]
if scaling["speedup"].notna().any():
    ui.plot(figures.thread_speedup_figure(scaling), key="pf_threads")
elif not scaling.empty:
    st.info(f"No 1-thread `{benchmarks.THREAD_TIME}` results to compute speedups from.")
for _, row in data.missing_threads(scaling).iterrows():
    st.caption(f"{row['machine']} ({row['env']}): no results at {', '.join(map(str, row['missing']))} "
               "threads (skipped: more than the machine's Numba threads).")
st.subheader("Seconds per epoch")
ui.table(data.seconds_table(scaling))
with st.expander("Every value, with speedups and 99% intervals"):
    ui.table(scaling.assign(precision=scaling["precision"].astype(str)))  # mixed str / int
