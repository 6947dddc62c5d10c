"""Real browser: `streamlit run dashboard/app.py` on a free local port, every page opened in headless
Chromium, each must render a plotly chart. Screenshots go to artifacts/screenshots/ (test artifacts).

Runs in CI (CI=true), where a missing Chromium is a failure; elsewhere it skips only without Chromium.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from dashboard_helpers import APP, FIXTURES, ROOT

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PAGES = {"": "Headline: HALP 8-bit vs SVRG", "speedups": "Speedup vs bit width",
         "convergence": "Suboptimality vs epoch", "history": "Two-commit comparison",
         "machines": "Performance relative to the baseline machine"}
"""url_path (the default page, Overview, is at '/') -> text that page must show."""
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars", "--window-size=1400,2600",
                  "--virtual-time-budget=20000"]
PLOTLY = 'class="js-plotly-plot"'


def chromium():
    """Path of the Chromium binary; skip (fail in CI) when there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: `./run test` installs it (Debian package chromium).")
        pytest.skip("Chromium is not installed (./run test installs it)")
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, proc, timeout=90):
    """Poll /_stcore/health until it answers 'ok'; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy within {timeout} s")


@pytest.fixture(scope="module")
def browser():
    return chromium()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """Base URL of a streamlit server on the fixtures, bound to 127.0.0.1; always stopped afterwards."""
    port = free_port()
    env = dict(os.environ, HALP_SHIPPED_RESULTS=str(FIXTURES))
    env.pop("HALP_RESULTS", None)
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        server_log = log.read()
        log.close()
        assert "Traceback" not in server_log, server_log


def render(browser, url, screenshot, profile):
    """DOM of `url` after Chromium ran it headless; also writes a PNG screenshot."""
    out = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                          f"--screenshot={screenshot}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    return out.stdout


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_a_plotly_chart_in_chromium(browser, server, page, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{page or 'overview'}.png"
    shot.unlink(missing_ok=True)
    # The first run of a page in a fresh server process can outlast the virtual-time budget
    # (imports, reading the results), so look up to three times before failing.
    for attempt in range(3):
        dom = render(browser, f"{server}/{page}", shot, tmp_path / f"profile-{attempt}")
        if PLOTLY in dom and PAGES[page] in dom:
            break
    assert PLOTLY in dom, f"{page}: no plotly chart in the DOM after 3 tries"
    assert PAGES[page] in dom
    assert 'data-testid="stException"' not in dom
    assert "Page not found" not in dom
    assert shot.stat().st_size > 20_000
