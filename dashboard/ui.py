"""Streamlit glue shared by the pages: where results come from, cached loading, warnings, links.

Results directories, all read together:
1. the repository's shipped results (`results/` at the repository root, or $HALP_SHIPPED_RESULTS);
2. directories given on the command line: `streamlit run dashboard/app.py -- --results DIR ...`;
3. directories in $HALP_RESULTS (separated by the OS path separator, ':' on Linux);
4. directories typed into the sidebar.
"""

import argparse
import os
import sys
from pathlib import Path

import streamlit as st

from dashboard import locations, tables
from dashboard.data import history
from dashboard.figures.style import default_series
from dashboard.pages import PAGES
from dashboard.results import NO_CPU, commit_url_prefix, fingerprint, load_results, machine_descriptions

ROOT = Path(__file__).resolve().parents[1]

HOW_TO = """
**How to add results.** Run the benchmarks with asv, then point the dashboard at the results
directory:

```bash
./run bench                                  # the project's own run (results/ at the repository root)
.venv/bin/asv run --set-commit-hash $(git rev-parse HEAD) -E existing   # or by hand, see docs/benchmarks.md
streamlit run dashboard/app.py -- --results /path/to/other/results      # more directories
HALP_RESULTS=/path/a:/path/b streamlit run dashboard/app.py             # or by environment variable
```

You can also type directories into the sidebar. A results directory is what asv writes: a
`benchmarks.json` and one folder per machine with `machine.json` and `<commit>-<env>.json` files.
"""


MAX_WARNINGS = 200
"""Most loader warnings listed in the sidebar (the count above them is always complete)."""


def shipped_dir():
    """The repository's shipped results directory ($HALP_SHIPPED_RESULTS, default `results/`)."""
    return locations.env_path("HALP_SHIPPED_RESULTS", ROOT / "results")


def cli_dirs(argv):
    """Directories passed as `--results DIR` (repeatable) in `argv`; other arguments are ignored."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--results", action="append", default=[])
    return parser.parse_known_args(argv)[0].results


def env_dirs():
    """Directories listed in $HALP_RESULTS."""
    return [d for d in os.environ.get("HALP_RESULTS", "").split(os.pathsep) if d.strip()]


@st.cache_data(show_spinner="Reading asv results…", max_entries=4)
def _load(dirs, stamp):
    """Cached `load_results(dirs)`; `stamp` (the files' sizes and times) makes it reload on change."""
    return load_results(dirs)


def load():
    """Results of every configured directory, with the sidebar that chooses and reports them.

    Returns (results, stamp): a `results.Results` and the change stamp to key further caches by.
    """
    extra = st.sidebar.text_area("More results directories (one per line)", key="extra_dirs",
                                 help="Any asv results directory; read together with the ones below.")
    dirs = [str(shipped_dir())] + cli_dirs(sys.argv[1:]) + env_dirs()
    dirs += [line.strip() for line in extra.splitlines() if line.strip()]
    dirs = list(dict.fromkeys(dirs))
    stamp = fingerprint(dirs)
    res = _load(tuple(dirs), stamp)
    st.sidebar.caption(f"{len(res.frame):,} results from {res.files} files in: " + ", ".join(dirs))
    if res.warnings:
        st.sidebar.warning(f"{len(res.warnings)} problem(s) reading the results; see below.")
        with st.sidebar.expander("Problems reading results"):
            for message in res.warnings[:MAX_WARNINGS]:
                st.warning(message)
            if len(res.warnings) > MAX_WARNINGS:
                st.caption(f"… and {len(res.warnings) - MAX_WARNINGS} more.")
    return res, stamp


def require_results(res):
    """Stop the page with an explanation of how to make results when there are none."""
    if res.frame.empty:
        st.info("No benchmark results found yet.")
        st.markdown(HOW_TO)
        st.stop()


@st.cache_data(max_entries=1)
def _remote_prefix():
    """`results.commit_url_prefix` of the repository (one git call per server)."""
    return commit_url_prefix(ROOT)


def commit_url():
    """Prefix for commit links, from the sidebar; its default comes from the repository's own git
    remote (`results.commit_url_prefix`), empty (plain hashes, no links) when it has none."""
    return st.sidebar.text_input("Commit link prefix", value=_remote_prefix(), key="commit_url",
                                 help="A commit's hash is appended to make its link; empty: no links. "
                                      "The default comes from this repository's git remote.")


def commits_table(frame, prefix, column="commit"):
    """Show `frame` (through `table`) with its full-hash `column` as links to the commits' pages
    (`prefix` + hash, shown by the short hash), or as plain short hashes when there is no prefix:
    links only to places that exist."""
    if not prefix:
        table(frame.assign(**{column: frame[column].str[:8]}))
        return
    link = st.column_config.LinkColumn(column, display_text=r"([0-9a-f]{8})[0-9a-f]*$")
    table(frame.assign(**{column: prefix + frame[column]}), column_config={column: link})


@st.cache_data(max_entries=8)
def step_regressions(_frame, stamp, threshold):
    """Cached `data.history.step_regressions` (keyed by the results' change stamp)."""
    return history.step_regressions(_frame, threshold)


def plot(fig, key):
    """Show a plotly figure full width with its own template (`figures.style.TEMPLATE`, distinct
    colours) instead of Streamlit's theme; every page draws through here."""
    st.plotly_chart(fig, key=key, theme=None, width="stretch")


def table(frame, **kwargs):
    """Show a table the way every page does: `tables.readable` (readable column names, short
    environment names, no empty columns), without the index; `kwargs` go to st.dataframe (column
    names in a column_config are the readable ones)."""
    st.dataframe(tables.readable(frame), hide_index=True, **kwargs)


def link(url_path, label):
    """A link to the dashboard page whose url_path (`dashboard.pages.PAGES`) is `url_path`,
    relative to the page showing it (every page lives at the app's top level), so that it holds
    under any base URL the server is given."""
    if url_path not in {url for _, _, url in PAGES}:
        raise ValueError(f"no dashboard page at {url_path!r}; pages: {[url for _, _, url in PAGES]}")
    st.markdown(f"[{label} →]({url_path})")


def pick_series(label, options, preferred, key, **kwargs):
    """Multiselect of the series a figure draws: `options` (names, in legend order), by default
    `style.default_series(options, preferred)` (at most MAX_SERIES, so a panel stays readable);
    `kwargs` go to st.multiselect (format_func, help). Returns the chosen names."""
    return st.multiselect(label, options, default=default_series(options, preferred), key=key, **kwargs)


def pick_machines(frame, key, machines, default=None):
    """Multiselect of machines, each shown with its CPU description (`machines`:
    `Results.machines`, see `results.machine_descriptions`); returns `frame` restricted to the
    chosen ones. default: the machines chosen first (those of `frame` among them; all when None
    or none is)."""
    names = sorted(frame["machine"].unique())
    described = machine_descriptions(machines)
    first = [m for m in names if m in (default or ())] or names
    chosen = st.multiselect("Machines", names, default=first, key=key,
                            format_func=lambda m: f"{m} ({described.get(m, NO_CPU)})")
    return frame[frame["machine"].isin(chosen)]
