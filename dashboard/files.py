"""Guarded reading of the files the dashboard shows (plain Python, no Streamlit).

Every reader here returns (content, problem): content is None and problem a readable sentence
naming the file when the file cannot be used. Nothing here raises on a bad file: not a regular
file, a dangling symlink or a symlink loop, unreadable, larger than MAX_BYTES, not UTF-8, not JSON,
or JSON nested deeper than MAX_DEPTH.
"""

import json
import os
import re
import stat
from pathlib import Path

import numpy as np

MAX_BYTES = 64 * 2**20
"""Largest file read (bytes): asv result files are tens of kB, a reproduction CSV a few MB."""
MAX_DEPTH = 64
"""Deepest JSON nesting accepted: asv files nest 4 levels deep."""


def read_bytes(path, limit=None):
    """(bytes, None) of the regular file `path`, or (None, problem) when it is not one, is larger
    than `limit` bytes (default MAX_BYTES) or cannot be read."""
    path = Path(path)
    limit = MAX_BYTES if limit is None else limit
    try:
        info = path.stat()
    except OSError as exc:  # missing, dangling symlink, symlink loop, no permission on the folder
        return None, f"{path} cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return None, f"{path} is not a regular file"
    if info.st_size > limit:
        return None, f"{path} is {info.st_size:,} bytes, more than the {limit:,} read; skipped"
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        return None, f"{path} cannot be read: {exc.strerror or exc}"
    if len(data) > limit:
        return None, f"{path} grew beyond {limit:,} bytes while read; skipped"
    return data, None


def read_text(path, limit=None):
    """(str, None) of the UTF-8 text file `path`, or (None, problem); see `read_bytes`."""
    data, problem = read_bytes(path, limit)
    if problem:
        return None, problem
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})"


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth(text):
    """Deepest bracket nesting of JSON `text` (brackets inside strings are not counted)."""
    codes = np.frombuffer(_STRING.sub("", text).encode(), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def read_json(path, limit=None, max_depth=None):
    """(parsed JSON, None) of `path` (bare NaN / Infinity accepted, as asv writes them), or
    (None, problem) when it is unreadable (see `read_text`), not JSON or nested deeper than
    `max_depth` (default MAX_DEPTH)."""
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    text, problem = read_text(path, limit)
    if problem:
        return None, problem
    if _depth(text) > max_depth:
        return None, f"{path} nests deeper than {max_depth} levels; skipped"
    try:
        return json.loads(text), None
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"{path} is not valid JSON: {exc}"


def env_path(variable, default):
    """Path($variable), or ``default`` when the variable is unset, empty or blank (an empty value
    would otherwise name the current directory)."""
    value = os.environ.get(variable, "").strip()
    return Path(value) if value else Path(default)
