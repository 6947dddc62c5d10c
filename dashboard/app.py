"""halp-bench dashboard: `streamlit run dashboard/app.py [-- --results DIR ...]`. Runs the pages of
`dashboard.pages.PAGES`."""

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # pages import `dashboard.*` however streamlit was started
    sys.path.insert(0, str(ROOT))

from dashboard.pages import HOME, PAGES  # noqa: E402  (after the sys.path fix above)

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="halp-bench", layout="wide")
pages = [st.Page(HERE / path, title=title, url_path=url) for path, title, url in PAGES]
# Streamlit serves its default page at "/" only and answers the default page's own path with "Page
# not found". So the default is a hidden copy of the first page (at "/"), and every page of PAGES,
# the first included, answers at its own path (/overview).
path, title, _ = PAGES[0]
home = st.Page(HERE / path, title=title, url_path=HOME, default=True, visibility="hidden")
page = st.navigation([home] + pages)
page.run()
