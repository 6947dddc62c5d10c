"""Sweeps: a parameter sweep's runs read from its folder (`data.COMMAND`): epochs to a target over two
chosen parameters, f − f* bands over seeds, the per-run summary and timings by machine."""

import streamlit as st

from dashboard import ui
from dashboard.data import sweeps as data
from dashboard.figures import sweeps as figures
from dashboard.figures.style import MAX_SERIES

HOW_TO = f"""
**How to make a sweep.** Write a spec (see `sweeps/`) and run it; each run is saved as it finishes:

```bash
{data.COMMAND}
```

Then type DIR into the sidebar, set `HALP_SWEEPS=DIR`, or use `--out sweeps-results/NAME` (the
sweeps in `sweeps-results/` are offered by default).
"""


@st.cache_data(show_spinner="Reading the sweep…", max_entries=4)
def _load(folder, stamp):
    """Cached `data.load(folder)` with its summary; `stamp` (the files' sizes and times) reloads on change."""
    sweep = data.load(folder)
    return sweep, data.summary(sweep.runs, sweep.params)


st.title("Sweeps")
st.markdown("Every run of a parameter sweep: how many epochs each setting needs to reach a target "
            "f − f* (median over seeds), how f − f* falls over the seeds, and each run's summary.")

def _bits_section():
    """The shipped predicted-vs-measured bit requirement (`data.BITS_COMMAND`), shown below any sweep."""
    st.header("HALP's bit requirement: predicted against measured")
    path = data.bits_file()
    if not path.exists() and not path.is_symlink():
        st.info(f"No bit-requirement table at `{path}` yet: run the `sweeps/bits-needed-*.toml` "
                f"sweeps, then `{data.BITS_COMMAND}`.")
        return
    table, problems = data.load_bits(path)
    for problem in problems:
        st.warning(problem)
    if table is None:
        return
    st.markdown("Predicted: the smallest b with 2^(b−1) − 1 ≥ κ√d (`halp_core.bits_needed`). Measured: the "
                "smallest b from which HALP-b reaches f − f* ≤ 1e-10 within 2× SVRG's epochs (medians over "
                "seeds). Details and the rule: `docs/bits.md`.")
    ui.plot(figures.bits_figure(table), key="sw_bits")
    ui.table(data.bits_agreement(table))
    st.caption(f"Read from `{path}`.")


default = data.sweep_dir()
chosen = st.sidebar.text_input("Sweep folder", value="", key="sw_folder",
                               placeholder=str(default or "DIR"),
                               help="A folder written by `python -m halp_bench.sweep SPEC --out DIR`; "
                                    "empty: $HALP_SWEEPS, else sweeps-results/.")
folder = chosen.strip() or default
if folder is not None:   # a folder of several sweeps (sweeps-results/NAME): pick one
    options = data.sweep_folders(folder)
    folder = options[0] if len(options) == 1 else st.sidebar.selectbox(
        "Sweep", options, format_func=lambda path: path.name, key="sw_pick",
        help="The sweeps in this folder, newest first.")
if folder is None:
    st.info("No sweep folder yet.")
    st.markdown(HOW_TO)
    _bits_section()
    st.stop()

sweep, summary = _load(str(folder), data.fingerprint(folder))
st.caption(f"Reading `{folder}`: {len(summary)} runs.")
for problem in sweep.problems:
    st.warning(problem)
if sweep.spec:
    with st.expander("Spec (spec.toml)"):
        st.code(sweep.spec, language="toml")
if summary.empty:
    st.info("No runs in this folder yet.")
    st.markdown(HOW_TO)
    _bits_section()
    st.stop()

st.header("Epochs to a target")
params = [p for p in sweep.params if p != data.SEED]
moving = data.varying(summary, params)
axes = moving + [p for p in params if p not in moving]
left, middle, right = st.columns(3)
target = left.selectbox("Target f − f*", list(data.TARGETS), key="sw_target")
x = middle.selectbox("Columns", axes, key="sw_x", help="Parameters that vary come first.")
y = right.selectbox("Rows", [p for p in axes if p != x], key="sw_y")
others = [p for p in moving if p not in (x, y)]
fixed = {}
if others:
    st.markdown("The other parameters that vary, one value each:")
    columns = st.columns(min(len(others), 4))
    for i, param in enumerate(others):
        fixed[param] = columns[i % len(columns)].selectbox(param, data.values(summary[param]),
                                                           format_func=data.label, key=f"sw_fix_{param}")
chosen_runs = data.select(summary, fixed)
ui.plot(figures.heatmap_figure(data.heatmap(chosen_runs, x, y, target), x, y, target), key="sw_heatmap")
st.caption("Each cell: the median over seeds of the first epoch at or below the target; a run that "
           "never got there (or diverged) counts as not reached, so a grey cell means most seeds "
           "did not reach it. Blank: no run with those values.")

st.header("Convergence over seeds")
by = [p for p in (x, y) if p in moving]
history = sweep.runs[sweep.runs["run_id"].isin(chosen_runs["run_id"])]
bands = data.bands(history, by)
names = data.group_names(bands, by)
if names.nunique() > MAX_SERIES:
    shown = ui.pick_series("Groups drawn", list(dict.fromkeys(names)), [], key="sw_groups",
                           help=f"Up to {MAX_SERIES} read well in one panel.")
    bands = bands[names.isin(shown)]
ui.plot(figures.bands_figure(bands, by), key="sw_bands")
diverged = chosen_runs[chosen_runs["diverged"]]
if not diverged.empty:
    st.caption(f"Diverged ({len(diverged)} run(s), drawn up to their divergence): " + ", ".join(diverged["run_id"]))
stuck = chosen_runs[chosen_runs["verdict"] == "no progress"]
if not stuck.empty:
    st.caption(f"No progress ({len(stuck)} run(s): f − f*, ‖∇f‖ and ‖w − w*‖ stayed at their start): "
               + ", ".join(stuck["run_id"]))

st.header("Runs")
ui.table(summary)
st.download_button("Download the summary (CSV)", summary.to_csv(index=False), file_name="sweep-summary.csv",
                   mime="text/csv", key="sw_download")

st.header("Timings by machine")
st.markdown("Solver seconds per epoch (each run's total over its epochs); compare only within a machine.")
ui.table(data.timings(sweep.runs))

_bits_section()
