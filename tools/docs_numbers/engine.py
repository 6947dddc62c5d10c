"""The block engine: find the generated blocks in README.md and docs/*.md, regenerate them, and
rewrite or only report the stale ones.

A block is the text between

    <!-- generated: NAME -->
    ...
    <!-- end generated -->

A name may appear in several files (the same table in README.md and docs/peers.md); its text is
generated once per run.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from halp_bench.files import read_text

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""
DOC_FILES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
"""The documents whose blocks ``./run docs`` rewrites."""
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                   r"(?=<!-- end generated -->)", re.S)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
MEASURED_FACTOR = 3.0
"""A measured block is current when every number is within this factor of the fresh one, or both
are at most MEASURED_FLOOR."""
MEASURED_FLOOR = 1e-20
"""f - f* this small is float64 rounding of f* itself (see MEASURED_FACTOR)."""


@dataclass(frozen=True)
class Block:
    """One generated block: its marker name, the function giving its lines (a list of str, no
    newlines), and whether it is *measured* (computed by running the solvers: it holds while every
    number is within MEASURED_FACTOR, since solver output differs in the last bits between CPUs)
    rather than read from shipped files (it must match exactly)."""

    name: str
    lines: Callable[[], list]
    measured: bool = False


def blocks_in(path):
    """{block name: committed body} of every generated block in the file ``path``."""
    return {m["name"]: m["body"] for m in BLOCK.finditer(read_text(path))}


def close_enough(old, new):
    """Whether a measured block's committed text ``old`` still holds for the fresh text ``new``:
    the same words, and each number within MEASURED_FACTOR (or both <= MEASURED_FLOOR)."""
    if NUMBER.sub("#", old) != NUMBER.sub("#", new):
        return False
    pairs = zip(map(float, NUMBER.findall(old)), map(float, NUMBER.findall(new)))
    return all(a == b or (a > 0 and b > 0 and max(a / b, b / a) <= MEASURED_FACTOR)
               or max(abs(a), abs(b)) <= MEASURED_FLOOR for a, b in pairs)


def refresh(blocks, names=None, files=DOC_FILES, write=False):
    """Regenerate the blocks named ``names`` (default: all) of ``blocks`` ({name: Block}) in
    ``files``; returns [(file, block name, committed body, fresh body)] for the stale ones, and
    rewrites them when ``write``. A block in a file with no entry in ``blocks`` is a KeyError
    naming the file."""
    cache, stale = {}, []
    for path in files:
        text = read_text(path)

        def fresh(match):
            name = match["name"]
            if name not in blocks:
                raise KeyError(f"{path.name}: no generator for block {name!r}")
            if names is not None and name not in names:
                return match.group(0)
            if name not in cache:
                cache[name] = "\n".join(blocks[name].lines()) + "\n"
            old, new = match["body"], cache[name]
            current = close_enough(old, new) if blocks[name].measured else old == new
            if current:
                return match.group(0)
            stale.append((path, name, old, new))
            return match.group(1) + new

        updated = BLOCK.sub(fresh, text)
        if write and updated != text:
            path.write_text(updated)
    return stale
