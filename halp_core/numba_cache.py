"""Where Numba keeps compiled kernels.

Numba's on-disk cache (``cache=True``) is invalidated only when the file that defines a function
changes, yet our kernels inline helpers from other files (kernels.py, fixed_point.py, losses.py):
an edit there would leave stale machine code in use. So, unless the user set NUMBA_CACHE_DIR, the
cache lives in a folder named by a hash of every halp_core source file that defines Numba code
(pure-Python modules such as registry.py do not count, so editing them recompiles nothing).

Best-effort: empty NUMBA_CACHE_DIR / XDG_CACHE_HOME count as unset, and a folder that cannot be
created leaves Numba's own cache locations in place (its caching then only costs or saves time).
"""

import hashlib
from pathlib import Path

import numba.core.config

from . import validate


def configure():
    """Point Numba's cache at $XDG_CACHE_HOME (default ~/.cache)/halp-bench/numba/<hash of
    halp_core's Numba sources>, unless NUMBA_CACHE_DIR is set or that folder cannot be made."""
    if validate.env_path("NUMBA_CACHE_DIR"):
        return
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        source = path.read_bytes()
        if b"numba" in source:
            digest.update(str(path.relative_to(Path(__file__).parent)).encode())
            digest.update(source)
    try:
        base = validate.env_path("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = base / "halp-bench" / "numba" / digest.hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError, KeyError):  # no home, read-only or not a folder
        return
    numba.core.config.CACHE_DIR = str(folder)
