"""Speedups: low-precision solver vs its full-precision baseline, per bit width or float format, size and
machine."""

import streamlit as st

from halp_core import registry

from dashboard import benchmarks, ui
from dashboard.data import speedups as data
from dashboard.figures import speedups as figures
from dashboard.results import precision_label

res, stamp = ui.load()
frame = res.frame

st.title("Speedups")
st.markdown("Speedup of a low-precision solver over its full-precision baseline at each machine's "
            "newest commit, per bit width and float format (bf16, fp16, fp8); above 1 the low-precision "
            "solver is faster. At a bit width both solvers read the problem's 8-bit data; at a float format, "
            "one copy of the data in that format (the baseline its float32 / float64 conversion).")
ui.require_results(res)

left, right = st.columns(2)
solver = left.radio("Baseline solver", list(data.BASELINE_SOLVERS), horizontal=True, key="sp_solver",
                    help=", ".join(f"{b} is compared with {registry.spec(m).label}"
                                   for b, m in data.BASELINE_SOLVERS.items()) + ".")
baseline = right.radio("Baseline precision", ["fp32", "fp64"], horizontal=True, key="sp_precision")
method = data.BASELINE_SOLVERS[solver]
table = ui.pick_machines(data.speedups(frame, method, baseline), key="sp_machines",
                         machines=res.machines)

st.header(f"{registry.spec(method).label} vs {solver} {baseline}")
if table.empty:
    st.info(f"No `{benchmarks.SPEEDUP}` or `{benchmarks.EPOCH_TIME}` results for {method} vs {solver} {baseline}.")
    st.stop()
widths = sorted(table[benchmarks.WIDTH].unique())
if len(widths) > 1:   # every width at the large sizes, WIDTH_BEFORE_AXIS at every size
    width = st.radio("Row width d (features)", widths, horizontal=True, key="sp_width",
                     index=widths.index(benchmarks.WIDTH_BEFORE_AXIS) if benchmarks.WIDTH_BEFORE_AXIS in widths else 0,
                     help="The speed suites measure every width at the largest sizes; the Overview shows "
                          "the speedup against the width.")
    table = table[table[benchmarks.WIDTH] == width]
st.markdown(f"Two measures: the **{data.RATIO}** of `track_speedup` (both solvers timed in one "
            "process, so machine noise cancels; asv stores no interval for `track_` benchmarks) and the "
            f"ratio of absolute **{data.EPOCH_TIMES}** from `{benchmarks.EPOCH_TIME}`, whose error bars "
            "hold whenever both epoch times lie in their 99% intervals.")
ui.plot(figures.speedup_by_bits_figure(table), key="by_bits")
ui.plot(figures.speedup_by_size_figure(table), key="by_size")

st.subheader("Values")
st.dataframe(table.assign(bits=table["bits"].map(precision_label)), hide_index=True)  # '8-bit', 'bf16': one type
