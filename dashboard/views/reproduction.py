"""Reproduction: the paper's experiments as rerun by the reproduction command (`data.COMMAND`) and the
networks' command (`data.NETS_COMMAND`), read from a folder."""

import streamlit as st

from dashboard import ui
from dashboard.data import reproduction as data
from dashboard.figures.style import MAX_SERIES

COMMAND = f"""
```bash
{data.COMMAND} --out results-reproduction           # full run
{data.COMMAND} --quick --out results-reproduction   # CI size
{data.NETS_COMMAND} --out results-reproduction        # the networks (deep learning), full run
{data.NETS_COMMAND} --quick --out results-reproduction   # CI size
```

Each run writes its own wall time into its `summary.md` and `nets_run.json` (shown below for the
folder read here); docs/reproduction.md records measured full-run times.
"""


@st.cache_data(max_entries=4)
def _load(folder, stamp):
    """Cached `data.reproduction.load(folder)`; `stamp` (the files' sizes and times) reloads on change."""
    return data.load(folder)


def _figures():
    """The page's figure module (halp_bench.reproduce's figures); None when halp_core is not importable."""
    try:
        from dashboard.figures import reproduction
    except ImportError as exc:
        st.warning(f"halp_core is not importable here, so figures are off: {exc}")
        return None
    return reproduction


def _chart(make, name, key):
    """Show the figure `make()` builds from the CSV file `name`; a warning naming the file instead
    when halp_core's figure function fails on this data (its code, another team's, is not ours to
    trust with any folder a user points at)."""
    try:
        fig = make()
    except Exception as exc:  # noqa: BLE001  any failure of the external figure code becomes a warning
        st.warning(f"{name}: the figure could not be drawn from this data ({type(exc).__name__}: {exc})")
    else:
        ui.plot(fig, key=key)


def _runs(table, key, preferred=data.DEFAULT_LABELS):
    """The run labels of `table` a person chose to draw (`ui.pick_series`, default: those of
    `preferred` present, else the first MAX_SERIES in file order)."""
    return ui.pick_series("Runs", list(dict.fromkeys(table["label"].astype(str))), preferred, key=key,
                          help=f"Up to {MAX_SERIES} read well in one panel.")


def _networks(rep):
    """`data.networks(rep.nets)`: (rule, networks), or None with a warning when the tables cannot be
    built here (halp_bench.nets not importable, or its code failing on this folder's data)."""
    try:
        return data.networks(rep.nets)
    except ImportError as exc:
        st.warning(f"halp_bench.nets is not importable here, so the networks' tables and figures are "
                   f"off ({exc}); the run's own summary ({data.NETS_SUMMARY}) follows where there is one.")
    except Exception as exc:  # noqa: BLE001  any failure of the external table code becomes a warning
        st.warning(f"{data.TABLES['nets']}: the tables could not be built from this data "
                   f"({type(exc).__name__}: {exc}); the run's own summary ({data.NETS_SUMMARY}) follows "
                   "where there is one.")
    return None


def _network(net, figures):
    """One network's part of the deep-learning section: failed runs, curves, tables."""
    st.subheader(net.title)
    if net.failed:
        st.warning(f"{len(net.failed)} run(s) of {net.title} failed; their histories stop where they "
                   "diverged:\n\n" + "\n".join(f"- {line}" for line in net.failed))
    if figures is not None:
        runs = _runs(net.histories, f"rp_nets_{net.name}", preferred=())
        _chart(lambda: figures.network_figure(net.histories, net.title, runs), data.TABLES["nets"],
               f"nets_{net.name}")
    st.markdown("Final validation accuracy of every run: median and 5–95% over seeds.")
    ui.table(net.accuracy)
    if net.verdicts.empty:
        st.caption("No precision with both HALP and LP-SGD runs: no verdict.")
    else:
        st.markdown("HALP against LP-SGD at each precision (final validation accuracy):")
        ui.table(net.verdicts)


def _deep_learning(rep, figures):
    """The section of the deep-learning claim: HALP against LP-SGD on the networks of nets.csv; the
    run's own summary (nets.md) where the tables cannot be built from it."""
    st.header("Deep learning: HALP against LP-SGD")
    if not rep.nets_ran:
        st.info(f"The networks were not run for this folder: `{data.NETS_COMMAND} --out DIR` trains "
                f"LeNet-5 and the LSTM tagger with every method into DIR (`--quick`: the CI size).")
        return
    if rep.nets_run:
        st.markdown(data.run_sentence(rep.nets_run))
    if rep.nets is None:
        st.warning(f"{data.TABLES['nets']} could not be used (see above); the run's own summary "
                   f"({data.NETS_SUMMARY}) follows where there is one.")
    results = None if rep.nets is None else _networks(rep)
    if results is None:
        if rep.nets_summary:
            st.markdown(rep.nets_summary)
        return
    rule, networks = results
    st.markdown(f"Verdict rule: {rule}")
    for net in networks:
        _network(net, figures)


st.title("Reproduction")
st.markdown("The HALP paper's experiments rerun with `halp_core`: convex problems (synthetic least "
            "squares, MNIST multinomial and binary logistic regression) with SGD, SVRG, LP-SGD, "
            "LP-SVRG and HALP in fixed point (8 to 16 bits) and LP-SGD and HALP in the float formats "
            "bf16, fp16, fp8-e4m3 and fp8-e5m2 (all on the same 8-bit data), a μ sweep of HALP's bit "
            "centering, a small MLP on MNIST, and the deep-learning claim: LeNet-5 on Fashion-MNIST "
            "and an LSTM tagger on the Brown corpus, HALP against LP-SGD. "
            "The shipped folder is a `--quick` sample; run the command for the full sizes:")
st.markdown(COMMAND)

shipped = str(data.shipped_dir())
chosen = st.sidebar.text_input("Reproduction folder", value="", key="rp_folder",
                               placeholder=shipped,
                               help=f"A folder written by `{data.COMMAND} --out DIR` (and "
                                    f"`{data.NETS_COMMAND} --out DIR`); empty: the shipped sample.")
folder = chosen.strip() or shipped
rep = _load(folder, data.fingerprint(folder))
st.caption(f"Reading `{folder}`.")
for problem in rep.problems:
    st.warning(problem)
if rep.empty:
    st.info("No reproduction outputs in this folder yet.")
    st.stop()

figures = _figures()

st.header("Summary")
if rep.summary:
    st.markdown(rep.summary)

if rep.convex is not None:
    st.header("Convex problems")
    st.markdown("Final f − f* of every run, median over seeds: fixed-point rows (precision in bits) "
                "and float-format rows (bf16, fp16, fp8) side by side.")
    finals = data.final_table(rep.convex)
    problems = [c for c in finals.columns if c not in ("solver", "precision")]
    ui.table(finals.assign(**{p: finals[p].map(lambda v: "—" if v != v else f"{v:.2e}") for p in problems}))
if rep.convex is not None and figures is not None:
    st.markdown("f − f* and ‖∇f‖ on a log scale against epochs and against solver seconds. HALP uses "
                "μ = \"auto\"; dotted lines are 16-bit runs, dashed lines float-format runs.")
    runs = _runs(rep.convex, "rp_convex")
    for problem in dict.fromkeys(rep.convex["problem"]):
        _chart(lambda: figures.convex_figure(rep.convex, problem, runs), data.TABLES["convex"], f"convex_{problem}")

if rep.sweep is not None and figures is not None:
    st.header("μ robustness")
    st.markdown("HALP-8 with fixed μ = μ_min × 2^j and the automatic rule: epochs to f − f* ≤ 1e-10 "
                "and saturated (clamped) updates.")
    _chart(lambda: figures.mu_sweep_figure(rep.sweep), data.TABLES["sweep"], "mu_sweep")
    ui.table(rep.sweep)

if rep.mlp is not None and figures is not None:
    st.header("MLP on MNIST (nonconvex)")
    methods = _runs(rep.mlp, "rp_mlp")
    _chart(lambda: figures.mlp_figure(rep.mlp, methods), data.TABLES["mlp"], "mlp")

_deep_learning(rep, figures)
