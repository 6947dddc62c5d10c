"""Speedups: low-precision solver vs its full-precision baseline, per bit width or float format, size and
machine."""

import streamlit as st

from halp_core import registry

from dashboard import benchmarks, ui
from dashboard.data import speedups as data
from dashboard.figures import speedups as figures
from dashboard.figures.style import MAX_SERIES
from dashboard.results import precision_label, precision_labels

res, stamp = ui.load()
frame = res.frame

st.title("Speedups")
st.markdown("Speedup of a low-precision solver over its full-precision baseline at each machine's "
            "newest commit, per bit width and float format (bf16, fp16, fp8); above 1 the low-precision "
            "solver is faster. At a bit width both solvers read the problem's 8-bit data; at a float format, "
            "one copy of the data in that format (the baseline its float32 / float64 conversion).")
ui.require_results(res)

left, middle, right = st.columns(3)
solver = left.radio("Baseline solver", list(data.BASELINE_SOLVERS), horizontal=True, key="sp_solver",
                    help=", ".join(f"{b} is compared with {registry.spec(m).label}"
                                   for b, m in data.BASELINE_SOLVERS.items()) + ".")
baseline = middle.radio("Baseline precision", ["fp32", "fp64"], horizontal=True, key="sp_precision")
method = data.BASELINE_SOLVERS[solver]
speed = frame[frame["benchmark"].isin([benchmarks.SPEEDUP, benchmarks.EPOCH_TIME, benchmarks.FILE_SPEEDUP])]
chosen = set(ui.pick_machines(speed, key="sp_machines", machines=res.machines)["machine"])
frame = frame[frame["machine"].isin(chosen)]
choices = data.measured_bits(frame, method, baseline)

yours = data.file_speedups(frame)
if not yours.empty:
    st.header("Your problems")
    st.markdown(
        f"The problems of your files (`./run bench --file`, `{benchmarks.FILE_SPEEDUP}`): each low-precision "
        "solver against its full-precision baseline in fp32 and fp64 (all of them, whatever is chosen above), "
        "both timed in one process on the file's problem, at each machine's newest commit that measured it; "
        "above 1× the low-precision solver is faster. Their convergence is on the Convergence page "
        "(choose the problem there).")
    ui.plot(figures.file_speedup_figure(yours), key="file_speedups")
    ui.table(data.file_speedup_table(yours))

st.subheader("Crossover map: where low precision stops paying")
if not choices:
    st.info(f"No `{benchmarks.SPEEDUP}` results for {method} vs {solver} {baseline}.")
else:
    bits = right.selectbox("Bit width or format (map)", choices, format_func=precision_label, key="sp_bits",
                           index=choices.index(8) if 8 in choices else 0)
    crossover = data.crossover(frame, method, bits, baseline)
    if not crossover.empty:
        st.markdown(
            "Speedup of each problem size × row width at each machine's newest commit that measured this "
            f"selection (`track_speedup`, inverted); blue pays, red does not, white is 1×. Lines mark where "
            f"the {data.data_label(bits)} data (solid) and the {baseline} data (dashed) fill the L2 and L3 "
            "caches machine.json records.")
        for row in data.speedup_range(frame, method, bits, baseline).itertuples():
            st.markdown(f"**{row.machine}**: {row.least:.2f}× ({row.least_size_mb:g} MiB, d = {row.least_d}) "
                        f"to {row.most:.2f}× ({row.most_size_mb:g} MiB, d = {row.most_d}); "
                        f"{row.paying} of {row.shapes} shapes pay.")
        ui.plot(figures.crossover_figure(crossover, data.caches(res.machines)), key="crossover")
        ceilings = data.ceilings(frame, method, bits, baseline)
        st.subheader("Ceiling")
        st.markdown(
            f"A bandwidth-bound epoch could be at most **{data.bytes_ratio(bits, baseline):g}×** faster: the "
            f"{baseline} baseline moves that many times the bytes of the {data.data_label(bits)} data. How close "
            f"each side comes: the share of the machine's read bandwidth its epoch draws "
            f"(`{benchmarks.FRACTION}`, at one row width per size); far below 100% the epoch is "
            "bound by arithmetic, not memory.")
        if ceilings.empty:
            st.info(f"No `{benchmarks.FRACTION}` results for these solvers.")
        else:
            ui.plot(figures.ceiling_figure(ceilings), key="ceiling")

st.header(f"{registry.spec(method).label} vs {solver} {baseline}")
table = data.speedups(frame, method, baseline)
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
precisions = precision_labels(table["bits"])
shown = precisions
if len(precisions) > MAX_SERIES:   # one line per precision in each panel
    shown = st.multiselect("Bit widths and formats (speedup vs size)", precisions, default=precisions[:MAX_SERIES],
                           key="sp_size_precisions")
if shown:
    ui.plot(figures.speedup_by_size_figure(table[table["bits"].map(precision_label).isin(shown)]), key="by_size")
else:
    st.info("Choose a bit width or format to draw the speedup against the problem size.")

st.subheader("Values")
ui.table(table.assign(bits=table["bits"].map(precision_label)))  # '8-bit', 'bf16': one type
