"""Where the dashboard looks for what it shows: folders an environment variable may override."""

import os
from pathlib import Path


def env_path(variable, default):
    """Path($variable), or ``default`` when the variable is unset, empty or blank (an empty value
    would otherwise name the current directory)."""
    value = os.environ.get(variable, "").strip()
    return Path(value) if value else Path(default)
