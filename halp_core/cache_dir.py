"""Where halp_core caches downloaded data and reference optima (imported by problems and datasets,
so neither imports the other for it)."""

from pathlib import Path

from . import validate


class CacheWarning(RuntimeWarning):
    """A cache folder could not be written: the result stands, only the next run is slower."""


def data_dir():
    """Cache folder (a Path) for downloaded data and reference optima: $HALP_DATA_DIR (unless
    empty), else ~/.cache/halp-bench. Caching is best-effort: an unwritable folder costs time,
    not data."""
    return validate.env_path("HALP_DATA_DIR") or Path.home() / ".cache" / "halp-bench"
