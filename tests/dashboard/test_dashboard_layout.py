"""The dashboard's layout: one name per page across views/, data/ and figures/, and Streamlit only
in the view layer (views/, app.py, ui.py)."""

import ast

from dashboard_helpers import ROOT

from dashboard.pages import PAGES

DASHBOARD = ROOT / "dashboard"
VIEW_LAYER = ("views", "app.py", "ui.py")
"""Paths under dashboard/ that may import Streamlit."""
NAMES = {url for _, _, url in PAGES}


def imported(path):
    """Top-level package of every module `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_nothing_below_the_view_layer_imports_streamlit():
    below = [p for p in sorted(DASHBOARD.rglob("*.py"))
             if p.relative_to(DASHBOARD).parts[0] not in VIEW_LAYER]
    assert len(below) > 10
    offenders = [str(p.relative_to(ROOT)) for p in below if "streamlit" in imported(p)]
    assert not offenders, offenders


def test_every_page_has_a_view_named_after_it():
    assert [path for path, _, _ in PAGES] == [f"views/{url}.py" for _, _, url in PAGES]
    assert {p.stem for p in (DASHBOARD / "views").glob("*.py")} == NAMES


SHARED = {"figures": {"style"}}
"""Modules of a folder that several pages share rather than one page's: the figures' theme."""


def test_data_and_figure_modules_are_named_after_pages():
    for folder in ("data", "figures"):
        stems = {p.stem for p in (DASHBOARD / folder).glob("*.py") if not p.stem.startswith("_")}
        assert stems - SHARED.get(folder, set()) <= NAMES, (folder, stems - NAMES)
