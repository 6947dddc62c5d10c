"""Render dashboard pages with Streamlit's AppTest in this process and print one JSON report.

    python tests/dashboard/dashboard_helpers/render_pages.py PAGE [PAGE ...]

PAGE is a path under dashboard/ (e.g. views/history.py) or 'all' for every page of
dashboard.pages.PAGES. The results and reproduction folders come from the environment
($HALP_SHIPPED_RESULTS, $HALP_RESULTS, $HALP_REPRODUCTION), as for the app. The last line printed is
JSON: {"pages": {page: {"seconds", "exceptions", "warnings", "charts", "metrics"}}, "vm_hwm": bytes}, where
warnings are the texts of every st.warning (sidebar included) and vm_hwm is this process's peak
resident memory.
"""

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard.pages import PAGES  # noqa: E402

APP = ROOT / "dashboard" / "app.py"


def render(page):
    """Report of one page: seconds, exception messages, warning texts, number of plotly charts and
    metrics (label -> value)."""
    start = time.perf_counter()
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.switch_page(page)
    at.run()
    return {"seconds": time.perf_counter() - start,
            "exceptions": [e.value for e in at.exception],
            "warnings": [w.value for w in at.warning] + [w.value for w in at.sidebar.warning],
            "charts": len(at.get("plotly_chart")),
            "metrics": {m.label: m.value for m in at.metric}}


def vm_hwm():
    """Peak resident memory of this process in bytes (VmHWM of /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main(pages):
    pages = [p for p, _, _ in PAGES] if pages == ["all"] else pages
    report = {"pages": {page: render(page) for page in pages}}
    report["vm_hwm"] = vm_hwm()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
