"""Measure the set-up a new user goes through: a fresh clone of HEAD, no pip cache, `./run setup`.

    python -m tools.measure_setup          # writes docs/setup-time.json (README quotes it)

The clone lives in a temporary folder and is removed afterwards; the project's own .venv is not
touched. The record holds the command, its wall time in seconds, the commit and the machine.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from halp_bench.machine import cpu_description

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "setup-time.json"
COMMAND = "PIP_NO_CACHE_DIR=1 ./run setup"


def measure():
    """Run COMMAND in a fresh clone of HEAD; returns the record (dict) written to RECORD."""
    commit = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env["PIP_NO_CACHE_DIR"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "halp-bench"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        subprocess.run(["./run", "setup"], cwd=clone, env=env, check=True)
        seconds = time.perf_counter() - start
    return {"command": COMMAND, "wall_seconds": round(seconds, 1), "commit": commit,
            "machine": cpu_description()}


def main():
    record = measure()
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
