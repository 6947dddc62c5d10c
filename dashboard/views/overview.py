"""Overview, the first screen: for the newest commit of each machine, how much faster b-bit training
is, whether it still converges and whether the last commit made anything slower (one sentence each,
`dashboard.data.overview`), then what was measured where."""

import streamlit as st

from dashboard import ui
from dashboard.data import overview as data
from dashboard.figures import overview as figures
from dashboard.results import commit_choices

try:
    from dashboard import gate
except ImportError:   # halp_bench is not importable: no gate verdicts
    gate = None

res, stamp = ui.load()
frame = res.frame
prefix = ui.commit_url()

st.title("halp-bench results")
st.markdown("How much faster is low-precision training on these machines, does it still converge, and "
            "did the last commit make it slower? The newest commit measured on each machine:")
ui.require_results(res)

changes = None
if gate is not None:
    try:
        acks = gate.ack.load(gate.ACK_FILE)
    except ValueError as exc:   # the page still judges, without acknowledgements
        st.warning(str(exc))
        acks = []
    changes = gate.newest_changes(frame, acks)
LINKS = {"speedups": "Speedups and the crossover map", "convergence": "Convergence",
         "history": "History and regressions"}
for machine in data.machines(frame):
    st.subheader(machine)
    st.caption(data.describe(machine, res.machines))
    found = [data.speed(frame, machine), data.convergence(frame, machine)]
    if changes is not None:
        found.append(data.regressions(changes, machine))
    for column, answer in zip(st.columns(len(found)), found):
        with column:
            st.markdown(f"**{answer.question}** {answer.sentence}")
            ui.link(answer.page, LINKS[answer.page])
if changes is None:
    st.info("The gate's verdicts need the halp_bench package (`./run setup` installs it).")

st.header(f"{data.METHOD_LABEL} {data.BITS}-bit against {data.BASELINE_LABEL}, every shape measured")
top = data.headline(frame)
if top.empty:
    st.info(f"No speedup results for {data.METHOD_LABEL} at {data.BITS} bits yet.")
else:
    ui.plot(figures.headline_figure(top), key="headline")

st.header("What was measured")
cols = st.columns(4)
cols[0].metric("Machines", frame["machine"].nunique())
cols[1].metric("Commits measured", frame["commit"].nunique())
cols[2].metric("Results", f"{len(frame):,}")
cols[3].metric("Failed", int((frame["status"] == "failed").sum()))
ui.plot(figures.status_figure(data.status_counts(frame)), key="status")
st.subheader("Machines")
ui.table(res.machines.drop(columns="source"))
st.subheader("Commits")
ui.commits_table(commit_choices(frame).drop(columns=["commit_short", "order"]), prefix)

st.header("Failures at the newest commit")
failed = data.failures(frame)
if failed.empty:
    st.success("No benchmark failed at its newest commit.")
else:
    ui.table(failed)

st.header("Add your own results")
st.markdown(ui.HOW_TO)
