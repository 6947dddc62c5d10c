"""Overview: what was measured where, what failed, and the headline HALP speedups."""

import streamlit as st

from dashboard import analysis, figures, ui

res, stamp = ui.load()
frame = res.frame
prefix = ui.commit_url()

st.title("halp-bench results")
st.markdown("Benchmarks of full- and low-precision solvers (SGD, SVRG, LP-SGD, LP-SVRG, HALP), "
            "measured with asv on every machine and commit below.")
ui.require_results(res)

machines, envs, commits = (frame[c].nunique() for c in ("machine", "env", "commit"))
cols = st.columns(5)
cols[0].metric("Machines", machines)
cols[1].metric("Environments", envs)
cols[2].metric("Commits measured", commits)
cols[3].metric("Results", f"{len(frame):,}")
cols[4].metric("Failed", int((frame["status"] == "failed").sum()))

st.header("Headline: HALP 8-bit vs SVRG")
top = analysis.headline(frame)
if top.empty:
    st.info(f"No `{analysis.SPEEDUP}` results for HALP at 8 bits yet.")
else:
    st.markdown("Speedup = SVRG epoch time / HALP epoch time, measured in one process "
                "(`track_speedup` stores the inverse ratio); above 1 HALP is faster.")
    ui.plot(figures.headline_figure(top), key="headline")
    st.dataframe(top, hide_index=True)

st.header("What was measured")
ui.plot(figures.status_figure(analysis.status_counts(frame)), key="status")
st.subheader("Machines")
st.dataframe(res.machines, hide_index=True)
st.subheader("Commits")
commits_table = analysis.commit_choices(frame)
st.dataframe(ui.with_links(commits_table, prefix), hide_index=True, column_config=ui.link_config())

st.header("Failures at the newest commit")
failed = analysis.failures(frame)
if failed.empty:
    st.success("No benchmark failed at its newest commit.")
else:
    st.dataframe(failed, hide_index=True)

st.header("Add your own results")
st.markdown(ui.HOW_TO)
