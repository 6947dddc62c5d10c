"""Speedups: low-precision solver vs its full-precision baseline, per bit width, size and machine."""

import streamlit as st

from dashboard import analysis, figures, ui

res, stamp = ui.load()
frame = res.frame

st.title("Speedups")
st.markdown("Speedup of a low-precision solver over its full-precision baseline at each machine's "
            "newest commit; above 1 the low-precision solver is faster.")
ui.require_results(res)

left, right = st.columns(2)
solver = left.radio("Baseline solver", list(analysis.BASELINE_SOLVERS), horizontal=True, key="sp_solver",
                    help="SVRG is compared with HALP, SGD with LP-SGD.")
baseline = right.radio("Baseline precision", ["fp32", "fp64"], horizontal=True, key="sp_precision")
method = analysis.BASELINE_SOLVERS[solver]
table = ui.pick_machines(analysis.speedups(frame, method, baseline), key="sp_machines")

st.header(f"{method.upper()} vs {solver} {baseline}")
if table.empty:
    st.info(f"No `{analysis.SPEEDUP}` or `{analysis.EPOCH_TIME}` results for {method} vs {solver} {baseline}.")
    st.stop()
st.markdown(f"Two measures: the **{analysis.RATIO}** of `track_speedup` (both solvers timed in one "
            "process, so machine noise cancels; asv stores no interval for `track_` benchmarks) and the "
            f"ratio of absolute **{analysis.EPOCH_TIMES}** from `{analysis.EPOCH_TIME}`, whose error bars "
            "hold whenever both epoch times lie in their 99% intervals.")
ui.plot(figures.speedup_by_bits_figure(table), key="by_bits")
ui.plot(figures.speedup_by_size_figure(table), key="by_size")

st.subheader("Values")
st.dataframe(table, hide_index=True)
