"""Read the files the project reads back (asv results, machine.json, benchmarks.json, gate
reports, run records, CSVs, TOML) with an error that names the file.

Every reader raises FileFormatError (a ValueError) when the file cannot be read, is not UTF-8 or
does not parse (truncated files included); the message starts with the file's path and says
where and why. The dashboard, which must not raise, turns the message into a per-file problem.
"""

import json
import tomllib
from pathlib import Path


class FileFormatError(ValueError):
    """A file the project reads that is missing, unreadable, not UTF-8 or not in its format; the
    message names the file."""


def read_text(path):
    """The UTF-8 text of ``path``; FileFormatError naming it when it cannot be read or is not
    UTF-8 (with the offset of the first bad byte)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def read_json(path):
    """The parsed JSON of ``path`` (bare NaN / Infinity accepted, as asv writes them);
    FileFormatError naming the file, line and column when it is not JSON (a truncated file
    included), or see ``read_text``."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg})") from None
    except RecursionError:
        raise FileFormatError(f"{path}: not JSON (nested too deeply)") from None


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
