"""Run a child process under a resident-memory cap: a watchdog thread polls /proc/<pid>/status and
kills the child's process group as soon as its resident set (VmRSS) exceeds the cap.

Linux only (/proc). RLIMIT_AS would also work for the pages (checked: they run under a 2 GiB
address-space limit), but it limits address space rather than memory in use, so the watchdog
measures what the cap means: resident memory.
"""

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

CAP = 2 * 2**30
"""Default cap: 2 GiB of resident memory."""


def status_kib(pid, field):
    """`field` (e.g. 'VmRSS', 'VmHWM') of /proc/<pid>/status in KiB; None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


@dataclass
class Capped:
    """Outcome of `run_capped`: returncode, output (stdout + stderr), peak_rss (largest VmRSS seen,
    bytes), killed ('memory' or 'timeout' when the watchdog killed the child, else None)."""

    returncode: int
    output: str
    peak_rss: int
    killed: str | None


class Watchdog:
    """Polls a running process's VmRSS every `interval` s and kills its process group above `cap`
    bytes (the process must lead its own group: start it with start_new_session=True)."""

    def __init__(self, proc, cap=CAP, interval=0.05):
        self.proc, self.cap, self.interval = proc, cap, interval
        self.peak_rss, self.killed = 0, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._stop.is_set() and self.proc.poll() is None:
            rss = status_kib(self.proc.pid, "VmRSS")
            if rss is not None:
                self.peak_rss = max(self.peak_rss, rss * 1024)
                if rss * 1024 > self.cap:
                    self.kill("memory")
                    return
            time.sleep(self.interval)

    def kill(self, reason):
        """Kill the process group (once) and record why."""
        if self.killed is None:
            self.killed = reason
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        """Stop polling (the process is left alone)."""
        self._stop.set()
        self._thread.join()


def run_capped(args, env=None, cap=CAP, timeout=600, cwd=None):
    """Run `args` to completion with its resident memory capped at `cap` bytes and its wall time
    at `timeout` s; returns a `Capped`."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    dog = Watchdog(proc, cap)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        dog.kill("timeout")
        output, _ = proc.communicate()
    dog.stop()
    return Capped(proc.returncode, output, dog.peak_rss, dog.killed)
