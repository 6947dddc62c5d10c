"""Convergence: suboptimality per epoch and per second from the results, and live runs of halp_core."""

import pandas as pd
import streamlit as st

from dashboard import benchmarks, ui
from dashboard.data import convergence as data
from dashboard.figures import convergence as figures
from dashboard.figures.style import MAX_SERIES
from dashboard.results import commit_choices, precision_label, run_order

res, stamp = ui.load()
frame = res.frame

st.title("Convergence")
st.markdown(f"f − f* after each epoch (`{benchmarks.SUBOPT}`) against epochs and against solver time "
            f"(`{benchmarks.SECONDS}`), for every solver and precision: fp64 / fp32, bit widths, and float "
            "formats (bf16, fp16, fp8) as the low-precision solvers' iterate, all on the problem's 8-bit data.")

problems = data.problems(frame)
if not problems:
    st.info(f"No `{benchmarks.SUBOPT}` results yet; the live panel below still works.")
else:
    problem = st.selectbox("Problem", problems, key="cv_problem")
    table = ui.pick_machines(data.convergence(frame, problem), key="cv_machines",
                             machines=res.machines)
    labels = run_order(table)   # of every commit: the choice stays when the commit changes
    commits = commit_choices(frame[frame["commit"].isin(table["commit"])])
    options = ["newest per machine"] + commits["commit_short"].tolist()
    commit = st.selectbox("Commit", options, key="cv_commit")
    if commit == options[0]:
        table = table[table["order"] == table.groupby(["machine", "env"])["order"].transform("max")]
    else:
        table = table[table["commit_short"] == commit]
    chosen = ui.pick_series("Solvers and precisions", labels, data.DEFAULT_LABELS, key="cv_series",
                            help=f"Up to {MAX_SERIES} read well in one panel; the environment and commit "
                                 "of each point are in its tooltip.")
    table = table[table["label"].isin(chosen)]
    if table.empty:
        st.info("Choose solvers and precisions to draw.")
    else:
        ui.plot(figures.convergence_figure(table, "epoch"), key="by_epoch")
    if table["seconds"].notna().any():
        ui.plot(figures.convergence_figure(table, "seconds"), key="by_time")
    elif not table.empty:
        st.info(f"No `{benchmarks.SECONDS}` results to plot against time.")
    targets = data.epochs_to_target(frame, problem)
    targets = targets[targets["commit"].isin(table["commit"]) & targets["machine"].isin(table["machine"])
                      & targets["label"].isin(chosen)]
    if not targets.empty:
        ui.plot(figures.epochs_to_target_figure(targets), key="to_target")
    times = data.time_to_target(frame, problem)
    times = times[times["commit"].isin(table["commit"]) & times["machine"].isin(table["machine"])
                  & times["label"].isin(chosen)]
    if not times.empty:
        st.subheader("Time to accuracy")
        st.markdown(f"Solver seconds (`{benchmarks.TIME_TO_TARGET}`) to the first epoch whose f − f* is at "
                    f"most the target, and the speedup over {' '.join(data.TIME_BASELINE)}'s time to it.")
        ui.table(data.time_to_target_text(times))

st.header("Live run")
st.markdown("Solve a small problem now with `halp_core.solve` and watch f − f* fall. Runs add up "
            "in the chart below so you can compare settings.")
try:
    from dashboard import live
except ImportError as exc:
    st.warning(f"halp_core is not importable here, so live runs are off: {exc}")
    st.stop()

with st.form("live"):
    name = st.selectbox("Problem", list(live.PROBLEMS), key="lv_problem")
    left, right = st.columns(2)
    solver = left.selectbox("Solver", live.SOLVERS, index=live.SOLVERS.index("halp"), key="lv_solver")
    bits = right.select_slider("Bits or float format (low-precision solvers)", live.LOW_PRECISIONS, value=8,
                               key="lv_bits", format_func=precision_label)
    full = left.radio("Precision (sgd, svrg)", ["fp64", "fp32"], horizontal=True, key="lv_full")
    step_factor = right.number_input("Step α × L_max", min_value=1e-4, max_value=2.0, value=0.1,
                                     step=0.05, format="%.4f", key="lv_step")
    mu_factor = left.number_input("μ / λ (HALP bit centering)", min_value=1e-3, max_value=1e3, value=1.0,
                                  format="%.3f", key="lv_mu")
    epochs = right.slider("Epochs", 1, 50, 10, key="lv_epochs")
    auto_mu = left.checkbox("Automatic μ (HALP; ignores μ / λ)", value=True, key="lv_mu_auto")
    submitted = st.form_submit_button("Run", key="lv_run")

runs = st.session_state.setdefault("live_runs", [])
if submitted:
    prob = live.problem(name)
    precision = full if solver in live.FULL_PRECISION_SOLVERS else bits
    step = step_factor / prob.L_max
    mu = "auto" if auto_mu else mu_factor * prob.lam
    bar = st.progress(0.0, text="Running…")

    def progress(epoch, row):
        bar.progress(epoch / epochs, text=f"epoch {epoch}/{epochs}: f − f* = {row['subopt']:.3e}")

    try:
        history = live.run(name, solver, precision, step, mu, epochs, on_epoch=progress)
    except (ValueError, TypeError) as exc:
        st.error(f"halp_core refused these settings: {exc}")
    else:
        label = f"{len(runs) + 1}: {solver} {precision_label(precision)}, α={step:.2e}"
        label += (f", μ={mu}" if auto_mu else f", μ={mu:.1e}") if live.takes_mu(solver) else ""
        runs.append(history.assign(label=label, problem=name))
        bar.progress(1.0, text=f"done: {epochs} epochs in {history['seconds'].iloc[-1]:.3f} s of solver time")

if runs:
    ui.plot(figures.live_figure(pd.concat(runs, ignore_index=True)), key="live")
    ui.table(runs[-1])
    if st.button("Clear live runs", key="lv_clear"):
        runs.clear()
        st.rerun()
