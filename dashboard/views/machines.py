"""Machines: their specs side by side and their performance relative to a chosen baseline machine."""

import streamlit as st

from dashboard import ui
from dashboard.data import machines as data
from dashboard.figures import machines as figures

res, stamp = ui.load()
frame = res.frame

st.title("Machines")
ui.require_results(res)

st.header("Specs")
ui.table(data.specs(res.machines))

st.header("Performance relative to a baseline machine")
st.markdown("For each benchmark and parameter set, each machine's newest value divided by the baseline "
            "machine's (same benchmark version); above 1 is slower or worse. Markers are geometric means.")
machines = sorted(frame["machine"].unique())
most = frame["machine"].value_counts().idxmax()
baseline = st.selectbox("Baseline machine", machines, index=machines.index(most), key="ma_baseline",
                        help="Defaults to the machine with the most results.")
by = st.radio("Group by", ["suite", "benchmark"], horizontal=True, key="ma_by")
normalized = data.normalized_to_machine(frame, baseline)
if normalized["machine"].nunique() < 2:
    st.info("No other machine measured the same benchmarks as the baseline machine.")
else:
    ui.plot(figures.machines_figure(data.geometric_means(normalized, by), by), key="machines")
with st.expander("Every ratio"):
    ui.table(normalized)
