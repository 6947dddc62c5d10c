"""Where Numba keeps compiled kernels.

Numba's on-disk cache (``cache=True``) is invalidated only when the file that defines a function
changes, yet our kernels inline helpers from other files (kernels.py, fixed_point.py, losses.py):
an edit there would leave stale machine code in use. So, unless the user set NUMBA_CACHE_DIR, the
cache lives in a folder named by a hash of every halp_core source file that defines Numba code
(pure-Python modules such as reproduce.py do not count, so editing them recompiles nothing).
"""

import hashlib
import os
from pathlib import Path

import numba.core.config


def configure():
    """Point Numba's cache at ~/.cache/halp-bench/numba/<hash of halp_core's Numba sources>."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source = path.read_bytes()
        if b"numba" in source:
            digest.update(path.name.encode())
            digest.update(source)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    numba.core.config.CACHE_DIR = str(base / "halp-bench" / "numba" / digest.hexdigest()[:16])
