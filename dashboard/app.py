"""halp-bench dashboard: `streamlit run dashboard/app.py [-- --results DIR ...]`. Runs the pages of
`dashboard.pages.PAGES`."""

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # pages import `dashboard.*` however streamlit was started
    sys.path.insert(0, str(ROOT))

from dashboard.pages import PAGES  # noqa: E402  (after the sys.path fix above)

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="halp-bench", layout="wide")
page = st.navigation([st.Page(HERE / path, title=title, url_path=url, default=i == 0)
                      for i, (path, title, url) in enumerate(PAGES)])
page.run()
