"""History and regressions: the gate's verdicts first (regressions, largest first, each linked to its
series), every benchmark over commits, the latest gate run, two-commit comparison, and asv's step
detection as a diagnostic."""

import streamlit as st

from dashboard import benchmarks, ui
from dashboard.data import history as data
from dashboard.figures import history as figures
from dashboard.figures.style import MAX_SERIES
from dashboard.results import as_text, commit_choices

try:
    from dashboard import gate
except ImportError:   # halp_bench is not importable: no gate verdicts
    gate = None

# Columns of the lists of verdicts, in the order shown (a comment: Streamlit would show a bare string).
LIST_COLUMNS = ["series", "benchmark", "params", "machine", "env", "base_commit", "head_commit", "base", "head",
                "unit", "ratio", "rule", "note"]


@st.cache_data(show_spinner="Judging every change…", max_entries=4)
def judged_changes(_frame, stamp, _acks, acks_key):
    """Cached `gate.verdicts` (keyed by the results' change stamp and the acknowledgements)."""
    return gate.verdicts(_frame, _acks)


def verdict_list(table, ascending):
    """One list of verdicts as the page shows it: sorted by ratio, values as text, a series link."""
    table = data.with_series_links(table.sort_values("ratio", ascending=ascending, kind="stable"))
    table = table.assign(base=as_text(table["base"]), head=as_text(table["head"]))[LIST_COLUMNS]
    ui.table(table, column_config={
        "series": st.column_config.LinkColumn("series", display_text="show",
                                              help="Opens this series in 'One benchmark over commits'"),
        "ratio": st.column_config.NumberColumn("ratio (to / from)", format="%.3g")})


res, stamp = ui.load()
frame = res.frame
prefix = ui.commit_url()

st.title("History and regressions")
st.markdown("Each series is one benchmark and parameter set on one machine and environment; values are "
            "compared only within a benchmark version. For every benchmark, higher is worse.")
ui.require_results(res)

name_filter = st.text_input("Filter benchmarks (substring)", key="hi_filter")
judged = None
if gate is None:
    st.info("The gate's verdicts need the halp_bench package (`./run setup` installs it).")
else:
    rule, convergence = gate.rule, gate.convergence
    acks, ack_problem = [], None
    try:
        acks = gate.ack.load(gate.ACK_FILE)
    except ValueError as exc:
        ack_problem = str(exc)
    acks_key = [(a.commit, a.benchmark.pattern, a.params.pattern, a.reason) for a in acks]
    judged = judged_changes(frame, stamp, acks, acks_key)
    st.header("Regressions")
    st.markdown("Every change from one measured commit to the next, judged as `./run compare` judges it "
                "(docs/benchmarks.md, \"Regression gate\"): convergence benchmarks by the convergence rule "
                "(epochs to target changed, or f − f* crossed a target; values at the float64 floor "
                f"{convergence.FLOOR:g} count as equal), every other one by the timing rule ({rule.RULE_TEXT}; "
                "these result files hold asv's 99% intervals, not samples, so track_ values other than "
                f"convergence read no change). Changes declared in `{gate.ack.ACK_FILE}` are acknowledged. "
                "**show** opens the series below.")
    if ack_problem:
        st.warning(ack_problem)
    shown = judged[judged["benchmark"].str.contains(name_filter, regex=False)]
    found = {v: shown[shown["verdict"] == v] for v in (rule.REGRESSION, rule.IMPROVEMENT, rule.ACKNOWLEDGED)}
    regressions = found[rule.REGRESSION]
    total, by_timing, by_convergence, better = st.columns(4)
    total.metric("Regressions", len(regressions), help="By the timing rule and the convergence rule together")
    by_timing.metric("Regressions (timing rule)", int((regressions["rule"] == rule.NAME).sum()))
    by_convergence.metric("Regressions (convergence rule)", int((regressions["rule"] == convergence.NAME).sum()))
    better.metric("Improvements", len(found[rule.IMPROVEMENT]))
    tabs = st.tabs([f"Regressions ({len(regressions)})", f"Improvements ({len(found[rule.IMPROVEMENT])})",
                    f"Acknowledged ({len(found[rule.ACKNOWLEDGED])})"])
    for tab, (verdict, part) in zip(tabs, found.items()):
        with tab:
            if part.empty:
                st.success(f"No {verdict} in the results" + (" matching the filter." if name_filter else "."))
            else:
                verdict_list(part, ascending=verdict == rule.IMPROVEMENT)

st.header("One benchmark over commits")
chosen = data.preselected(st.query_params, frame)
names = sorted(frame["benchmark"].unique())
default = chosen.get("benchmark", benchmarks.SPEEDUP if benchmarks.SPEEDUP in names else names[0])
benchmark = st.selectbox("Benchmark", names, index=names.index(default), key="hi_benchmark")
here = chosen if chosen.get("benchmark") == benchmark else {}
rows = ui.pick_machines(data.series(frame, benchmark), key="hi_machines", machines=res.machines,
                        default=[here["machine"]] if "machine" in here else None)
params = sorted(rows["params"].unique())
if params != [""]:
    per_param = max(1, rows.drop_duplicates(["machine", "env"]).shape[0])
    measured = set(rows.loc[rows["status"] == "ok", "params"])
    first = [here["params"]] if "params" in here else (
        [p for p in params if p in measured] or params)[:max(1, MAX_SERIES // per_param)]
    picked = st.multiselect("Parameter sets", params, default=[p for p in first if p in params], key="hi_params",
                            help=f"At most {MAX_SERIES} series are drawn at first; add more here.")
    rows = rows[rows["params"].isin(picked)]
unit = rows["unit"].iloc[0] if not rows.empty else ""
if rows.empty:
    st.info("Nothing selected.")
else:
    mine = None if judged is None else judged[
        (judged["benchmark"] == benchmark) & judged["params"].isin(rows["params"])
        & judged["machine"].isin(rows["machine"])]
    ui.plot(figures.history_figure(rows, unit, mine), key="history")
    values = rows[["machine", "env", "params", "commit", "date", "version", "status", "value", "ci_low", "ci_high"]]
    values = values.assign(value=as_text(values["value"]))
    with st.expander("Values, with commit links"):
        ui.commits_table(values, prefix)

if gate is not None:
    gate_folder = gate.gate_dir()
    summary, gate_rows, gate_problem = gate.gate_report(gate_folder)
    st.header("Latest gate run")
    if gate_problem:
        st.warning(gate_problem)
    elif summary is None:
        st.info(f"No gate report in `{gate_folder}`: `./run compare BASE HEAD` writes one there "
                "(or set HALP_COMPARE to its --out folder).")
    else:
        st.markdown(f"`./run compare {str(summary['base'])[:8]} {str(summary['head'])[:8]}` on "
                    f"`{summary['machine']}`, {summary['rounds']} rounds, {summary['date']}: exit code "
                    f"{summary['exit_code']}.")
        verdicts = gate_rows["verdict"] if "verdict" in gate_rows else []
        st.metric("Gate verdicts: regressions", sum(v == gate.rule.REGRESSION for v in verdicts))
        ui.table(gate_rows)

st.header("Compare two commits")
st.markdown("Like `asv compare A B`: ratio B / A per result, significant when the 99% intervals do not "
            "overlap (track_ results have no interval: the factor alone decides, as in asv).")
left, mid, right = st.columns(3)
commits = commit_choices(frame)
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
    ui.table(table)

st.header("Diagnostics")
with st.expander("asv's step detection: a diagnostic, not the gate's verdict"):
    st.markdown("asv's step detection (`asv.step_detect`, a robust piecewise-constant fit) per series, on "
                "the series' newest benchmark version, by relative jump alone: it has no noise model and "
                "no floor, so convergence values moving in float64 noise and noisy track_ timings show up "
                "here. The regressions above are the gate's.")
    threshold = st.slider("Step-detection threshold (relative jump to report)", 0.0, 0.5, 0.05, 0.01,
                          key="hi_threshold")
    steps = ui.step_regressions(frame, stamp, threshold)
    steps = steps[steps["benchmark"].str.contains(name_filter, regex=False)]
    st.metric("Steps up found", len(steps))
    if not steps.empty:
        ui.table(steps)

with st.expander("Targets not reached"):
    st.markdown("Series whose newest value is a target not reached (asv stored `Infinity` in a time to "
                "a target). Such values are never fed to step detection or ratios.")
    missed = data.not_reached(frame)
    missed = missed[missed["benchmark"].str.contains(name_filter, regex=False)]
    st.metric("Series not reached", len(missed))
    ui.table(missed.assign(value=as_text(missed["value"])))

with st.expander("Latest vs baseline"):
    baseline_options = ["oldest of each series"] + shorts
    base = st.selectbox("Baseline commit", baseline_options, key="hi_base")
    base_commit = None if base == baseline_options[0] else full[base]
    trend = data.latest_vs_baseline(frame, base_commit)
    min_ratio = st.number_input("Show ratios of at least", 0.0, 100.0, 1.1, 0.05, key="hi_min_ratio")
    trend = trend[trend["benchmark"].str.contains(name_filter, regex=False) & (trend["ratio"] >= min_ratio)]
    ui.table(trend.sort_values("ratio", ascending=False))
