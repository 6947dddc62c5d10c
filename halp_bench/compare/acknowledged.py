"""Acknowledged changes: benchmarks a commit is declared to change on purpose.

The declarations live in one file, `benchmarks/acknowledged.toml` (ACK_FILE), read only here:

    [[change]]
    commit = "1a2b3c4d"                      # a commit hash or a prefix of one (at least 7 hex digits)
    benchmark = "bench_kernels\\.Dot\\..*"    # regular expression, must match the whole asv name
    params = ".*"                            # optional regular expression on the params key,
                                             # e.g. "dtype=float32, level=L2" (default: any)
    reason = "dot now checks its arguments"  # required, shown in reports

The gate reports a regression or improvement as "acknowledged" when a declaration names a commit
of the compared range (BASE..HEAD, HEAD included), so a pull request acknowledges a change by
adding a declaration in a later commit. The dashboard applies it to the change into that commit.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from halp_bench.files import read_toml

ACK_FILE = Path("benchmarks") / "acknowledged.toml"
"""Where the declarations live, relative to the repository root."""

_HEX = re.compile(r"[0-9a-f]{7,40}")


@dataclass(frozen=True)
class Acknowledgement:
    """One declaration: commit (lower-case hex prefix), benchmark and params (compiled regular
    expressions, matched in full), reason (text)."""

    commit: str
    benchmark: re.Pattern
    params: re.Pattern
    reason: str

    def matches(self, commits, benchmark, params):
        """True when this declaration names one of `commits` (full hashes) and matches the
        benchmark name and params key."""
        return (any(c.startswith(self.commit) for c in commits)
                and self.benchmark.fullmatch(benchmark) is not None
                and self.params.fullmatch(params) is not None)


def _pattern(text, where):
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"{where}: not a regular expression ({exc}): {text!r}") from None


def load(path):
    """Declarations of an acknowledgement file (list of Acknowledgement); [] when it does not exist.

    A file that is unreadable, not UTF-8 or not TOML (FileFormatError, a ValueError), or an
    entry without commit / benchmark / reason, with an unknown
    key, a commit that is not 7 to 40 hex digits or a bad regular expression raises ValueError
    naming the file and the entry.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = read_toml(path)
    unknown = set(data) - {"change"}
    if unknown:
        raise ValueError(f"{path}: unknown table(s) {sorted(unknown)}; declarations are [[change]]")
    out = []
    for i, entry in enumerate(data.get("change", []), 1):
        where = f"{path}, [[change]] #{i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: not a table")
        missing = {"commit", "benchmark", "reason"} - set(entry)
        extra = set(entry) - {"commit", "benchmark", "params", "reason"}
        if missing or extra:
            raise ValueError(f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}")
        if not all(isinstance(entry[k], str) for k in entry):
            raise ValueError(f"{where}: every value must be a string")
        commit = entry["commit"].strip().lower()
        if not _HEX.fullmatch(commit):
            raise ValueError(f"{where}: commit must be 7 to 40 hex digits, got {entry['commit']!r}")
        if not entry["reason"].strip():
            raise ValueError(f"{where}: reason is empty")
        out.append(Acknowledgement(commit, _pattern(entry["benchmark"], where),
                                   _pattern(entry.get("params", ".*"), where), entry["reason"].strip()))
    return out


def find(acknowledgements, commits, benchmark, params):
    """The first declaration matching (see `Acknowledgement.matches`), or None."""
    return next((a for a in acknowledgements if a.matches(commits, benchmark, params)), None)
