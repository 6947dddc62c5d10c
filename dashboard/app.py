"""halp-bench dashboard: `streamlit run dashboard/app.py [-- --results DIR ...]`. Declares the pages."""

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # pages import `dashboard.*` however streamlit was started
    sys.path.insert(0, str(ROOT))

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="halp-bench", layout="wide")
page = st.navigation([
    st.Page(VIEWS / "overview.py", title="Overview", url_path="overview", default=True),
    st.Page(VIEWS / "speedups.py", title="Speedups", url_path="speedups"),
    st.Page(VIEWS / "performance.py", title="Bandwidth and threads", url_path="performance"),
    st.Page(VIEWS / "convergence.py", title="Convergence", url_path="convergence"),
    st.Page(VIEWS / "history.py", title="History and regressions", url_path="history"),
    st.Page(VIEWS / "machines.py", title="Machines", url_path="machines"),
    st.Page(VIEWS / "peers.py", title="Peers", url_path="peers"),
    st.Page(VIEWS / "reproduction.py", title="Reproduction", url_path="reproduction"),
])
page.run()
