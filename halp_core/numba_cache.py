"""Where Numba keeps compiled kernels.

Numba's on-disk cache (``cache=True``) is invalidated only when the file that defines a function
changes, yet our kernels inline helpers from other files (kernels.py, fixed_point.py, losses.py;
halp_bench's networks call halp_bench/nets/layers.py's): an edit there would leave stale machine
code in use. So, unless the user set NUMBA_CACHE_DIR, the cache lives in a folder named by a hash
of every source file of the project's packages (halp_core, and halp_bench beside it) that defines
Numba code (pure-Python modules such as registry.py do not count, so editing them recompiles
nothing).

Best-effort: empty NUMBA_CACHE_DIR / XDG_CACHE_HOME count as unset, and a folder that cannot be
created leaves Numba's own cache locations in place (its caching then only costs or saves time).
"""

import hashlib
from pathlib import Path

import numba.core.config

from . import validate

PACKAGES = ("halp_core", "halp_bench")
"""The project's packages (folders beside each other) whose Numba sources name the cache."""


def configure():
    """Point Numba's cache at $XDG_CACHE_HOME (default ~/.cache)/halp-bench/numba/<hash of
    the Numba sources of halp_core and halp_bench>, unless NUMBA_CACHE_DIR is set or that folder
    cannot be made."""
    if validate.env_path("NUMBA_CACHE_DIR"):
        return
    digest = hashlib.sha256()
    root = Path(__file__).parents[1]
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_bytes()
            if b"numba" in source:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(source)
    try:
        base = validate.env_path("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = base / "halp-bench" / "numba" / digest.hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError, KeyError):  # no home, read-only or not a folder
        return
    numba.core.config.CACHE_DIR = str(folder)
