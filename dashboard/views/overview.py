"""Overview: what was measured where, what failed, and the headline HALP speedups."""

import streamlit as st

from halp_core import registry

from dashboard import benchmarks, ui
from dashboard.data import overview as data
from dashboard.figures import overview as figures
from dashboard.results import commit_choices

res, stamp = ui.load()
frame = res.frame
prefix = ui.commit_url()

st.title("halp-bench results")
solvers = ", ".join(spec.label for spec in registry.SPECS.values())
st.markdown(f"Benchmarks of full- and low-precision solvers ({solvers}), "
            "measured with asv on every machine and commit below.")
ui.require_results(res)

machines, envs, commits = (frame[c].nunique() for c in ("machine", "env", "commit"))
cols = st.columns(5)
cols[0].metric("Machines", machines)
cols[1].metric("Environments", envs)
cols[2].metric("Commits measured", commits)
cols[3].metric("Results", f"{len(frame):,}")
cols[4].metric("Failed", int((frame["status"] == "failed").sum()))

st.header(f"Headline: {data.METHOD_LABEL} {data.BITS}-bit vs {data.BASELINE_LABEL}")
top = data.headline(frame)
if top.empty:
    st.info(f"No `{benchmarks.SPEEDUP}` results for {data.METHOD_LABEL} at {data.BITS} bits yet.")
else:
    st.markdown(f"Speedup = {data.BASELINE_LABEL} epoch time / {data.METHOD_LABEL} epoch time, measured in "
                f"one process (`track_speedup` stores the inverse ratio); above 1 {data.METHOD_LABEL} is faster. "
                "The range over every problem size and row width measured on each machine, and where "
                f"{data.METHOD_LABEL}-{data.BITS} pays and where it does not:")
    st.dataframe(data.headline_summary(top), hide_index=True)
    ui.plot(figures.headline_figure(top), key="headline")
    st.dataframe(top, hide_index=True)

st.header("What was measured")
ui.plot(figures.status_figure(data.status_counts(frame)), key="status")
st.subheader("Machines")
st.dataframe(res.machines, hide_index=True)
st.subheader("Commits")
commits_table = commit_choices(frame)
st.dataframe(ui.with_links(commits_table, prefix), hide_index=True, column_config=ui.link_config())

st.header("Failures at the newest commit")
failed = data.failures(frame)
if failed.empty:
    st.success("No benchmark failed at its newest commit.")
else:
    st.dataframe(failed, hide_index=True)

st.header("Add your own results")
st.markdown(ui.HOW_TO)
