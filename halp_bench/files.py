"""Read the files the project reads back (asv results, machine.json, benchmarks.json, gate
reports, run records, CSVs, TOML, sweep parts) with an error that names the file.

Every reader raises FileFormatError (a ValueError) when the file is not a regular file (a
directory, a named pipe, a dangling symlink or a symlink loop), cannot be read, is larger than
MAX_BYTES, is not UTF-8 or does not parse (truncated files included, and JSON nested deeper than
MAX_DEPTH); the message starts with the file's path and says where and why. The dashboard, which
must not raise, reads through `checked`: the message becomes a per-file problem.
"""

import json
import re
import stat
import tomllib
from pathlib import Path

import numpy as np

MAX_BYTES = 64 * 2**20
"""Largest file read (bytes): asv result files are tens of kB (a few MB with samples), a
reproduction CSV a few MB."""
MAX_DEPTH = 64
"""Deepest JSON nesting accepted: asv files nest 4 levels deep."""


class FileFormatError(ValueError):
    """A file the project reads that is missing, unreadable, not UTF-8 or not in its format; the
    message names the file."""


def checked(read, path, **options):
    """(read(path, **options), None), or (None, the FileFormatError's message) when the file cannot
    be used: the form of every reader for callers that report a bad file instead of raising."""
    try:
        return read(path, **options), None
    except FileFormatError as exc:
        return None, str(exc)


def read_bytes(path, limit=None):
    """The bytes of the regular file ``path``; FileFormatError naming it when it is not one (a
    directory, a pipe, a dangling symlink), is larger than ``limit`` bytes (default MAX_BYTES) or
    cannot be read."""
    path = Path(path)
    limit = MAX_BYTES if limit is None else limit
    try:
        info = path.stat()
    except OSError as exc:  # missing, dangling symlink, symlink loop, no permission on the folder
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileFormatError(f"{path}: not a regular file")
    if info.st_size > limit:
        raise FileFormatError(f"{path}: {info.st_size:,} bytes, more than the {limit:,} read; skipped")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise FileFormatError(f"{path}: grew beyond {limit:,} bytes while read; skipped")
    return data


def read_text(path, limit=None):
    """The UTF-8 text of ``path``; FileFormatError naming it when it is not UTF-8 (with the offset
    of the first bad byte), or see ``read_bytes``."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth(text):
    """Deepest bracket nesting of JSON ``text`` (brackets inside strings are not counted)."""
    codes = np.frombuffer(_STRING.sub("", text).encode(), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def read_json(path, limit=None, max_depth=None):
    """The parsed JSON of ``path`` (bare NaN / Infinity accepted, as asv writes them);
    FileFormatError naming the file, line and column when it is not JSON (a truncated file
    included), when it nests deeper than ``max_depth`` (default MAX_DEPTH), or see ``read_text``."""
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    text = read_text(path, limit)
    if _depth(text) > max_depth:
        raise FileFormatError(f"{path}: nests deeper than {max_depth} levels; skipped")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg})") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise FileFormatError(f"{path}: not JSON ({exc or type(exc).__name__})") from None


def read_toml(path):
    """The parsed TOML of ``path`` (a dict); FileFormatError naming the file when it is not
    TOML, or see ``read_text``."""
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(f"{path}: not valid TOML ({exc})") from None


def read_csv(path, **options):
    """``pandas.read_csv(path, **options)`` of a UTF-8 CSV; FileFormatError naming the file
    when it is empty, not UTF-8 or not CSV (rows of the wrong width, an unclosed quote), or see
    ``read_text``."""
    import io

    import pandas as pd

    text = read_text(path)
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileFormatError(f"{path}: not a CSV table ({exc})") from None
