"""History and regressions: every benchmark over commits, asv's step detection, two-commit comparison."""

import pandas as pd
import streamlit as st

from dashboard import benchmarks, ui
from dashboard.data import history as data
from dashboard.figures import history as figures
from dashboard.results import as_text, commit_choices

try:
    from dashboard import gate
except ImportError:   # halp_bench is not importable: no gate verdicts
    gate = None

res, stamp = ui.load()
frame = res.frame
prefix = ui.commit_url()

st.title("History and regressions")
st.markdown("Each series is one benchmark and parameter set on one machine and environment; values are "
            "compared only within a benchmark version. For every benchmark, higher is worse.")
ui.require_results(res)

st.header("One benchmark over commits")
names = sorted(frame["benchmark"].unique())
default = names.index(benchmarks.SPEEDUP) if benchmarks.SPEEDUP in names else 0
benchmark = st.selectbox("Benchmark", names, index=default, key="hi_benchmark")
rows = ui.pick_machines(data.series(frame, benchmark), key="hi_machines", machines=res.machines)
params = sorted(rows["params"].unique())
if params != [""]:
    chosen = st.multiselect("Parameter sets", params, default=params[:4], key="hi_params")
    rows = rows[rows["params"].isin(chosen)]
unit = rows["unit"].iloc[0] if not rows.empty else ""
threshold = st.slider("Step-detection threshold (relative jump to report)", 0.0, 0.5, 0.05, 0.01,
                      key="hi_threshold")
regressions = ui.step_regressions(frame, stamp, threshold)
acks, ack_problem, judged = [], None, None
if gate is not None:
    try:
        acks = gate.ack.load(gate.ACK_FILE)
    except ValueError as exc:
        ack_problem = str(exc)
    judged = gate.verdicts(frame, acks)
mine = regressions[(regressions["benchmark"] == benchmark) & regressions["params"].isin(rows["params"])
                   & regressions["machine"].isin(rows["machine"])]
if rows.empty:
    st.info("Nothing selected.")
else:
    mine_judged = None if judged is None else judged[
        (judged["benchmark"] == benchmark) & judged["params"].isin(rows["params"])
        & judged["machine"].isin(rows["machine"])]
    ui.plot(figures.history_figure(rows, mine, unit, mine_judged), key="history")
    values = rows[["machine", "env", "params", "commit", "date", "version", "status", "value", "ci_low", "ci_high"]]
    values = values.assign(value=as_text(values["value"]))
    with st.expander("Values, with commit links"):
        st.dataframe(ui.with_links(values, prefix), hide_index=True, column_config=ui.link_config())

st.header("Detected regressions")
st.markdown("asv's step detection (`asv.step_detect`, a robust piecewise-constant fit) per series, "
            "on the series' newest benchmark version. With few noisy points it can over- or "
            "under-segment, so the plain latest-vs-baseline ratio is shown beside it.")
name_filter = st.text_input("Filter benchmarks (substring)", key="hi_filter")
shown = regressions[regressions["benchmark"].str.contains(name_filter, regex=False)]
st.metric("Regressions found", len(shown))
st.dataframe(shown, hide_index=True)

st.subheader("Verdicts of the gate's rule")
if gate is None:
    st.info("The gate's verdicts need the halp_bench package (`./run setup` installs it).")
else:
    rule = gate.rule
    st.markdown("Every change from one measured commit to the next, judged by the rule of `./run compare` "
                f"(docs/benchmarks.md, \"Regression gate\"): {rule.RULE_TEXT}. These result files hold asv's "
                "summary statistics, not samples, so the ratio's interval spans the two stored 99% "
                "intervals (none for track_ benchmarks or quick runs: no change). Changes declared in "
                f"`{gate.ack.ACK_FILE}` are shown as acknowledged.")
    if ack_problem:
        st.warning(ack_problem)
    judged_shown = judged[judged["benchmark"].str.contains(name_filter, regex=False)]
    left, mid, right = st.columns(3)
    left.metric("Regressions (gate rule)", int((judged_shown["verdict"] == rule.REGRESSION).sum()))
    mid.metric("Improvements (gate rule)", int((judged_shown["verdict"] == rule.IMPROVEMENT).sum()))
    right.metric("Acknowledged", int((judged_shown["verdict"] == rule.ACKNOWLEDGED).sum()))
    st.dataframe(judged_shown[judged_shown["verdict"] != rule.NO_CHANGE], hide_index=True)

    gate_folder = gate.gate_dir()
    summary, gate_rows, gate_problem = gate.gate_report(gate_folder)
    st.subheader("Latest gate run")
    if gate_problem:
        st.warning(gate_problem)
    elif summary is None:
        st.info(f"No gate report in `{gate_folder}`: `./run compare BASE HEAD` writes one there "
                "(or set HALP_COMPARE to its --out folder).")
    else:
        st.markdown(f"`./run compare {str(summary['base'])[:8]} {str(summary['head'])[:8]}` on "
                    f"`{summary['machine']}`, {summary['rounds']} rounds, {summary['date']}: exit code "
                    f"{summary['exit_code']}.")
        found = gate_rows["verdict"] if "verdict" in gate_rows else pd.Series(dtype=object)
        st.metric("Gate verdicts: regressions", int((found == rule.REGRESSION).sum()))
        st.dataframe(gate_rows, hide_index=True)

st.subheader("Not reached")
st.markdown("Series whose newest value is a target not reached (asv stored `Infinity` in a time to "
            "a target). Such values are never fed to step detection or ratios.")
missed = data.not_reached(frame)
missed = missed[missed["benchmark"].str.contains(name_filter, regex=False)]
st.metric("Series not reached", len(missed))
st.dataframe(missed.assign(value=as_text(missed["value"])), hide_index=True)

st.subheader("Latest vs baseline")
commits = commit_choices(frame)
baseline_options = ["oldest of each series"] + commits["commit_short"].tolist()
base = st.selectbox("Baseline commit", baseline_options, key="hi_base")
base_commit = None if base == baseline_options[0] else commits.loc[commits["commit_short"] == base, "commit"].iloc[0]
trend = data.latest_vs_baseline(frame, base_commit)
min_ratio = st.number_input("Show ratios of at least", 0.0, 100.0, 1.1, 0.05, key="hi_min_ratio")
trend = trend[trend["benchmark"].str.contains(name_filter, regex=False) & (trend["ratio"] >= min_ratio)]
st.dataframe(trend.sort_values("ratio", ascending=False), hide_index=True)

st.header("Compare two commits")
st.markdown("Like `asv compare A B`: ratio B / A per result, significant when the 99% intervals do not "
            "overlap (track_ results have no interval: the factor alone decides, as in asv).")
left, mid, right = st.columns(3)
shorts = commits["commit_short"].tolist()
commit_a = left.selectbox("A (before)", shorts, index=min(1, len(shorts) - 1), key="cmp_a")
commit_b = mid.selectbox("B (after)", shorts, index=0, key="cmp_b")
factor = right.number_input("Factor", 1.0, 10.0, 1.1, 0.05, key="cmp_factor")
full = dict(zip(commits["commit_short"], commits["commit"]))
table = data.compare_commits(frame, full[commit_a], full[commit_b], factor)
keep = st.multiselect("Show changes", data.CHANGES, default=data.CHANGES[:-1], key="cmp_changes")
table = table[table["change"].isin(keep) & table["benchmark"].str.contains(name_filter, regex=False)]
if table.empty:
    st.info("No results of both commits match these filters.")
else:
    ui.plot(figures.compare_figure(table), key="compare")
    st.dataframe(table, hide_index=True)
