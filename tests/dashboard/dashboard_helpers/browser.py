"""Headless Chromium driven over the Chrome DevTools Protocol (CDP), for the real-browser test.

Waiting is done in real time by polling the page (a fixed `--virtual-time-budget` proved flaky on
a loaded machine: a Streamlit page renders only after its websocket round trips, which virtual
time does not wait for). The websocket client is `websockets`, a dependency of Streamlit.
"""

import base64
import itertools
import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from websockets.sync.client import connect

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1400,2600", "--remote-debugging-port=0"]
"""Chromium flags (headless without sandbox, GPU, shared memory, first-run or background network
tasks, a fixed window, and a debugging port chosen by Chromium)."""


class Chromium:
    """One headless Chromium with one page; `close()` kills its whole process group."""

    def __init__(self, binary, profile, timeout=60):
        """Start `binary` with a fresh `profile` directory and connect to its page (timeout in seconds)."""
        profile = Path(profile)
        self._proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        self._ids = itertools.count(1)
        self._stack = ExitStack()
        try:
            port = self._port(profile / "DevToolsActivePort", timeout)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                page = next(t for t in json.load(r) if t["type"] == "page")
            self._ws = self._stack.enter_context(
                connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout))
        except BaseException:
            self.close()
            raise

    def _port(self, path, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}")
            if path.exists() and path.read_text().strip():
                return int(path.read_text().split()[0])
            time.sleep(0.2)
        raise TimeoutError("chromium did not open its debugging port")

    def call(self, method, **params):
        """Send one CDP command and return its result (events in between are skipped)."""
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression):
        """Value of a JavaScript expression in the page."""
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def open(self, url):
        """Navigate the page to `url`."""
        self.call("Page.navigate", url=url)

    def wait_for(self, expression, timeout):
        """Poll a JavaScript expression until it is truthy; return whether it became so within `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.5)
        return False

    def html(self):
        """The page's current DOM as HTML."""
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path):
        """Write a PNG screenshot of the window to `path`."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        """Disconnect and kill Chromium's process group."""
        self._stack.close()
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
