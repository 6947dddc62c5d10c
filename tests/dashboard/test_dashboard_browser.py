"""Real browser: `streamlit run dashboard/app.py` on a free local port, every page opened in headless
Chromium (Sweeps on a synthetic sweep folder), each must render a plotly chart; and every page of
dashboard.pages.PAGES on the shipped results/ and docs/reproduction/, each server's resident memory
capped at 2 GiB (killed above it). Screenshots go to artifacts/screenshots/ (test artifacts).

Runs in CI (CI set), where a missing Chromium is a failure; elsewhere it skips only without Chromium.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from dashboard_helpers import APP, FIXTURES, ROOT
from dashboard_helpers.browser import Chromium
from dashboard_helpers.memory import CAP, Watchdog, status_kib
from dashboard_helpers.sweeps import write_sweep

from dashboard.data import overview as overview_data
from dashboard.pages import PAGES as APP_PAGES
from dashboard.results import load_results

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PAGES = {"overview": ("", "How much faster?"),
         "speedups": ("speedups", "Speedup vs bit width"),
         "performance": ("performance", "Thread scaling"),
         "convergence": ("convergence", "Suboptimality vs epoch"),
         "history": ("history", "Two-commit comparison"),
         "machines": ("machines", "Performance relative to the baseline machine"),
         "reproduction": ("reproduction", "Convex problems"),
         "peers": ("peers", "Where we stand"),
         "sweeps": ("sweeps", "Convergence over seeds")}
"""page -> (url path; the default page, Overview, is at '/'), text that page must show)."""
RENDERED = ("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
            "document.body.innerText.includes({text!r}) && "
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')")
"""JavaScript: a plotly chart was drawn, the page's text is there, and the script finished running."""
HEADED = ("[...document.querySelectorAll('h1')].some(h => h.innerText.includes({text!r})) && "
          "!document.querySelector('[data-testid=\"stStatusWidget\"]')")
"""JavaScript: the page's title is shown and the script finished running."""
H1 = {url: "halp-bench results" if url == "overview" else title for _, title, url in APP_PAGES}
"""url path -> the page's st.title (the Overview page titles itself after the project)."""


def chromium_binary():
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
def browser(tmp_path_factory):
    """One headless Chromium with a fresh profile, killed afterwards."""
    chrome = Chromium(chromium_binary(), tmp_path_factory.mktemp("chromium-profile"))
    yield chrome
    chrome.close()


@contextlib.contextmanager
def streamlit_server(log_dir, shipped, sweeps=None):
    """Base URL of a streamlit server reading the results directory ``shipped`` (and the shipped
    docs/reproduction/, and the sweep folder ``sweeps`` when given), bound to 127.0.0.1, its resident
    memory capped at 2 GiB by a watchdog; always stopped afterwards. Its log must hold no traceback and its peak memory (VmHWM) must
    stay under the cap."""
    port = free_port()
    env = dict(os.environ, HALP_SHIPPED_RESULTS=str(shipped))
    env.pop("HALP_RESULTS", None)
    env.pop("HALP_REPRODUCTION", None)
    env.pop("HALP_SWEEPS", None)
    if sweeps is not None:
        env["HALP_SWEEPS"] = str(sweeps)
    log_path = log_dir / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    dog = Watchdog(proc, CAP)
    peak = None
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:
        peak = status_kib(proc.pid, "VmHWM")
        dog.stop()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert dog.killed is None, f"streamlit server killed above {CAP / 2**30:.0f} GiB"
    assert peak is not None and peak * 1024 < CAP, peak
    print(f"\nstreamlit server reading {shipped}: peak resident memory {peak / 1024:.0f} MiB")
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


@pytest.fixture(scope="module")
def servers(browser, tmp_path_factory):
    """page -> server URL: the fixtures (and a synthetic sweep folder) for every page; the repository's
    own results for Peers (the fixtures have no bench_peers results); 'shipped' -> the server of the
    repository's own results."""
    sweep = write_sweep(tmp_path_factory.mktemp("sweep") / "sweep")
    with streamlit_server(tmp_path_factory.mktemp("streamlit"), FIXTURES, sweep) as fixtures_url, \
            streamlit_server(tmp_path_factory.mktemp("streamlit"), ROOT / "results") as shipped_url:
        urls = {page: shipped_url if page == "peers" else fixtures_url for page in PAGES}
        yield dict(urls, shipped=shipped_url)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_a_plotly_chart_in_chromium(browser, servers, page):
    path, text = PAGES[page]
    server = servers[page]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{page}.png"
    shot.unlink(missing_ok=True)
    browser.open(f"{server}/{path}")
    rendered = browser.wait_for(RENDERED.format(text=text), timeout=90)
    time.sleep(1)  # let plotly finish drawing before the screenshot
    browser.screenshot(shot)
    dom = browser.html()
    assert rendered, f"{page}: no plotly chart with {text!r} within 90 s (see {shot})"
    assert 'class="js-plotly-plot"' in dom
    assert 'data-testid="stException"' not in dom
    assert "Page not found" not in dom
    assert shot.stat().st_size > 20_000


@pytest.mark.parametrize("url", ["", *H1])
def test_every_page_renders_the_shipped_data_in_chromium_at_its_url(browser, servers, url):
    """Every page of the app's page list on the shipped results/ and docs/reproduction/, opened at
    its own URL path (the first page also at "/")."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"shipped-{url or 'root'}.png"
    shot.unlink(missing_ok=True)
    title = H1[url or APP_PAGES[0][2]]
    browser.open(f"{servers['shipped']}/{url}")
    rendered = browser.wait_for(HEADED.format(text=title), timeout=90)
    time.sleep(1)
    browser.screenshot(shot)
    dom = browser.html()
    assert rendered, f"/{url}: title {title!r} not shown or script still running after 90 s (see {shot})"
    assert 'data-testid="stException"' not in dom
    assert "Page not found" not in dom and "does not exist" not in dom


def test_the_first_screen_answers_the_three_questions_on_the_shipped_results(browser, servers):
    """The Overview at "/" shows, for every machine of the shipped results, the three answers, each
    with its number and a link to the page with the detail."""
    machines = overview_data.machines(load_results([ROOT / "results"]).frame)
    browser.open(f"{servers['shipped']}/")
    last = "Did the last commit make anything slower?"
    assert browser.wait_for(f"document.body.innerText.split({last!r}).length > {len(machines)} && "
                            + HEADED.format(text=H1[APP_PAGES[0][2]]), timeout=90)
    text = browser.evaluate("document.body.innerText")
    for question in ("How much faster?", "Does it still converge?", last):
        assert text.count(question) == len(machines), question
    links = browser.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert {"/speedups", "/convergence", "/history"} <= {"/" + h.rsplit("/", 1)[-1] for h in links if h}


def test_the_report_opens_in_chromium_without_a_server(browser, tmp_path):
    """`./run report`'s file, opened from disk: every figure drawn by the inline plotly.js, the
    three answers shown. The file is kept as a test artifact beside the screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS.parent / "report.html"
    subprocess.run([sys.executable, "-m", "dashboard.report", "--out", str(out)], cwd=ROOT, check=True)
    browser.open(out.as_uri())
    divs = "[...document.querySelectorAll('.plotly-graph-div')]"
    drawn = f"{divs}.length > 0 && {divs}.every(d => d.querySelector('.main-svg'))"
    assert browser.wait_for(drawn, timeout=60), browser.evaluate(
        f"{divs}.map(d => d.id + ': ' + (d.querySelector('.main-svg') ? 'drawn' : 'not drawn'))")
    browser.screenshot(SCREENSHOTS / "report.png")
    text = browser.evaluate("document.body.innerText")
    assert "How much faster?" in text and "Did the last commit make anything slower?" in text
    assert "http" not in browser.evaluate(
        "[...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href).join(' ')")
